// An open-loop load generator in its own process: requests are sent at evenly spaced times (every 1000/rate ms), each
// on a free kept-alive connection (up to `connections`, beyond which a request waits for one, and that wait counts),
// whatever the answers before it did, so a stalled server is charged for every request it holds back. A latency runs
// from the moment the request was handed to the HTTP client; how late the generator's own timer handed it over (it
// ticks every millisecond) is reported apart, as `lateP99`, so the generator's own hiccups are not the server's. One
// second at the same rate goes first, unrecorded: the connections are opened and the code warmed up.
// autocannon's fixed rate (`-R`) is not that: each of its connections sends its share of the second back to back, then
// waits for the next second, which measures bursts of `connections` requests in flight (see docs/benchmarks.md).
//   node dist/bench/paced.js '<json options>'  → prints one JSON summary line (the shape of cannon.ts's).
import { Agent, request } from 'node:http';

interface Opts {
  url: string;
  rate: number;
  seconds: number;
  /** Upper bound on connections open at once (a request due when all are busy waits, and that wait is counted). */
  connections: number;
  headers: Record<string, string>;
  /** Cycled in order. */
  requests: { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; path: string; body?: string }[];
}

const o = JSON.parse(process.argv[2]) as Opts;
const base = new URL(o.url);
const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
const warmup = o.rate;
const total = warmup + Math.round(o.rate * o.seconds);
const interval = 1000 / o.rate;
const latencies: number[] = [];
const lateness: number[] = [];
let ok = 0;
let non2xx = 0;
let errors = 0;

function send(i: number, due: number): Promise<void> {
  const r = o.requests[i % o.requests.length];
  const handed = performance.now();
  const recorded = i >= warmup;
  if (recorded) lateness.push(handed - due);
  return new Promise((resolve) => {
    const req = request({ host: base.hostname, port: base.port, path: r.path, method: r.method, agent, headers: o.headers, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => {
          if (!recorded) return resolve();
          if (res.statusCode! < 300) {
            ok++;
            latencies.push(performance.now() - handed);
          } else non2xx++;
          resolve();
        });
      });
    req.on('error', () => { if (recorded) errors++; resolve(); });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(r.body);
  });
}

const start = performance.now() + 50;
const inFlight: Promise<void>[] = [];
let next = 0;
// Every millisecond (or as soon as the loop is free), everything due by now goes out.
await new Promise<void>((resolve) => {
  const tick = () => {
    const now = performance.now();
    while (next < total && start + next * interval <= now) {
      inFlight.push(send(next, start + next * interval));
      next++;
    }
    if (next < total) setTimeout(tick, 1);
    else resolve();
  };
  setTimeout(tick, 50);
});
await Promise.all(inFlight);
const seconds = (performance.now() - start) / 1000 - warmup / o.rate;
agent.destroy();
latencies.sort((a, b) => a - b);
lateness.sort((a, b) => a - b);
const quantile = (xs: number[], p: number) => (xs.length ? Number(xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)].toFixed(2)) : null);
const q = (p: number) => quantile(latencies, p);
process.stdout.write(`${JSON.stringify({
  seconds: Number(seconds.toFixed(2)), requests: total - warmup, rps: Number(((total - warmup) / seconds).toFixed(0)),
  p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1), mean: Number((latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)).toFixed(2)),
  ok, non2xx, errors, timeouts: 0, lateP99: quantile(lateness, 0.99), sent: total,
})}\n`);
