// TCP, HTTP and HTTPS health checks against real servers that record what they receive, through `fulcrum serve` and
// real HAProxy, driven by the official SDK.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTcpServer, tcpFirstLine, type TestServer } from '../fixtures/servers.js';
import { noServer, refused, trafficGet } from './support/clients.js';
import { Addresses, healthCheck, Lab } from './support/lab.js';
import { proveKind, settleBound, TEST_TIMING } from './support/scenario.js';
import { selfSignedCert, startWebServer, type Cert, type WebServer } from './support/web.js';

const addr = new Addresses();
let lab: Lab;
let cert: Cert;
const servers: Array<{ close(): Promise<void> }> = [];
const keep = <T extends { close(): Promise<void> }>(s: T): T => { servers.push(s); return s; };

before(async () => {
  [lab, cert] = await Promise.all([Lab.start('health-web'), selfSignedCert('app.example.test')]);
});

after(async () => {
  await lab?.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** Several web servers on one port (a backend has one forward port), each on its own address. */
async function webServers(n: number, tls?: Cert): Promise<WebServer[]> {
  const first = keep(await startWebServer(addr.next(), 'web-1', { tls }));
  const out = [first];
  for (let i = 2; i <= n; i++) out.push(keep(await startWebServer(addr.next(), `web-${i}`, { tls, port: first.port })));
  return out;
}

test('tcp: a listening server passes and takes the traffic; a closed port fails; the server going away is detected, recovery too', async () => {
  let tcp: TestServer = await startTcpServer(addr.next(), 'tcp-1');
  const closed = addr.next(); // nothing listens there
  const be = await lab.backend({ name: 'tcp', protocol: 'tcp', forwardPort: tcp.port, pool: [tcp.host, closed],
    check: healthCheck(tcp.port, { tcpConfig: {} }) });
  try {
    await proveKind({
      kind: 'tcp', lab, backend: be, healthy: tcp.host,
      failing: [{ ip: closed, why: 'closed port' }],
      traffic: () => tcpFirstLine(lab.lbIp, be.inbound),
      answer: 'tcp-1',
      nothingServed: () => refused(lab.lbIp, be.inbound),
      fault: {
        why: 'server closed (closed port)',
        start: () => tcp.close(),
        end: async () => { tcp = await startTcpServer(tcp.host, 'tcp-1', tcp.port); },
      },
    });
  } finally {
    await tcp.close();
  }
});

test('http: method, URI and Host header are sent as configured and the expected code is honoured; 503 is detected, recovery too', async () => {
  const [good, wrongCode] = await webServers(2);
  good.checkStatus = 204;
  wrongCode.checkStatus = 200; // would pass a check without `code`
  const closed = addr.next();
  const be = await lab.backend({ name: 'http', protocol: 'http', forwardPort: good.port, pool: [good.host, wrongCode.host, closed],
    check: healthCheck(good.port, { httpConfig: { uri: '/healthz?deep=1&from=$lb', method: 'HEAD', code: 204, hostHeader: 'health.example.test' } }) });
  await proveKind({
    kind: 'http', lab, backend: be, healthy: good.host,
    failing: [{ ip: wrongCode.host, why: '200 where 204 is expected' }, { ip: closed, why: 'closed port' }],
    traffic: async () => (await trafficGet(lab.lbIp, be.inbound)).body,
    answer: good.id,
    nothingServed: () => noServer(lab.lbIp, be.inbound),
    fault: { why: 'server answers 503', start: async () => { good.checkStatus = 503; }, end: async () => { good.checkStatus = 204; } },
  });
  assert.ok(good.checks.length >= 3, 'the server recorded the checks');
  for (const c of [...good.checks, ...wrongCode.checks]) {
    assert.deepEqual([c.method, c.url, c.httpVersion, c.host], ['HEAD', '/healthz?deep=1&from=$lb', '1.1', 'health.example.test']);
  }
});

test('http defaults: GET / over HTTP/1.0 without a Host header; any 2xx or 3xx passes when no code is set', async () => {
  const [ok, redirect, teapot] = await webServers(3);
  redirect.checkStatus = 302;
  teapot.checkStatus = 418;
  const be = await lab.backend({ name: 'http-default', protocol: 'http', forwardPort: ok.port, pool: [ok.host, redirect.host, teapot.host],
    check: healthCheck(ok.port, { httpConfig: { uri: '', method: '', hostHeader: '' } }) });
  await lab.waitState(be.id, teapot.host, 'stopped', 'failed', settleBound(TEST_TIMING));
  for (const s of [ok, redirect]) await lab.waitState(be.id, s.host, 'running', 'passed', settleBound(TEST_TIMING));
  const c = ok.checks[ok.checks.length - 1];
  assert.deepEqual([c.method, c.url, c.httpVersion, c.host], ['GET', '/', '1.0', undefined]);
  // A 418 passes once it is the expected code.
  await lab.setCheck(be.id, healthCheck(ok.port, { httpConfig: { uri: '/', method: 'GET', code: 418, hostHeader: '' } }));
  await lab.waitState(be.id, teapot.host, 'running', 'passed', settleBound(TEST_TIMING));
  await lab.waitState(be.id, ok.host, 'stopped', 'failed', settleBound(TEST_TIMING));
});

test('https: SNI, Host, method and URI as configured over TLS; 503 is detected, recovery too; an untrusted certificate fails unless verification is ignored', async () => {
  const [good, failing] = await webServers(2, cert);
  failing.checkStatus = 500;
  const check = healthCheck(good.port, { httpsConfig: { uri: '/ready', method: 'GET', code: 200, hostHeader: 'secure.example.test', sni: 'check.example.test' } });
  // HTTP mode with TLS to the servers, certificate not verified.
  const be = await lab.backend({ name: 'https', protocol: 'http', forwardPort: good.port, pool: [good.host, failing.host], check,
    extra: { sslBridging: true, ignoreSslServerVerify: true } });
  // The same servers with verification: a self-signed certificate is not trusted.
  const verified = await lab.backend({ name: 'https-verify', protocol: 'http', forwardPort: good.port, pool: [good.host], check,
    extra: { sslBridging: true, ignoreSslServerVerify: false } });
  // TLS passthrough: a tcp backend checked over HTTPS.
  const passthrough = await lab.backend({ name: 'https-passthrough', protocol: 'tcp', forwardPort: good.port, pool: [good.host], check,
    extra: { ignoreSslServerVerify: true } });

  await proveKind({
    kind: 'https', lab, backend: be, healthy: good.host,
    failing: [{ ip: failing.host, why: '500 where 200 is expected' }],
    traffic: async () => (await trafficGet(lab.lbIp, be.inbound)).body,
    answer: good.id,
    nothingServed: () => noServer(lab.lbIp, be.inbound),
    fault: { why: 'server answers 503', start: async () => { good.checkStatus = 503; }, end: async () => { good.checkStatus = 200; } },
  });
  const checks = good.checks.filter((c) => c.url === '/ready');
  assert.ok(checks.length >= 3);
  for (const c of checks) assert.deepEqual([c.method, c.host, c.servername], ['GET', 'secure.example.test', 'check.example.test']);

  await lab.waitState(verified.id, good.host, 'stopped', 'failed', settleBound(TEST_TIMING));
  assert.ok(await noServer(lab.lbIp, verified.inbound), 'no traffic to a server whose certificate is not trusted');

  await lab.waitState(passthrough.id, good.host, 'running', 'passed', settleBound(TEST_TIMING));
  const r = await trafficGet(lab.lbIp, passthrough.inbound, { tls: true, servername: 'app.example.test' });
  assert.equal(r.body, good.id, 'TLS passes through to the server');
});
