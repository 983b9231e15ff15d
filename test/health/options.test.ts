// The health-check options, each proven on the wire: check_timeout (a server that accepts and never answers),
// transient_check_delay (faster checks while a server goes down or up), port (checks on another port than the traffic)
// and check_send_proxy (a server that requires the PROXY header on every connection).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { noServer, trafficGet } from './support/clients.js';
import { sleep } from './support/daemon.js';
import { Addresses, healthCheck, Lab, measure } from './support/lab.js';
import { MARGIN_MS, settleBound, TEST_TIMING } from './support/scenario.js';
import { startBlackhole, startProxyServer, startWebServer, type WebServer } from './support/web.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../fixtures/servers.js';

const addr = new Addresses();
let lab: Lab;
const servers: Array<{ close(): Promise<void> }> = [];
const keep = <T extends { close(): Promise<void> }>(s: T): T => { servers.push(s); return s; };

before(async () => { lab = await Lab.start('health-options'); });
after(async () => {
  await lab?.close();
  await Promise.all(servers.map((s) => s.close()));
});

const tcpCheck = { tcpConfig: {} };
const httpCheck = (uri = '/health') => ({ httpConfig: { uri, method: 'GET', hostHeader: '' } });

test('check_timeout: a server that accepts and never answers fails each check after about check_timeout; a tcp check only connects, so it passes', async () => {
  for (const t of [1000, 2500]) {
    const hole = keep(await startBlackhole(addr.next()));
    const be = await lab.backend({ name: `blackhole-${t}`, protocol: 'tcp', forwardPort: hole.port, pool: [hole.host],
      check: healthCheck(hole.port, httpCheck(), { checkTimeout: String(t), checkMaxRetries: 1 }) });
    // From the moment HAProxy runs the backend: the first check starts at once and gives up after check_timeout.
    const { ms } = await lab.waitState(be.id, hole.host, 'stopped', 'failed', TEST_TIMING.checkDelayMs + t + MARGIN_MS);
    measure(`blackhole, check_timeout ${t} ms, check_max_retries 1: backend applied → stopped/failed`, ms);
    await sleep(t + TEST_TIMING.checkDelayMs + 200); // one more complete check
    const lasted = hole.connections.filter((c) => c.closedAt !== null).map((c) => c.closedAt! - c.acceptedAt);
    assert.ok(lasted.length >= 1, `checks to the blackhole with check_timeout ${t} completed`);
    for (const d of lasted) assert.ok(d >= t - 100 && d <= t + 1000, `a check lasted ${Math.round(d)} ms with check_timeout ${t} ms`);
    measure(`blackhole, check_timeout ${t} ms: one check lasted (median of ${lasted.length})`, lasted.sort((a, b) => a - b)[Math.floor(lasted.length / 2)]);
    // A tcp check only needs the connection, which the blackhole accepts.
    await lab.setCheck(be.id, healthCheck(hole.port, tcpCheck, { checkTimeout: String(t) }));
    await lab.waitState(be.id, hole.host, 'running', 'passed', settleBound(TEST_TIMING));
  }
});

test('transient_check_delay: with check_delay 3 s, transient 200 ms and 3 retries, a failure is detected in ~3.4 s, not 9 s; recovery in ~3.2 s', async () => {
  const w = keep(await startWebServer(addr.next(), 'transient'));
  const be = await lab.backend({ name: 'transient', protocol: 'http', forwardPort: w.port, pool: [w.host],
    check: healthCheck(w.port, httpCheck(), { checkDelay: '3000', transientCheckDelay: '0.2s', checkMaxRetries: 3 }) });
  await lab.waitState(be.id, w.host, 'running', 'passed', 5000);
  /** Waits for the next check to arrive (bounded), so that a change lands right after it: the worst case. */
  const afterNextCheck = async () => {
    const n = w.checks.length;
    for (let i = 0; i < 400 && w.checks.length === n; i++) await sleep(10);
    assert.ok(w.checks.length > n, 'a check arrived');
  };
  await afterNextCheck();
  const t0 = performance.now();
  w.checkStatus = 503;
  const down = await lab.waitState(be.id, w.host, 'stopped', 'failed', 3000 + 2 * 200 + MARGIN_MS, t0);
  measure('check_delay 3000 ms, transient 200 ms, 3 retries: 503 right after a check → stopped/failed', down.ms);
  assert.ok(down.ms >= 2800, `the first failed check waited a full check_delay (${Math.round(down.ms)} ms)`);
  const failing = w.checks.filter((c) => c.at >= t0).map((c) => c.at);
  assert.equal(failing.length, 3, 'three failed checks');
  for (let i = 1; i < failing.length; i++) {
    assert.ok(failing[i] - failing[i - 1] < 700, `failed checks ${Math.round(failing[i] - failing[i - 1])} ms apart, not check_delay`);
  }

  await afterNextCheck(); // while down, checks run every check_delay
  const t1 = performance.now();
  w.checkStatus = 200;
  const up = await lab.waitState(be.id, w.host, 'running', 'passed', 3000 + 200 + MARGIN_MS, t1);
  measure('check_delay 3000 ms, transient 200 ms: repaired right after a check → running/passed', up.ms);
  const passing = w.checks.filter((c) => c.at >= t1).map((c) => c.at);
  assert.ok(passing.length >= 2 && passing[1] - passing[0] < 700, 'the second passing check came after transient_check_delay');
});

test('port: checks go to the health-check port, not forward_port; the health port decides, whatever the traffic port does', async () => {
  const traffic = keep(await startWebServer(addr.next(), 'traffic'));
  const health = keep(await startWebServer(traffic.host, 'health'));
  const be = await lab.backend({ name: 'check-port', protocol: 'http', forwardPort: traffic.port, pool: [traffic.host],
    check: healthCheck(health.port, httpCheck()) });
  await lab.waitState(be.id, traffic.host, 'running', 'passed', settleBound(TEST_TIMING));
  await sleep(1200);
  assert.ok(health.checks.length >= 2, 'the health port received the checks');
  assert.equal(traffic.checks.length, 0, 'the traffic port received no check');
  assert.equal((await trafficGet(lab.lbIp, be.inbound)).body, 'traffic', 'traffic goes to forward_port');

  health.checkStatus = 503;
  await lab.waitState(be.id, traffic.host, 'stopped', 'failed', settleBound(TEST_TIMING));
  assert.ok(await noServer(lab.lbIp, be.inbound), 'the traffic port is fine, but the server is down: nothing served');
  health.checkStatus = 200;
  await lab.waitState(be.id, traffic.host, 'running', 'passed', settleBound(TEST_TIMING));

  // A tcp check on a port where nothing listens fails although forward_port listens...
  await lab.setCheck(be.id, healthCheck(await freePort(traffic.host), tcpCheck));
  await lab.waitState(be.id, traffic.host, 'stopped', 'failed', settleBound(TEST_TIMING));
  // ...and a check on forward_port reaches the traffic server.
  await lab.setCheck(be.id, healthCheck(traffic.port, httpCheck()));
  await waitFor('checks on forward_port', () => traffic.checks.length >= 2, 5000);
  const s = await lab.stat(be.id, traffic.host);
  assert.deepEqual([s.state, s.check], ['running', 'passed']);
});

test('check_send_proxy: a server that requires the PROXY header passes only with it; the version follows proxy_protocol', async () => {
  const px = keep(await startProxyServer(addr.next()));
  // No proxy protocol for traffic: checks carry no header unless check_send_proxy.
  const plain = await lab.backend({ name: 'pp-none', protocol: 'tcp', forwardPort: px.port, pool: [px.host],
    check: healthCheck(px.port, httpCheck('/')) });
  await lab.waitState(plain.id, px.host, 'stopped', 'failed', settleBound(TEST_TIMING));
  assert.ok(px.refused > 0, 'the server dropped checks without a header');
  const seen = px.accepted.length;
  await lab.setCheck(plain.id, healthCheck(px.port, httpCheck('/'), { checkSendProxy: true }));
  await lab.waitState(plain.id, px.host, 'running', 'passed', settleBound(TEST_TIMING));
  const v1 = px.accepted.slice(seen);
  assert.ok(v1.length >= 2 && v1.every((h) => h.version === 1 && h.text.startsWith('PROXY TCP4 ')), JSON.stringify(v1));

  // PROXY v2 for traffic, checks on another port: HAProxy sends no header there unless check_send_proxy (spec §6).
  const health = keep(await startProxyServer(px.host));
  const v2 = await lab.backend({ name: 'pp-v2-port', protocol: 'tcp', forwardPort: px.port, pool: [px.host],
    check: healthCheck(health.port, httpCheck('/')), extra: { proxyProtocol: 'proxy_protocol_v2' } });
  await lab.waitState(v2.id, px.host, 'stopped', 'failed', settleBound(TEST_TIMING));
  assert.ok(health.refused > 0);
  await lab.setCheck(v2.id, healthCheck(health.port, httpCheck('/'), { checkSendProxy: true }));
  await lab.waitState(v2.id, px.host, 'running', 'passed', settleBound(TEST_TIMING));
  assert.ok(health.accepted.length >= 2 && health.accepted.every((h) => h.version === 2), JSON.stringify(health.accepted));
  const before = px.accepted.length;
  const r = await trafficGet(lab.lbIp, v2.inbound);
  assert.deepEqual([r.status, r.body], [200, 'proxied'], 'traffic arrives with its v2 header');
  assert.deepEqual(px.accepted.slice(before).map((h) => h.text), ['PROXY family=0x11']);

  // PROXY v1 for traffic, checks on forward_port: the header comes with checks even without check_send_proxy.
  const v1auto = await lab.backend({ name: 'pp-v1', protocol: 'tcp', forwardPort: px.port, pool: [px.host],
    check: healthCheck(px.port, httpCheck('/')), extra: { proxyProtocol: 'proxy_protocol_v1' } });
  await lab.waitState(v1auto.id, px.host, 'running', 'passed', settleBound(TEST_TIMING));
});
