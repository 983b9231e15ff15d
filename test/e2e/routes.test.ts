// Routes in real traffic: by Host header (case and port ignored), with subdomains, by path prefix, by the SNI of a TLS
// ClientHello on a TCP frontend (passthrough: the backends terminate TLS) and by the SNI of a TLS-terminating TCP
// frontend, the precedence between overlapping routes, and route changes under load without a failed request.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { before, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Pki } from '../fixtures/pki.js';
import { startHttpServer, startTcpServer } from '../fixtures/servers.js';
import { startLoad } from '../helpers/load.js';
import { E2e, report, type Service } from './support/lb.js';
import { firstLine } from './support/servers.js';
import { selfSigned, startHttpsServer, type SelfSigned } from './support/tls.js';

const e = E2e.suite('routes');
let cert: SelfSigned;
before(async () => { cert = await selfSigned(); });

/** A backend of the file's LB with one HTTP server answering `id`. */
async function httpBackend(id: string): Promise<Lbv1.Backend> {
  const [s] = e.serve(await startHttpServer(e.host(), id));
  return e.lb.backend({ name: id, forwardPort: s.port, serverIp: [s.host] });
}

async function route(fe: string, backendId: string, m: Partial<Lbv1.RouteMatch>): Promise<Lbv1.Route> {
  return e.api.createRoute({ frontendId: fe, backendId, match: { matchSubdomains: false, ...m } });
}

async function frontendOf(svc: Service): Promise<string> {
  const list = await e.api.listFrontends({ lbId: svc.lb.id });
  return list.frontends.find((f) => f.inboundPort === svc.port)!.id;
}

const bodyFor = async (svc: Service, host: string, path = '/') => (await svc.get(path, { host })).body;

test('host_header and path_begin routes, most specific first; what matches none goes to the default backend', async () => {
  const [s] = e.serve(await startHttpServer(e.host(), 'default'));
  const svc = await e.lb.service({ forwardPort: s.port, serverIp: [s.host] });
  const fe = await frontendOf(svc);
  const [b, c, d, deep] = await Promise.all(['b', 'c', 'd', 'deep'].map(httpBackend));
  await route(fe, b.id, { hostHeader: 'b.example.com' });
  await route(fe, c.id, { hostHeader: 'example.org', matchSubdomains: true });
  await route(fe, deep.id, { hostHeader: 'deep.example.org' });
  await route(fe, d.id, { pathBegin: '/api' });
  await e.lb.ready();
  await e.lb.checked(b, c, d, deep); // servers of new backends take traffic once checked

  assert.equal(await bodyFor(svc, 'b.example.com'), 'b');
  assert.equal(await bodyFor(svc, 'B.Example.COM:8080'), 'b', 'case and port of the Host header are ignored');
  assert.equal(await bodyFor(svc, 'example.org'), 'c');
  assert.equal(await bodyFor(svc, 'x.y.example.org'), 'c', 'match_subdomains: any depth');
  assert.equal(await bodyFor(svc, 'notexample.org'), 'default', 'a subdomain match stops at a dot');
  assert.equal(await bodyFor(svc, 'deep.example.org'), 'deep', 'the exact name beats the subdomain match');
  assert.equal(await bodyFor(svc, 'other.test', '/api/users'), 'd');
  assert.equal(await bodyFor(svc, 'other.test', '/apix'), 'd', 'path_begin is a plain prefix');
  assert.equal(await bodyFor(svc, 'b.example.com', '/api'), 'b', 'host routes before path routes');
  assert.equal(await bodyFor(svc, 'other.test', '/'), 'default');
});

/** One HTTPS request over a new connection with this SNI; the body names the server that terminated TLS. */
function httpsVia(ip: string, port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port, servername, path: '/', agent: false, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

test('sni routes on a TCP frontend: TLS passthrough by the ClientHello\'s server name, with subdomains', async () => {
  const tls = async (id: string) => e.serve(await startHttpsServer(e.host(), id, cert))[0];
  const [dflt, a, b] = [await tls('tls-default'), await tls('tls-a'), await tls('tls-b')];
  const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: dflt.port, serverIp: [dflt.host] });
  const fe = await frontendOf(svc);
  const be = async (s: typeof a) => e.lb.backend({ name: s.id, forwardProtocol: 'tcp', forwardPort: s.port, serverIp: [s.host] });
  const [beA, beB] = [await be(a), await be(b)];
  await route(fe, beA.id, { sni: 'a.test' });
  await route(fe, beB.id, { sni: 'example.net', matchSubdomains: true });
  await e.lb.ready();
  await e.lb.checked(beA, beB);
  assert.equal(await httpsVia(e.lb.ip, svc.port, 'a.test'), 'tls-a');
  assert.equal(await httpsVia(e.lb.ip, svc.port, 'A.TEST'), 'tls-a');
  assert.equal(await httpsVia(e.lb.ip, svc.port, 'www.example.net'), 'tls-b');
  assert.equal(await httpsVia(e.lb.ip, svc.port, 'example.net'), 'tls-b');
  assert.equal(await httpsVia(e.lb.ip, svc.port, 'other.test'), 'tls-default');
  assert.ok(a.hits >= 2 && b.hits >= 2, 'the backends terminated TLS themselves');
});

/** The first line a TCP test server sends, through a TLS connection the LB terminates, with this SNI. */
const firstLineOverTls = (ip: string, port: number, servername: string, ca: string): Promise<string> =>
  firstLine(tlsConnect({ host: ip, port, servername, ca, checkServerIdentity: () => undefined, timeout: 5000 }));

test('sni routes on a TLS-terminating TCP frontend: the SNI of the connection picks the backend', async () => {
  const pki = await Pki.create();
  e.serve({ close: async () => pki.close() });
  const leaf = await pki.leaf(['a.test', 'example.net', '*.example.net']);
  const cert = await e.api.createCertificate({ lbId: e.lb.id, name: 'sni', customCertificate: { certificateChain: leaf.chain } });
  const tcp = async (id: string) => e.serve(await startTcpServer(e.host(), id))[0];
  const [dflt, a, b] = [await tcp('plain-default'), await tcp('plain-a'), await tcp('plain-b')];
  const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: dflt.port, serverIp: [dflt.host] }, { certificateIds: [cert.id] });
  const fe = await frontendOf(svc);
  const be = async (s: typeof a) => e.lb.backend({ name: s.id, forwardProtocol: 'tcp', forwardPort: s.port, serverIp: [s.host] });
  const [beA, beB] = [await be(a), await be(b)];
  await route(fe, beA.id, { sni: 'a.test' });
  await route(fe, beB.id, { sni: 'example.net', matchSubdomains: true });
  await e.lb.ready();
  await e.lb.checked(beA, beB);
  const line = (sni: string) => firstLineOverTls(e.lb.ip, svc.port, sni, pki.rootCert);
  assert.equal(await line('a.test'), 'plain-a');
  assert.equal(await line('www.example.net'), 'plain-b');
  assert.equal(await line('other.test'), 'plain-default');
});

test('routes created, changed and deleted under load: 0 failed requests', async () => {
  const [s] = e.serve(await startHttpServer(e.host(), 'main'));
  const svc = await e.lb.service({ forwardPort: s.port, serverIp: [s.host] });
  const fe = await frontendOf(svc);
  const other = await httpBackend('other');
  await e.lb.ready();
  await e.lb.checked(other);
  const load = startLoad(e.lb.ip, svc.port, { concurrency: 4, maxMs: 60_000, maxRequests: 200_000, path: '/load' });
  const t0 = performance.now();
  const made: Lbv1.Route[] = [];
  for (let i = 0; i < 5; i++) {
    made.push(await route(fe, other.id, { pathBegin: `/other${i}` }));
    await e.lb.ready();
    assert.equal((await svc.get(`/other${i}/x`)).body, 'other');
  }
  // The loaded path itself moves to another backend and back.
  const moved = await route(fe, other.id, { pathBegin: '/load' });
  await e.lb.ready();
  await e.api.updateRoute({ routeId: moved.id, backendId: other.id, match: { pathBegin: '/nothing', matchSubdomains: false } });
  await e.lb.ready();
  for (const r of [...made, moved]) await e.api.deleteRoute({ routeId: r.id });
  await e.lb.ready();
  const res = await load.stop();
  report(`13 route changes under load (${res.ok} requests)`, performance.now() - t0);
  assert.equal(res.failed, 0, res.errors.join('\n'));
  assert.ok(res.ok > 100, `the load ran (${res.ok})`);
  assert.ok((res.byServer.get('other') ?? 0) > 0 && (res.byServer.get('main') ?? 0) > 0, 'the loaded path moved and came back');
});
