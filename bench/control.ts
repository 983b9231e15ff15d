// Section 3, the control plane: API latency and throughput with autocannon (a fixed 1,000 req/s for the latency goal,
// then as fast as it goes), and the memory of `fulcrum serve` and of an LB's HAProxy.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { backendBody, ZONE, type Api } from './lib/fulcrum.js';
import { BENCH_DIST } from './lib/lab.js';
import { CLK_TCK, cpuTicks, haproxyPidsUnder, memory, memorySum, type Memory } from './lib/procs.js';
import { log, round } from './lib/util.js';

export interface ControlOptions {
  seconds: number;
  rate: number;
  connections: number;
  /** Backends created in the create run (bounded by the per-LB limit of 300). */
  creates: number;
}

export interface CannonResult {
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** paced.ts only: p99 of how late its own timer handed requests over, ms (a check on the generator, not the server). */
  lateP99?: number;
  /** paced.ts only: requests sent, its warm-up included. */
  sent?: number;
  /** CPU of `fulcrum serve` per request, µs. */
  serveUsPerReq?: number;
}

interface Req { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; path: string; body?: string }

export interface CannonRun { connections: number; duration?: number; amount?: number; overallRate?: number; requests: Req[] }

/** Runs autocannon in a child process against the API (bounded by its duration or amount, plus a margin). */
export function cannon(api: Api, run: CannonRun): Promise<CannonResult> {
  return generator(api, 'cannon.js', run, run.duration ?? 60);
}

/** Evenly spaced requests at `rate` per second for `seconds` (paced.ts), in a child process. */
export function paced(api: Api, run: PacedRun): Promise<CannonResult> {
  return generator(api, 'paced.js', run, run.seconds);
}

export interface PacedRun { rate: number; seconds: number; connections: number; requests: Req[] }

function generator(api: Api, script: string, run: CannonRun | PacedRun, seconds: number): Promise<CannonResult> {
  const opts = { url: api.url, headers: { 'X-Auth-Token': api.key, 'Content-Type': 'application/json' }, ...run };
  const bound = (seconds + 30) * 1000;
  const t0 = cpuTicks(api.pid);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(BENCH_DIST, script), JSON.stringify(opts)], { timeout: bound, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${script}: ${err.message} ${stderr}`));
        const r = JSON.parse(stdout.trim().split('\n').pop()!) as CannonResult;
        // The server's CPU covers every request sent, a paced run's unrecorded warm-up second included.
        r.serveUsPerReq = round(((cpuTicks(api.pid) - t0) / CLK_TCK) * 1e6 / Math.max(1, r.sent ?? r.requests), 0);
        resolve(r);
      });
  });
}

export const cannonCommand = (what: string, run: CannonRun | PacedRun): string => 'rate' in run
  ? `node dist/bench/paced.js (${run.rate} req/s evenly, ${run.seconds} s, up to ${run.connections} connections) ${what}`
  : `autocannon -c ${run.connections}${run.duration ? ` -d ${run.duration}` : ''}${run.amount ? ` -a ${run.amount}` : ''}`
  + `${run.overallRate ? ` -R ${run.overallRate}` : ''} ${what}`;

export interface ControlResult {
  setup: string;
  runs: Record<string, { label: string; command: string; result: CannonResult }>;
  memory: Record<string, Memory>;
}

const prefix = `/lb/v1/zones/${ZONE}`;

export async function controlPlane(api: Api, o: ControlOptions): Promise<ControlResult> {
  const lb = await api.createLb('bench-control');
  const lb2 = await api.createLb('bench-control-create');
  try {
    const hc = { port: 9, check_delay: 10_000, check_max_retries: 3, check_send_proxy: false, tcp_config: {} };
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(await api.createBackend(lb.id, { name: `be${i}`, forward_port: 9, server_ip: ['127.246.0.1', '127.246.0.2'], health_check: hc }));
    }
    await api.waitReady(lb.id);
    await api.waitReady(lb2.id);
    const runs: ControlResult['runs'] = {};
    const measure = async (key: string, label: string, run: CannonRun | PacedRun, what: string) => {
      const result = 'rate' in run ? await paced(api, run) : await cannon(api, run);
      runs[key] = { label, command: cannonCommand(what, run), result };
      log(`control ${key}: ${Math.round(result.rps)} req/s p50 ${result.p50} ms p99 ${result.p99} ms`
        + (result.non2xx || result.errors ? ` non2xx ${result.non2xx} errors ${result.errors}` : ''));
    };
    const get: Req[] = [{ method: 'GET', path: `${prefix}/backends/${ids[0]}` }];
    const list: Req[] = [{ method: 'GET', path: `${prefix}/lbs/${lb.id}/backends` }];
    const set: Req[] = [
      { method: 'PUT', path: `${prefix}/backends/${ids[1]}/servers`, body: JSON.stringify({ server_ip: ['127.246.0.1', '127.246.0.2'] }) },
      { method: 'PUT', path: `${prefix}/backends/${ids[1]}/servers`, body: JSON.stringify({ server_ip: ['127.246.0.1', '127.246.0.3'] }) },
    ];
    // Unmeasured warm-up of the routes (JIT, statement and schema caches).
    for (const reqs of [get, list]) await cannon(api, { connections: o.connections, duration: 1, requests: [...reqs] });
    for (const [key, label, reqs] of [['get', 'get a backend', get], ['list', 'list backends (20)', list], ['set', 'set servers', set]] as const) {
      // The latency goal is for requests arriving evenly at the rate; autocannon's -R sends each connection's share of a
      // second back to back (bursts of `connections` in flight), kept for comparison with earlier runs.
      await measure(`${key}@${o.rate}`, `${label}, evenly ${o.rate} req/s`,
        { rate: o.rate, seconds: o.seconds, connections: 50, requests: [...reqs] }, `${reqs[0].method} ${reqs[0].path}`);
      await measure(`${key}@${o.rate}-bursts`, `${label}, autocannon -R ${o.rate} (bursts)`,
        { connections: o.connections, duration: o.seconds, overallRate: o.rate, requests: [...reqs] }, `${reqs[0].method} ${reqs[0].path}`);
      await measure(`${key}@max`, `${label}, max throughput`,
        { connections: o.connections, duration: o.seconds, requests: [...reqs] }, `${reqs[0].method} ${reqs[0].path}`);
    }
    await api.waitReady(lb.id, 60_000);
    const create: Req[] = [{ method: 'POST', path: `${prefix}/lbs/${lb2.id}/backends`,
      body: JSON.stringify(backendBody({ name: 'c', forward_port: 9, server_ip: ['127.246.0.1'], health_check: hc })) }];
    await measure('create@max', `create a backend, max throughput (${o.creates} backends)`,
      { connections: o.connections, amount: o.creates, requests: create }, `POST ${create[0].path}`);
    await api.waitReady(lb2.id, 120_000);
    const memoryOf: Record<string, Memory> = {
      'fulcrum serve': memory(api.pid),
      'HAProxy of an LB with 20 backends × 2 servers (master + worker)': memorySum(haproxyPidsUnder(api.lbDir(lb.id))),
      [`HAProxy of an LB with ${o.creates} backends × 1 server (master + worker)`]: memorySum(haproxyPidsUnder(api.lbDir(lb2.id))),
    };
    return {
      setup: `one LB with 20 backends × 2 servers (get, list, set), a second LB for the creates; ${o.connections} connections; per-key rate limit off`,
      runs, memory: memoryOf,
    };
  } finally {
    for (const l of [lb, lb2]) await api.call('DELETE', `/lbs/${l.id}?release_ip=true`).catch(() => null);
    for (const l of [lb, lb2]) await api.f.waitGone(ZONE, l.id).catch(() => null);
  }
}
