// Section 4, scale: one LB at the API's per-LB limits (300 backends, 300 frontends, 100 servers per backend): render,
// validate and apply times and API latency at that size; then many small LBs on one node: start time and memory.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAXCONN, renderConfig } from '../src/dataplane/render.js';
import { fdCount } from '../src/dataplane/fd-limit.js';
import { pipesFor } from '../src/dataplane/render-profile.js';
import { assignServerIds } from '../src/dataplane/server-ids.js';
import { makeBackend, makeFrontend, makeHealthCheck, makeSnapshot } from '../test/fixtures/snapshots.js';
import { freePort } from '../test/helpers/ports.js';
import { cannon, cannonCommand, type CannonResult, type CannonRun } from './control.js';
import { ZONE, updateBody, type Api } from './lib/fulcrum.js';
import { removeDir, startBackends, workDir } from './lib/lab.js';
import { CLK_TCK, haproxyPidsUnder, memory, memorySum, stop, sumTicks, type Memory } from './lib/procs.js';
import { dist, log, median, round, sleep, type Dist } from './lib/util.js';

export interface ScaleOptions {
  backends: number;
  frontends: number;
  serversPerBackend: number;
  lbs: number;
  renderRepeats: number;
  /** Duration of each API latency run at full size, s. */
  apiSeconds: number;
  /** Parts to run (both when unset): the LB at full size, and many LBs. */
  parts?: ('big' | 'many')[];
  /**
   * How many LBs are being created at once, one `many` run each: 1 like a shell loop, 10 like Terraform (its default
   * -parallelism); each LB's own three calls stay in order.
   */
  parallel: number[];
}

export interface ScaleResult {
  big: {
    size: string;
    /** The size of the pure render and `haproxy -c` measurements (the full size asked for). */
    renderedSize: string;
    /** Why the size is below the one asked for (file descriptors), or null. */
    fdNote: string | null;
    configLines: number;
    configBytes: number;
    /** ms, pure renderConfig of the snapshot (median of repeats). */
    renderMs: number;
    /** ms, `haproxy -c` wall time on that config. */
    validateMs: number[];
    /** s, the API calls that build the LB (backends with their servers, then frontends). */
    buildSeconds: number;
    /** ms, from the last build call to the LB `ready`. */
    firstApplyMs: number;
    /** ms, API answer → ready, for a reload-class change (timeout_server of one backend). */
    reloadReadyMs: number[];
    /** ms, API answer → ready, for a pool change (one address of one backend replaced): runtime, then the file. */
    poolReadyMs: number[];
    api: Record<string, { label: string; command: string; result: CannonResult }>;
    memory: Record<string, Memory>;
  };
  many: {
    lbs: number;
    /** LBs created at once. */
    parallel: number;
    /** ms, first API call of an LB → that LB ready. */
    startMs: Dist;
    /** s, first create → every LB ready. */
    allReadySeconds: number;
    answered200: number;
    /** The status of the other LBs' first request. */
    otherAnswers: string[];
    memoryHaproxyTotal: Memory;
    memoryPerLb: Memory;
    processes: number;
    memoryServe: Memory;
    /** core-seconds of all their HAProxy processes over 5 s idle (checks every 3 s per server). */
    idleCpuCoreSecondsPer5s: number;
    deleteSeconds: number;
  }[];
}

const ms = (t0: number) => round(performance.now() - t0, 1);

function haproxyCheck(file: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile('haproxy', ['-c', '-f', file], { timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`haproxy -c: ${err.message} ${stderr}`));
      resolve(ms(t0));
    });
  });
}

async function listStatuses(api: Api): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (let page = 1; page <= 20; page++) {
    const r = (await api.call('GET', `/lbs?page=${page}&page_size=100`)).json;
    for (const lb of r.lbs) {
      out.set(lb.id, lb.status === 'ready' && lb.instances.length > 0 && lb.instances.every((i: { status: string }) => i.status === 'ready'));
    }
    if (r.lbs.length < 100) break;
  }
  return out;
}

/** The open-files limit this process (and so `fulcrum serve` and HAProxy) has. */
function fileLimit(): number {
  const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : Number.POSITIVE_INFINITY;
}

/** File descriptors HAProxy asks for at the default offer's maxconn (fd-limit.ts; it refuses to start without them). */
export const haproxyFds = (servers: number, listeners: number): number =>
  fdCount({ maxconn: DEFAULT_MAXCONN, maxpipes: pipesFor(DEFAULT_MAXCONN), servers, listeners });

async function big(api: Api, o: ScaleOptions): Promise<ScaleResult['big']> {
  const wanted = o.serversPerBackend;
  const limit = fileLimit();
  let perBackend = wanted;
  while (perBackend > 1 && haproxyFds(o.backends * perBackend, o.frontends) > limit) perBackend--;
  const fdNote = perBackend === wanted ? null
    : `${o.backends} × ${wanted} servers and ${o.frontends} frontends need ${haproxyFds(o.backends * wanted, o.frontends)} file descriptors; `
      + `this machine allows ${limit} (hard limit, not raisable here), so HAProxy would refuse to start: measured at ${perBackend} servers per backend`;
  if (fdNote) log(`scale: ${fdNote}`);
  const ipsOf = (n: number) => Array.from({ length: n }, (_, i) => `127.245.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  const serverIps = ipsOf(perBackend);
  // The pure part, at the full size asked for: render and `haproxy -c` (which needs no file descriptors per server).
  const hc = makeHealthCheck({ checkDelayMs: 60_000, checkTimeoutMs: 1000, transientCheckDelayMs: 1000 });
  const snap = makeSnapshot('scale', ['127.244.255.1'],
    Array.from({ length: o.frontends }, (_, i) => makeFrontend(`f${i}`, 'scale', `b${i % o.backends}`, 20_000 + i)),
    Array.from({ length: o.backends }, (_, i) => makeBackend(`b${i}`, 'scale', { forwardPort: 9, pool: ipsOf(wanted), healthCheck: hc })));
  const tmp = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  let config = '';
  const renders: number[] = [];
  for (let i = 0; i < o.renderRepeats; i++) {
    const t0 = performance.now();
    config = renderConfig(snap, { runDir: tmp, serverIds: assignServerIds({}, snap) });
    renders.push(ms(t0));
  }
  const file = join(tmp, 'haproxy.cfg');
  writeFileSync(file, config);
  writeFileSync(join(tmp, 'server-state'), '1\n');
  const validateMs = [await haproxyCheck(file), await haproxyCheck(file)];
  removeDir(tmp);
  log(`scale: render ${median(renders)} ms, haproxy -c ${validateMs.join(' / ')} ms (${config.split('\n').length} lines)`);

  // The same size through the API.
  const lb = await api.createLb('bench-scale');
  const wire = { port: 9, check_delay: 60_000, check_timeout: 1000, transient_check_delay: '1s', check_max_retries: 3, check_send_proxy: false, tcp_config: {} };
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < o.backends; i++) {
    ids.push(await api.createBackend(lb.id, { name: `b${i}`, forward_protocol: 'tcp', forward_port: 9, server_ip: serverIps, health_check: wire }));
  }
  // The OS may hand out a port again until HAProxy binds it: remember the ones given to frontends.
  const ports = new Set<number>();
  for (let i = 0; i < o.frontends; i++) {
    let port = await freePort(lb.ip);
    for (let tries = 0; ports.has(port) && tries < 50; tries++) port = await freePort(lb.ip);
    ports.add(port);
    await api.createFrontend(lb.id, ids[i % ids.length], port, `f${i}`);
  }
  const built = performance.now();
  await api.waitReady(lb.id, 300_000, 20);
  const firstApplyMs = ms(built);
  log(`scale: built in ${((built - t0) / 1000).toFixed(1)} s, ready ${firstApplyMs} ms after the last call`);

  const reloadReadyMs: number[] = [];
  const poolReadyMs: number[] = [];
  let be = (await api.call('GET', `/backends/${ids[0]}`)).json;
  for (let i = 0; i < 3; i++) {
    const a = await api.call('PUT', `/backends/${ids[0]}`, updateBody(be, { timeout_server: 30_000 + i * 1000 }));
    be = a.json;
    reloadReadyMs.push(round((await api.waitReady(lb.id, 120_000, 5)) - a.at, 1));
    const pool = [...serverIps.slice(1), `127.245.9.${i + 1}`];
    const b = await api.call('PUT', `/backends/${ids[1]}/servers`, { server_ip: pool });
    poolReadyMs.push(round((await api.waitReady(lb.id, 120_000, 5)) - b.at, 1));
  }
  log(`scale: reload-class → ready ${reloadReadyMs.join(' / ')} ms; pool change → ready ${poolReadyMs.join(' / ')} ms`);

  const prefix = `/lb/v1/zones/${ZONE}`;
  const apiRuns: ScaleResult['big']['api'] = {};
  const reqs: [string, string, string][] = [
    ['get-backend', `get a backend (${perBackend} servers)`, `${prefix}/backends/${ids[0]}`],
    ['list-backends', 'list backends (page of 100)', `${prefix}/lbs/${lb.id}/backends?page_size=100`],
    ['get-lb', 'get the LB', `${prefix}/lbs/${lb.id}`],
  ];
  for (const [key, label, path] of reqs) {
    for (const rate of [100, 1000]) {
      const run: CannonRun = { connections: 10, duration: o.apiSeconds, overallRate: rate, requests: [{ method: 'GET', path }] };
      const result = await cannon(api, run);
      apiRuns[`${key}@${rate}`] = { label: `${label}, fixed ${rate} req/s`, command: cannonCommand(`GET ${path}`, run), result };
      log(`scale api ${key}@${rate}: ${result.rps} req/s p50 ${result.p50} p99 ${result.p99} ms`);
    }
  }
  const memoryOf = {
    [`HAProxy of the ${o.backends}×${perBackend} LB (master + worker)`]: memorySum(haproxyPidsUnder(api.lbDir(lb.id))),
    'fulcrum serve (with that LB)': memory(api.pid),
  };
  await api.call('DELETE', `/lbs/${lb.id}?release_ip=true`);
  await api.f.waitGone(ZONE, lb.id);
  return {
    size: `${o.backends} backends × ${perBackend} servers (${o.backends * perBackend} servers), ${o.frontends} frontends, tcp checks every 60 s`,
    renderedSize: `${o.backends} backends × ${wanted} servers, ${o.frontends} frontends`,
    fdNote,
    configLines: config.split('\n').length, configBytes: config.length, renderMs: median(renders), validateMs,
    buildSeconds: round((built - t0) / 1000, 1), firstApplyMs, reloadReadyMs, poolReadyMs, api: apiRuns, memory: memoryOf,
  };
}

async function manyRuns(api: Api, o: ScaleOptions): Promise<ScaleResult['many']> {
  const runs: ScaleResult['many'] = [];
  for (const parallel of o.parallel) runs.push(await many(api, o, parallel));
  return runs;
}

async function many(api: Api, o: ScaleOptions, parallel: number): Promise<ScaleResult['many'][number]> {
  const dir = workDir('bench-nginx-scale-');
  const ips = ['127.241.1.11', '127.241.1.12'];
  const port = await freePort(ips[0]);
  const backends = await startBackends(dir, ips, port);
  try {
    const hc = { port, check_delay: 3000, check_timeout: 1000, check_max_retries: 3, check_send_proxy: false, tcp_config: {} };
    const started = new Map<string, number>();
    const ports = new Map<string, { ip: string; port: number }>();
    /** When each LB's last object (its frontend) was created. */
    const complete = new Map<string, number>();
    const t0 = performance.now();
    const readyAt = new Map<string, number>();
    let sweeping = true;
    // One list call sees every LB's status: polled while the LBs are created.
    const sweeper = (async () => {
      const deadline = performance.now() + 300_000;
      while (sweeping && performance.now() < deadline) {
        const asked = performance.now();
        const st = await listStatuses(api);
        const now = performance.now();
        // Ready counts from a read asked after its frontend was created: an LB is ready (serving nothing) before that.
        for (const [id, ok] of st) if (ok && (complete.get(id) ?? Infinity) <= asked && !readyAt.has(id)) readyAt.set(id, now);
        if (started.size === o.lbs && readyAt.size === o.lbs) break;
        await sleep(10);
      }
    })();
    let nextLb = 0;
    const creator = async () => {
      for (let i = nextLb++; i < o.lbs; i = nextLb++) {
        const s = performance.now();
        const lb = await api.createLb(`bench-many-${i}`);
        started.set(lb.id, s);
        const be = await api.createBackend(lb.id, { name: 'app', forward_protocol: 'http', forward_port: port, server_ip: ips, health_check: hc });
        const p = await freePort(lb.ip);
        await api.createFrontend(lb.id, be, p);
        ports.set(lb.id, { ip: lb.ip, port: p });
        complete.set(lb.id, performance.now());
      }
    };
    await Promise.all(Array.from({ length: parallel }, creator));
    await sweeper;
    sweeping = false;
    const allReadySeconds = round((Math.max(...readyAt.values()) - t0) / 1000, 2);
    const startMs = [...started].filter(([id]) => readyAt.has(id)).map(([id, s]) => readyAt.get(id)! - s);
    log(`scale: ${readyAt.size}/${o.lbs} LBs (${parallel} created at once) ready in ${allReadySeconds} s`);
    let answered200 = 0;
    const otherAnswers: string[] = [];
    for (const { ip, port: p } of ports.values()) {
      const r = await fetch(`http://${ip}:${p}/`).catch(() => null);
      if (r?.status === 200) answered200++;
      else otherAnswers.push(`${r?.status ?? 'no answer'}`);
      await r?.text();
    }
    await sleep(1000);
    const pids = [...ports.keys()].flatMap((id) => haproxyPidsUnder(api.lbDir(id)));
    const total = memorySum(pids);
    const c0 = sumTicks(pids);
    await sleep(5000);
    const idle = round((sumTicks(pids) - c0) / CLK_TCK, 2);
    const memoryServe = memory(api.pid);
    const d0 = performance.now();
    const idsList = [...ports.keys()];
    for (let i = 0; i < idsList.length; i += 10) {
      const batch = idsList.slice(i, i + 10);
      await Promise.all(batch.map((id) => api.call('DELETE', `/lbs/${id}?release_ip=true`)));
      await Promise.all(batch.map((id) => api.f.waitGone(ZONE, id)));
    }
    return {
      lbs: o.lbs, parallel, startMs: dist(startMs), allReadySeconds, answered200, otherAnswers, memoryHaproxyTotal: total,
      memoryPerLb: { rss: Math.round(total.rss / o.lbs), pss: Math.round(total.pss / o.lbs) }, processes: pids.length, memoryServe,
      idleCpuCoreSecondsPer5s: idle, deleteSeconds: round((performance.now() - d0) / 1000, 1),
    };
  } finally {
    await stop(backends.child);
    removeDir(dir);
  }
}

export async function scale(api: Api, o: ScaleOptions): Promise<Partial<ScaleResult>> {
  const parts = o.parts ?? ['big', 'many'];
  return { big: parts.includes('big') ? await big(api, o) : undefined, many: parts.includes('many') ? await manyRuns(api, o) : undefined };
}
