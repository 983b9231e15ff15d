// Small helpers shared by the benchmark sections: statistics, bounded waiting, logging.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The q-quantile (0..1) by nearest rank; NaN for an empty list. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
export const median = (xs: number[]): number => quantile(xs, 0.5);
export const p99 = (xs: number[]): number => quantile(xs, 0.99);

export interface Dist {
  n: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
  /** Every sample, in the order measured (rounded to 0.1). */
  samples: number[];
}

export function dist(xs: number[]): Dist {
  return { n: xs.length, p50: round(median(xs)), p99: round(p99(xs)), max: round(Math.max(...xs)), min: round(Math.min(...xs)),
    samples: xs.map((x) => round(x, 1)) };
}

export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

/** Polls `cond` every `everyMs` until it is true or `timeoutMs` passed; returns whether it became true. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 2): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (performance.now() > deadline) return false;
    await sleep(everyMs);
  }
}

const t0 = Date.now();
export function log(msg: string): void {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}

/** A seeded PRNG (mulberry32), so the mixed change sequence is the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
