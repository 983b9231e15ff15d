// Backend server statistics (backend-stats and the deprecated stats) through the SDK and raw HTTP. Without a data
// plane every pool server is reported stopped / unknown.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum } from '../helpers/fulcrum.js';
import { assertJsonContentType, assertKeys, backendRequest, notFound, readyLb } from '../helpers/api.js';

let f: Fulcrum;
let api: Lbv1.ZonedAPI;
let lb: Lbv1.Lb;
let a: Lbv1.Backend;
let b: Lbv1.Backend;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none' });
  api = f.sdk();
  lb = await readyLb(api, 'stats');
  a = await api.createBackend(backendRequest(lb.id, { name: 'a', serverIp: ['127.0.0.1', '127.0.0.2'] }));
  b = await api.createBackend(backendRequest(lb.id, { name: 'b', serverIp: ['::1'] }));
});
after(async () => { await f.destroy(); });

const key = (s: Lbv1.BackendServerStats) => `${s.backendId} ${s.ip}`;

test('backend-stats lists every pool server, stopped / unknown, with the LB instance', async () => {
  const res = await api.listBackendStats({ lbId: lb.id });
  assert.equal(res.totalCount, 3);
  assert.deepEqual(res.backendServersStats.map(key).sort(), [`${a.id} 127.0.0.1`, `${a.id} 127.0.0.2`, `${b.id} ::1`].sort());
  for (const s of res.backendServersStats) {
    assert.equal(s.instanceId, lb.instances[0].id);
    assert.equal(s.serverState, 'stopped');
    assert.equal(s.lastHealthCheckStatus, 'unknown');
  }
  const only = await api.listBackendStats({ lbId: lb.id, backendId: b.id });
  assert.deepEqual(only.backendServersStats.map(key), [`${b.id} ::1`]);
  assert.equal(only.totalCount, 1);

  const p1 = await api.listBackendStats({ lbId: lb.id, page: 1, pageSize: 2 });
  const p2 = await api.listBackendStats({ lbId: lb.id, page: 2, pageSize: 2 });
  assert.equal(p1.backendServersStats.length, 2);
  assert.equal(p2.backendServersStats.length, 1);
  assert.equal(p2.totalCount, 3);
  assert.deepEqual([...p1.backendServersStats, ...p2.backendServersStats].map(key).sort(), res.backendServersStats.map(key).sort());
  assert.deepEqual((await api.listBackendStats({ lbId: lb.id, pageSize: 1 }).all()).map(key).sort(), res.backendServersStats.map(key).sort());
});

test('the deprecated stats endpoint answers the same servers, without total_count', async () => {
  const all = await api.getLbStats({ lbId: lb.id });
  const listed = await api.listBackendStats({ lbId: lb.id });
  assert.deepEqual(all.backendServersStats.map(key).sort(), listed.backendServersStats.map(key).sort());
  const filtered = await api.getLbStats({ lbId: lb.id, backendId: a.id });
  assert.deepEqual(filtered.backendServersStats.map(key).sort(), [`${a.id} 127.0.0.1`, `${a.id} 127.0.0.2`]);

  const raw = await f.http('GET', `/lbs/${lb.id}/stats`);
  assert.equal(raw.status, 200);
  assertJsonContentType(raw);
  assertKeys(raw.json, ['backend_servers_stats'], 'LbStats');
  for (const s of raw.json.backend_servers_stats) {
    assertKeys(s, ['instance_id', 'backend_id', 'ip', 'server_state', 'server_state_changed_at', 'last_health_check_status'], 'BackendServerStats');
  }
  const paged = await f.http('GET', `/lbs/${lb.id}/backend-stats`);
  assertKeys(paged.json, ['backend_servers_stats', 'total_count'], 'ListBackendStatsResponse');
});

test('stats follow the pool', async () => {
  await api.setBackendServers({ backendId: a.id, serverIp: ['127.0.0.9'] });
  const res = await api.listBackendStats({ lbId: lb.id, backendId: a.id });
  assert.deepEqual(res.backendServersStats.map(key), [`${a.id} 127.0.0.9`]);
});

test('an unknown LB, or a backend of another LB, is a 404', async () => {
  const ghost = '00000000-0000-4000-8000-000000000000';
  await notFound(api.listBackendStats({ lbId: ghost }), 'lb', ghost);
  await notFound(api.getLbStats({ lbId: ghost }), 'lb', ghost);
  await notFound(api.listBackendStats({ lbId: lb.id, backendId: ghost }), 'backend', ghost);
  const other = await readyLb(api, 'other-stats');
  await notFound(api.getLbStats({ lbId: other.id, backendId: a.id }), 'backend', a.id);
  await notFound(api.listBackendStats({ lbId: other.id, backendId: a.id }), 'backend', a.id);
  assert.deepEqual((await api.listBackendStats({ lbId: other.id })).backendServersStats, []);
});
