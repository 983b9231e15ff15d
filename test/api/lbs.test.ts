// Load balancers through the official SDK: create, get, update, list with its filters, delete with release_ip, the
// lifecycle of spec §5, and lb-types.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Errors } from '@scaleway/sdk-client';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum, waitLbReady } from '../helpers/fulcrum.js';
import { backendRequest, invalidArgs, notFound, readyLb, sdkError, waitLbGone } from '../helpers/api.js';

let f: Fulcrum;
let api: Lbv1.ZonedAPI;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none' });
  api = f.sdk();
});
after(async () => { await f.destroy(); });

/** The LB without what moves on its own (status, instances, update time). */
function stable(lb: Lbv1.Lb): Record<string, unknown> {
  const { status: _s, instances: _i, updatedAt: _u, ...rest } = lb;
  return rest;
}

test('create answers to_create without instances; the LB then becomes ready with one ready instance', async () => {
  const lb = await api.createLb({ name: 'life', description: 'a description', type: 'LB-S', tags: ['t1', 't2'] });
  assert.equal(lb.status, 'to_create');
  assert.deepEqual(lb.instances, []);
  assert.equal(lb.name, 'life');
  assert.equal(lb.description, 'a description');
  assert.deepEqual(lb.tags, ['t1', 't2']);
  assert.equal(lb.type, 'lb-s', 'the type is echoed in lower case');
  assert.equal(lb.projectId, f.projectId);
  assert.equal(lb.organizationId, f.projectId);
  assert.equal(lb.sslCompatibilityLevel, 'ssl_compatibility_level_intermediate');
  assert.equal(lb.frontendCount, 0);
  assert.equal(lb.backendCount, 0);
  assert.equal(lb.privateNetworkCount, 0);
  assert.equal(lb.routeCount, 0);
  assert.equal(lb.subscriber, undefined);
  assert.equal(lb.zone, 'fr-par-1');
  assert.equal(lb.region, 'fr-par');
  assert.ok(lb.createdAt instanceof Date && lb.updatedAt instanceof Date);

  assert.equal(lb.ip.length, 1, 'an LB created without IPs gets an IPv4 address');
  const [ip] = lb.ip;
  assert.ok(ip.ipAddress.startsWith(`${f.ipNet}.`), `${ip.ipAddress} comes from the pool`);
  assert.equal(ip.lbId, lb.id);
  assert.equal(ip.zone, 'fr-par-1');
  assert.equal(ip.projectId, f.projectId);
  assert.deepEqual(ip.tags, []);
  assert.ok(ip.reverse.length > 0);

  const ready = await waitLbReady(api, lb.id);
  assert.equal(ready.status, 'ready');
  assert.equal(ready.instances.length, 1);
  const [inst] = ready.instances;
  assert.equal(inst.status, 'ready');
  assert.equal(inst.zone, 'fr-par-1');
  assert.equal(inst.region, 'fr-par');
  assert.match(inst.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(stable(ready), stable(lb));
  assert.deepEqual(stable(await api.getLb({ lbId: lb.id })), stable(lb));
});

test("the SDK's own waiter sees the LB reach a terminal status", async () => {
  const lb = await api.createLb({ name: 'waiter', description: '', type: 'lb-gp-m' });
  const done = await api.waitForLb({ lbId: lb.id }, { timeout: 10, minDelay: 1, maxDelay: 1 });
  assert.equal(done.status, 'ready');
  assert.equal(done.type, 'lb-gp-m');
});

test('update replaces name, description, tags and TLS level; the LB stays ready while its instance is pending', async () => {
  const lb = await readyLb(api, 'upd', { tags: ['old'] });
  const up = await api.updateLb({ lbId: lb.id, name: 'upd2', description: 'd2', tags: ['x', 'y'], sslCompatibilityLevel: 'ssl_compatibility_level_modern' });
  assert.equal(up.name, 'upd2');
  assert.equal(up.description, 'd2');
  assert.deepEqual(up.tags, ['x', 'y']);
  assert.equal(up.sslCompatibilityLevel, 'ssl_compatibility_level_modern');
  assert.equal(up.status, 'ready');
  assert.equal(up.instances[0].status, 'pending');
  assert.deepEqual(up.ip, lb.ip);
  assert.deepEqual(up.createdAt, lb.createdAt);
  assert.ok(up.updatedAt! > lb.updatedAt!);
  const ready = await waitLbReady(api, lb.id);
  assert.deepEqual(stable(ready), stable(up));

  const cleared = await api.updateLb({ lbId: lb.id, name: 'upd3', description: '' });
  assert.deepEqual(cleared.tags, [], 'PUT replaces the tags too');
});

test('a change to the children leaves the LB ready and its instance pending until applied', async () => {
  const lb = await readyLb(api, 'child');
  const be = await api.createBackend(backendRequest(lb.id));
  assert.equal(be.lb?.status, 'ready');
  assert.equal(be.lb?.instances[0].status, 'pending');
  assert.equal(be.lb?.backendCount, 1);
  const ready = await waitLbReady(api, lb.id);
  assert.equal(ready.instances[0].status, 'ready');
  assert.ok(ready.instances[0].updatedAt! > lb.instances[0].updatedAt!);
  const fe = await api.createFrontend({ lbId: lb.id, name: 'fe', inboundPort: 80, backendId: be.id, enableHttp3: false, enableAccessLogs: false });
  assert.equal(fe.lb?.status, 'ready');
  assert.equal(fe.lb?.instances[0].status, 'pending');
  assert.equal(fe.lb?.frontendCount, 1);
  await waitLbReady(api, lb.id);
});

test('list: name substring, tags, order_by, paging with an unpaginated total_count, and .all()', async () => {
  const names = ['lst-web-b', 'lst-web-a', 'lst-db', 'x-lst-web-c'];
  const created: Lbv1.Lb[] = [];
  for (const n of names) {
    created.push(await api.createLb({ name: n, description: '', type: 'LB-S', tags: n.includes('web') ? ['web', n] : ['db'] }));
  }
  const list = async (req: Lbv1.ZonedApiListLbsRequest) => (await api.listLbs(req)).lbs.map((l) => l.name);

  const web = await api.listLbs({ name: 'lst-web' });
  assert.deepEqual(web.lbs.map((l) => l.name), ['lst-web-b', 'lst-web-a', 'x-lst-web-c']);
  assert.equal(web.totalCount, 3);
  assert.deepEqual(web.lbs.map((l) => l.id), [created[0].id, created[1].id, created[3].id]);

  assert.deepEqual(await list({ name: 'lst-', orderBy: 'name_asc' }), ['lst-db', 'lst-web-a', 'lst-web-b', 'x-lst-web-c']);
  assert.deepEqual(await list({ name: 'lst-', orderBy: 'name_desc' }), ['x-lst-web-c', 'lst-web-b', 'lst-web-a', 'lst-db']);
  assert.deepEqual(await list({ name: 'lst-', orderBy: 'created_at_desc' }), [...names].reverse());

  assert.deepEqual(await list({ tags: ['web'] }), ['lst-web-b', 'lst-web-a', 'x-lst-web-c']);
  assert.deepEqual(await list({ tags: ['web', 'lst-web-a'] }), ['lst-web-a'], 'every tag must match');
  assert.deepEqual(await list({ tags: ['we'] }), [], 'tags match exactly');
  assert.deepEqual(await list({ projectId: f.projectId, name: 'lst-db' }), ['lst-db']);
  assert.deepEqual(await list({ projectId: '00000000-0000-4000-8000-000000000000', name: 'lst-' }), []);

  const p2 = await api.listLbs({ name: 'lst-', orderBy: 'name_asc', page: 2, pageSize: 3 });
  assert.deepEqual(p2.lbs.map((l) => l.name), ['x-lst-web-c']);
  assert.equal(p2.totalCount, 4);
  const all = await api.listLbs({ name: 'lst-', orderBy: 'name_asc', pageSize: 1 }).all();
  assert.deepEqual(all.map((l) => l.name), ['lst-db', 'lst-web-a', 'lst-web-b', 'x-lst-web-c']);

  // The Go SDK's lb_ids filter (repeated key), which the TS SDK 1.4.0 does not know.
  const byIds = await f.http('GET', `/lbs?lb_ids=${created[2].id}&lb_ids=${created[0].id}`);
  assert.deepEqual(byIds.json.lbs.map((l: { name: string }) => l.name), ['lst-web-b', 'lst-db']);
  assert.equal(byIds.json.total_count, 2);
  assert.deepEqual((await f.http('GET', `/lbs?lb_ids=${created[3].id}`)).json.lbs.map((l: { id: string }) => l.id), [created[3].id]);
});

test('delete with release_ip=false: 204, to_delete then 404; the IP survives detached and can be reused', async () => {
  const lb = await readyLb(api, 'del-keep');
  const [ip] = lb.ip;
  assert.equal(await api.deleteLb({ lbId: lb.id, releaseIp: false }), undefined);
  await waitLbGone(f, lb.id);
  await notFound(api.getLb({ lbId: lb.id }), 'lb', lb.id);
  await notFound(api.deleteLb({ lbId: lb.id, releaseIp: false }), 'lb', lb.id);
  assert.ok(!(await api.listLbs({ name: 'del-keep' }).all()).length);

  const kept = await api.getIp({ ipId: ip.id });
  assert.equal(kept.lbId, null);
  assert.equal(kept.ipAddress, ip.ipAddress);
  assert.equal(kept.reverse, ip.reverse);

  const reuse = await readyLb(api, 'reuse', { ipIds: [ip.id] });
  assert.deepEqual(reuse.ip.map((i) => [i.id, i.ipAddress, i.lbId]), [[ip.id, ip.ipAddress, reuse.id]]);
});

test('delete with release_ip=true deletes the IP, and the LB takes its backends and frontends with it', async () => {
  const lb = await readyLb(api, 'del-release');
  const be = await api.createBackend(backendRequest(lb.id));
  const fe = await api.createFrontend({ lbId: lb.id, name: 'fe', inboundPort: 80, backendId: be.id, enableHttp3: false, enableAccessLogs: false });
  await api.deleteLb({ lbId: lb.id, releaseIp: true });
  await waitLbGone(f, lb.id);
  await notFound(api.getIp({ ipId: lb.ip[0].id }), 'ip', lb.ip[0].id);
  await notFound(api.getBackend({ backendId: be.id }), 'backend', be.id);
  await notFound(api.getFrontend({ frontendId: fe.id }), 'frontend', fe.id);
  assert.ok(!(await api.listIPs({ ipAddress: lb.ip[0].ipAddress })).ips.length);
});

test('the address of a released IP goes back to the pool', async () => {
  const lb = await readyLb(api, 'recycle');
  await api.deleteLb({ lbId: lb.id, releaseIp: true });
  await waitLbGone(f, lb.id);
  const used = new Set((await api.listIPs({}).all()).map((i) => i.ipAddress));
  assert.ok(!used.has(lb.ip[0].ipAddress));
});

test('create with existing IPs: ip_ids attaches them; an attached or unknown IP is refused and nothing is created', async () => {
  const free = await api.createIp({ isIpv6: false });
  const lb = await readyLb(api, 'with-ip', { ipIds: [free.id] });
  assert.deepEqual(lb.ip.map((i) => i.id), [free.id]);
  assert.equal((await api.getIp({ ipId: free.id })).lbId, lb.id);

  const before = await api.listLbs({}).all();
  assert.deepEqual(await invalidArgs(api.createLb({ name: 'steal', description: '', type: 'LB-S', ipIds: [free.id] })), ['ip_ids']);
  const ghost = '00000000-0000-4000-8000-00000000abcd';
  await notFound(api.createLb({ name: 'ghost-ip', description: '', type: 'LB-S', ipIds: [ghost] }), 'ip', ghost);
  // The deprecated single ip_id works the same way.
  assert.deepEqual(await invalidArgs(api.createLb({ name: 'steal', description: '', type: 'LB-S', ipId: free.id })), ['ip_ids']);
  assert.deepEqual((await api.listLbs({}).all()).map((l) => l.id), before.map((l) => l.id));
});

test('an LB cannot be created without any IP', async () => {
  const args = await invalidArgs(api.createLb({ name: 'no-ip', description: '', type: 'LB-S', assignFlexibleIp: false }));
  assert.deepEqual(args, ['assign_flexible_ip']);
  assert.equal((await api.listLbs({ name: 'no-ip' })).totalCount, 0);
});

test('when the pool is exhausted, create answers out_of_stock and creates nothing', async () => {
  const tiny = await Fulcrum.start({ dataplane: 'none', ipPool: `${f.ipNet}.7` });
  try {
    const tapi = tiny.sdk();
    await tapi.createIp({ isIpv6: false });
    const err = await sdkError(tapi.createLb({ name: 'starved', description: '', type: 'LB-S' }), Errors.OutOfStockError);
    assert.equal(err.resource, 'ip');
    await sdkError(tapi.createIp({ isIpv6: false }), Errors.OutOfStockError);
    assert.equal((await tapi.listLbs({})).totalCount, 0);
    assert.equal((await tapi.listIPs({})).totalCount, 1);
  } finally {
    await tiny.destroy();
  }
});

test('lb-types lists the offers of this deployment', async () => {
  const types = await api.listLbTypes({});
  assert.equal(types.totalCount, 3);
  assert.deepEqual(types.lbTypes.map((t) => t.name), ['LB-S', 'LB-GP-M', 'LB-GP-L']);
  for (const t of types.lbTypes) {
    assert.equal(t.stockStatus, 'available');
    assert.equal(t.zone, 'fr-par-1');
    assert.equal(t.region, 'fr-par');
    assert.ok(t.description.length > 0);
  }
  const second = await api.listLbTypes({ page: 2, pageSize: 1 });
  assert.deepEqual(second.lbTypes.map((t) => t.name), ['LB-GP-M']);
  assert.equal(second.totalCount, 3);
});
