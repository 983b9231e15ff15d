// When servers fail: max_retries with redispatch_attempt_count, on_marked_down_action shutdown_sessions, and the
// failover host answering when every server is down.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHttpServer, startHttpServers, startTcpServer, type HttpTestServer } from '../fixtures/servers.js';
import { E2e, fastCheck, measure, report } from './support/lb.js';
import { hold, onSamePort } from './support/servers.js';
import { tally } from './support/traffic.js';

const e = E2e.suite('failures');

test('max_retries + redispatch_attempt_count: with a dead server in the pool every request succeeds; without redispatch some fail', async () => {
  // The live server answers on the forward port; the dead one has nothing there (connection refused). Both pass their
  // health check, on another port where each address runs a TCP server, so the LB keeps sending to the dead one.
  const [live, dead] = [e.host(), e.host()];
  const [server] = e.serve(...await startHttpServers([live]));
  const checks = e.serve(...await onSamePort([live, dead], (ip, port) => startTcpServer(ip, 'check', port)));
  const svc = await e.lb.service({ forwardPort: server.port, serverIp: [live, dead], maxRetries: 2, redispatchAttemptCount: 1,
    healthCheck: fastCheck({ port: checks[0].port }) });
  await svc.waitServer(dead, 'running', 'passed');

  const answers = await Promise.all(Array.from({ length: 8 }, () => svc.get('/', {}, 8000)));
  assert.deepEqual(tally(answers.map((a) => `${a.status} ${a.body}`)), { [`200 ${live}`]: 8 }, 'redispatched to the live server');

  await svc.update({ redispatchAttemptCount: 0, maxRetries: 1 });
  await e.lb.ready();
  // Each retry to the same dead server waits about a second; the ones balanced onto it end in 503.
  const without = await Promise.all(Array.from({ length: 8 }, () => svc.get('/', {}, 8000)));
  const seen = tally(without.map((a) => String(a.status)));
  assert.ok(seen['503'] >= 1 && seen['200'] >= 1, `some requests fail without redispatch: ${JSON.stringify(seen)}`);
});

/** A TCP backend of one echo server whose health check goes to a separate port that the test can close. */
async function checkedTcpService(onMarkedDownAction: 'shutdown_sessions' | 'on_marked_down_action_none') {
  const host = e.host();
  const [echo, check] = e.serve(await startTcpServer(host, onMarkedDownAction), await startTcpServer(host, 'check'));
  const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: echo.port, serverIp: [host], onMarkedDownAction,
    healthCheck: fastCheck({ port: check.port }) });
  return { host, check, svc };
}

test('on_marked_down_action shutdown_sessions cuts an open connection when its server is marked down; without it the connection stays', async () => {
  const services = [await checkedTcpService('shutdown_sessions'), await checkedTcpService('on_marked_down_action_none')];
  // Connections are opened after the last reload: a reload leaves them on the old worker, whose checks have stopped.
  const [cut, kept] = await Promise.all(services.map(async (s) => {
    await s.svc.waitServer(s.host, 'running', 'passed');
    const conn = await hold(e.lb.ip, s.svc.port);
    assert.equal(conn.firstLine, s.svc.backend.onMarkedDownAction);
    return { ...s, conn };
  }));
  const stoppedAt = performance.now();
  await Promise.all([cut.check.close(), kept.check.close()]);
  await Promise.all([cut.svc.waitServer(cut.host, 'stopped'), kept.svc.waitServer(kept.host, 'stopped')]);
  const downAt = performance.now();
  report('health endpoint closed -> server marked down (check every 300 ms, fall 1)', downAt - stoppedAt);
  await Promise.race([cut.conn.closed, new Promise((r) => setTimeout(r, 3000))]);
  assert.ok(cut.conn.closedAt !== null, 'the connection to the marked-down server was cut');
  report('health endpoint closed -> open connection cut (shutdown_sessions)', cut.conn.closedAt - stoppedAt);
  assert.equal(kept.conn.closedAt, null, 'without shutdown_sessions the connection stays open');
  assert.ok(await kept.conn.echoes('still there'), 'and still carries data');
  kept.conn.socket.destroy();
});

/** The forms a failover host may take, each with the server standing behind it. */
const FAILOVER_FORMS: { form: string; skip?: string; start: () => Promise<{ server: HttpTestServer; host: string; path?: string }> }[] = [
  { form: 'IP:port', start: async () => {
    const server = await startHttpServer(e.host(), 'failover');
    return { server, host: `${server.host}:${server.port}` };
  } },
  { form: 'DNS name:port', start: async () => {
    const server = await startHttpServer('127.0.0.1', 'failover'); // localhost, from /etc/hosts
    return { server, host: `localhost:${server.port}` };
  } },
  { form: 'URL with a page', start: async () => {
    const server = await startHttpServer(e.host(), 'failover');
    return { server, host: `http://${server.host}:${server.port}/maintenance.html`, path: '/maintenance.html' };
  } },
  { form: 'IP alone (port 80)', skip: process.getuid?.() === 0 ? undefined : 'binding port 80 needs root', start: async () => {
    const server = await startHttpServer(e.host(), 'failover', 80);
    return { server, host: server.host };
  } },
];

for (const { form, skip, start } of FAILOVER_FORMS) {
  test(`failover_host (${form}): when every server is down, the failover host answers, with its name as Host header`, { skip }, async () => {
    const [server] = e.serve(...await startHttpServers([e.host()]));
    const { server: failover, host: failoverHost, path } = await start();
    e.serve(failover);
    const svc = await e.lb.service({ forwardPort: server.port, serverIp: [server.host], failoverHost,
      healthCheck: fastCheck({ httpConfig: { uri: '/health', method: 'GET', code: 200, hostHeader: '' } }) });
    await svc.waitServer(server.host, 'running', 'passed');
    assert.deepEqual(await svc.bodies(3), [server.host, server.host, server.host]);
    assert.equal(failover.hits, 0);

    server.healthy = false;
    await measure(`failover_host ${form}: health check failing -> failover host answers`, performance.now(),
      async () => (await svc.get()).body === 'failover');
    const r = await svc.get('/page');
    // A URL with a path serves that page for every request.
    assert.deepEqual([r.status, r.body, failover.lastPath], [200, 'failover', path ?? '/page']);
    assert.equal(failover.lastHeaders?.host, failoverHost.replace(/^https?:\/\//, '').replace(/\/.*$/, ''),
      'the failover host gets its own name (and port) as Host');

    server.healthy = true;
    await measure(`failover_host ${form}: health check passing again -> pool server answers`, performance.now(),
      async () => (await svc.get()).body === server.host);
  });
}
