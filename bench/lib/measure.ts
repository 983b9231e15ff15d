// One wrk run through a proxy with the CPU its processes spent on it, and the medians and per-round ratios over
// interleaved rounds: shared by the data-path sections (datapath.ts, variants.ts).
import { CLK_TCK, sumTicks } from './procs.js';
import { log, median, round } from './util.js';
import { wrk, wrkArgs, type WrkOptions } from './wrk.js';

export interface Sample {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
  /** CPU time of the proxy's processes per request, µs (null when nothing sits between wrk and the backend). */
  proxyUsPerReq: number | null;
  /** CPU time of the backend's processes per request, µs. */
  backendUsPerReq: number;
}

/** Medians of a contender's samples over its rounds. */
export interface Cell {
  rps: number;
  p50: number;
  p99: number;
  proxyUsPerReq: number | null;
  backendUsPerReq: number;
  errors: number;
  rounds: number;
}

const usPerReq = (ticks: number, requests: number): number => round((ticks / CLK_TCK) * 1e6 / Math.max(1, requests), 1);

/**
 * wrk against `url`, with the utime + stime the proxy's and the backend's processes spent meanwhile. The PID lists are
 * read just before the run: workers may be re-forked between runs. An empty proxy list reads as "no proxy" (null).
 */
export async function measure(url: string, wo: WrkOptions, proxyPids: number[], backendPids: number[] = []): Promise<Sample> {
  const [p0, b0] = [sumTicks(proxyPids), sumTicks(backendPids)];
  const res = await wrk(url, wo);
  const [p1, b1] = [sumTicks(proxyPids), sumTicks(backendPids)];
  return { rps: round(res.rps, 0), p50: res.p50, p99: res.p99, errors: res.errors, non2xx: res.non2xx, requests: res.requests,
    proxyUsPerReq: proxyPids.length ? usPerReq(p1 - p0, res.requests) : null, backendUsPerReq: usPerReq(b1 - b0, res.requests) };
}

export function logSample(what: string, s: Sample): void {
  log(`${what}: ${s.rps} req/s p50 ${s.p50} ms p99 ${s.p99} ms`
    + (s.proxyUsPerReq === null ? '' : ` ${s.proxyUsPerReq} µs/req`)
    + (s.errors || s.non2xx ? ` errors ${s.errors} non2xx ${s.non2xx}` : ''));
}

/** null when the contender did not run. */
export function cellOf(rs: Sample[]): Cell | null {
  if (rs.length === 0) return null;
  const proxy = rs.map((x) => x.proxyUsPerReq);
  return { rps: round(median(rs.map((x) => x.rps)), 0), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)),
    proxyUsPerReq: proxy.includes(null) ? null : median(proxy as number[]),
    backendUsPerReq: median(rs.map((x) => x.backendUsPerReq)), errors: rs.reduce((a, x) => a + x.errors + x.non2xx, 0), rounds: rs.length };
}

/**
 * a's req/s over b's, round by round. Within a round the contenders ran back to back, so these ratios cancel the load
 * drift between rounds that the ratio of the medians keeps.
 */
export function roundRatios(a: { round: number; rps: number }[], b: { round: number; rps: number }[]): number[] {
  return a.flatMap((x) => {
    const y = b.find((z) => z.round === x.round);
    return y ? [x.rps / y.rps] : [];
  });
}

/** The URL path of a workload's answer at the nginx backends (lab.ts): `ok\n` at /, 64 KiB at /big. */
export const pathOf = (workload: string): string => (workload.endsWith('64k') ? '/big' : '/');

/** Where a contender answers a workload, and the processes whose CPU counts for it (read at each run). */
export interface Target {
  url: string;
  pids: () => number[];
}

export interface RoundRun<W extends string, C extends string> extends Sample {
  workload: W;
  contender: C;
  round: number;
}

/** The load of a data-path section: wrk with `threads` and `connections`, `seconds` per run. */
export interface RoundsOptions<W extends string> {
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  connections: number;
  threads: number;
  workloads: readonly W[];
}

/**
 * Every contender (those `target` gives a URL for) on every workload, `rounds` times, after a warm-up. Within a round
 * a workload's contenders run back to back, in an order that rotates every round, so that no contender always runs
 * first or right after the same one and load drifts hit them all alike. Also returns the wrk command of each pair.
 */
export async function interleavedRounds<W extends string, C extends string>(name: string, o: RoundsOptions<W>,
  contenders: readonly C[], target: (w: W, c: C) => Target | null, backendPids: () => number[],
): Promise<{ runs: RoundRun<W, C>[]; commands: Record<string, string> }> {
  const wo: WrkOptions = { threads: o.threads, connections: o.connections, seconds: o.seconds };
  const commands: Record<string, string> = {};
  for (const w of o.workloads) for (const c of contenders) {
    const t = target(w, c);
    if (t) commands[`${w} ${c}`] = `wrk ${wrkArgs(t.url, wo).join(' ')}`;
  }
  if (o.warmupSeconds > 0) {
    log(`${name}: warm-up ${o.warmupSeconds}s per contender`);
    for (const w of o.workloads) for (const c of contenders) {
      const t = target(w, c);
      if (t) await wrk(t.url, { ...wo, seconds: o.warmupSeconds });
    }
  }
  const runs: RoundRun<W, C>[] = [];
  for (let r = 0; r < o.rounds; r++) {
    for (const w of o.workloads) {
      for (const c of contenders.map((_, i) => contenders[(i + r) % contenders.length])) {
        const t = target(w, c);
        if (!t) continue;
        const s = await measure(t.url, wo, t.pids(), backendPids());
        runs.push({ workload: w, contender: c, round: r + 1, ...s });
        logSample(`${name} r${r + 1} ${w} ${c}`, s);
      }
    }
  }
  return { runs, commands };
}
