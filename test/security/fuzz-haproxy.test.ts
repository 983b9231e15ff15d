// Fuzzing through the real data plane: a `fulcrum serve` running HAProxy gets fast-check's backend, health-check, pool
// and frontend requests (mostly valid, with one or two hostile fields). Each accepted change must come out as a
// running HAProxy: the LB's instance becomes ready again and never shows `error` (HAProxy refused no config and no
// runtime command); each refused one changes nothing in the store. Traffic through the LB's own frontend keeps
// flowing to the end, and the LB keeps exactly one HAProxy master.
// Failover hosts are IP literals here: a running HAProxy would resolve DNS names for real.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startHttpServers, type HttpTestServer } from '../fixtures/servers.js';
import type { Fulcrum } from '../helpers/fulcrum.js';
import { startLoad } from '../helpers/load.js';
import { freePort, loopbackNet } from '../helpers/ports.js';
import { haproxyMastersOf } from '../helpers/procs.js';
import { requestArbitraries } from './arbitraries.js';
import { SEED, StoreDump, assertScalewayError, ok, runs, sleep, startFulcrum } from './support.js';

const PROJECT = randomUUID();
const net = loopbackNet();
let f: Fulcrum;
let dump: StoreDump;
let servers: HttpTestServer[];
let lbId: string;
let lbAddress: string;
let inbound: number;
let scratchId: string;
const counts = { sent: 0, accepted: 0, refused: 0 };

const { backendRequest, frontendRequest, validHealthCheck, serverIp, int } = requestArbitraries({ dnsNames: false });

before(async () => {
  servers = await startHttpServers([`${net}.11`, `${net}.12`]);
  f = await startFulcrum({ dataplane: 'haproxy' });
  dump = new StoreDump(f.dataDir);
  const lb = await ok(f, 'POST', '/lbs', { project_id: PROJECT, name: 'fuzz-haproxy' });
  lbId = lb.id;
  lbAddress = lb.ip[0].ip_address;
  const be = await ok(f, 'POST', `/lbs/${lbId}/backends`, {
    name: 'traffic', forward_protocol: 'http', forward_port: servers[0].port, server_ip: servers.map((s) => s.host),
    health_check: { port: servers[0].port, check_delay: 200, check_max_retries: 2, http_config: { uri: '/health', method: 'GET' } },
  });
  inbound = await freePort(lbAddress);
  await ok(f, 'POST', `/lbs/${lbId}/frontends`, { name: 'traffic', inbound_port: inbound, backend_id: be.id });
  scratchId = (await ok(f, 'POST', `/lbs/${lbId}/backends`, { name: 'scratch', forward_protocol: 'http', forward_port: 80 })).id;
  await settled();
  console.log(`# seed ${SEED} (replay: FULCRUM_FUZZ_SEED=${SEED})`);
});

after(async () => {
  console.log(`# ${counts.sent} requests through the HAProxy data plane: ${counts.accepted} accepted and applied, ${counts.refused} refused`);
  dump.close();
  await f.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

/** Waits until the LB's instance runs its stored config; fails at once when it shows `error`. */
async function settled(what = 'setup'): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const lb = await ok(f, 'GET', `/lbs/${lbId}`);
    const inst = lb.instances[0]?.status;
    assert.notEqual(inst, 'error', `${what}: HAProxy refused it (the instance is in error; see the LB's log in ${f.dataDir}/lbs/${lbId})`);
    assert.notEqual(lb.status, 'error', what);
    if (lb.status === 'ready' && inst === 'ready') return;
    assert.ok(Date.now() < deadline, `${what}: not applied within 20 s (${lb.status}/${inst})`);
    await sleep(20);
  }
}

type Op = { method: string; path: string; body: unknown; undo?: (id: string) => string };

const ops: fc.Arbitrary<Op> = fc.oneof(
  backendRequest.map((b) => ({ method: 'POST', path: '/lbs/LB/backends', body: b, undo: (id: string) => `/backends/${id}` })),
  backendRequest.map((b) => {
    const { health_check: _h, server_ip: _s, ...settings } = b;
    return { method: 'PUT', path: '/backends/SCRATCH', body: settings };
  }),
  fc.oneof(validHealthCheck, fc.tuple(validHealthCheck, fc.constantFrom('port', 'check_max_retries', 'check_delay'), int)
    .map(([h, k, v]) => ({ ...h, [k]: v }))).map((h) => ({ method: 'PUT', path: '/backends/SCRATCH/healthcheck', body: h })),
  fc.uniqueArray(serverIp, { maxLength: 5 }).map((ips) => ({ method: 'PUT', path: '/backends/SCRATCH/servers', body: { server_ip: ips } })),
  frontendRequest.map((fe) => ({ method: 'POST', path: '/lbs/LB/frontends', body: { ...fe, backend_id: 'SCRATCH' }, undo: (id: string) => `/frontends/${id}` })),
  // The traffic frontend's port: refused (409), nothing changes.
  frontendRequest.map((fe) => ({ method: 'POST', path: '/lbs/LB/frontends', body: { ...fe, inbound_port: inbound, backend_id: 'SCRATCH' } })),
);

test('every change the API accepts is applied by HAProxy (never an instance in error); refused ones change nothing', async () => {
  const load = startLoad(lbAddress, inbound, { concurrency: 2, maxMs: 150_000 });
  const details = await fc.check(fc.asyncProperty(ops, async (op) => {
    const path = op.path.replace('LB', lbId).replace('SCRATCH', scratchId);
    const body = JSON.parse(JSON.stringify(op.body).replaceAll('SCRATCH', scratchId));
    const before = dump.all();
    const r = await f.http(op.method, path, body);
    counts.sent++;
    const label = `${op.method} ${path} ${JSON.stringify(body)}`;
    assert.ok(r.status < 500, `${label}: ${r.status} ${r.text}`);
    if (r.status >= 400) {
      counts.refused++;
      assertScalewayError({ status: r.status, headers: { 'content-type': r.headers.get('content-type')! }, text: r.text, json: r.json }, label);
      assert.equal(dump.all(), before, `${label}: refused but the store changed`);
      return;
    }
    counts.accepted++;
    try {
      await settled(label);
    } finally {
      if (op.undo) await ok(f, 'DELETE', op.undo(r.json.id));
    }
  }), { seed: SEED, numRuns: runs(45), interruptAfterTimeLimit: 120_000 });
  const res = await load.stop();
  if (details.failed) assert.fail(`${fc.defaultReportMessage(details)}\n${(details.errorInstance as Error)?.message}`);
  await settled('after the cleanups');
  assert.ok(counts.accepted >= 10, `enough accepted changes to mean something (${counts.accepted})`);
  // The LB's own frontend and backend were never touched: its traffic never failed.
  console.log(`# traffic through the LB meanwhile: ${res.ok} requests, ${res.failed} failed`);
  assert.equal(res.failed, 0, res.errors.join('; '));
  assert.ok(res.ok > 50);
  assert.equal(haproxyMastersOf(join(f.dataDir, 'lbs', lbId)).length, 1, 'one HAProxy master');
});
