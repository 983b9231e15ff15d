// Let's Encrypt certificates through ACME against a real Pebble, whose DNS sends every name to the LB's address:
// issuance through a temporary port-80 listener, renewal through the LB's own port-80 frontend without a reload and
// without a failed request, and a refused order ending in `error` with Pebble's reason.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { loopbackNet, startHttpServer, waitFor } from '../fixtures/servers.js';
import { Pebble } from '../fixtures/pebble.js';
import { Pki } from '../fixtures/pki.js';
import { startLoad } from '../helpers/load.js';
import { E2e, type Service } from './support/lb.js';
import { handshake } from './support/tls.js';

/** Lifetime of Pebble's certificates here: renewal comes after two thirds of it. */
const VALIDITY_S = 45;
/** Nothing listens there: names sent there fail HTTP-01. */
const NOWHERE = `${loopbackNet()}.9`;

let pki: Pki;
let pebble: Pebble;
const e = E2e.suite('acme', async () => {
  pki = await Pki.create();
  pebble = await Pebble.start(pki, { defaultIPv4: NOWHERE, validitySeconds: VALIDITY_S });
  return { env: { FULCRUM_ACME_DIRECTORY: pebble.directoryUrl, FULCRUM_ACME_CA_FILE: pebble.caFile, FULCRUM_ACME_EMAIL: 'ops@example.com' } };
});
// Registered after the suite's hooks, so it runs after Fulcrum is gone.
e.serve({ close: async () => { await pebble?.close(); pki?.close(); } });

let issued: Lbv1.Certificate;

async function settle(id: string, timeoutMs = 30_000): Promise<Lbv1.Certificate> {
  return waitFor(`certificate ${id} settled`, async () => {
    const c = await e.api.getCertificate({ certificateId: id });
    return c.status === 'pending' ? null : c;
  }, timeoutMs, 100);
}

const listening = (host: string, port: number) => new Promise<boolean>((resolve) => {
  const s = connect({ host, port }, () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

const leafFingerprint = (pem: string) => new X509Certificate(pem).fingerprint.replaceAll(':', '').toLowerCase();

test('issued through HTTP-01 answered by a temporary port-80 listener: ready, fingerprint and validity', async () => {
  await pebble.resolve('site.fulcrum.test', e.lb.ip);
  assert.equal(await listening(e.lb.ip, 80), false, 'no listener on port 80 before the order');
  const created = await e.api.createCertificate({ lbId: e.lb.id, name: 'site',
    letsencrypt: { commonName: 'site.fulcrum.test', subjectAlternativeName: ['www.site.fulcrum.test'] } });
  assert.equal(created.status, 'pending');
  await pebble.resolve('www.site.fulcrum.test', e.lb.ip);
  issued = await settle(created.id);
  assert.equal(issued.status, 'ready', `status_details: ${issued.statusDetails} / ${pebble.output.slice(-1500)}`);
  assert.match(issued.fingerprint, /^[0-9a-f]{40}$/);
  assert.equal(issued.statusDetails ?? null, null);
  assert.equal(issued.commonName, 'site.fulcrum.test');
  assert.deepEqual(issued.subjectAlternativeName, ['www.site.fulcrum.test']);
  assert.ok(issued.notValidAfter! > issued.notValidBefore!);
  await waitFor('the temporary listener gone', async () => !(await listening(e.lb.ip, 80)), 10_000, 50);
});

let svc: Service;
/** Pebble's issuing root: what clients of the LB trust here. */
let issuerRoot = '';

test('the issued certificate serves a TLS frontend', async () => {
  const [srv] = e.serve(await startHttpServer(e.host(), 'acme-server'));
  svc = await e.lb.service({ forwardPort: srv.port, serverIp: [srv.host] }, { certificateIds: [issued.id] });
  issuerRoot = await pebble.issuerRoot();
  const hs = await handshake(e.lb.ip, svc.port, { servername: 'site.fulcrum.test', ca: issuerRoot });
  assert.equal(hs.cn, 'site.fulcrum.test');
  assert.match(hs.names, /DNS:www\.site\.fulcrum\.test/);
});

test('renewed with a third of its lifetime left, through the port-80 frontend, live without a reload or a failed request', async () => {
  // The LB's own HTTP frontend on port 80 answers the challenge first, and serves its traffic otherwise.
  const [plain] = e.serve(await startHttpServer(e.host(), 'port-80'));
  const web = await e.lb.service({ forwardPort: plain.port, serverIp: [plain.host] }, { inboundPort: 80 });
  await web.waitServer(plain.host, 'running');
  assert.equal((await web.get('/')).body, 'port-80');
  const workers = await e.lb.workers();
  const load = startLoad(e.lb.ip, svc.port, { concurrency: 3, maxMs: VALIDITY_S * 1000, maxRequests: 200_000,
    tls: { servername: 'site.fulcrum.test', ca: issuerRoot, newConnections: true } });
  const renewed = await waitFor('renewal', async () => {
    const c = await e.api.getCertificate({ certificateId: issued.id });
    return c.fingerprint !== issued.fingerprint && c.status === 'ready' ? c : null;
  }, VALIDITY_S * 1000, 200);
  const served = await waitFor('the renewed certificate served', async () => {
    const pem = await peerCertificate(e.lb.ip, svc.port, 'site.fulcrum.test');
    return leafFingerprint(pem) === renewed.fingerprint ? pem : null;
  }, 10_000, 50);
  assert.ok(served);
  const before = load.result.ok;
  await waitFor('load after the renewal', () => load.result.ok > before + 20, 10_000);
  const result = await load.stop();
  assert.equal(result.failed, 0, result.errors.join('\n'));
  assert.deepEqual(await e.lb.workers(), workers, 'same HAProxy worker: the certificate was swapped at run time');
  assert.ok(renewed.notValidAfter! > issued.notValidAfter!);
  assert.equal((await web.get('/')).body, 'port-80', 'the port-80 frontend still serves its own traffic');
});

test('a refused order ends in error with the ACME server\'s reason', async () => {
  const c = await e.api.createCertificate({ lbId: e.lb.id, name: 'nowhere',
    letsencrypt: { commonName: 'nowhere.fulcrum.test', subjectAlternativeName: [] } });
  const done = await settle(c.id);
  assert.equal(done.status, 'error');
  assert.match(done.statusDetails ?? '', /connect|refused|nowhere\.fulcrum\.test/i, done.statusDetails);
});

function peerCertificate(host: string, port: number, servername: string): Promise<string> {
  return import('node:tls').then(({ connect: tlsConnect }) => new Promise((resolve, reject) => {
    const s = tlsConnect({ host, port, servername, ca: issuerRoot }, () => {
      const der = s.getPeerCertificate().raw;
      s.destroy();
      resolve(`-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`);
    });
    s.on('error', reject);
  }));
}
