// Real traffic for what Fulcrum accepts because Scaleway does: the backend `host` as Host header and as SNI, a health
// check whose uri is a full URL, enable_http3 (HTTP/1.1 and HTTP/2 still served, the reason logged), and cookie
// stickiness on a tcp backend (accepted, traffic flows, no effect, logged once per apply).
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { before, test } from 'node:test';
import { startHttpServer, startTcpServer, tcpFirstLine, waitFor } from '../fixtures/servers.js';
import { E2e, fastCheck } from './support/lb.js';
import { startRecorder } from './support/servers.js';
import { selfSigned, startHttpsServer, type SelfSigned } from './support/tls.js';

const e = E2e.suite('compat');
let cert: SelfSigned;
before(async () => { cert = await selfSigned(); });

/** Sets the Go SDK's backend `host` (the TS SDK has no such field): a raw PUT carrying the backend's settings. */
async function putHost(backendId: string, host: string): Promise<void> {
  const cur = (await e.f.http('GET', `/backends/${backendId}`)).json;
  const { id: _i, lb: _l, pool: _p, health_check: _h, created_at: _c, updated_at: _u, ...settings } = cur;
  const r = await e.f.http('PUT', `/backends/${backendId}`, { ...settings, host });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.host, host);
}

/** Log lines of the server about settings without effect, for one object id. */
const inertLines = (id: string) => e.f.output.split('\n').filter((l) => l.includes('without effect') && l.includes(id));

test('backend host: the servers of an http backend get it as Host header; clearing it passes the client\'s Host again', async () => {
  const [srv] = e.serve(await startHttpServer(e.host(), 'web'));
  const svc = await e.lb.service({ forwardPort: srv.port, serverIp: [srv.host] });
  await svc.waitServer(srv.host, 'running', 'passed');
  await putHost(svc.backend.id, 'app.example.com:8443');
  await svc.lb.ready();
  assert.equal((await svc.get('/', { host: 'client.example.org' })).status, 200);
  assert.equal(srv.lastHeaders?.host, 'app.example.com:8443');
  await putHost(svc.backend.id, '');
  await svc.lb.ready();
  await svc.get('/', { host: 'client.example.org' });
  assert.equal(srv.lastHeaders?.host, 'client.example.org');
});

test('backend host with ssl_bridging: TLS to the servers carries it as SNI (traffic and checks)', async () => {
  const h = e.serve(await startHttpsServer(e.host(), 'tls', cert))[0];
  const svc = await e.lb.service({ forwardPort: h.port, serverIp: [h.host], sslBridging: true, ignoreSslServerVerify: true });
  await svc.waitServer(h.host, 'running', 'passed');
  assert.deepEqual([...new Set(h.snis)], [''], 'no SNI without a host');
  await putHost(svc.backend.id, 'secure.example.com');
  await svc.lb.ready();
  // Checks connect over TLS too (a TCP check on an ssl server): they also send the SNI.
  await waitFor('a TLS connection with the SNI', () => h.snis.includes('secure.example.com'), 5000);
  const before = h.snis.length;
  for (let i = 0; i < 3; i++) assert.equal((await svc.get()).status, 200);
  assert.ok(h.snis.length > before);
  assert.deepEqual([...new Set(h.snis.slice(before))], ['secure.example.com'], 'every connection after the change names the host');
});

test('a health check with an absolute-form uri is sent as written, and a server answering it passes (then fails when unhealthy)', async () => {
  const rec = e.serve(await startRecorder(e.host(), 'rec'))[0];
  const [srv] = e.serve(await startHttpServer(e.host(), 'web'));
  const uri = 'http://test.com/health';
  const check = fastCheck({ httpConfig: { uri, method: 'GET', code: 200, hostHeader: '' } });
  const recorded = await e.lb.service({ forwardPort: rec.port, serverIp: [rec.host], healthCheck: check });
  await recorded.waitServer(rec.host, 'running', 'passed');
  assert.match(rec.find(uri)!.toString('latin1'), /^GET http:\/\/test\.com\/health HTTP\/1\.[01]\r\n/);
  const svc = await e.lb.service({ forwardPort: srv.port, serverIp: [srv.host], healthCheck: check });
  await svc.waitServer(srv.host, 'running', 'passed');
  assert.equal((await svc.get()).body, 'web');
  srv.healthy = false;
  await svc.waitServer(srv.host, 'stopped', 'failed');
});

test('enable_http3: accepted; HTTP/1.1 and HTTP/2 are served as usual, and the log says why there is no HTTP/3', async () => {
  const [srv] = e.serve(await startHttpServer(e.host(), 'h'));
  const svc = await e.lb.service({ forwardPort: srv.port, serverIp: [srv.host] }, { enableHttp3: true });
  await svc.waitServer(srv.host, 'running', 'passed');
  const fe = (await e.api.listFrontends({ lbId: e.lb.id })).frontends.find((x) => x.backend?.id === svc.backend.id)!;
  assert.equal(fe.enableHttp3, true);
  assert.equal((await svc.get()).body, 'h');
  // HTTP/2 over clear text (prior knowledge), which HAProxy serves on any http frontend.
  const session = connect(`http://${e.lb.ip}:${svc.port}`);
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':path': '/' });
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => { data += d; });
      req.on('end', () => resolve(data));
      req.on('error', reject);
      req.setTimeout(5000, () => reject(new Error('h2 request timed out')));
    });
    assert.equal(body, 'h');
  } finally {
    session.close();
  }
  await waitFor('the enable_http3 note in the log', () => inertLines(fe.id).length > 0, 5000);
  assert.match(inertLines(fe.id)[0], /enable_http3 has no effect: this HAProxy build has no QUIC support/);
});

test('cookie stickiness on a tcp backend: accepted, traffic flows (without stickiness), logged once per apply', async () => {
  const [a] = e.serve(await startTcpServer(e.host(), 'a'));
  const [b2] = e.serve(await startTcpServer(e.host(), 'b', a.port)); // a backend has one port
  const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: a.port, serverIp: [a.host, b2.host],
    stickySessions: 'cookie', stickySessionsCookieName: 'SRV' });
  assert.equal(svc.backend.stickySessions, 'cookie');
  await svc.waitServer(a.host, 'running', 'passed');
  await svc.waitServer(b2.host, 'running', 'passed');
  const firstLines = new Set<string>();
  for (let i = 0; i < 4; i++) firstLines.add(await tcpFirstLine(e.lb.ip, svc.port));
  assert.deepEqual([...firstLines].sort(), ['a', 'b'], 'round robin: a cookie means nothing to TCP');
  await waitFor('the cookie note in the log', () => inertLines(svc.backend.id).length > 0, 5000);
  const seen = inertLines(svc.backend.id).length;
  await svc.update({ timeoutConnect: '4000' });
  await svc.lb.ready();
  await waitFor('one more note for the next apply', () => inertLines(svc.backend.id).length === seen + 1, 5000);
  assert.match(inertLines(svc.backend.id).at(-1)!, /sticky_sessions cookie has no effect on a tcp backend/);
});
