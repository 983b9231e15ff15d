// autocannon in its own process (so that the load generator does not share an event loop with the harness):
//   node dist/bench/cannon.js '<json options>'  → prints one JSON summary line.
// Latencies are taken from autocannon's per-response times (sub-millisecond), not its histogram (whole ms).
import autocannon from 'autocannon';

interface Opts {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  overallRate?: number;
  headers: Record<string, string>;
  /** Cycled per connection. */
  requests: { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; path: string; body?: string }[];
}

const o = JSON.parse(process.argv[2]) as Opts;
const times: number[] = [];
const MAX_SAMPLES = 2_000_000;
const opts: autocannon.Options = { url: o.url, connections: o.connections, headers: o.headers, requests: o.requests, timeout: 10 };
if (o.duration !== undefined) opts.duration = o.duration;
if (o.amount !== undefined) opts.amount = o.amount;
if (o.overallRate !== undefined) opts.overallRate = o.overallRate;
const r = await new Promise<autocannon.Result>((resolve, reject) => {
  const instance = autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status < 300 && times.length < MAX_SAMPLES) times.push(ms);
  });
});
times.sort((a, b) => a - b);
const q = (p: number) => (times.length ? Number(times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)].toFixed(2)) : null);
process.stdout.write(`${JSON.stringify({
  seconds: r.duration, requests: r.requests.total, rps: Number((r.requests.total / r.duration).toFixed(0)),
  p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1), mean: Number((times.reduce((a, b) => a + b, 0) / Math.max(1, times.length)).toFixed(2)),
  ok: r['2xx'], non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
})}\n`);
