// Health checks of every kind reach the running HAProxy, and backend-stats report what the live checks found.
// (Proving the database, LDAP and Redis kinds against real servers of those kinds is not this file's job.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHttpServer, startTcpServer } from '../fixtures/servers.js';
import { E2e, fastCheck, measure, type HealthCheckRequest } from './support/lb.js';
import { tally } from './support/traffic.js';

const e = E2e.suite('health');

const http = { uri: '/health', method: 'GET', code: 200, hostHeader: '' };
const KINDS: Record<string, Partial<HealthCheckRequest>> = {
  tcp: { tcpConfig: {} },
  http: { httpConfig: http },
  https: { httpsConfig: { ...http, sni: 'health.example' } },
  mysql: { mysqlConfig: { user: 'fulcrum_check' } },
  pgsql: { pgsqlConfig: { user: 'fulcrum_check' } },
  ldap: { ldapConfig: {} },
  redis: { redisConfig: {} },
};

test('a backend with each health-check kind is applied: the LB stays ready and every check runs against the server', async () => {
  // One plain HTTP server for all: the tcp and http checks pass; the others speak a protocol it does not, so they
  // fail — which shows each kind's own check ran, not a bare connect.
  const [server] = e.serve(await startHttpServer(e.host(), 'checked'));
  const ids: Record<string, string> = {};
  for (const [kind, config] of Object.entries(KINDS)) {
    const b = await e.lb.backend({ name: `check-${kind}`, forwardPort: server.port, serverIp: [server.host],
      ignoreSslServerVerify: true, healthCheck: fastCheck(config) });
    assert.ok(b.healthCheck?.[`${kind}Config` as keyof HealthCheckRequest], `${kind} stored`);
    ids[kind] = b.id;
  }
  const ready = await e.lb.ready();
  assert.deepEqual(ready.instances.map((i) => i.status), ['ready']);
  const results = await waitChecked(Object.keys(KINDS).length);
  const byKind = Object.fromEntries(Object.entries(ids).map(([kind, id]) => [kind, results.get(id)]));
  assert.deepEqual(byKind, {
    tcp: 'passed', http: 'passed', https: 'failed', mysql: 'failed', pgsql: 'failed', ldap: 'failed', redis: 'failed',
  });
});

/**
 * Polls the LB's backend stats until `n` backends have shown a check result other than unknown (the first one seen
 * is kept); backend id → result.
 */
async function waitChecked(n: number): Promise<Map<string, string>> {
  const done = new Map<string, string>();
  for (let i = 0; i < 200 && done.size < n; i++) {
    const stats = (await e.api.listBackendStats({ lbId: e.lb.id, pageSize: 100 })).backendServersStats;
    for (const s of stats) if (s.lastHealthCheckStatus !== 'unknown' && !done.has(s.backendId)) done.set(s.backendId, s.lastHealthCheckStatus);
    await new Promise((r) => setTimeout(r, 40));
  }
  return done;
}

test('backend-stats from the live HAProxy: a healthy server is running/passed, a dead one stopped/failed', async () => {
  const [live] = e.serve(await startTcpServer(e.host(), 'live'));
  const dead = e.host(); // nothing listens there: connection refused
  const created = Date.now();
  const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: live.port, serverIp: [live.host, dead] });
  const healthy = await svc.waitServer(live.host, 'running', 'passed');
  const failed = await svc.waitServer(dead, 'stopped', 'failed');
  assert.deepEqual([healthy.instanceId, healthy.backendId, failed.instanceId, failed.backendId],
    [e.lb.instanceId, svc.backend.id, e.lb.instanceId, svc.backend.id]);
  for (const s of [healthy, failed]) {
    assert.ok(s.serverStateChangedAt instanceof Date, `${s.ip}: server_state_changed_at set`);
    // The state file keeps whole seconds since the last change.
    const at = s.serverStateChangedAt.getTime();
    assert.ok(at >= created - 2000 && at <= Date.now() + 1000, `${s.ip}: changed at ${s.serverStateChangedAt.toISOString()}`);
  }
  assert.equal((await svc.stats()).length, 2);
});

test('changing the health check kind (tcp -> redis) makes the same server fail its checks', async () => {
  const [server] = e.serve(await startTcpServer(e.host(), 'not redis'));
  const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: server.port, serverIp: [server.host] });
  await svc.waitServer(server.host, 'running', 'passed');
  await e.api.updateHealthCheck({ backendId: svc.backend.id, ...fastCheck({ redisConfig: {} }), port: server.port });
  await measure('health check kind tcp -> redis (reload) -> server reported stopped/failed', performance.now(),
    async () => (await svc.stats()).some((s) => s.serverState === 'stopped' && s.lastHealthCheckStatus === 'failed'));
});

test('last_health_check_status keeps the last result while the next check is in flight', async () => {
  // A health endpoint that takes 150 ms to answer 200: each check is in flight for a third of the 450 ms cycle.
  const [server] = e.serve(await startHttpServer(e.host(), 'slow health'));
  const svc = await e.lb.service({ forwardPort: server.port, serverIp: [server.host],
    healthCheck: fastCheck({ httpConfig: { uri: '/slow/150', method: 'GET', code: 200, hostHeader: '' } }) });
  await svc.waitServer(server.host, 'running', 'passed');
  const seen: string[] = [];
  for (let i = 0; i < 40; i++) {
    seen.push(...(await svc.stats()).map((s) => `${s.serverState}/${s.lastHealthCheckStatus}`));
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.deepEqual(tally(seen), { 'running/passed': 40 });
});
