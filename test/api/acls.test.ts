// ACLs through the official SDK: create, list, get, update, delete and set (atomic replace); the wire shape recorded on
// the real API (full frontend embedded, nulls that come back as [] or stay null); every match and action field;
// refusals that name their argument and change nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum } from '../helpers/fulcrum.js';
import { assertKeys, backendRequest, notFound, readyLb, refused } from '../helpers/api.js';

let f: Fulcrum;
let api: Lbv1.ZonedAPI;
let lb: Lbv1.Lb;
let httpFe: Lbv1.Frontend;
let tcpFe: Lbv1.Frontend;

before(async () => {
  f = await Fulcrum.start({ dataplane: 'none' });
  api = f.sdk();
  lb = await readyLb(api, 'acls');
  const web = await api.createBackend(backendRequest(lb.id, { name: 'web' }));
  const tcp = await api.createBackend(backendRequest(lb.id, { name: 'tcp', forwardProtocol: 'tcp' }));
  httpFe = await api.createFrontend({ lbId: lb.id, name: 'web', inboundPort: 30_001, backendId: web.id, enableHttp3: false, enableAccessLogs: false });
  tcpFe = await api.createFrontend({ lbId: lb.id, name: 'tcp', inboundPort: 30_002, backendId: tcp.id, enableHttp3: false, enableAccessLogs: false });
});
after(async () => { await f.destroy(); });

const match = (over: Partial<Lbv1.AclMatch> = {}): Lbv1.AclMatch =>
  ({ ipSubnet: [], ipsEdgeServices: false, httpFilter: 'acl_http_filter_none', httpFilterValue: [], invert: false, ...over });

test('Terraform\'s create body: nulls come back as [] (values) or null (option, redirect); the full frontend is embedded', async () => {
  const body = {
    name: 'tf', action: { type: 'allow', redirect: null },
    match: { ip_subnet: ['192.168.0.1', '192.168.0.2', '192.168.10.0/24'], ips_edge_services: false, http_filter: 'acl_http_filter_none',
      http_filter_value: null, http_filter_option: null, invert: true },
    index: 4, description: 'a description',
  };
  const r = await f.http('POST', `/frontends/${httpFe.id}/acls`, body);
  assert.equal(r.status, 200, r.text);
  assertKeys(r.json, ['action', 'created_at', 'description', 'frontend', 'id', 'index', 'match', 'name', 'updated_at'], 'acl');
  assert.deepEqual(r.json.action, { type: 'allow', redirect: null });
  assert.deepEqual(r.json.match, { ip_subnet: ['192.168.0.1', '192.168.0.2', '192.168.10.0/24'], ips_edge_services: false,
    http_filter: 'acl_http_filter_none', http_filter_value: [], http_filter_option: null, invert: true });
  assert.equal(r.json.frontend.id, httpFe.id);
  assert.equal(r.json.frontend.backend.lb.id, lb.id, 'the frontend embeds its backend, which embeds its LB');
  assert.equal(r.json.frontend.lb.id, lb.id);
  assert.equal(r.json.index, 4);
  await api.deleteAcl({ aclId: r.json.id });
});

test('SDK: create, get, list (order, name filter), update, delete; redirect defaults to 302', async () => {
  const a = await api.createAcl({ frontendId: httpFe.id, name: 'block-admin', index: 2, description: '',
    action: { type: 'deny' }, match: match({ httpFilter: 'path_begin', httpFilterValue: ['/admin', '/private'] }) });
  const b = await api.createAcl({ frontendId: httpFe.id, name: 'to-https', index: 1, description: 'scheme',
    action: { type: 'redirect', redirect: { type: 'scheme', target: 'https' } }, match: match() });
  const c = await api.createAcl({ frontendId: httpFe.id, name: 'header', index: 3, description: '',
    action: { type: 'redirect', redirect: { type: 'location', target: 'https://example.com/moved?x=1', code: 308 } },
    match: match({ httpFilter: 'http_header_match', httpFilterOption: 'x-env', httpFilterValue: ['staging env'], invert: true }) });
  try {
    assert.deepEqual(b.action, { type: 'redirect', redirect: { type: 'scheme', target: 'https', code: 302 } });
    assert.deepEqual(c.match, match({ httpFilter: 'http_header_match', httpFilterOption: 'x-env', httpFilterValue: ['staging env'], invert: true }));
    assert.equal((await api.getAcl({ aclId: a.id })).name, 'block-admin');
    const list = await api.listAcls({ frontendId: httpFe.id, orderBy: 'created_at_asc' });
    assert.deepEqual(list.acls.map((x) => x.id), [a.id, b.id, c.id]);
    assert.equal(list.totalCount, 3);
    assert.deepEqual((await api.listAcls({ frontendId: httpFe.id, name: 'to-' })).acls.map((x) => x.id), [b.id]);
    assert.deepEqual((await api.listAcls({ frontendId: httpFe.id, orderBy: 'name_asc' })).acls.map((x) => x.name), ['block-admin', 'header', 'to-https']);

    const u = await api.updateAcl({ aclId: a.id, name: 'regex', index: 7, action: { type: 'allow' },
      match: match({ httpFilter: 'regex', httpFilterValue: ['^/api/v[0-9]+/\\w+$'], ipSubnet: ['2001:db8::/32', '10.0.0.0/8'] }) });
    assert.equal(u.index, 7);
    assert.deepEqual(u.match?.httpFilterValue, ['^/api/v[0-9]+/\\w+$']);
    assert.deepEqual((await api.getAcl({ aclId: a.id })).match?.ipSubnet, ['2001:db8::/32', '10.0.0.0/8']);
    assert.ok(u.updatedAt! > a.updatedAt!);
  } finally {
    for (const x of [a, b, c]) await api.deleteAcl({ aclId: x.id });
  }
  await notFound(api.getAcl({ aclId: a.id }), 'acl', a.id);
  assert.equal((await api.listAcls({ frontendId: httpFe.id })).totalCount, 0);
});

test('setAcls replaces the whole list at once; an index used twice is refused and nothing changes', async () => {
  const old = await api.createAcl({ frontendId: httpFe.id, name: 'old', index: 0, description: '', action: { type: 'deny' }, match: match() });
  const set = await api.setAcls({ frontendId: httpFe.id, acls: [
    { name: 'one', index: 1, description: '', action: { type: 'allow' }, match: match({ ipSubnet: ['127.0.0.1'] }) },
    { name: 'two', index: 2, description: '', action: { type: 'deny' }, match: match() },
  ] });
  assert.equal(set.totalCount, 2);
  assert.deepEqual(set.acls.map((a) => a.name), ['one', 'two']);
  assert.equal(set.acls[0].frontend?.id, httpFe.id);
  await notFound(api.getAcl({ aclId: old.id }), 'acl', old.id);
  assert.deepEqual((await api.listAcls({ frontendId: httpFe.id })).acls.map((a) => a.id), set.acls.map((a) => a.id));

  const dup = { acls: [
    { name: 'a', index: 5, action: { type: 'allow' }, match: { ip_subnet: ['10.0.0.1'] } },
    { name: 'b', index: 5, action: { type: 'deny' } },
  ] };
  await refused(f, 'PUT', `/frontends/${httpFe.id}/acls`, dup, ['acls.1.index'], [`/frontends/${httpFe.id}/acls`]);
  await refused(f, 'PUT', `/frontends/${httpFe.id}/acls`, { acls: [{ name: 'a', index: 1, action: { type: 'deny' }, match: { ip_subnet: ['nope'] } }] },
    ['acls.0.match.ip_subnet.0'], [`/frontends/${httpFe.id}/acls`]);
  assert.equal((await api.setAcls({ frontendId: httpFe.id, acls: [] })).totalCount, 0);
});

test('refusals name the argument and change nothing', async () => {
  const watch = [`/frontends/${httpFe.id}/acls`, `/frontends/${tcpFe.id}/acls`];
  const post = (fe: string, body: Record<string, unknown>, args: string[]) =>
    refused(f, 'POST', `/frontends/${fe}/acls`, { name: 'x', index: 1, action: { type: 'deny' }, ...body }, args, watch);
  const h = httpFe.id;
  await post(h, { index: -1 }, ['index']);
  await post(h, { action: { type: 'drop' } }, ['action.type']);
  await post(h, { action: { type: 'redirect' } }, ['action.redirect.target']);
  await post(h, { action: { type: 'redirect', redirect: { type: 'location', target: 'https://e.com/', code: 304 } } }, ['action.redirect.code']);
  await post(h, { action: { type: 'redirect', redirect: { type: 'location', target: 'https://e.com/a b' } } }, ['action.redirect.target']);
  await post(h, { action: { type: 'redirect', redirect: { type: 'location', target: 'https://e.com/%[src]' } } }, ['action.redirect.target']);
  await post(h, { action: { type: 'redirect', redirect: { type: 'scheme', target: 'https://' } } }, ['action.redirect.target']);
  await post(h, { match: { ip_subnet: ['10.0.0.0/33'] } }, ['match.ip_subnet.0']);
  await post(h, { match: { ip_subnet: ['fe80::1%eth0'] } }, ['match.ip_subnet.0']);
  await post(h, { match: { http_filter: 'path_begin' } }, ['match.http_filter_value']);
  await post(h, { match: { http_filter: 'path_begin', http_filter_value: ['/a b'] } }, ['match.http_filter_value.0']);
  await post(h, { match: { http_filter: 'path_end', http_filter_value: ["x'"] } }, ['match.http_filter_value.0']);
  await post(h, { match: { http_filter: 'regex', http_filter_value: ['(unclosed'] } }, ['match.http_filter_value.0']);
  await post(h, { match: { http_filter: 'regex', http_filter_value: ['\\u0041'] } }, ['match.http_filter_value.0']);
  await post(h, { match: { http_filter: 'regex', http_filter_value: ['^/a\n'] } }, ['match.http_filter_value.0']);
  await post(h, { match: { http_filter: 'http_header_match', http_filter_value: ['v'] } }, ['match.http_filter_option']);
  await post(h, { match: { http_filter: 'http_header_match', http_filter_option: 'x)y', http_filter_value: ['v'] } }, ['match.http_filter_option']);
  await post(h, { match: { http_filter: 'http_header_match', http_filter_option: 'x', http_filter_value: ["it's"] } }, ['match.http_filter_value.0']);
  await post(h, { match: { http_filter: 'wildcard', http_filter_value: ['x'] } }, ['match.http_filter']);
  // A TCP frontend reads no HTTP: filters and redirects are refused there.
  await post(tcpFe.id, { match: { http_filter: 'path_begin', http_filter_value: ['/a'] } }, ['match.http_filter']);
  await post(tcpFe.id, { action: { type: 'redirect', redirect: { type: 'scheme', target: 'https' } } }, ['action.type']);
});

test('a TCP frontend takes subnet ACLs; deleting a frontend deletes its ACLs', async () => {
  const be = await api.createBackend(backendRequest(lb.id, { name: 'tmp', forwardProtocol: 'tcp' }));
  const fe = await api.createFrontend({ lbId: lb.id, name: 'tmp', inboundPort: 30_003, backendId: be.id, enableHttp3: false, enableAccessLogs: false });
  const a = await api.createAcl({ frontendId: fe.id, name: 'allow', index: 0, description: '', action: { type: 'allow' },
    match: match({ ipSubnet: ['127.0.0.0/8', '::1'], ipsEdgeServices: true }) });
  assert.deepEqual(a.match?.ipSubnet, ['127.0.0.0/8', '::1']);
  assert.equal(a.match?.ipsEdgeServices, true);
  await api.deleteFrontend({ frontendId: fe.id });
  await notFound(api.getAcl({ aclId: a.id }), 'acl', a.id);
});
