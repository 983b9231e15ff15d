// ssl_bridging and ignore_ssl_server_verify against a real HTTPS server whose certificate is self-signed (made with
// openssl when the file starts), and an https health check against it.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { E2e, fastCheck, measure } from './support/lb.js';
import { selfSigned, startHttpsServer, type HttpsTestServer, type SelfSigned } from './support/tls.js';

const e = E2e.suite('tls');
let cert: SelfSigned;
before(async () => { cert = await selfSigned(); });

async function httpsServer(): Promise<HttpsTestServer> {
  return e.serve(await startHttpsServer(e.host(), 'over tls', cert))[0];
}

test('ssl_bridging: a self-signed server is refused while its certificate is verified, and served once ignore_ssl_server_verify is true', async () => {
  const h = await httpsServer();
  const svc = await e.lb.service({ forwardPort: h.port, serverIp: [h.host], sslBridging: true, ignoreSslServerVerify: false });
  // The health check speaks TLS too; verification against the system CAs fails, so the server is down.
  await svc.waitServer(h.host, 'stopped', 'failed');
  for (let i = 0; i < 3; i++) assert.equal((await svc.get()).status, 503);
  assert.equal(h.hits, 0, 'no request reached the server');

  const changed = await svc.update({ ignoreSslServerVerify: true });
  await measure('ignore_ssl_server_verify false -> true (reload, TLS checks pass) -> first answer over TLS', changed,
    async () => (await svc.get()).status === 200, 10_000, 10);
  assert.deepEqual(await svc.bodies(3), ['over tls', 'over tls', 'over tls']);
  assert.ok(h.hits >= 4);
});

test('without ssl_bridging the LB speaks plain HTTP to the TLS port, and the request fails', async () => {
  const h = await httpsServer();
  const svc = await e.lb.service({ forwardPort: h.port, serverIp: [h.host], sslBridging: false });
  await svc.waitServer(h.host, 'running', 'passed'); // a TCP check only connects
  assert.equal((await svc.get()).status, 502);
  assert.equal(h.hits, 0);
});

test('an https health check passes against the TLS server (verification ignored) and fails on a wrong expected code', async () => {
  const h = await httpsServer();
  const https = (code: number) => fastCheck({ httpsConfig: { uri: '/', method: 'GET', code, hostHeader: 'localhost', sni: 'localhost' } });
  const ok = await e.lb.service({ forwardPort: h.port, serverIp: [h.host], ignoreSslServerVerify: true, healthCheck: https(200) });
  const bad = await e.lb.service({ forwardPort: h.port, serverIp: [h.host], ignoreSslServerVerify: true, healthCheck: https(418) });
  await ok.waitServer(h.host, 'running', 'passed');
  await bad.waitServer(h.host, 'stopped', 'failed');
});
