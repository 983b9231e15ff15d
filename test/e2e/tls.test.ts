// TLS termination in traffic, with real TLS clients: the certificate chosen by SNI among a frontend's certificates
// (names and wildcards), the first one for no SNI or an unknown name, HTTP/2 by ALPN, the TLS versions of each
// ssl_compatibility_level, and a frontend's certificate replaced under load without a failed request.
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { startHttpServer, waitFor } from '../fixtures/servers.js';
import { Pki } from '../fixtures/pki.js';
import { startLoad } from '../helpers/load.js';
import { E2e, type Service } from './support/lb.js';
import { handshake } from './support/tls.js';

const e = E2e.suite('tls');
let pki: Pki;
let svc: Service;
let certA: Lbv1.Certificate;
let certB: Lbv1.Certificate;
let ca: string;

async function custom(names: string[], name: string): Promise<Lbv1.Certificate> {
  const leaf = await pki.leaf(names);
  return e.api.createCertificate({ lbId: e.lb.id, name, customCertificate: { certificateChain: leaf.chain } });
}

const hs = (servername?: string, extra: Parameters<typeof handshake>[2] extends infer O ? Partial<O> : never = {}) =>
  handshake(e.lb.ip, svc.port, { servername, ca, ...extra });

test('setup: an HTTPS frontend with two certificates in front of an HTTP server', async () => {
  pki = await Pki.create();
  ca = pki.rootCert;
  e.serve({ close: async () => pki.close() });
  certA = await custom(['a.example.com'], 'a');
  certB = await custom(['b.example.com', '*.b.example.com'], 'b');
  const [srv] = e.serve(await startHttpServer(e.host(), 'tls-server'));
  svc = await e.lb.service({ forwardPort: srv.port, serverIp: [srv.host] }, { certificateIds: [certA.id, certB.id] });
  await svc.waitServer(srv.host, 'running');
});

test('SNI picks the certificate by its names, wildcards included; no SNI or an unknown name gets the first one', async () => {
  assert.equal((await hs('a.example.com')).cn, 'a.example.com');
  assert.equal((await hs('b.example.com')).cn, 'b.example.com');
  assert.equal((await hs('deep.b.example.com')).cn, 'b.example.com', 'wildcard');
  assert.equal((await hs()).cn, 'a.example.com', 'no SNI: the first listed');
  assert.equal((await hs('nothing.example.org')).cn, 'a.example.com', 'unknown name: the first listed');
});

test('ALPN: an HTTP backend is offered h2 and http/1.1; an HTTP/2 request goes through', async () => {
  assert.equal((await hs('a.example.com', { alpn: ['h2', 'http/1.1'] })).alpn, 'h2');
  assert.equal((await hs('a.example.com', { alpn: ['http/1.1'] })).alpn, 'http/1.1');
  const session = h2connect(`https://${e.lb.ip}:${svc.port}`, { ca, servername: 'a.example.com' });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':path': '/' });
      let text = '';
      req.setEncoding('utf8');
      req.on('response', (h) => assert.equal(h[':status'], 200));
      req.on('data', (d: string) => { text += d; });
      req.on('end', () => resolve(text));
      req.on('error', reject);
      req.end();
    });
    assert.equal(body, 'tls-server');
  } finally {
    session.close();
  }
});

async function setLevel(level: Lbv1.SSLCompatibilityLevel): Promise<void> {
  const lb = await e.api.getLb({ lbId: e.lb.id });
  await e.api.updateLb({ lbId: lb.id, name: lb.name, description: lb.description, tags: lb.tags, sslCompatibilityLevel: level });
  await e.lb.ready();
}

const refused = async (p: Promise<unknown>, what: string) => {
  await assert.rejects(p, (err: Error) => /alert|version|handshake|ECONNRESET|socket/i.test(err.message), what);
};

test('ssl_compatibility_level: modern is TLS 1.3 only; intermediate 1.2 and 1.3; old down to TLS 1.0', async () => {
  await setLevel('ssl_compatibility_level_modern');
  assert.equal((await hs('a.example.com')).protocol, 'TLSv1.3');
  await refused(hs('a.example.com', { maxVersion: 'TLSv1.2' }), 'modern refuses TLS 1.2');

  await setLevel('ssl_compatibility_level_intermediate');
  assert.equal((await hs('a.example.com', { maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
  await refused(hs('a.example.com', { maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }), 'intermediate refuses TLS 1.1');

  await setLevel('ssl_compatibility_level_old');
  for (const v of ['TLSv1', 'TLSv1.1', 'TLSv1.2'] as const) {
    const got = await hs('a.example.com', { minVersion: v, maxVersion: v, ciphers: 'DEFAULT:@SECLEVEL=0' });
    assert.equal(got.protocol, v, `old accepts ${v}`);
  }
  await setLevel('ssl_compatibility_level_intermediate');
});

test('the frontend\'s certificate replaced under HTTPS load: new handshakes get the new one, 0 failed requests', async () => {
  const certC = await custom(['a.example.com', 'c.example.com'], 'c');
  const load = startLoad(e.lb.ip, svc.port, { concurrency: 4, maxMs: 30_000, maxRequests: 20_000,
    tls: { servername: 'a.example.com', ca, newConnections: true } });
  await waitFor('load running', () => load.result.ok > 50, 10_000);
  const fe = (await e.api.listFrontends({ lbId: e.lb.id })).frontends[0];
  await e.api.updateFrontend({ frontendId: fe.id, name: fe.name, inboundPort: fe.inboundPort, backendId: fe.backend!.id,
    certificateIds: [certC.id, certB.id], enableHttp3: false, enableAccessLogs: false });
  await e.lb.ready();
  await waitFor('the new certificate served', async () => (await hs('a.example.com')).names.includes('c.example.com'), 10_000);
  const before = load.result.ok;
  await waitFor('more load after the change', () => load.result.ok > before + 50, 10_000);
  const result = await load.stop();
  assert.equal(result.failed, 0, result.errors.join('\n'));
  assert.ok(result.ok > 100, `requests: ${result.ok}`);
  // The previous first certificate is no longer in use: it can be deleted now.
  await e.api.deleteCertificate({ certificateId: certA.id });
});
