// Server administration (/fulcrum/v1/…/backends/{id}/servers/{ip}): weight, drain and maintenance seen in real traffic
// through HAProxy without a reload, kept across a reload and a restart of `fulcrum serve`, shown in Scaleway's
// backend stats; refusals in Scaleway's shapes; slow start in the config; the `fulcrum server` CLI.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { lbPaths } from '../../src/dataplane/haproxy.js';
import { serverName } from '../../src/dataplane/names.js';
import { startHttpServers, waitFor } from '../fixtures/servers.js';
import { E2e, type Service } from '../e2e/support/lb.js';
import { tally } from '../e2e/support/traffic.js';
import { fulcrumCli, ops, serverPath } from './support.js';

const e = E2e.suite('server-admin');

async function twoServers(): Promise<{ svc: Service; a: string; b: string }> {
  const servers = e.serve(...await startHttpServers([e.host(), e.host()]));
  const svc = await e.lb.service({ forwardPort: servers[0].port, serverIp: servers.map((s) => s.host) });
  await svc.waitServer(servers[0].host, 'running', 'passed');
  await svc.waitServer(servers[1].host, 'running', 'passed');
  return { svc, a: servers[0].host, b: servers[1].host };
}

const patch = (svc: Service, ip: string, body: unknown) => ops(e.f, 'PATCH', serverPath(svc.backend.id, ip), body);

test('weight 3:1 shares new requests 3:1, and weight 0 takes none, with no reload', async () => {
  const { svc, a, b } = await twoServers();
  const workers = await e.lb.workers();
  const r = await patch(svc, a, { weight: 3 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.weight, 3);
  await waitFor('weight 3 in traffic', async () => tally(await svc.bodies(8))[a] === 6);
  assert.deepEqual(tally(await svc.bodies(40)), { [a]: 30, [b]: 10 });

  await patch(svc, b, { weight: 0 });
  await waitFor('weight 0 in traffic', async () => tally(await svc.bodies(4))[a] === 4);
  assert.deepEqual(tally(await svc.bodies(20)), { [a]: 20 });
  assert.deepEqual(await e.lb.workers(), workers, 'the same HAProxy worker: no reload');
  const got = await ops(e.f, 'GET', serverPath(svc.backend.id, b));
  assert.equal(got.status, 200);
  assert.deepEqual({ ...got.json, server_state_changed_at: undefined }, {
    backend_id: svc.backend.id, ip: b, weight: 0, admin_state: 'ready', slow_start: null, server_state: 'running',
    server_state_changed_at: undefined, last_health_check_status: 'passed',
  });
});

test('drain and maintenance take the server out of traffic (stats: stopping, stopped), ready brings it back; no reload', async () => {
  const { svc, a, b } = await twoServers();
  const workers = await e.lb.workers();
  assert.equal((await patch(svc, a, { admin_state: 'drain' })).json.admin_state, 'drain');
  await svc.waitServer(a, 'stopping');
  assert.deepEqual(tally(await svc.bodies(10)), { [b]: 10 }, 'a draining server takes no new request');

  await patch(svc, a, { admin_state: 'maintenance' });
  await svc.waitServer(a, 'stopped');
  assert.deepEqual(tally(await svc.bodies(10)), { [b]: 10 });
  const got = await ops(e.f, 'GET', serverPath(svc.backend.id, a));
  assert.equal(got.json.admin_state, 'maintenance');
  assert.equal(got.json.server_state, 'stopped');

  await patch(svc, a, { admin_state: 'ready' });
  await svc.waitServer(a, 'running');
  assert.deepEqual(tally(await svc.bodies(10)), { [a]: 5, [b]: 5 });
  assert.deepEqual(await e.lb.workers(), workers, 'the same HAProxy worker: no reload');
});

test('maintenance is kept across a reload and across a restart of fulcrum serve', async () => {
  const { svc, a, b } = await twoServers();
  await patch(svc, a, { admin_state: 'maintenance' });
  await svc.waitServer(a, 'stopped');

  // A change that needs a reload (timeout_server is config only).
  const workers = await e.lb.workers();
  await svc.update({ timeoutServer: '31000' as never });
  await e.lb.ready();
  assert.notDeepEqual(await e.lb.workers(), workers, 'a new worker');
  assert.deepEqual(tally(await svc.bodies(10)), { [b]: 10 }, 'still in maintenance after the reload');
  assert.equal((await svc.stats()).find((s) => s.ip === a)?.serverState, 'stopped');

  await e.f.kill();
  await e.f.launch();
  e.api = e.f.sdk(); // the restarted server listens on another port
  await e.lb.ready();
  assert.deepEqual(tally(await svc.bodies(10)), { [b]: 10 }, 'still in maintenance after a restart of fulcrum serve');
  assert.equal((await ops(e.f, 'GET', serverPath(svc.backend.id, a))).json.admin_state, 'maintenance');

  // An address removed from the pool forgets its settings: added again, it is a plain server.
  await svc.removeServers([a]);
  await e.lb.ready();
  await svc.addServers([a]);
  await e.lb.ready();
  assert.equal((await ops(e.f, 'GET', serverPath(svc.backend.id, a))).json.admin_state, 'ready');
  await svc.waitServer(a, 'running', 'passed');
});

test('slow_start is written on the server line (one reload) and read back as a duration', async () => {
  const { svc, a } = await twoServers();
  const r = await patch(svc, a, { slow_start: '30s' });
  assert.equal(r.json.slow_start, '30s');
  await e.lb.ready();
  const cfg = readFileSync(lbPaths(e.f.dataDir, e.lb.id).config, 'utf8');
  assert.match(cfg, new RegExp(`server ${serverName(a).replaceAll('.', '\\.')} .* slowstart 30000ms`));
  assert.equal((await patch(svc, a, { slow_start: null })).json.slow_start, null);
  await e.lb.ready();
  assert.doesNotMatch(readFileSync(lbPaths(e.f.dataDir, e.lb.id).config, 'utf8'), /slowstart/);
});

test('refusals: 404 for an address not in the pool or a missing backend, 400 naming the argument, 401 without a key', async () => {
  const { svc, a } = await twoServers();
  const before = await ops(e.f, 'GET', serverPath(svc.backend.id, a));
  const notInPool = await patch(svc, '127.0.0.99', { weight: 2 });
  assert.equal(notInPool.status, 404);
  assert.deepEqual(notInPool.json, { type: 'not_found', message: 'server not Found', resource: 'server', resource_id: '127.0.0.99' });
  const missing = await ops(e.f, 'GET', serverPath('7a1b8f9e-0000-4000-8000-000000000000', a));
  assert.equal(missing.status, 404);
  assert.equal(missing.json.resource, 'backend');
  for (const [body, arg] of [[{ weight: 257 }, 'weight'], [{ weight: -1 }, 'weight'], [{ weight: 1.5 }, 'weight'],
    [{ admin_state: 'down' }, 'admin_state'], [{ slow_start: 'soon' }, 'slow_start']] as const) {
    const r = await patch(svc, a, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.type, 'invalid_arguments');
    assert.deepEqual(r.json.details.map((d: { argument_name: string }) => d.argument_name), [arg], r.text);
  }
  const badIp = await patch(svc, 'not-an-ip', { weight: 2 });
  assert.equal(badIp.status, 400);
  assert.equal(badIp.json.details[0].argument_name, 'ip');
  const noKey = await ops(e.f, 'PATCH', serverPath(svc.backend.id, a), { weight: 2 }, {});
  assert.equal(noKey.status, 401);
  assert.equal(noKey.json.type, 'denied_authentication');
  assert.deepEqual(await ops(e.f, 'GET', serverPath(svc.backend.id, a)), before, 'nothing changed');
});

test('fulcrum server set/show drive the same API', async () => {
  const { svc, a, b } = await twoServers();
  const env = { FULCRUM_URL: e.f.url, FULCRUM_SECRET_KEY: e.f.key };
  const out = await fulcrumCli(['server', 'set', svc.backend.id, a, '--state', 'drain', '--weight', '5'], env);
  assert.match(out, /admin_state\s+drain/);
  assert.match(out, /weight\s+5/);
  await svc.waitServer(a, 'stopping');
  assert.deepEqual(tally(await svc.bodies(6)), { [b]: 6 });
  const shown = JSON.parse(await fulcrumCli(['server', 'show', svc.backend.id, a, '--json'], env));
  assert.equal(shown.server_state, 'stopping');
  await assert.rejects(fulcrumCli(['server', 'set', svc.backend.id, a, '--weight', '999'], env), /--weight 999/);
  await assert.rejects(fulcrumCli(['server', 'show', svc.backend.id, '127.0.0.98'], env), /404 server not Found/);
});
