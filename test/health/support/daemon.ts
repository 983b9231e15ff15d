// Running real server programs for the health-check tests: each in its own temp dir, on its own loopback address,
// waited for (bounded) until it accepts connections, and stopped by its own PID. Nothing here looks at or signals a
// process it did not start: the machine may run system MariaDB, PostgreSQL or Redis services that are not ours.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The PIDs this test process started and has not stopped yet; killed if the process exits without cleaning up. */
const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh temp dir for one server (under `base`, default the OS temp dir); removed by the server's stop(). */
export function tempDir(what: string, base = tmpdir()): string {
  return mkdtempSync(join(base, `fulcrum-health-${what}-`));
}

/** uid and gid of a system user (from /etc/passwd), e.g. `postgres`, which refuses to run as root. */
export function systemUser(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no system user ${name}: is its package installed? (scripts/install.sh --test)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export interface RunOptions {
  timeoutMs?: number;
  uid?: number;
  gid?: number;
  cwd?: string;
  env?: Record<string, string>;
  input?: string;
}

/** Runs a command to completion (bounded); rejects with its output when it fails. */
export function run(cmd: string, args: string[], o: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, {
      timeout: o.timeoutMs ?? 30_000, uid: o.uid, gid: o.gid, cwd: o.cwd, env: o.env ?? process.env,
      maxBuffer: 4 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
}

/** True once host:port accepts a TCP connection within `timeoutMs`. */
export function accepts(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    const done = (ok: boolean) => { clearTimeout(timer); s.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export interface Daemon {
  name: string;
  host: string;
  port: number;
  dir: string;
  pid: number;
  /** The server's own log (stdout + stderr, and its log file if it has one), for failure messages. */
  log(): string;
  /** Stops the process by PID (its stop signal, then SIGKILL after a bound), waits for it, removes its dir. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  cmd: string;
  args: string[];
  host: string;
  port: number;
  dir: string;
  uid?: number;
  gid?: number;
  /** Signal for a fast clean stop (PostgreSQL: SIGINT; SIGTERM would wait for clients). */
  stopSignal?: NodeJS.Signals;
  /** A log file the server writes itself, shown with its output on failure. */
  logFile?: string;
  /** Bound on waiting for the port to accept. */
  startTimeoutMs?: number;
  /** Keep the dir on stop (a server restarted on the same data). */
  keepDir?: boolean;
}

/** Starts a foreground server and waits until host:port accepts connections (bounded); its PID is the child's. */
export async function spawnDaemon(o: SpawnOptions): Promise<Daemon> {
  const child: ChildProcess = spawn(o.cmd, o.args, {
    cwd: o.dir, uid: o.uid, gid: o.gid, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: o.dir, LANG: 'C' },
  });
  let output = '';
  const keep = (d: Buffer) => { output = (output + d.toString()).slice(-20_000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (e) => { output += `\nspawn error: ${e.message}`; });
  const log = () => {
    let file = '';
    if (o.logFile) try { file = readFileSync(o.logFile, 'utf8').slice(-20_000); } catch { /* not written yet */ }
    return `${output}${file ? `\n--- ${o.logFile}\n${file}` : ''}`;
  };
  const pid = child.pid;
  const d: Daemon = {
    name: o.name, host: o.host, port: o.port, dir: o.dir, pid: pid ?? -1, log,
    async stop() {
      if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try { process.kill(pid, o.stopSignal ?? 'SIGTERM'); } catch { /* gone */ }
        const bounded = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
        if (!bounded) {
          try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
          await Promise.race([exited, sleep(5000)]);
        }
      }
      if (pid !== undefined) live.delete(pid);
      if (!o.keepDir) rmSync(o.dir, { recursive: true, force: true });
    },
  };
  if (pid === undefined) {
    await d.stop();
    throw new Error(`${o.name} did not start: ${log()}`);
  }
  live.add(pid);
  const deadline = Date.now() + (o.startTimeoutMs ?? 30_000);
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const text = log();
      await d.stop();
      throw new Error(`${o.name} exited during start (${child.exitCode ?? child.signalCode}): ${text}`);
    }
    if (await accepts(o.host, o.port, 300)) return d;
    if (Date.now() > deadline || i > 2000) {
      const text = log();
      await d.stop();
      throw new Error(`${o.name} did not accept connections on ${o.host}:${o.port} in time: ${text}`);
    }
    await sleep(25);
  }
}

/** Retries `fn` until it resolves (bounded in count and time); for servers that accept before they can serve. */
export async function retry<T>(what: string, fn: () => Promise<T>, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; i < Math.ceil(timeoutMs / intervalMs) + 1 && Date.now() <= deadline; i++) {
    try {
      return await fn();
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what}: ${String(last)}`);
}
