// Processes the harness starts, and what /proc says about them: CPU ticks (utime + stime) and memory (RSS, PSS).
// Every process started here is remembered by PID and ended by PID at the end; nothing is ever signalled by name.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { sleep } from './util.js';

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const started = new Set<ChildProcess>();

/** Spawns a child the harness owns (ended by `stopAll`). Output goes to `logTo` when given, else is dropped. */
export function start(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  let err = '';
  child.stderr?.on('data', (d) => { if (err.length < 4000) err += d; });
  child.on('exit', () => started.delete(child));
  (child as ChildProcess & { errText: () => string }).errText = () => err;
  started.add(child);
  return child;
}

export const errText = (c: ChildProcess): string => (c as ChildProcess & { errText?: () => string }).errText?.() ?? '';

/** Ends a child we started: TERM, then KILL after a bound. */
export async function stop(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(1000)]);
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((c) => stop(c)));
}

function statFields(pid: number): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime + stime of one process, in clock ticks (0 if it is gone). */
export function cpuTicks(pid: number): number {
  const f = statFields(pid);
  // Fields after the name: state(0) ppid(1) … utime(11) stime(12).
  return f ? Number(f[11]) + Number(f[12]) : 0;
}

export const sumTicks = (pids: number[]): number => pids.reduce((a, p) => a + cpuTicks(p), 0);

export function ppidOf(pid: number): number | null {
  const f = statFields(pid);
  return f ? Number(f[1]) : null;
}

function allPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

/** The process and all its descendants. */
export function tree(root: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const p of allPids()) {
    const pp = ppidOf(p);
    if (pp !== null) byParent.set(pp, [...(byParent.get(pp) ?? []), p]);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length && out.length < 10_000) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(byParent.get(p) ?? []));
  }
  return out;
}

/** HAProxy processes whose command line names a path under `dir` (Fulcrum's per-LB processes). */
export function haproxyPidsUnder(dir: string): number[] {
  const out: number[] = [];
  for (const p of allPids()) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('haproxy') && argv.some((a) => a.startsWith(dir))) out.push(p);
    } catch { /* gone */ }
  }
  return out;
}

export interface Memory {
  /** kB */
  rss: number;
  /** kB */
  pss: number;
}

/** RSS and PSS of one process from smaps_rollup (kB); zeros if it is gone. */
export function memory(pid: number): Memory {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? 0);
    return { rss: kb('Rss'), pss: kb('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

export function memorySum(pids: number[]): Memory {
  return pids.map(memory).reduce((a, m) => ({ rss: a.rss + m.rss, pss: a.pss + m.pss }), { rss: 0, pss: 0 });
}

/** Ends processes by PID (TERM, then KILL), for HAProxy processes of our own data dirs left behind. */
export async function killPids(pids: number[]): Promise<void> {
  const alive = (p: number) => { try { process.kill(p, 0); return true; } catch { return false; } };
  for (const p of pids) try { process.kill(p, 'SIGTERM'); } catch { /* gone */ }
  for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(20);
  for (const p of pids) if (alive(p)) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
}
