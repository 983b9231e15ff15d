// Section 2, the change path: from the API's answer to the change being visible in traffic, for pool changes (runtime
// API) and reload-class changes; then failed requests under a continuous request loop during many mixed changes.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { MasterCli } from '../src/dataplane/runtime.js';
import { backendName, serverName } from '../src/dataplane/names.js';
import { freePort } from '../test/helpers/ports.js';
import { startLoad } from '../test/helpers/load.js';
import { join } from 'node:path';
import { updateBody, type Api } from './lib/fulcrum.js';
import { dist, log, rng, sleep, until, type Dist } from './lib/util.js';

export interface ChangePathOptions {
  /** Adds and removes measured (each). */
  each: number;
  /** Reload-class changes measured. */
  reloadEach: number;
  /** Mixed changes under the request loop. */
  mixed: number;
  /** Time bound of the add/remove phase and of the reload phase, s: a phase that reaches it stops and reports how many it did. */
  phaseSeconds: number;
  /** Time bound of the mixed phase, s. */
  mixedSeconds: number;
}

/** An HTTP backend in this process that timestamps its hits (performance.now(), same clock as the API calls). */
interface Backend {
  ip: string;
  hits: number;
  last: number;
  /** First hit since the last `mark()`. */
  first: number | null;
  mark(): void;
  close(): Promise<void>;
}

async function startBackend(ip: string, port: number): Promise<Backend> {
  const sockets = new Set<Socket>();
  const srv: Server = createServer();
  const b: Backend = {
    ip, hits: 0, last: 0, first: null, mark() { this.first = null; },
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); }),
  };
  srv.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  srv.on('request', (req, res) => {
    if (req.url !== '/health') {
      const now = performance.now();
      b.hits++;
      b.last = now;
      b.first ??= now;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(ip);
  });
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(port, ip, () => resolve()); });
  return b;
}

export interface ChangePathResult {
  healthCheck: string;
  load: string;
  /** API answer → the added server is registered and enabled in the worker (runtime API done; its checks still to pass). */
  addRuntime: Dist;
  /** API answer → first request on the added server (held DOWN until it passed `rise 2` checks). */
  addTraffic: Dist;
  /** API answer → the last request the removed server got (0 when none came after the answer). */
  removeTraffic: Dist;
  /** API answer → LB `ready` (runtime commands, then the file written). */
  poolReady: Dist;
  /** API answer → traffic follows the new algorithm, roundrobin ↔ first (a seamless reload). */
  reloadTraffic: Dist;
  /** API answer → LB `ready` (render, reload confirmed by `show proc`). */
  reloadReady: Dist;
  mixed: { changes: number; planned: number; byKind: Record<string, number>; seconds: number; requests: number; failed: number; errors: string[] };
}

const ADMIN_FORCED_MAINT = 0x01;

/** True when `ip` is in the backend and not in forced maintenance (added and enabled by the runtime API). */
async function registered(cli: MasterCli, be: string, ip: string): Promise<boolean> {
  const text = await cli.worker(`show servers state ${be}`).catch(() => '');
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('# '))?.slice(2).trim().split(/\s+/) ?? [];
  const name = header.indexOf('srv_name');
  const admin = header.indexOf('srv_admin_state');
  for (const l of lines) {
    const f = l.trim().split(/\s+/);
    if (f[name] === serverName(ip)) return (Number(f[admin]) & ADMIN_FORCED_MAINT) === 0;
  }
  return false;
}

export async function changePath(api: Api, o: ChangePathOptions): Promise<ChangePathResult> {
  const ips = Array.from({ length: 8 }, (_, i) => `127.242.0.${11 + i}`);
  const port = await freePort(ips[0]);
  const servers: Backend[] = [];
  try {
    for (const ip of ips) servers.push(await startBackend(ip, port));
    const byIp = new Map(servers.map((s) => [s.ip, s]));
    const lb = await api.createLb('bench-changes');
    // Fast checks so that adds show the check-bound latency; a generous timeout so that a stall of this process (which also
    // runs the backends and the request loop) does not mark the two core servers down.
    const hc = { port, check_delay: 100, check_timeout: 1000, transient_check_delay: '0.1s', check_max_retries: 3, check_send_proxy: false,
      http_config: { uri: '/health', method: 'GET', host_header: '' } };
    const beId = await api.createBackend(lb.id, { name: 'app', forward_protocol: 'http', forward_port: port,
      server_ip: ips.slice(0, 2), health_check: hc });
    const inbound = await freePort(lb.ip);
    await api.createFrontend(lb.id, beId, inbound);
    await api.waitReady(lb.id);
    const cli = new MasterCli(join(api.lbDir(lb.id), 'master.sock'));
    const be = backendName(beId);
    await until(() => servers[0].hits > 0 || fetch(`http://${lb.ip}:${inbound}/`).then((r) => r.ok, () => false), 10_000, 50);

    const load = startLoad(lb.ip, inbound, { concurrency: 4, maxMs: 15 * 60_000 });
    const addRuntime: number[] = [];
    const addTraffic: number[] = [];
    const removeTraffic: number[] = [];
    const poolReady: number[] = [];
    try {
      await sleep(300);
      log(`changes: ${o.each} adds and removes`);
      let bound = performance.now() + o.phaseSeconds * 1000;
      for (let i = 0; i < o.each && performance.now() < bound; i++) {
        const x = byIp.get(ips[2 + (i % 6)])!;
        x.mark();
        const added = await api.call('POST', `/backends/${beId}/servers`, { server_ip: [x.ip] });
        const reg = until(() => registered(cli, be, x.ip), 5000, 1).then((ok) => (ok ? performance.now() : null));
        const hit = until(() => x.first !== null, 5000, 1);
        const readyAt = await api.waitReady(lb.id, 10_000, 5);
        const regAt = await reg;
        if (regAt !== null) addRuntime.push(regAt - added.at);
        poolReady.push(readyAt - added.at);
        if (await hit) addTraffic.push(x.first! - added.at);
        else log(`changes: ${x.ip} got no traffic within 5 s of being added`);

        const removed = await api.call('DELETE', `/backends/${beId}/servers`, { server_ip: [x.ip] });
        const readyAt2 = await api.waitReady(lb.id, 10_000, 5);
        poolReady.push(readyAt2 - removed.at);
        await sleep(30);
        removeTraffic.push(Math.max(0, x.last - removed.at));
      }

      log(`changes: ${o.reloadEach} reload-class changes (algorithm roundrobin ↔ first, timeout_server)`);
      const reloadTraffic: number[] = [];
      const reloadReady: number[] = [];
      let beBody = (await api.call('GET', `/backends/${beId}`)).json;
      const [s1, s2] = [byIp.get(ips[0])!, byIp.get(ips[1])!];
      bound = performance.now() + o.phaseSeconds * 1000;
      for (let i = 0; i < o.reloadEach && performance.now() < bound; i++) {
        const toFirst = i % 2 === 0;
        const h0 = [s1.hits, s2.hits];
        await sleep(toFirst ? 0 : 50);
        // Under `first` one of the two gets everything; the other is the one whose traffic shows the switch.
        const other = !toFirst && s2.hits - h0[1] <= s1.hits - h0[0] ? s2 : s1;
        const watched = toFirst ? null : other;
        watched?.mark();
        const body = updateBody(beBody, { forward_port_algorithm: toFirst ? 'first' : 'roundrobin', timeout_server: 20_000 + (i % 7) * 1000 });
        const changed = await api.call('PUT', `/backends/${beId}`, body);
        beBody = changed.json;
        reloadReady.push((await api.waitReady(lb.id, 10_000, 5)) - changed.at);
        if (toFirst) {
          await sleep(100);
          // The server that stopped getting requests: its last hit is when the new worker took over.
          const quiet = s1.last < s2.last ? s1 : s2;
          reloadTraffic.push(Math.max(0, quiet.last - changed.at));
        } else if (await until(() => watched!.first !== null, 5000, 1)) {
          reloadTraffic.push(watched!.first! - changed.at);
        }
      }
      if (beBody.forward_port_algorithm !== 'roundrobin') {
        await api.call('PUT', `/backends/${beId}`, updateBody(beBody, { forward_port_algorithm: 'roundrobin' }));
        await api.waitReady(lb.id);
      }
      const before = { ...load.result };
      await load.stop();

      log(`changes: ${o.mixed} mixed changes under a request loop`);
      const mixedLoad = startLoad(lb.ip, inbound, { concurrency: 4, maxMs: 15 * 60_000 });
      await sleep(200);
      const rand = rng(20240601);
      const core = ips.slice(0, 2);
      let pool = new Set(core);
      const spare = ips.slice(2);
      const byKind: Record<string, number> = { add: 0, remove: 0, set: 0, reload: 0 };
      let algo = 'roundrobin';
      const t0 = performance.now();
      bound = t0 + o.mixedSeconds * 1000;
      let done = 0;
      for (let i = 0; i < o.mixed && performance.now() < bound; i++, done++) {
        if (i > 0 && i % 100 === 0) log(`changes: ${i} mixed changes, ${mixedLoad.result.failed} failed requests so far`);
        const r = rand();
        const extra = spare.filter((ip) => pool.has(ip));
        const free = spare.filter((ip) => !pool.has(ip));
        if (r < 0.35 && free.length) {
          const ip = free[Math.floor(rand() * free.length)];
          await api.call('POST', `/backends/${beId}/servers`, { server_ip: [ip] });
          pool.add(ip);
          byKind.add++;
        } else if (r < 0.7 && extra.length) {
          const ip = extra[Math.floor(rand() * extra.length)];
          await api.call('DELETE', `/backends/${beId}/servers`, { server_ip: [ip] });
          pool.delete(ip);
          byKind.remove++;
        } else if (r < 0.85) {
          // The two core servers stay, so a request never finds the pool without a server that passed its checks.
          pool = new Set([...core, ...spare.filter(() => rand() < 0.4)]);
          await api.call('PUT', `/backends/${beId}/servers`, { server_ip: [...pool] });
          byKind.set++;
        } else {
          algo = algo === 'roundrobin' ? 'leastconn' : 'roundrobin';
          beBody = (await api.call('PUT', `/backends/${beId}`, updateBody(beBody, { forward_port_algorithm: algo,
            timeout_server: 20_000 + (i % 11) * 1000 }))).json;
          byKind.reload++;
        }
        await api.waitReady(lb.id, 10_000, 10);
      }
      const seconds = (performance.now() - t0) / 1000;
      await sleep(500);
      const res = await mixedLoad.stop();
      log(`changes: mixed done in ${seconds.toFixed(0)} s, ${res.ok} requests, ${res.failed} failed`);
      return {
        healthCheck: 'http GET /health, check_delay 100 ms (the API minimum), transient_check_delay 100 ms, check_timeout 1 s, fall 3, rise 2 (fixed)',
        load: `Node keep-alive client loop, 4 concurrent requests (${before.ok} requests during the measured adds/removes/reloads, ${before.failed} failed)`,
        addRuntime: dist(addRuntime), addTraffic: dist(addTraffic), removeTraffic: dist(removeTraffic), poolReady: dist(poolReady),
        reloadTraffic: dist(reloadTraffic), reloadReady: dist(reloadReady),
        mixed: { changes: done, planned: o.mixed, byKind, seconds: Number(seconds.toFixed(1)), requests: res.ok + res.failed, failed: res.failed, errors: res.errors },
      };
    } finally {
      await load.stop();
      await api.call('DELETE', `/lbs/${lb.id}?release_ip=true`).catch(() => null);
      await api.f.waitGone('fr-par-1', lb.id).catch(() => null);
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}
