// How long the LB waits, in real traffic: timeout_server, timeout_connect, timeout_tunnel (tcp and WebSocket), and
// max_connections with timeout_queue. Timing asserts are loose (0.9x to 3x): the machine is shared and noisy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHttpServer, startTcpServer } from '../fixtures/servers.js';
import { E2e, fastCheck, measure } from './support/lb.js';
import { exchange, hold, startBlackhole, startWsServer, wsUpgradeRequest } from './support/servers.js';
import { holdSlow, timed } from './support/traffic.js';

const e = E2e.suite('timeouts');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asserts `ms` is the order of magnitude of `timeoutMs`: at least 0.9x, less than 3x. */
function aboutTimeout(ms: number, timeoutMs: number, what: string): void {
  assert.ok(ms >= 0.9 * timeoutMs && ms < 3 * timeoutMs, `${what} after ${ms.toFixed(0)} ms; expected about ${timeoutMs} ms`);
}

test('timeout_server: a slow server gives 504 after timeout_server; a longer timeout_server (reload) lets it answer', async () => {
  const [s] = e.serve(await startHttpServer(e.host(), 'slow'));
  const svc = await e.lb.service({ forwardPort: s.port, serverIp: [s.host], timeoutServer: '1000' });
  assert.equal((await svc.get('/slow/100')).status, 200);
  const slow = await timed(svc.get('/slow/4000', {}, 10_000));
  assert.equal(slow.value?.status, 504, String(slow.error));
  aboutTimeout(slow.ms, 1000, '504');

  await svc.update({ timeoutServer: '4000' });
  await e.lb.ready();
  const now = await timed(svc.get('/slow/1500', {}, 10_000));
  assert.equal(now.value?.status, 200, String(now.error));
});

test('timeout_connect: a server that never completes the TCP handshake gives 503 after timeout_connect', async () => {
  // Connection refused would fail at once on loopback; a full accept queue makes Linux drop the SYNs instead.
  const host = e.host();
  const [blackhole] = e.serve(await startBlackhole(host));
  // The health check goes to a live port on the same address, so the server stays up and gets the request.
  const [check] = e.serve(await startTcpServer(host, 'check'));
  const svc = await e.lb.service({ forwardPort: blackhole.port, serverIp: [host], timeoutConnect: '500', maxRetries: 0,
    healthCheck: fastCheck({ port: check.port }) });
  await svc.waitServer(host, 'running', 'passed');
  const r = await timed(svc.get('/', {}, 5000));
  assert.equal(r.value?.status, 503, String(r.error));
  aboutTimeout(r.ms, 500, '503');
});

test('timeout_tunnel (tcp): an idle connection is closed after timeout_tunnel, which overrides timeout_server', async () => {
  const [s] = e.serve(await startTcpServer(e.host(), 'tcp'));
  const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: s.port, serverIp: [s.host], timeoutServer: '500',
    timeoutTunnel: '1500' });
  const conn = await hold(e.lb.ip, svc.port);
  assert.equal(conn.firstLine, 'tcp');
  // Traffic every 400 ms keeps it open past both timeouts...
  for (let i = 0; i < 5; i++) {
    await sleep(400);
    assert.ok(await conn.echoes(`ping ${i}`), `echo ${i}`);
  }
  // ...and then it is idle.
  const idleFrom = performance.now();
  await Promise.race([conn.closed, sleep(6000)]);
  assert.ok(conn.closedAt !== null, 'the idle connection was closed');
  aboutTimeout(conn.closedAt - idleFrom, 1500, 'closed');
});

test('timeout_tunnel (WebSocket): an idle upgraded connection is closed after timeout_tunnel, not timeout_server', async () => {
  const [ws] = e.serve(await startWsServer(e.host()));
  const svc = await e.lb.service({ forwardPort: ws.port, serverIp: [ws.host], timeoutServer: '500', timeoutTunnel: '1500' });
  const x = await exchange(e.lb.ip, svc.port, wsUpgradeRequest(e.lb.ip), { timeoutMs: 6000 });
  assert.equal(x.status, 101, x.data.toString());
  assert.equal(ws.upgrades, 1);
  aboutTimeout(x.closedAfterMs, 1500, 'closed');
});

test('max_connections 1 + timeout_queue: a second request queues; it gets 503 after timeout_queue when the first holds longer', async () => {
  const [s] = e.serve(await startHttpServer(e.host(), 'one'));
  const svc = await e.lb.service({ forwardPort: s.port, serverIp: [s.host], maxConnections: 1, timeoutQueue: '1s' });
  await svc.waitServer(s.host, 'running', 'passed');

  const short = await holdSlow(svc, [s], 500);
  const queued = await timed(svc.get('/'));
  assert.equal(queued.value?.status, 200, 'served once the first request ended');
  assert.ok(queued.ms >= 300, `it waited for the first request (${queued.ms.toFixed(0)} ms)`);
  assert.equal((await short.answer).status, 200);

  const long = await holdSlow(svc, [s], 2500);
  const refused = await timed(svc.get('/'));
  assert.equal(refused.value?.status, 503, String(refused.error));
  aboutTimeout(refused.ms, 1000, '503');

  // max_connections goes through the runtime API: no new worker, and a second request no longer waits.
  const workers = await e.lb.workers();
  const changed = await svc.update({ maxConnections: 2 });
  await measure('max_connections change (runtime API) -> a second concurrent request is served', changed,
    async () => (await svc.get('/')).status === 200, 5000, 0);
  assert.deepEqual(await e.lb.workers(), workers, 'no reload');
  assert.equal((await long.answer).status, 200);
});
