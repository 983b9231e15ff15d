// keepalived of one node, supervised by its agent: one process (`--vrrp --dont-fork`) with its config and pid files
// under <data dir>/keepalived/. A changed config is written and signalled with SIGHUP (keepalived re-reads it and keeps
// the instances whose state did not change); a process that died is started again at the next update or watchdog
// tick. Like HAProxy, keepalived outlives the agent: a restarted agent adopts it through its pid file.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive, writeAtomic } from '../dataplane/haproxy.js';
import { sleep } from '../dataplane/runtime.js';

const STOP_WAIT_MS = 3000;

export class Keepalived {
  readonly dir: string;
  readonly configFile: string;
  readonly pidFile: string;
  private readonly vrrpPidFile: string;
  private readonly logFile: string;
  private pid: number | null = null;
  private config: string | null = null;

  constructor(dataDir: string, private readonly bin = 'keepalived') {
    this.dir = join(dataDir, 'keepalived');
    this.configFile = join(this.dir, 'keepalived.conf');
    this.pidFile = join(this.dir, 'keepalived.pid');
    this.vrrpPidFile = join(this.dir, 'vrrp.pid');
    this.logFile = join(this.dir, 'keepalived.log');
  }

  /** True when `pid` is a keepalived reading our config file. */
  private isOurs(pid: number): boolean {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return pidAlive(pid) && argv.includes(this.configFile);
    } catch {
      return false;
    }
  }

  isAlive(): boolean {
    return this.pid !== null && this.isOurs(this.pid);
  }

  /** The pids of the main process and its VRRP child (what a test kills to fail a node). */
  async pids(): Promise<number[]> {
    const read = async (f: string) => Number.parseInt(await readFile(f, 'utf8').catch(() => ''), 10);
    return [await read(this.pidFile), await read(this.vrrpPidFile)].filter((p) => Number.isInteger(p) && p > 0 && this.isOurs(p));
  }

  /** Runs keepalived on `config` (starting, adopting or reloading it as needed). */
  async update(config: string): Promise<void> {
    // After an agent restart the file on disk is what an adopted keepalived runs.
    const running = this.config ?? await readFile(this.configFile, 'utf8').catch(() => null);
    const changed = config !== running;
    if (changed) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      await writeAtomic(this.configFile, config);
    }
    this.config = config;
    if (!this.isAlive()) {
      const [adopted] = await this.pids();
      if (adopted === undefined) return this.start();
      this.pid = adopted;
    }
    if (changed) process.kill(this.pid!, 'SIGHUP');
  }

  /** Starts keepalived again if it died (the agent's watchdog). */
  async keepRunning(): Promise<void> {
    if (this.config !== null && !this.isAlive()) await this.update(this.config);
  }

  private start(): void {
    const log = openSync(this.logFile, 'a', 0o600);
    try {
      const child = spawn(this.bin, ['--dont-fork', '--log-console', '--vrrp', '--use-file', this.configFile,
        '--pid', this.pidFile, '--vrrp_pid', this.vrrpPidFile], { detached: true, stdio: ['ignore', log, log] });
      child.on('error', () => { /* reported by isAlive() at the next tick */ });
      child.unref();
      this.pid = child.pid ?? null;
    } finally {
      closeSync(log);
    }
  }

  /** Stops keepalived (it removes the addresses it holds, and the other node takes them over). */
  async stop(): Promise<void> {
    const pid = this.pid;
    this.pid = null;
    this.config = null;
    if (pid === null || !this.isOurs(pid)) return;
    process.kill(pid, 'SIGTERM');
    for (const end = Date.now() + STOP_WAIT_MS; Date.now() < end && this.isOurs(pid);) await sleep(20);
    if (this.isOurs(pid)) process.kill(pid, 'SIGKILL');
    await rm(this.configFile, { force: true });
  }
}
