// Configs HAProxy refuses when the master reloads onto them (no `haproxy -c` runs first): the apply reads as refused
// with HAProxy's own reason, the old worker keeps serving what it served and the file on disk still describes it; a
// reload reads as applied once its new worker answers, and the master's commands wait while it re-executes; and
// the global line that spares each start and reload the load of the system CAs never breaks a runtime `add server`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { Certificate } from '../../src/domain/certificates.js';
import type { LbSnapshot } from '../../src/domain/snapshot.js';
import { parseServersState } from '../../src/dataplane/stats.js';
import { DataPlaneHarness } from '../fixtures/dataplane.js';
import { freePort, httpGet, loopbackNet, startHttpServers, type HttpTestServer } from '../fixtures/servers.js';
import { makeBackend, makeFrontend, makeSnapshot, withBackend } from '../fixtures/snapshots.js';

const h = new DataPlaneHarness();
const certDir = join(h.dataDir, 'certs');
const dp = h.plane({ certDir });
const net = loopbackNet();
const lbIp = `${net}.1`;
const lbId = randomUUID();
let servers: HttpTestServer[];
let port: number;
let snap: LbSnapshot;
let squatter: Server | null = null;

const proc = () => dp.instance(lbId).proc;
const configOnDisk = () => readFile(proc().paths.config, 'utf8');

before(async () => {
  mkdirSync(certDir);
  servers = h.serve(...await startHttpServers([`${net}.11`, `${net}.12`]));
  port = await freePort(lbIp);
  h.lbIds.add(lbId);
  snap = makeSnapshot(lbId, [lbIp], [makeFrontend('fe1', lbId, 'be1', port)],
    [makeBackend('be1', lbId, { forwardPort: servers[0].port, pool: [servers[0].host] })]);
  assert.deepEqual(await dp.apply(snap), { ok: true });
});
after(async () => {
  await new Promise((r) => (squatter ? squatter.close(r) : r(undefined)));
  await h.cleanup();
});

/** Applies `refused`, expects a refusal matching `reason`, and checks that nothing HAProxy runs or reads changed. */
async function expectRefused(refused: LbSnapshot, reason: RegExp): Promise<void> {
  const before = await proc().showProc();
  const file = await configOnDisk();
  const result = await dp.apply(refused);
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.reason : '', reason);
  const now = await proc().showProc();
  assert.deepEqual(now.workers, before.workers, 'the old worker keeps serving');
  assert.equal(now.masterPid, before.masterPid);
  assert.equal(await configOnDisk(), file, 'the file still describes what runs');
  assert.equal((await httpGet(lbIp, port)).body, servers[0].host);
}

/** `snap` with a TLS frontend whose certificate is ready in the store (it has a PEM digest) but has no file. */
async function withMissingCertificate(): Promise<{ refused: LbSnapshot; file: RegExp }> {
  const id = randomUUID();
  const cert: Certificate = { id, lbId, name: 'gone', type: 'custom', commonName: 'gone.example.com', subjectAlternativeName: [],
    fingerprint: '', notValidBefore: null, notValidAfter: null, status: 'ready', statusDetails: null, pemSha256: 'f'.repeat(64),
    orderActive: false, nextOrderAt: null, createdAt: '', updatedAt: '' };
  const frontend = makeFrontend(`fe-${id}`, lbId, 'be1', await freePort(lbIp), { certificateIds: [id] });
  return { refused: { ...snap, certificates: [cert], frontends: [...snap.frontends, frontend] }, file: new RegExp(`${id}\\.pem`) };
}

test('a certificate file gone: the reload is refused at parse time with HAProxy\'s reason, the old worker serves on', async () => {
  const { refused, file } = await withMissingCertificate();
  await expectRefused(refused, file);
});

test('a refused reload whose alerts are not in the log file (it was moved away): the reason comes from haproxy -c', async () => {
  const log = proc().paths.logFile;
  await rename(log, `${log}.moved`); // HAProxy keeps writing to the moved file
  await writeFile(log, '');
  try {
    const { refused, file } = await withMissingCertificate();
    await expectRefused(refused, file);
    assert.doesNotMatch(await readFile(log, 'utf8'), /ALERT/);
    assert.match(await readFile(`${log}.moved`, 'utf8'), file, 'the master did log it, elsewhere');
  } finally {
    await rename(`${log}.moved`, log); // the file HAProxy writes to, back in its place for the next tests
  }
});

test('a port another process holds: the reload cannot bind, with HAProxy\'s reason, the old worker serves on', async () => {
  const taken = await freePort(lbIp);
  squatter = createServer();
  await new Promise<void>((r) => squatter!.listen(taken, lbIp, r));
  await expectRefused({ ...snap, frontends: [...snap.frontends, makeFrontend('fe3', lbId, 'be1', taken)] }, /cannot bind/);
});

test('after refusals, a valid reload applies on a new worker; the commands right after it wait for the re-executing master', async () => {
  // reload() returns once the new worker answers on its admin socket, while the master still re-executes: showProc and
  // the pool change's runtime commands below are sent at once and must wait for it, not fail or fall back to a reload.
  const before = await proc().showProc();
  snap = withBackend(snap, 'be1', { timeoutServerMs: 12_345 });
  assert.deepEqual(await dp.apply(snap), { ok: true });
  const reloaded = await proc().showProc();
  assert.equal(reloaded.failed, 0);
  assert.notDeepEqual(reloaded.workers, before.workers);
  assert.match(await configOnDisk(), /timeout server 12345ms/);
  snap = withBackend(snap, 'be1', { pool: servers.map((s) => s.host) });
  assert.deepEqual(await dp.apply(snap), { ok: true });
  assert.deepEqual((await proc().showProc()).workers, reloaded.workers);
  assert.match(await configOnDisk(), new RegExp(`server srv-${servers[1].host.replaceAll('.', '\\.')} `));
});

test('servers that verify against the system CAs: added at runtime to an empty pool, on the same worker', async () => {
  const sslId = randomUUID();
  const sslPort = await freePort(lbIp);
  const be = makeBackend('be-ssl', sslId, { forwardPort: servers[0].port, sslBridging: true, ignoreSslServerVerify: false });
  let ssl = makeSnapshot(sslId, [lbIp], [makeFrontend('fe-ssl', sslId, 'be-ssl', sslPort)], [be]);
  h.lbIds.add(sslId);
  assert.deepEqual(await dp.apply(ssl), { ok: true });
  const sslProc = dp.instance(sslId).proc;
  // The system CAs are loaded for this LB (no `httpclient.ssl.verify none`), while the plain LB skips them.
  assert.doesNotMatch(await readFile(sslProc.paths.config, 'utf8'), /httpclient/);
  assert.match(await configOnDisk(), /httpclient\.ssl\.verify none/);
  const before = await sslProc.showProc();
  ssl = withBackend(ssl, 'be-ssl', { pool: [servers[1].host] });
  assert.deepEqual(await dp.apply(ssl), { ok: true });
  assert.deepEqual((await sslProc.showProc()).workers, before.workers, '`add server … ca-file @system-ca` went through');
  const state = parseServersState(await sslProc.cli.worker('show servers state'));
  assert.deepEqual(state.map((s) => s.ip), [servers[1].host]);
});
