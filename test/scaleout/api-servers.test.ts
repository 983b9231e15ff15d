// Two `fulcrum serve` on one PostgreSQL (started by this file): `api` is API-only (--dataplane none), `edge` runs the
// HAProxy instances. A write answered by one is read back from the other at once and reaches real traffic through
// the other's HAProxy; an LB created on the API-only one reads `ready` only once the HAProxy one runs it (it leaves
// lifecycles to that one); concurrent writers through both never break a limit, a port's uniqueness, a pool or an address.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { STORE_LIMITS } from '../../src/store/store.js';
import { PG_APP_PASSWORD, startPostgres, type Postgres } from '../fixtures/postgres.js';
import { httpGet, startHttpServer, waitFor, type HttpTestServer } from '../fixtures/servers.js';
import { backendBody, frontendBody } from '../helpers/api.js';
import { BIN, Fulcrum, waitLbReady } from '../helpers/fulcrum.js';
import { freePort, loopbackNet } from '../helpers/ports.js';
import { fastCheck, report } from '../e2e/support/lb.js';
import { httpsFingerprintGet } from '../e2e/support/tls.js';
import { parseCustomChain } from '../../src/domain/certificates.js';
import { Pki } from '../fixtures/pki.js';

let pg: Postgres;
let storeUrl = '';
let api: Fulcrum;
let edge: Fulcrum;
let pki: Pki;
const servers: HttpTestServer[] = [];

before(async () => {
  pg = await startPostgres('127.0.0.1', { maxConnections: 60 });
  storeUrl = await pg.database();
  pki = await Pki.create();
  const shared = { ipNet: loopbackNet(), secretKey: randomUUID(), env: { FULCRUM_STORE: storeUrl, FULCRUM_PEM_KEY: randomBytes(32).toString('base64') } };
  // Started together: both migrate the empty database at once (the advisory lock makes that safe).
  [api, edge] = await Promise.all([Fulcrum.start({ ...shared, dataplane: 'none' }), Fulcrum.start({ ...shared, dataplane: 'haproxy' })]);
  const net = loopbackNet();
  const one = await startHttpServer(`${net}.10`, 'one');
  // On the same port: the backend's forward port serves both.
  servers.push(one, await startHttpServer(`${net}.11`, 'two', one.port));
});

after(async () => {
  // The API-only process first, so that only `edge` reconciles the deletions (and stops its HAProxy instances).
  await api?.stop();
  if (api) rmSync(api.dataDir, { recursive: true, force: true });
  await edge?.destroy();
  for (const s of servers) await s.close();
  await pg?.stop();
  pki?.close();
});

const statuses = (rs: { status: number }[]) => rs.map((r) => r.status).sort();

/** How many applies the server's reconciler has run (its /metrics), whatever its data plane. */
async function applies(f: Fulcrum): Promise<number> {
  const text = await (await fetch(`${f.url}/metrics`, { headers: { 'X-Auth-Token': f.key } })).text();
  return [...text.matchAll(/^fulcrum_apply_duration_seconds_count\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

test('a write on the API-only server is read back at once on the other, and reaches traffic through its HAProxy', async () => {
  const a = api.sdk();
  const e = edge.sdk();
  const lb = await a.createLb({ name: 'shared', description: '', type: 'LB-S', tags: [] } as never);
  const seen = await e.getLb({ lbId: lb.id });
  assert.deepEqual([seen.name, seen.ip[0].ipAddress], ['shared', lb.ip[0].ipAddress]);

  const [one, two] = servers;
  const backend = await a.createBackend({
    lbId: lb.id, name: 'web', forwardProtocol: 'http', forwardPort: one.port, forwardPortAlgorithm: 'roundrobin',
    stickySessions: 'none', stickySessionsCookieName: '', serverIp: [one.host],
    healthCheck: fastCheck(),
  } as Lbv1.ZonedApiCreateBackendRequest);
  assert.deepEqual((await e.getBackend({ backendId: backend.id })).pool, [one.host]);
  const port = await freePort(lb.ip[0].ipAddress);
  const written = performance.now();
  const fe = await a.createFrontend({ lbId: lb.id, name: 'fe', inboundPort: port, backendId: backend.id, enableHttp3: false } as never);
  assert.equal((await e.getFrontend({ frontendId: fe.id })).inboundPort, port);

  await waitLbReady(e, lb.id);
  await waitFor('traffic through the edge HAProxy', async () => (await httpGet(lb.ip[0].ipAddress, port)).body === 'one', 15_000);
  report('frontend written on the API-only server -> first request answered through the other\'s HAProxy', performance.now() - written);

  // A pool change on the API-only server moves traffic on the edge.
  await a.setBackendServers({ backendId: backend.id, serverIp: [two.host] });
  assert.deepEqual((await e.getBackend({ backendId: backend.id })).pool, [two.host]);
  await waitFor('traffic on the new server', async () => (await httpGet(lb.ip[0].ipAddress, port)).body === 'two', 15_000);

  // The other way: a write on the edge server reaches the API-only one's reconciler through the change feed.
  const before = await applies(api);
  await e.updateLb({ lbId: lb.id, name: 'renamed-on-edge', description: '', tags: [], sslCompatibilityLevel: 'ssl_compatibility_level_intermediate' });
  assert.equal((await a.getLb({ lbId: lb.id })).name, 'renamed-on-edge');
  await waitFor('an apply on the API-only server', async () => (await applies(api)) > before, 5000);
});

test('a certificate created through the API-only server is served by the other\'s HAProxy (its PEM sealed in the store)', async () => {
  const a = api.sdk();
  const lb = await a.createLb({ name: 'tls', description: '', type: 'LB-S', tags: [] } as never);
  const leaf = await pki.leaf(['shared.fulcrum.test']);
  const cert = await a.createCertificate({ lbId: lb.id, name: 'shared', customCertificate: { certificateChain: leaf.chain } });
  const [one] = servers;
  const backend = await a.createBackend({ lbId: lb.id, name: 'web', forwardProtocol: 'http', forwardPort: one.port,
    forwardPortAlgorithm: 'roundrobin', stickySessions: 'none', stickySessionsCookieName: '', serverIp: [one.host],
    healthCheck: fastCheck() } as Lbv1.ZonedApiCreateBackendRequest);
  const port = await freePort(lb.ip[0].ipAddress);
  await a.createFrontend({ lbId: lb.id, name: 'https', inboundPort: port, backendId: backend.id, certificateIds: [cert.id], enableHttp3: false } as never);
  await waitLbReady(edge.sdk(), lb.id);
  // The first answer of the server (its health check passed) through the edge HAProxy.
  const answer = await waitFor('HTTPS through the edge HAProxy', () => httpsFingerprintGet(lb.ip[0].ipAddress, port, 'shared.fulcrum.test', pki.rootCert)
    .then((r) => (r.body === 'one' ? r : null), () => null), 15_000);
  assert.equal(answer.fingerprint, parseCustomChain(leaf.chain).sha1);
  // The API-only server received the PEM and keeps no file of it; the edge wrote its own from the store.
  assert.throws(() => statSync(join(api.dataDir, 'certificates', `${cert.id}.pem`)), /ENOENT/);
  assert.equal(statSync(join(edge.dataDir, 'certificates', `${cert.id}.pem`)).mode & 0o777, 0o600);
});

test('an LB created on the API-only server reads ready only once the HAProxy server runs it', async () => {
  const a = api.sdk();
  // The HAProxy server is frozen (its sessions stay open): it can apply nothing meanwhile.
  process.kill(edge.child.pid!, 'SIGSTOP');
  const seen: string[] = [];
  let lb: Lbv1.Lb;
  let port = 0;
  try {
    lb = await a.createLb({ name: 'waits-for-edge', description: '', type: 'LB-S', tags: [] } as never);
    const [one] = servers;
    const backend = await a.createBackend({ lbId: lb.id, name: 'web', forwardProtocol: 'http', forwardPort: one.port,
      forwardPortAlgorithm: 'roundrobin', stickySessions: 'none', stickySessionsCookieName: '', serverIp: [one.host],
      healthCheck: fastCheck() } as Lbv1.ZonedApiCreateBackendRequest);
    port = await freePort(lb.ip[0].ipAddress);
    await a.createFrontend({ lbId: lb.id, name: 'fe', inboundPort: port, backendId: backend.id, enableHttp3: false } as never);
    // The API-only server's own apply (in memory) is done within milliseconds; the status must not follow it.
    for (let i = 0; i < 30; i++) {
      seen.push((await a.getLb({ lbId: lb.id })).status);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    process.kill(edge.child.pid!, 'SIGCONT');
  }
  assert.ok(!seen.includes('ready'), `while the HAProxy server was frozen: ${[...new Set(seen)].join(', ')}`);
  await waitFor('ready once the HAProxy server applied it', async () => (await a.getLb({ lbId: lb.id })).status === 'ready', 15_000, 20);
  // Read right after `ready`: the edge's HAProxy already listens on the frontend (any HTTP answer, even before the
  // first health check passed).
  const first = await httpGet(lb.ip[0].ipAddress, port).catch((e: Error) => ({ status: 0, body: e.message }));
  assert.notEqual(first.status, 0, `no HTTP answer right after ready: ${first.body}`);
});

test('concurrent writers on both servers: limits, one frontend per port, every added server, distinct addresses', async () => {
  const lbId = (await api.http('POST', '/lbs', { name: 'race', description: '', type: 'LB-S', tags: [] })).json.id as string;
  const both = [api, edge];

  const creates = await Promise.all(both.flatMap((f) => Array.from({ length: 200 }, () => f.http('POST', `/lbs/${lbId}/backends`, backendBody()))));
  const refused = creates.filter((r) => r.status !== 200);
  assert.equal(creates.length - refused.length, STORE_LIMITS.backends);
  for (const r of refused) {
    assert.equal(r.status, 400);
    assert.deepEqual(r.json.details, [{ argument_name: 'lb_id', reason: 'constraint', help_message: `a load balancer holds at most ${STORE_LIMITS.backends} backends` }]);
  }
  assert.equal((await edge.http('GET', `/lbs/${lbId}/backends?page_size=1`)).json.total_count, STORE_LIMITS.backends);

  const backendId = creates.find((r) => r.status === 200)!.json.id as string;
  const ports = await Promise.all(both.map((f) => f.http('POST', `/lbs/${lbId}/frontends`, frontendBody(backendId, { inbound_port: 8443 }))));
  assert.deepEqual(statuses(ports), [200, 409]);

  const addresses = Array.from({ length: 100 }, (_, i) => `10.50.${i >> 8}.${i & 255}`);
  const adds = await Promise.all(addresses.map((ip, i) => both[i % 2].http('POST', `/backends/${backendId}/servers`, { server_ip: [ip] })));
  assert.deepEqual([...new Set(statuses(adds))], [200]);
  const pool = (await api.http('GET', `/backends/${backendId}`)).json.pool as string[];
  assert.deepEqual([...pool].sort(), [...addresses].sort(), 'no add-servers lost another one');

  const ips = await Promise.all(both.flatMap((f) => Array.from({ length: 20 }, () => f.http('POST', '/ips', {}))));
  assert.deepEqual([...new Set(statuses(ips))], [200]);
  const allocated = ips.map((r) => r.json.ip_address as string);
  assert.equal(new Set(allocated).size, allocated.length, `duplicate addresses: ${allocated.sort().join(' ')}`);
});

test('`fulcrum keys --store` writes to the shared database: both servers take a new key and refuse a revoked one at once', async () => {
  const keys = async (...args: string[]) => (await promisify(execFile)(process.execPath, [BIN, 'keys', ...args, '--store', storeUrl],
    { timeout: 15_000 })).stdout;
  const projectId = randomUUID();
  const created = JSON.parse(await keys('create', '--project', projectId, '--json')) as { access_key: string; secret_key: string };
  const list = (f: Fulcrum) => f.http('GET', '/lbs', undefined, { 'X-Auth-Token': created.secret_key });
  assert.deepEqual(statuses(await Promise.all([list(api), list(edge)])), [200, 200]);
  assert.match(await keys('list'), new RegExp(created.access_key));
  await keys('revoke', created.access_key);
  assert.deepEqual(statuses(await Promise.all([list(api), list(edge)])), [401, 401]);
  for (const f of [api, edge]) assert.ok(!f.output.includes(PG_APP_PASSWORD), 'the store password never reaches the output');
});
