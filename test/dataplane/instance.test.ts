// The data plane end to end: real HAProxy, real HTTP/TCP servers on loopback, traffic through the LB address.
// Tests in this file share one LB and run in order; each step starts from the previous one's state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { LbSnapshot } from '../../src/domain/snapshot.js';
import { parseServersState } from '../../src/dataplane/stats.js';
import { DataPlaneHarness } from '../fixtures/dataplane.js';
import {
  freePort, httpGet, loopbackNet, startHttpServer, startHttpServers, waitFor, type HttpTestServer,
} from '../fixtures/servers.js';
import { makeBackend, makeFrontend, makeHealthCheck, makeSnapshot, withBackend } from '../fixtures/snapshots.js';

const h = new DataPlaneHarness();
const dp = h.plane();
const net = loopbackNet();
const lbId = randomUUID();
const lbIp = `${net}.1`;
const [A, B, C, DEAD] = [`${net}.11`, `${net}.12`, `${net}.13`, `${net}.14`];
let servers: HttpTestServer[];
let port: number;
let snap: LbSnapshot;

const get = () => httpGet(lbIp, port);
/** Bodies of n sequential requests (each on a new connection). */
async function bodies(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await get()).body);
  return out;
}
const proc = () => dp.instance(lbId).proc.showProc();
const serverNames = async () => parseServersState(await dp.instance(lbId).proc.cli.worker('show servers state'))
  .map((s) => s.ip).sort();

before(async () => {
  servers = h.serve(...await startHttpServers([A, B, C]));
  port = await freePort(lbIp);
  h.lbIds.add(lbId);
  const hc = makeHealthCheck({ config: { kind: 'http', uri: '/health', method: 'GET', code: 200, hostHeader: '' } });
  snap = makeSnapshot(lbId, [lbIp], [makeFrontend('fe1', lbId, 'be1', port)],
    [makeBackend('be1', lbId, { forwardPort: servers[0].port, pool: [A, B], healthCheck: hc })]);
});
after(() => h.cleanup());

test('apply starts HAProxy and round robin spreads requests over the pool', async () => {
  assert.deepEqual(await dp.apply(snap), { ok: true });
  assert.ok(dp.isAlive(lbId));
  const seen = await bodies(10);
  assert.deepEqual([...new Set(seen)].sort(), [A, B]);
  assert.ok(seen.filter((b) => b === A).length >= 4, `unbalanced: ${seen.join(' ')}`);
  // The config on disk is the one that runs, and the request carried X-Forwarded-For (option forwardfor).
  assert.match(await readFile(dp.instance(lbId).proc.paths.config, 'utf8'), /balance roundrobin/);
  assert.equal(servers[0].lastHeaders?.['x-forwarded-for'] ?? servers[1].lastHeaders?.['x-forwarded-for'], '127.0.0.1');
});

test('adding a server goes through the runtime API: same worker, traffic reaches it after its first check', async (t) => {
  const before = await proc();
  snap = withBackend(snap, 'be1', { pool: [A, B, C] });
  const t0 = performance.now();
  assert.deepEqual(await dp.apply(snap), { ok: true });
  const applied = performance.now();
  await waitFor('traffic on the added server', async () => (await get()).body === C || servers[2].hits > 0, 5000, 5);
  t.diagnostic(`runtime add: apply() ${(applied - t0).toFixed(1)} ms, first request on the new server after `
    + `${((servers[2].firstHitAt ?? performance.now()) - t0).toFixed(0)} ms (checks every 200 ms, rise 2)`);
  assert.deepEqual((await proc()).workers, before.workers, 'no reload');
  assert.deepEqual(await serverNames(), [A, B, C]);
  assert.match(await readFile(dp.instance(lbId).proc.paths.config, 'utf8'), new RegExp(`server srv-${C} `),
    'the config file reproduces the runtime change');
});

test('an added server that fails its checks never receives traffic', async () => {
  const before = await proc();
  snap = withBackend(snap, 'be1', { pool: [A, B, C, DEAD] });
  assert.deepEqual(await dp.apply(snap), { ok: true });
  // retries 3 without redispatch: a request sent to the dead server would come back 503.
  const statuses = [];
  for (let i = 0; i < 20; i++) statuses.push((await get()).status);
  assert.deepEqual([...new Set(statuses)], [200]);
  assert.deepEqual((await proc()).workers, before.workers);
  const dead = (await dp.serverStats(lbId)).find((s) => s.ip === DEAD);
  assert.equal(dead?.serverState, 'stopped');
});

test('removing a server drains it: an in-flight request completes, then it is deleted without a reload', async () => {
  const before = await proc();
  const slow = httpGet(lbIp, port, '/slow/400');
  const holder = await waitFor('the slow request to reach a server',
    () => servers.find((s) => s.lastPath === '/slow/400'), 2000, 5);
  const rest = [A, B, C].filter((ip) => ip !== holder.host);
  snap = withBackend(snap, 'be1', { pool: rest });
  const t0 = performance.now();
  const [answer, result] = await Promise.all([slow, dp.apply(snap)]);
  const took = performance.now() - t0;
  assert.deepEqual(result, { ok: true });
  assert.equal(answer.status, 200);
  assert.equal(answer.body, holder.host);
  assert.ok(took >= 250 && took < 2500, `removal waited for the request, within the drain timeout (${took} ms)`);
  assert.deepEqual(await serverNames(), rest.sort());
  assert.ok((await bodies(6)).every((b) => rest.includes(b)));
  assert.deepEqual((await proc()).workers, before.workers);
});

test('max_connections changes at runtime', async () => {
  const before = await proc();
  snap = withBackend(snap, 'be1', { pool: [A, C], maxConnections: 7 });
  assert.deepEqual(await dp.apply(snap), { ok: true });
  assert.deepEqual((await proc()).workers, before.workers);
  await waitFor('both servers up', async () =>
    (await dp.serverStats(lbId)).filter((s) => s.serverState === 'running').length === 2, 3000);
  const csv = await dp.instance(lbId).proc.cli.worker('show stat -1 4 -1');
  const header = csv.split('\n')[0].replace('# ', '').split(',');
  const slim = csv.split('\n').filter((l) => l.includes(`srv-${C},`)).map((l) => l.split(',')[header.indexOf('slim')]);
  assert.deepEqual(slim, ['7']);
});

test('a reload-class change (algorithm) starts a new worker while traffic keeps flowing', async (t) => {
  const before = await proc();
  let stop = false;
  const errors: string[] = [];
  let ok = 0;
  const load = (async () => {
    for (let i = 0; i < 2000 && !stop; i++) {
      try {
        if ((await get()).status === 200) ok++; else errors.push('status');
      } catch (e) {
        errors.push(String(e));
      }
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  snap = withBackend(snap, 'be1', { algorithm: 'leastconn' });
  const t0 = performance.now();
  assert.deepEqual(await dp.apply(snap), { ok: true });
  t.diagnostic(`reload: apply() returned after ${(performance.now() - t0).toFixed(0)} ms (new worker confirmed)`);
  await new Promise((r) => setTimeout(r, 200));
  stop = true;
  await load;
  const now = await proc();
  assert.notDeepEqual(now.workers, before.workers);
  assert.deepEqual(errors, []);
  assert.ok(ok > 10);
  assert.match(await readFile(dp.instance(lbId).proc.paths.config, 'utf8'), /balance leastconn/);
  // Servers keep their checked state through the state file.
  assert.deepEqual((await dp.serverStats(lbId)).map((s) => s.serverState), ['running', 'running']);
});

test('a pool change together with a reload-class change: the new server still waits for its checks', async () => {
  snap = withBackend(snap, 'be1', { pool: [A, C, DEAD], timeoutServerMs: 20_000 });
  assert.deepEqual(await dp.apply(snap), { ok: true });
  const statuses = [];
  for (let i = 0; i < 15; i++) statuses.push((await get()).status);
  assert.deepEqual([...new Set(statuses)], [200]);
  snap = withBackend(snap, 'be1', { pool: [A, C] });
  assert.deepEqual(await dp.apply(snap), { ok: true });
});

test('a config HAProxy refuses returns ok:false; the old worker keeps serving the old config', async () => {
  const before = await proc();
  const cfgBefore = await readFile(dp.instance(lbId).proc.paths.config, 'utf8');
  // 192.0.2.1 is not on this host: `haproxy -c` accepts the file, the reload cannot bind.
  const refused = await dp.apply({ ...snap, addresses: [lbIp, '192.0.2.1'] });
  assert.equal(refused.ok, false);
  assert.match(!refused.ok ? refused.reason : '', /bind/i);
  assert.deepEqual((await proc()).workers, before.workers);
  assert.equal((await get()).status, 200);
  assert.equal(await readFile(dp.instance(lbId).proc.paths.config, 'utf8'), cfgBefore);
  // A value render.ts refuses never reaches HAProxy either.
  const unsafe = await dp.apply(withBackend(snap, 'be1', { stickySessions: 'cookie', cookieName: 'a b' }));
  assert.equal(unsafe.ok, false);
  assert.deepEqual((await proc()).workers, before.workers);
  // The stored snapshot again: nothing to do.
  assert.deepEqual(await dp.apply(snap), { ok: true });
  assert.deepEqual((await proc()).workers, before.workers);
});

test('a forward_port change reloads; measured until traffic reaches the new port, with no failed request', async (t) => {
  const v2 = h.serve(...await startHttpServers([A, C]));
  for (const s of v2) s.id = `${s.host}-v2`;
  let stop = false;
  let failed = 0;
  let firstNew: number | null = null;
  const load = (async () => {
    for (let i = 0; i < 3000 && !stop; i++) {
      const r = await get().catch(() => null);
      if (r?.status !== 200) failed++;
      else if (r.body.endsWith('-v2')) firstNew ??= performance.now();
    }
  })();
  // As through the API, the health check keeps the port it was given (the old forward port): the servers' states hold.
  // Were the checks to move as well, the servers would take traffic on the new port only once checked there.
  const be1 = snap.backends.find((b) => b.id === 'be1')!;
  snap = withBackend(snap, 'be1', { forwardPort: v2[0].port, healthCheck: { ...be1.healthCheck, port: be1.forwardPort } });
  const t0 = performance.now();
  assert.deepEqual(await dp.apply(snap), { ok: true });
  const applied = performance.now();
  await waitFor('traffic on the new port', () => firstNew !== null, 3000);
  stop = true;
  await load;
  t.diagnostic(`reload: apply() ${(applied - t0).toFixed(0)} ms, first response from the new port after `
    + `${((firstNew ?? 0) - t0).toFixed(0)} ms`);
  assert.equal(failed, 0);
});

test('a new data plane on the same dir adopts the running master instead of starting another', async () => {
  const before = await proc();
  const restarted = h.plane();
  const adopted = await restarted.adoptAll([lbId]);
  assert.equal(adopted.get(lbId), true);
  assert.equal(restarted.instance(lbId).proc.masterPid, before.masterPid);
  assert.deepEqual(await restarted.apply(snap), { ok: true });
  assert.deepEqual(await restarted.instance(lbId).proc.showProc(), await proc());
  // A runtime change through the adopted instance still works (server ids were persisted). B's checks go to the old
  // port, where its first server still answers; its traffic to the new port.
  const extra = h.serve(await startHttpServer(B, 'B2', snap.backends[0].forwardPort))[0];
  assert.deepEqual(await restarted.apply(withBackend(snap, 'be1', { pool: [A, C, B] })), { ok: true });
  await waitFor('traffic on the re-added server', async () => extra.hits > 0 || (await get()).body === 'B2', 5000, 5);
  assert.deepEqual((await restarted.instance(lbId).proc.showProc()).workers, before.workers);
});
