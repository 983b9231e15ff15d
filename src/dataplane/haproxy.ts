// One HAProxy master-worker process and its files under <dataDir>/lbs/<lbId>/: validate, start, adopt, reload, stop.
// The process is detached (own process group, stdio to a log file, unref) so it outlives the control plane: killing
// `fulcrum serve` must not interrupt traffic. Only processes whose command line names this LB's master socket are
// ever signalled.
import { execFile, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkId } from './names.js';
import { MasterCli, cli, parseShowProc, sleep, type ProcList } from './runtime.js';
import { carryOverState } from './server-state.js';

export interface LbPaths {
  dir: string;
  config: string;
  lastGood: string;
  adminSock: string;
  masterSock: string;
  pidFile: string;
  stateFile: string;
  /** HAProxy's own messages (stderr): alerts, warnings, server state changes. */
  logFile: string;
  /** Requests of the frontends with enable_access_logs (stdout, see render-logs.ts). */
  accessLogFile: string;
  /** Last applied snapshot and server ids (owned by instance.ts). */
  appliedFile: string;
}

/** Unix socket paths longer than this do not fit in sockaddr_un. */
const MAX_SOCKET_PATH = 107;

export function lbPaths(dataDir: string, lbId: string): LbPaths {
  // Absolute because HAProxy reads a relative -S as host:port (pitfall 19).
  const dir = join(resolve(dataDir), 'lbs', checkId('lb', lbId));
  const p = {
    dir, config: join(dir, 'haproxy.cfg'), lastGood: join(dir, 'haproxy.cfg.good'), adminSock: join(dir, 'admin.sock'),
    masterSock: join(dir, 'master.sock'), pidFile: join(dir, 'haproxy.pid'), stateFile: join(dir, 'server-state'),
    logFile: join(dir, 'haproxy.log'), accessLogFile: join(dir, 'access.log'), appliedFile: join(dir, 'applied.json'),
  };
  if (p.adminSock.length > MAX_SOCKET_PATH) throw new Error(`data dir ${dataDir} is too long for unix socket paths`);
  return p;
}

export interface HaproxyOptions {
  bin?: string;
  /** Bound on waiting for a worker after start and after reload. */
  startTimeoutMs?: number;
  reloadTimeoutMs?: number;
  /** Told about every reload attempt, with its duration (metrics). */
  onReload?: (ok: boolean, seconds: number) => void;
}

export class HaproxyError extends Error {}

/**
 * Interval of the `show proc` polls after a reload. The master answers nothing while it re-executes (150-300 ms on a
 * small config), and a refused connection costs about a millisecond, so polling often shortens every reload.
 */
const RELOAD_POLL_MS = 5;
/** Bound of what `haproxy -c` may print (stdout and stderr each). */
const VALIDATE_OUTPUT_BYTES = 64 << 20;
/** Bound of one `show proc` while waiting for a master that may be re-executing. */
const PROBE_TIMEOUT_MS = 250;
/** An empty state file makes HAProxy warn; a lone version line is a valid empty one (pitfall 21). */
const EMPTY_STATE = '1\n';

export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class HaproxyProcess {
  readonly cli: MasterCli;
  private pid: number | null = null;
  /** True while the master re-executes after a reload its new worker already confirmed (see reloadNow). */
  private masterReexecuting = false;
  private readonly bin: string;
  private readonly startTimeoutMs: number;
  private readonly reloadTimeoutMs: number;

  constructor(readonly paths: LbPaths, private readonly opts: HaproxyOptions = {}) {
    this.bin = opts.bin ?? 'haproxy';
    this.startTimeoutMs = opts.startTimeoutMs ?? 10_000;
    this.reloadTimeoutMs = opts.reloadTimeoutMs ?? 10_000;
    this.cli = new MasterCli(paths.masterSock);
  }

  get masterPid(): number | null {
    return this.pid;
  }

  /** True when `pid` is a live HAProxy started for this LB (its argv names our master socket). */
  isOurs(pid: number): boolean {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      return false;
    }
    const i = argv.indexOf('-S');
    return i >= 0 && argv[i + 1]?.split(',')[0] === this.paths.masterSock;
  }

  isAlive(): boolean {
    return this.pid !== null && pidAlive(this.pid) && this.isOurs(this.pid);
  }

  /** The master re-executes itself: it answers nothing and its command line may not read as ours for a moment. */
  get reexecuting(): boolean {
    return this.masterReexecuting;
  }

  /** Runs `haproxy -c` on the text; null when valid, else HAProxy's messages. */
  async validate(configText: string): Promise<string | null> {
    await this.ensureDir();
    const file = join(this.paths.dir, `check-${process.pid}-${Date.now()}.cfg`);
    await writeFile(file, configText, { mode: 0o600 });
    try {
      return await new Promise((resolve) => {
        // HAProxy prints a warning per server whose state the state file changes ("is DOWN, changed from
        // server-state"): at the API's limits (30,000 servers) that is megabytes, beyond execFile's default 1 MiB.
        execFile(this.bin, ['-c', '-f', file], { timeout: 30_000, maxBuffer: VALIDATE_OUTPUT_BYTES }, (err, stdout, stderr) => {
          const out = `${stdout}${stderr}`;
          if (!err && !/\[ALERT\]/.test(out)) return resolve(null);
          resolve(alerts(out) || out.trim() || (err ? err.message : 'haproxy -c failed'));
        });
      });
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Writes the config and starts the master; resolves once a worker runs, else throws with HAProxy's alerts. */
  async start(configText: string): Promise<void> {
    await this.ensureDir();
    await writeAtomic(this.paths.config, configText);
    await rm(this.paths.pidFile, { force: true });
    const logStart = await this.logSize();
    const log = openSync(this.paths.logFile, 'a', 0o600);
    const access = openSync(this.paths.accessLogFile, 'a', 0o600);
    let exited: string | null = null;
    try {
      const child = spawn(this.bin, ['-W', '-S', `${this.paths.masterSock},mode,600`, '-f', this.paths.config,
        '-p', this.paths.pidFile], { detached: true, stdio: ['ignore', access, log] });
      child.on('exit', (code, sig) => { exited = `exited with ${sig ?? code}`; });
      child.on('error', (e) => { exited = e.message; });
      child.unref();
      if (child.pid === undefined) throw new HaproxyError(`cannot run ${this.bin}`);
      this.pid = child.pid;
    } finally {
      closeSync(log);
      closeSync(access);
    }
    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline && exited === null) {
      const proc = await this.probeProc();
      if (proc && proc.workers.length > 0) {
        await writeAtomic(this.paths.lastGood, configText);
        return;
      }
      await sleep(20);
    }
    const why = (await this.logSince(logStart)) || exited || 'no worker started in time';
    if (exited === null) await this.stop();
    this.pid = null;
    throw new HaproxyError(`HAProxy did not start: ${why}`);
  }

  /**
   * Finds a live master of this LB, so that a restarted control plane never starts a second one: the master socket's
   * `show proc` names it (retried briefly, it may be reloading); failing that, a live pid from the pid file whose
   * command line is ours is taken as well (its socket may answer later, but starting another would conflict).
   */
  async adopt(): Promise<boolean> {
    // Not while the master re-executes after a reload: its command line may not read as ours for that moment.
    await this.cli.answered();
    const fromFile = Number.parseInt(await readFile(this.paths.pidFile, 'utf8').catch(() => ''), 10);
    const candidate = Number.isInteger(fromFile) && fromFile > 0 && pidAlive(fromFile) && this.isOurs(fromFile) ? fromFile : null;
    for (let attempt = candidate ? 10 : 1; attempt > 0; attempt--) {
      const proc = await this.probeProc();
      if (proc && pidAlive(proc.masterPid) && this.isOurs(proc.masterPid)) {
        this.pid = proc.masterPid;
        return true;
      }
      if (attempt > 1) await sleep(100);
    }
    this.pid = candidate;
    return candidate !== null;
  }

  showProc(timeoutMs?: number): Promise<ProcList> {
    return this.cli.master('show proc', timeoutMs).then(parseShowProc);
  }

  /**
   * One short `show proc`, null when the master does not answer, for the loops that wait on a master that may be
   * starting or re-executing: a connection accepted meanwhile can hang until the socket is reset.
   */
  private probeProc(): Promise<ProcList | null> {
    return cli(this.paths.masterSock, 'show proc', PROBE_TIMEOUT_MS).then(parseShowProc, () => null);
  }

  /**
   * Saves the worker's server states where the next worker will load them (pitfalls 4 and 21), except for servers
   * whose definition changes from `running` to `next`, which start DOWN until checked (see server-state.ts). Without a
   * dump (the worker did not answer) nothing is carried: every server would otherwise start DOWN at once.
   */
  async dumpServerState(running: string, next: string): Promise<void> {
    const dump = await this.cli.worker('show servers state');
    await writeAtomic(this.paths.stateFile, /^1\n/.test(dump) ? carryOverState(dump, running, next) : EMPTY_STATE);
  }

  /**
   * Seamless reload onto `configText`. Applied only once a new worker answers (admin socket or `show proc`); when the
   * master refuses the config (or cannot bind), the old worker keeps serving, the previous config file is restored, and
   * this throws with HAProxy's alerts.
   */
  async reload(configText: string): Promise<void> {
    const start = performance.now();
    const report = (ok: boolean) => this.opts.onReload?.(ok, (performance.now() - start) / 1000);
    await this.reloadNow(configText).then(() => report(true), (e: unknown) => {
      report(false);
      throw e;
    });
  }

  private async reloadNow(configText: string): Promise<void> {
    const before = await this.showProc();
    const previous = await readFile(this.paths.config, 'utf8').catch(() => null);
    await this.dumpServerState(previous ?? '', configText);
    await writeAtomic(this.paths.config, configText);
    const logStart = await this.logSize();
    // The master re-executes itself: the connection is usually cut without an answer (2.6 prints nothing).
    await this.cli.master('reload').catch(() => '');
    const deadline = Date.now() + this.reloadTimeoutMs;
    let why = 'no new worker in time';
    while (Date.now() < deadline) {
      // The new worker answers on the admin socket, which it takes over from the old one, before the master does:
      // having forked it, the master re-executes once more (20–70 ms here), and its commands wait for that meanwhile.
      const worker = await this.adminPid();
      if (worker !== null && ![...before.workers, ...before.oldWorkers].includes(worker)) {
        this.masterReexecuting = true;
        this.cli.holdUntil(this.masterBack(before.reloads, deadline).finally(() => { this.masterReexecuting = false; }));
        await writeAtomic(this.paths.lastGood, configText);
        return;
      }
      const p = await this.probeProc();
      if (p && p.reloads > before.reloads) {
        if (p.workers.length > 0 && !p.workers.some((w) => before.workers.includes(w))) {
          await writeAtomic(this.paths.lastGood, configText);
          return;
        }
        if (p.failed > 0) {
          // The master logs its alerts; should the log hold none (rotated meanwhile), `haproxy -c` names the problem
          // when it is in the config.
          why = (await this.logSince(logStart)) || (await this.validate(configText)) || 'HAProxy refused the configuration';
          break;
        }
      }
      await sleep(RELOAD_POLL_MS);
    }
    if (previous !== null) await writeAtomic(this.paths.config, previous);
    throw new HaproxyError(`reload failed: ${why}`);
  }

  /** The pid of the worker answering on the admin socket; null when none answers. */
  private async adminPid(): Promise<number | null> {
    const info = await cli(this.paths.adminSock, 'show info', PROBE_TIMEOUT_MS).catch(() => '');
    const pid = /^Pid: (\d+)$/m.exec(info);
    return pid ? Number(pid[1]) : null;
  }

  /** Resolves (never rejects) once the master lists the worker of its reload after `reloads`, or at `deadline`. */
  private async masterBack(reloads: number, deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      const p = await this.probeProc();
      if (p && p.reloads > reloads && p.workers.length > 0) return;
      await sleep(RELOAD_POLL_MS);
    }
  }

  /** Replaces the config file without reloading (after a runtime change that the file must reproduce). */
  async writeConfig(configText: string): Promise<void> {
    await writeAtomic(this.paths.config, configText);
    await writeAtomic(this.paths.lastGood, configText);
  }

  /** Stops the master and its workers (TERM, then KILL after a bound), only if they are ours. */
  async stop(): Promise<void> {
    const pid = this.pid;
    this.pid = null;
    if (pid === null || !this.isOurs(pid)) return;
    const proc = await this.showProc().catch(() => null);
    const all = [pid, ...(proc?.workers ?? []), ...(proc?.oldWorkers ?? [])];
    const signal = (sig: NodeJS.Signals) => {
      for (const p of all) if (this.isOurs(p)) try { process.kill(p, sig); } catch { /* already gone */ }
    };
    signal('SIGTERM');
    for (let i = 0; i < 100 && all.some((p) => this.isOurs(p)); i++) await sleep(20);
    signal('SIGKILL');
  }

  async removeFiles(): Promise<void> {
    await rm(this.paths.dir, { recursive: true, force: true });
  }

  private async ensureDir(): Promise<void> {
    await mkdir(this.paths.dir, { recursive: true, mode: 0o700 });
    if (!existsSync(this.paths.stateFile)) await writeFile(this.paths.stateFile, EMPTY_STATE, { mode: 0o600 });
  }

  private async logSize(): Promise<number> {
    try {
      const fh = await open(this.paths.logFile, 'r');
      try { return (await fh.stat()).size; } finally { await fh.close(); }
    } catch {
      return 0;
    }
  }

  /** ALERT lines HAProxy logged since `offset`: the reason for a refused start or reload. */
  private async logSince(offset: number): Promise<string> {
    const text = await readFile(this.paths.logFile).then((b) => b.subarray(offset).toString('utf8')).catch(() => '');
    return alerts(text);
  }
}

function alerts(output: string): string {
  return output.split('\n').filter((l) => l.includes('[ALERT]'))
    .map((l) => l.replace(/^\[ALERT\]\s+\(\d+\)\s*:\s*/, '').trim()).join('\n');
}
