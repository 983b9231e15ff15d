// Crash safety.
// 1. SIGKILL of `fulcrum serve` in the middle of a stream of concurrent writes (pool changes on a live LB, creates,
//    updates and deletes of backends and frontends, new LBs): after the restart every acknowledged write is there, no
//    object is half-written, every HAProxy runs exactly what the store says (its backends, frontends and servers, read
//    from its own master socket), traffic through the live LB never failed (down or restarting), and each LB has one
//    HAProxy master.
// 2. SIGKILL of an LB's HAProxy master: traffic is back within a few seconds (measured and printed) and the LB's
//    instance status shows what happened meanwhile: `error`, then `ready`.
// The kill moment comes from a seeded PRNG (FULCRUM_FUZZ_SEED) and is printed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { METRICS_FRONTEND } from '../../src/dataplane/render-metrics.js';
import { MasterCli } from '../../src/dataplane/runtime.js';
import { startHttpServers, waitFor, type HttpTestServer } from '../fixtures/servers.js';
import type { Fulcrum } from '../helpers/fulcrum.js';
import { startLoad } from '../helpers/load.js';
import { freePort, loopbackNet } from '../helpers/ports.js';
import { haproxyMastersOf, haproxyPidsOf } from '../helpers/procs.js';
import { SEED, StoreDump, ok, prng, sleep, startFulcrum } from './support.js';

const PROJECT = randomUUID();
const net = loopbackNet();
let f: Fulcrum;
let servers: HttpTestServer[];
let lb1: string;
let be1: string;
let lbAddress: string;
let inbound: number;
const A = `${net}.11`;
const B = `${net}.12`;
const C = `${net}.13`;

before(async () => {
  servers = await startHttpServers([A, B, C]);
  f = await startFulcrum({ dataplane: 'haproxy' });
  const lb = await ok(f, 'POST', '/lbs', { project_id: PROJECT, name: 'traffic' });
  lb1 = lb.id;
  lbAddress = lb.ip[0].ip_address;
  be1 = (await ok(f, 'POST', `/lbs/${lb1}/backends`, {
    name: 'traffic', forward_protocol: 'http', forward_port: servers[0].port, server_ip: [A, B],
    health_check: { port: servers[0].port, check_delay: 200, check_max_retries: 2, transient_check_delay: '0.1s',
      http_config: { uri: '/health', method: 'GET' } },
  })).id;
  inbound = await freePort(lbAddress);
  await ok(f, 'POST', `/lbs/${lb1}/frontends`, { name: 'traffic', inbound_port: inbound, backend_id: be1 });
  await allReady();
  await waitFor('traffic through the LB', async () => (await fetch(`http://${lbAddress}:${inbound}/`).catch(() => null))?.status === 200, 10_000);
});

after(async () => {
  await f.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

/** Every LB and its instance ready (the API answers only for the admin key's view: all of them). */
async function allReady(timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lbs = (await ok(f, 'GET', '/lbs?page_size=100')).lbs as { id: string; status: string; instances: { status: string }[] }[];
    if (lbs.every((l) => l.status === 'ready' && l.instances.every((i) => i.status === 'ready'))) return lbs.map((l) => l.id);
    if (Date.now() > deadline) throw new Error(`not ready: ${lbs.map((l) => `${l.id} ${l.status}/${l.instances.map((i) => i.status)}`).join('; ')}`);
    await sleep(50);
  }
}

// ---- the write stream and its ledger

interface Expect {
  kind: 'backend' | 'frontend' | 'lb';
  /** The last acknowledged state (fields compared after the restart); null when the last acknowledged write deleted it. */
  acked: Record<string, unknown> | null;
  /** A write sent but not answered when the server died: its state may or may not be stored. */
  inFlight?: Record<string, unknown> | null;
  ackedAt: number;
}

const ledger = new Map<string, Expect>();
/** be1's pool: acknowledged, and a change in flight at the kill. */
const pool: { acked: string[]; inFlight: string[] | null } = { acked: [A, B], inFlight: null };
let ackCount = 0;

class Dead extends Error {}

/** One request; a failure to get an answer means the server died (the request is then in flight). */
async function call(method: string, path: string, body?: unknown): Promise<any> {
  let r;
  try {
    r = await f.http(method, path, body);
  } catch {
    throw new Dead();
  }
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  ackCount++;
  return r.json;
}

/** Bounds of every worker loop, whatever happens to the kill. */
const MAX_WRITES = 400;

async function poolWorker(rand: () => number, stop: () => boolean): Promise<void> {
  for (let i = 0; i < MAX_WRITES && !stop(); i++) {
    const ip = rand() < 0.5 ? B : C;
    const next = pool.acked.includes(ip) ? pool.acked.filter((x) => x !== ip) : [...pool.acked, ip];
    pool.inFlight = next;
    const res = await call(next.includes(ip) ? 'POST' : 'DELETE', `/backends/${be1}/servers`, { server_ip: [ip] });
    assert.deepEqual([...res.pool].sort(), [...next].sort());
    pool.acked = next;
    pool.inFlight = null;
  }
}

async function objectWorker(w: number, lbId: string, rand: () => number, stop: () => boolean): Promise<void> {
  const mine: { backend: string; frontend: string | null }[] = [];
  for (let n = 1; n <= MAX_WRITES && !stop(); n++) {
    const r = rand();
    if (r < 0.45 || mine.length === 0) {
      const body = { name: `w${w}-b${n}`, forward_protocol: 'tcp', forward_port: 1000 + n };
      const id = `pending-${w}-${n}`;
      ledger.set(id, { kind: 'backend', acked: null, inFlight: body, ackedAt: 0 });
      const res = await call('POST', `/lbs/${lbId}/backends`, body);
      ledger.delete(id);
      ledger.set(res.id, { kind: 'backend', acked: { lb: lbId, name: body.name, forward_port: body.forward_port }, ackedAt: ackCount });
      mine.push({ backend: res.id, frontend: null });
    } else if (r < 0.7) {
      const o = mine[Math.floor(rand() * mine.length)];
      const e = ledger.get(o.backend)!;
      const state = { lb: lbId, name: `w${w}-b${n}-renamed`, forward_port: 2000 + n };
      e.inFlight = state;
      await call('PUT', `/backends/${o.backend}`, { name: state.name, forward_protocol: 'tcp', forward_port: state.forward_port });
      Object.assign(e, { acked: state, inFlight: undefined, ackedAt: ackCount });
    } else if (r < 0.9) {
      const o = mine.find((x) => x.frontend === null);
      if (!o) {
        await sleep(1);
        continue;
      }
      const port = 30_000 + w * 1000 + n;
      const body = { name: `w${w}-f${n}`, inbound_port: port, backend_id: o.backend };
      const id = `pending-${w}-${n}`;
      ledger.set(id, { kind: 'frontend', acked: null, inFlight: { lb: lbId, ...body }, ackedAt: 0 });
      const res = await call('POST', `/lbs/${lbId}/frontends`, body);
      ledger.delete(id);
      ledger.set(res.id, { kind: 'frontend', acked: { lb: lbId, ...body }, ackedAt: ackCount });
      o.frontend = res.id;
    } else {
      // Delete a frontend (or a backend without one).
      const o = mine[Math.floor(rand() * mine.length)];
      const id = o.frontend ?? o.backend;
      const e = ledger.get(id)!;
      e.inFlight = null;
      await call('DELETE', o.frontend ? `/frontends/${id}` : `/backends/${id}`);
      Object.assign(e, { acked: null, inFlight: undefined, ackedAt: ackCount });
      if (o.frontend) o.frontend = null;
      else mine.splice(mine.indexOf(o), 1);
    }
  }
}

async function lbWorker(rand: () => number, stop: () => boolean): Promise<void> {
  for (let n = 0; n < 3 && !stop(); n++) {
    await sleep(50 + rand() * 150);
    const id = `pending-lb-${n}`;
    ledger.set(id, { kind: 'lb', acked: null, inFlight: { name: `crash-lb-${n}` }, ackedAt: 0 });
    const res = await call('POST', '/lbs', { project_id: PROJECT, name: `crash-lb-${n}` });
    ledger.delete(id);
    ledger.set(res.id, { kind: 'lb', acked: { name: `crash-lb-${n}` }, ackedAt: ackCount });
  }
}

test('SIGKILL of fulcrum serve amid concurrent writes: every acknowledged write kept, nothing half-written, HAProxy converges, no failed request', { timeout: 180_000 }, async () => {
  const rand = prng(SEED);
  const killAfterAcks = 40 + Math.floor(rand() * 60);
  console.log(`# seed ${SEED}: SIGKILL of fulcrum serve after ${killAfterAcks} acknowledged writes`);
  const lb2 = (await ok(f, 'POST', '/lbs', { project_id: PROJECT, name: 'writes' })).id;
  await allReady();

  const load = startLoad(lbAddress, inbound, { concurrency: 4, maxMs: 120_000 });
  await sleep(200);
  let stopped = false;
  const stop = () => stopped;
  const workers = [
    poolWorker(prng(SEED + 1), stop),
    ...[0, 1, 2, 3].map((w) => objectWorker(w, w % 2 ? lb2 : lb1, prng(SEED + 10 + w), stop)),
    lbWorker(prng(SEED + 20), stop),
  ].map((p) => p.catch((e) => { if (!(e instanceof Dead)) throw e; }));
  const started = performance.now();
  // The kill lands while every worker has a request in flight (bounded: 20 s at most).
  await waitFor('the write stream', () => ackCount >= killAfterAcks, 20_000, 1);
  await f.kill();
  stopped = true;
  await Promise.all(workers);
  const inFlight = [...ledger.values()].filter((e) => e.inFlight !== undefined).length + (pool.inFlight ? 1 : 0);
  console.log(`# killed ${(performance.now() - started).toFixed(0)} ms into the stream, after ${ackCount} acknowledged writes, with ${inFlight} in flight`);
  assert.ok(inFlight >= 1, 'the kill hit writes in flight');

  // Down: HAProxy keeps serving.
  const whileDown = load.result.ok;
  await sleep(1000);
  assert.ok(load.result.ok > whileDown, 'traffic while the control plane is dead');
  await f.launch();
  const lbIds = await allReady();
  await sleep(300);
  const res = await load.stop();
  console.log(`# traffic through the live LB: ${res.ok} requests, ${res.failed} failed, through the kill and the restart`);
  assert.equal(res.failed, 0, res.errors.join('; '));

  // 1. Every acknowledged write is there (or the write in flight at the kill replaced it).
  const dump = new StoreDump(f.dataDir);
  try {
    const row = (table: string, id: string) => dump.rows<{ doc: string }>(`SELECT doc FROM ${table} WHERE id = ?`, id)[0];
    for (const [id, e] of ledger) {
      const table = { backend: 'backends', frontend: 'frontends', lb: 'lbs' }[e.kind];
      const stored = id.startsWith('pending-') ? undefined : row(table, id);
      const view = stored && JSON.parse(stored.doc);
      const seen = view && (e.kind === 'lb' ? { name: view.name }
        : e.kind === 'backend' ? { lb: view.lbId, name: view.name, forward_port: view.forwardPort }
          : { lb: view.lbId, name: view.name, inbound_port: view.inboundPort, backend_id: view.backendId });
      const allowed = [e.acked ?? undefined, ...(e.inFlight !== undefined ? [e.inFlight ?? undefined] : [])];
      if (id.startsWith('pending-')) continue; // a create never answered: it may or may not exist (checked below)
      assert.ok(allowed.some((a) => JSON.stringify(a) === JSON.stringify(seen)),
        `${e.kind} ${id}: stored ${JSON.stringify(seen)}, acknowledged ${JSON.stringify(e.acked)}${e.inFlight !== undefined ? `, in flight ${JSON.stringify(e.inFlight)}` : ''}`);
    }
    const storedPool = JSON.parse(row('backends', be1).doc).pool as string[];
    assert.ok([pool.acked, pool.inFlight].some((p) => p && JSON.stringify([...p].sort()) === JSON.stringify([...storedPool].sort())),
      `be1 pool: stored ${storedPool}, acknowledged ${pool.acked}, in flight ${pool.inFlight}`);

    // 2. Nothing half-written: the file is sound, every child's parent exists, counts agree.
    assert.deepEqual(dump.rows('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
    assert.deepEqual(dump.rows('PRAGMA foreign_key_check'), []);
    assert.deepEqual(dump.rows('SELECT b.id FROM backends b LEFT JOIN lbs l ON l.id = b.lb_id WHERE l.id IS NULL'), []);
    assert.deepEqual(dump.rows(`SELECT f.id FROM frontends f LEFT JOIN backends b ON b.id = f.backend_id
      WHERE b.id IS NULL OR b.lb_id <> f.lb_id`), []);
    for (const t of ['lbs', 'backends', 'frontends', 'ips']) {
      for (const r of dump.rows<{ id: string; doc: string }>(`SELECT id, doc FROM ${t}`)) assert.equal(JSON.parse(r.doc).id, r.id);
    }
    for (const id of lbIds) {
      const lb = await ok(f, 'GET', `/lbs/${id}`);
      assert.equal(lb.backend_count, (await ok(f, 'GET', `/lbs/${id}/backends?page_size=1`)).total_count);
      assert.equal(lb.frontend_count, (await ok(f, 'GET', `/lbs/${id}/frontends?page_size=1`)).total_count);
      assert.equal(lb.backend_count, dump.rows<{ n: number }>('SELECT COUNT(*) AS n FROM backends WHERE lb_id = ?', id)[0].n);
    }

    // 3. Every HAProxy runs what the store holds: backends, frontends and servers, from its own master socket.
    for (const id of lbIds) {
      const snap = {
        backends: dump.rows<{ id: string; doc: string }>('SELECT id, doc FROM backends WHERE lb_id = ?', id),
        frontends: dump.rows<{ id: string }>('SELECT id FROM frontends WHERE lb_id = ?', id).map((r) => r.id),
      };
      const csv = await new MasterCli(join(f.dataDir, 'lbs', id, 'master.sock')).worker('show stat');
      const lines = csv.split('\n').filter((l) => l && !l.startsWith('#'));
      // Every LB also runs the metrics exporter's own frontend (render-metrics.ts).
      const fes = lines.filter((l) => l.split(',')[1] === 'FRONTEND').map((l) => l.split(',')[0]).filter((n) => n !== METRICS_FRONTEND)
        .map((n) => n.replace(/^fe_/, ''));
      const bes = lines.filter((l) => l.split(',')[1] === 'BACKEND').map((l) => l.split(',')[0]).filter((n) => !n.endsWith('_failover'))
        .map((n) => n.replace(/^be_/, ''));
      assert.deepEqual(fes.sort(), [...snap.frontends].sort(), `LB ${id}: frontends HAProxy runs`);
      assert.deepEqual(bes.sort(), snap.backends.map((b) => b.id).sort(), `LB ${id}: backends HAProxy runs`);
      for (const b of snap.backends) {
        const running = lines.map((l) => l.split(',')).filter((c) => c[0] === `be_${b.id}` && c[1].startsWith('srv-')).map((c) => c[1].slice(4));
        assert.deepEqual(running.sort(), [...(JSON.parse(b.doc).pool as string[])].sort(), `LB ${id}, backend ${b.id}: servers HAProxy runs`);
      }
    }
  } finally {
    dump.close();
  }

  // 4. One master per LB, none for anything else; the live LB serves its stored pool.
  const lbDirs = readdirSync(join(f.dataDir, 'lbs'));
  for (const d of lbDirs) {
    const masters = haproxyMastersOf(join(f.dataDir, 'lbs', d));
    assert.equal(masters.length, lbIds.includes(d) ? 1 : 0, `LB dir ${d}: ${masters.length} HAProxy masters`);
  }
  for (const id of lbIds) assert.ok(lbDirs.includes(id), `LB ${id} has its HAProxy files`);
  const stored = (await ok(f, 'GET', `/backends/${be1}`)).pool as string[];
  const hitsBefore = new Map(servers.map((s) => [s.host, s.hits]));
  const after = await startLoad(lbAddress, inbound, { concurrency: 2, maxRequests: 400, maxMs: 20_000 }).finished();
  assert.equal(after.failed, 0);
  for (const s of servers) {
    const got = s.hits - hitsBefore.get(s.host)!;
    if (!stored.includes(s.host)) assert.equal(got, 0, `${s.host} is not in the stored pool, and gets nothing`);
  }
  assert.ok(servers.some((s) => stored.includes(s.host) && s.hits > hitsBefore.get(s.host)!), 'the stored pool serves');
});

/** A probe loop that records when each request ended and whether it succeeded (one at a time, short timeouts). */
function probe(host: string, port: number, maxMs: number) {
  const results: { at: number; ok: boolean }[] = [];
  let stop = false;
  const deadline = Date.now() + maxMs;
  const one = () => new Promise<void>((resolve) => {
    const req = request({ host, port, path: '/', agent: false, timeout: 500 }, (res) => {
      res.resume();
      res.on('end', () => { results.push({ at: performance.now(), ok: res.statusCode === 200 }); resolve(); });
      res.on('error', () => { results.push({ at: performance.now(), ok: false }); resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => { results.push({ at: performance.now(), ok: false }); resolve(); });
    req.end();
  });
  const done = (async () => {
    while (!stop && Date.now() < deadline) {
      const before = results.length;
      await one();
      if (!results[before]?.ok) await sleep(10); // refused connections come back at once: do not spin
    }
  })();
  return { results, async stop() { stop = true; await done; } };
}

test('SIGKILL of an LB\'s HAProxy master: traffic is back within seconds, and the status said error, then ready', { timeout: 120_000 }, async () => {
  const lbDir = join(f.dataDir, 'lbs', lb1);
  const [master] = haproxyMastersOf(lbDir);
  assert.ok(master, 'the LB has a master');
  const statuses: { at: number; status: string }[] = [];
  let watching = true;
  const watcher = (async () => {
    for (let i = 0; i < 2000 && watching; i++) {
      const lb = await ok(f, 'GET', `/lbs/${lb1}`);
      const s = lb.instances[0]?.status;
      if (statuses.at(-1)?.status !== s) statuses.push({ at: performance.now(), status: s });
      await sleep(10);
    }
  })();
  const p = probe(lbAddress, inbound, 60_000);
  await sleep(300);
  const killedAt = performance.now();
  process.kill(master, 'SIGKILL'); // our own test's LB only: the pid came from its directory
  // Back: ten answers in a row after the kill.
  await waitFor('traffic back', () => {
    const after = p.results.filter((r) => r.at > killedAt);
    return after.length >= 10 && after.slice(-10).every((r) => r.ok);
  }, 20_000, 20);
  await waitFor('instance ready again', () => statuses.at(-1)?.status === 'ready' && statuses.some((s) => s.at > killedAt && s.status === 'error'), 20_000, 20);
  await p.stop();
  watching = false;
  await watcher;

  const after = p.results.filter((r) => r.at > killedAt);
  const firstFail = after.find((r) => !r.ok);
  const lastFail = [...after].reverse().find((r) => !r.ok);
  const backAt = lastFail ? after.find((r) => r.at > lastFail.at && r.ok)!.at : killedAt;
  const gap = backAt - killedAt;
  console.log(`# HAProxy master SIGKILLed: ${after.filter((r) => !r.ok).length} failed probes, traffic back ${gap.toFixed(0)} ms after the kill`
    + `${firstFail ? ` (first failure at +${(firstFail.at - killedAt).toFixed(0)} ms)` : ''}`);
  console.log(`# instance status meanwhile: ${statuses.filter((s) => s.at > killedAt - 50).map((s) => `${s.status} +${Math.max(0, s.at - killedAt).toFixed(0)} ms`).join(', ')}`);
  assert.ok(gap < 5000, `traffic back within seconds (${gap.toFixed(0)} ms)`);
  const seq = statuses.filter((s) => s.at > killedAt).map((s) => s.status);
  assert.ok(seq.indexOf('error') >= 0 && seq.lastIndexOf('ready') > seq.indexOf('error'), `status error, then ready: ${seq.join(' → ')}`);
  // A new master, alone; no worker of the old one left behind.
  const masters = haproxyMastersOf(lbDir);
  assert.equal(masters.length, 1);
  assert.notEqual(masters[0], master);
  assert.ok(haproxyPidsOf(lbDir).length <= 3, `the new master and its worker(s): ${haproxyPidsOf(lbDir).length} processes`);
});
