// Flexible IPs through the official SDK: create, list with its filters, get, PATCH (reverse, tags, lb_id), delete.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Errors } from '@scaleway/sdk-client';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum, waitLbReady } from '../helpers/fulcrum.js';
import { loopbackNet } from '../helpers/ports.js';
import { assertUnchanged, invalidArgs, notFound, readyLb, sdkError, waitLbGone } from '../helpers/api.js';

const net = loopbackNet();
const V6 = `fd00:${net.split('.').slice(1).map((n) => Number(n).toString(16)).join(':')}::`;
let f: Fulcrum;
let api: Lbv1.ZonedAPI;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none', ipNet: net, ipPool: `${net}.0/24,${V6}/120` });
  api = f.sdk();
});
after(async () => { await f.destroy(); });

test('create an IPv4 and an IPv6 address from the pool; get reads the same', async () => {
  const v4 = await api.createIp({ isIpv6: false, reverse: 'www.example.com', tags: ['a', 'b'] });
  assert.match(v4.id, /^[0-9a-f-]{36}$/);
  assert.ok(v4.ipAddress.startsWith(`${net}.`), v4.ipAddress);
  assert.equal(v4.lbId, null);
  assert.equal(v4.reverse, 'www.example.com');
  assert.deepEqual(v4.tags, ['a', 'b']);
  assert.equal(v4.projectId, f.projectId);
  assert.equal(v4.organizationId, f.projectId);
  assert.equal(v4.zone, 'fr-par-1');
  assert.equal(v4.region, 'fr-par');
  assert.deepEqual(await api.getIp({ ipId: v4.id }), v4);

  const v6 = await api.createIp({ isIpv6: true });
  assert.ok(v6.ipAddress.startsWith(V6), v6.ipAddress);
  assert.ok(v6.reverse.length > 0, 'a default reverse name');
  assert.deepEqual(v6.tags, []);
  assert.notEqual(v6.ipAddress, v4.ipAddress);
  assert.deepEqual(await api.getIp({ ipId: v6.id }), v6);
});

test('list filters: ip_type, ip_address, tags (exact, all must match), project; paging and .all()', async () => {
  const a = await api.createIp({ isIpv6: false, tags: ['flt', 'one'] });
  const b = await api.createIp({ isIpv6: true, tags: ['flt', 'two'] });
  const c = await api.createIp({ isIpv6: false, tags: ['flt'] });
  const ids = async (req: Lbv1.ZonedApiListIPsRequest) => (await api.listIPs(req).all()).map((i) => i.id);

  // By address: the IPv4 ones (a before c, the pool hands them out in order), then the IPv6 one.
  assert.deepEqual(await ids({ tags: ['flt'] }), [a.id, c.id, b.id]);
  assert.deepEqual(await ids({ tags: ['flt', 'one'] }), [a.id]);
  assert.deepEqual(await ids({ tags: ['fl'] }), []);
  assert.deepEqual(await ids({ tags: ['flt'], ipType: 'ipv4' }), [a.id, c.id]);
  assert.deepEqual(await ids({ tags: ['flt'], ipType: 'ipv6' }), [b.id]);
  assert.deepEqual(await ids({ tags: ['flt'], ipType: 'all' }), [a.id, c.id, b.id]);
  assert.deepEqual(await ids({ ipAddress: b.ipAddress }), [b.id]);
  assert.deepEqual(await ids({ tags: ['flt'], projectId: f.projectId }), [a.id, c.id, b.id]);
  assert.deepEqual(await ids({ tags: ['flt'], projectId: '00000000-0000-4000-8000-000000000000' }), []);

  const all = await api.listIPs({});
  assert.ok(all.totalCount >= 3);
  const page = await api.listIPs({ tags: ['flt'], page: 2, pageSize: 2 });
  assert.deepEqual(page.ips.map((i) => i.id), [b.id]);
  assert.equal(page.totalCount, 3);
  assert.deepEqual(await api.listIPs({ tags: ['flt'], pageSize: 1 }).all(), [a, c, b]);
});

test('PATCH changes only the fields sent', async () => {
  const ip = await api.createIp({ isIpv6: false, reverse: 'one.example.com', tags: ['x'] });
  const r1 = await api.updateIp({ ipId: ip.id, reverse: 'two.example.com' });
  assert.deepEqual(r1, { ...ip, reverse: 'two.example.com' });
  const r2 = await api.updateIp({ ipId: ip.id, tags: ['y', 'z'] });
  assert.deepEqual(r2, { ...ip, reverse: 'two.example.com', tags: ['y', 'z'] });
  const r3 = await api.updateIp({ ipId: ip.id });
  assert.deepEqual(r3, r2);
  assert.deepEqual(await api.getIp({ ipId: ip.id }), r2);
});

test('PATCH lb_id attaches an IPv6 to an LB; an attached IP cannot be released; release_ip=true deletes both', async () => {
  const lb = await readyLb(api, 'dual');
  const v6 = await api.createIp({ isIpv6: true });
  const attached = await api.updateIp({ ipId: v6.id, lbId: lb.id });
  assert.equal(attached.lbId, lb.id);
  const withV6 = await api.getLb({ lbId: lb.id });
  assert.deepEqual(withV6.ip.map((i) => i.ipAddress).sort(), [lb.ip[0].ipAddress, v6.ipAddress].sort());
  assert.equal(withV6.status, 'ready');
  const applied = await waitLbReady(api, lb.id);
  assert.ok(applied.instances[0].updatedAt! > lb.instances[0].updatedAt!, 'a new address is a change the instance applied');

  const err = await sdkError(api.releaseIp({ ipId: v6.id }), Errors.PreconditionFailedError);
  assert.equal(err.precondition, 'resource_still_in_use');
  assert.equal(err.status, 412);
  assert.equal((await api.getIp({ ipId: v6.id })).lbId, lb.id);

  // An LB has at most one address per family; an IP attached elsewhere cannot move; unknown LBs are 404s.
  const v4 = await api.createIp({ isIpv6: false });
  const other = await readyLb(api, 'other');
  await assertUnchanged(f, [`/ips/${v4.id}`, `/ips/${v6.id}`, `/lbs/${lb.id}`, `/lbs/${other.id}`], async () => {
    assert.deepEqual(await invalidArgs(api.updateIp({ ipId: v4.id, lbId: lb.id })), ['lb_id']);
    assert.deepEqual(await invalidArgs(api.updateIp({ ipId: v6.id, lbId: other.id })), ['lb_id']);
    const ghost = '00000000-0000-4000-8000-0000000000aa';
    await notFound(api.updateIp({ ipId: v4.id, lbId: ghost }), 'lb', ghost);
  });

  await api.deleteLb({ lbId: lb.id, releaseIp: true });
  await waitLbGone(f, lb.id);
  await notFound(api.getIp({ ipId: v6.id }), 'ip', v6.id);
  await notFound(api.getIp({ ipId: lb.ip[0].id }), 'ip', lb.ip[0].id);
});

test('delete a free IP: 204, then 404; its address can be given out again', async () => {
  const ip = await api.createIp({ isIpv6: false });
  assert.equal(await api.releaseIp({ ipId: ip.id }), undefined);
  await notFound(api.getIp({ ipId: ip.id }), 'ip', ip.id);
  await notFound(api.releaseIp({ ipId: ip.id }), 'ip', ip.id);
  await notFound(api.updateIp({ ipId: ip.id, reverse: 'x.example.com' }), 'ip', ip.id);
  assert.deepEqual((await api.listIPs({ ipAddress: ip.ipAddress })).ips, []);
});

test('a bad reverse name is refused and changes nothing', async () => {
  const ip = await api.createIp({ isIpv6: false, reverse: 'keep.example.com' });
  await assertUnchanged(f, [`/ips/${ip.id}`], async () => {
    for (const reverse of ['trailing.dot.', 'with space.example.com', 'bad_\u0001.example.com', '-start.example.com']) {
      assert.deepEqual(await invalidArgs(api.updateIp({ ipId: ip.id, reverse })), ['reverse'], reverse);
    }
  });
  const before = (await api.listIPs({}).all()).length;
  assert.deepEqual(await invalidArgs(api.createIp({ isIpv6: false, reverse: 'trailing.dot.' })), ['reverse']);
  assert.equal((await api.listIPs({}).all()).length, before);
});
