// Private networks through the official SDK (no data plane): attach with a static address or one chosen from the
// declared range (ipam_ids / dhcp_config), list (singular `private_network` key), detach (204), the LB's
// private_network_count, and the refusals: undeclared network 404, address outside the range or taken, double attach.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Errors } from '@scaleway/sdk-client';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum } from '../helpers/fulcrum.js';
import { assertUnchanged, invalidArgs, notFound, readyLb, sdkError } from '../helpers/api.js';
import { loopbackNet } from '../helpers/ports.js';

const PN1 = randomUUID();
const PN2 = randomUUID();
const net1 = loopbackNet();
const net2 = loopbackNet();
let f: Fulcrum;
let api: Lbv1.ZonedAPI;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none', env: { FULCRUM_PRIVATE_NETWORK: `${PN1}=${net1}.0/24,${PN2}=${net2}.0/28` } });
  api = f.sdk();
});
after(async () => { await f.destroy(); });

test('attach with ipam_ids: pending, dhcp_config echoes the IPAM id; listed, counted, then ready; detach empties the list', async () => {
  const lb = await readyLb(api, 'pn');
  const ipamId = randomUUID();
  const pn = await api.attachPrivateNetwork({ lbId: lb.id, privateNetworkId: PN1, ipamIds: [ipamId] });
  assert.equal(pn.privateNetworkId, PN1);
  assert.equal(pn.status, 'pending');
  assert.deepEqual(pn.ipamIds, [ipamId]);
  assert.deepEqual(pn.dhcpConfig, { ipId: ipamId });
  assert.equal(pn.staticConfig, undefined);
  assert.equal(pn.lb?.id, lb.id);
  assert.equal(pn.lb?.privateNetworkCount, 1);
  assert.ok(pn.createdAt instanceof Date);

  const raw = await f.http('GET', `/lbs/${lb.id}/private-networks?order_by=created_at_asc`);
  assert.equal(raw.status, 200);
  assert.deepEqual(Object.keys(raw.json).sort(), ['private_network', 'total_count']);
  assert.equal(raw.json.total_count, 1);
  for (let i = 0; i < 100 && (await api.listLbPrivateNetworks({ lbId: lb.id })).privateNetwork[0].status !== 'ready'; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const list = await api.listLbPrivateNetworks({ lbId: lb.id });
  assert.equal(list.totalCount, 1);
  assert.equal(list.privateNetwork[0].status, 'ready');
  assert.equal((await api.getLb({ lbId: lb.id })).privateNetworkCount, 1);

  const d = await f.http('POST', `/lbs/${lb.id}/detach-private-network`, { private_network_id: PN1 });
  assert.equal(d.status, 204);
  assert.equal(d.text, '');
  assert.deepEqual((await api.listLbPrivateNetworks({ lbId: lb.id })).privateNetwork, []);
  assert.equal((await api.getLb({ lbId: lb.id })).privateNetworkCount, 0);
});

test('static_config keeps the given address; chosen addresses are distinct host addresses of the range', async () => {
  const a = await readyLb(api, 'pn-a');
  const b = await readyLb(api, 'pn-b');
  const c = await readyLb(api, 'pn-c');
  const fixed = await api.attachPrivateNetwork({ lbId: a.id, privateNetworkId: PN2, staticConfig: { ipAddress: [`${net2}.9`] } });
  assert.deepEqual(fixed.staticConfig, { ipAddress: [`${net2}.9`] });
  assert.equal(fixed.dhcpConfig, undefined);
  const chosen1 = await f.http('POST', `/lbs/${b.id}/attach-private-network`, { private_network_id: PN2, dhcp_config: {} });
  assert.equal(chosen1.status, 200, chosen1.text);
  assert.equal(typeof chosen1.json.dhcp_config.ip_id, 'string', 'an id stands for the chosen address');
  assert.deepEqual(chosen1.json.ipam_ids, [chosen1.json.dhcp_config.ip_id]);
  const chosen2 = await api.attachPrivateNetwork({ lbId: c.id, privateNetworkId: PN2, ipamConfig: {} });
  assert.equal(chosen2.status, 'pending');

  // The address is the data plane's business; the rendered config shows it (test/e2e/private-networks.test.ts), and
  // here the store does: every LB's address in the range, all different.
  const { SqliteStore } = await import('../../src/store/sqlite.js');
  const store = new SqliteStore(`${f.dataDir}/fulcrum.db`);
  try {
    const addrs = await Promise.all([a, b, c].map(async (lb) => (await store.getLb(lb.id))!.privateNetworks![0].address));
    assert.equal(addrs[0], `${net2}.9`);
    assert.equal(new Set(addrs).size, 3, addrs.join(' '));
    for (const x of addrs) assert.match(x, new RegExp(`^${net2.replace(/\./g, '\\.')}\\.(\\d+)$`));
    for (const x of addrs) assert.ok(Number(x.split('.')[3]) >= 1 && Number(x.split('.')[3]) <= 14, `${x} is a host of the /28`);
  } finally {
    await store.close();
  }
});

test('refusals change nothing: undeclared network 404, outside the range or taken 400, attached twice 409', async () => {
  const lb = await readyLb(api, 'pn-bad');
  const other = await readyLb(api, 'pn-other');
  await api.attachPrivateNetwork({ lbId: other.id, privateNetworkId: PN1, staticConfig: { ipAddress: [`${net1}.200`] } });
  const watch = [`/lbs/${lb.id}`, `/lbs/${lb.id}/private-networks`];
  await assertUnchanged(f, watch, async () => {
    const unknown = randomUUID();
    await notFound(api.attachPrivateNetwork({ lbId: lb.id, privateNetworkId: unknown }), 'private_network', unknown);
    const r = await f.http('POST', `/lbs/${lb.id}/attach-private-network`, { private_network_id: unknown });
    assert.equal(r.json.message, 'privateNetwork not Found');
    for (const bad of [`${net2}.9`, `${net1}.0`, `${net1}.255`, 'not-an-ip', `${net1}.200`]) {
      assert.deepEqual(await invalidArgs(api.attachPrivateNetwork({ lbId: lb.id, privateNetworkId: PN1, staticConfig: { ipAddress: [bad] } })),
        ['static_config.ip_address'], bad);
    }
    await notFound(api.detachPrivateNetwork({ lbId: lb.id, privateNetworkId: PN1 }), 'private_network', PN1);
  });
  await api.attachPrivateNetwork({ lbId: lb.id, privateNetworkId: PN1 });
  await sdkError(api.attachPrivateNetwork({ lbId: lb.id, privateNetworkId: PN1 }), Errors.AlreadyExistsError);
  const r = await f.http('POST', `/lbs/${lb.id}/attach-private-network`, { private_network_id: PN1 });
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.type, 'already_exists');
  assert.equal((await api.listLbPrivateNetworks({ lbId: lb.id })).totalCount, 1);
});

test('the fixed addresses of one network are unique even when attachments race', async () => {
  const lbs = await Promise.all([1, 2, 3, 4].map((i) => readyLb(api, `pn-race-${i}`)));
  const answers = await Promise.all(lbs.map((lb) => f.http('POST', `/lbs/${lb.id}/attach-private-network`,
    { private_network_id: PN1, static_config: { ip_address: [`${net1}.77`] } })));
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400, 400, 400]);
});
