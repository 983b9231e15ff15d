// Routes through the official SDK: create, get, list (filter by frontend), update, delete; the wire shape recorded on
// the real API (ids only, one match key); route_count; refusals that name their argument and change nothing; what
// happens to routes when their frontend or backend changes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Errors } from '@scaleway/sdk-client';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum } from '../helpers/fulcrum.js';
import {
  assertKeys, assertRfc3339, assertUnchanged, backendRequest, invalidArgs, notFound, readyLb, refused, sdkError, updateRequest,
} from '../helpers/api.js';

let f: Fulcrum;
let api: Lbv1.ZonedAPI;
let lb: Lbv1.Lb;
let httpBe: Lbv1.Backend;
let httpBe2: Lbv1.Backend;
let tcpBe: Lbv1.Backend;
let httpFe: Lbv1.Frontend;
let tcpFe: Lbv1.Frontend;
let nextPort = 20_000;

before(async () => {
  f = await Fulcrum.start({ dataplane: 'none' });
  api = f.sdk();
  lb = await readyLb(api, 'routes');
  httpBe = await api.createBackend(backendRequest(lb.id, { name: 'web' }));
  httpBe2 = await api.createBackend(backendRequest(lb.id, { name: 'api' }));
  tcpBe = await api.createBackend(backendRequest(lb.id, { name: 'tls', forwardProtocol: 'tcp' }));
  httpFe = await api.createFrontend({ lbId: lb.id, name: 'web', inboundPort: nextPort++, backendId: httpBe.id, enableHttp3: false, enableAccessLogs: false });
  tcpFe = await api.createFrontend({ lbId: lb.id, name: 'tls', inboundPort: nextPort++, backendId: tcpBe.id, enableHttp3: false, enableAccessLogs: false });
});
after(async () => { await f.destroy(); });

test('create answers ids only, with the one match key set and match_subdomains; get, update and delete', async () => {
  const raw = await f.http('POST', '/routes', { frontend_id: httpFe.id, backend_id: httpBe2.id, match: { host_header: 'Api.Example.com', match_subdomains: false } });
  assert.equal(raw.status, 200, raw.text);
  assertKeys(raw.json, ['backend_id', 'created_at', 'frontend_id', 'id', 'match', 'updated_at'], 'route');
  assert.deepEqual(raw.json.match, { host_header: 'Api.Example.com', match_subdomains: false });
  assertRfc3339(raw.json.created_at, 'created_at');
  const id = raw.json.id as string;
  assert.equal((await api.getLb({ lbId: lb.id })).routeCount, 1);
  assert.equal((await api.getFrontend({ frontendId: httpFe.id })).lb?.routeCount, 1, 'embedded LB copies count it too');

  const got = await api.getRoute({ routeId: id });
  assert.deepEqual(got.match, { hostHeader: 'Api.Example.com', matchSubdomains: false, sni: undefined, pathBegin: undefined });
  assert.equal(got.backendId, httpBe2.id);
  assert.equal(got.frontendId, httpFe.id);

  const updated = await api.updateRoute({ routeId: id, backendId: httpBe.id, match: { pathBegin: '/api', matchSubdomains: true } });
  assert.equal(updated.backendId, httpBe.id);
  assert.equal(updated.match?.pathBegin, '/api');
  assert.equal(updated.match?.hostHeader, undefined);
  const rawGet = await f.http('GET', `/routes/${id}`);
  assert.deepEqual(rawGet.json.match, { path_begin: '/api', match_subdomains: true });

  await api.deleteRoute({ routeId: id });
  await notFound(api.getRoute({ routeId: id }), 'route', id);
  assert.equal((await api.getLb({ lbId: lb.id })).routeCount, 0);
});

test('list: creation order, filter by frontend_id, created_at_desc, paging', async () => {
  const a = await api.createRoute({ frontendId: httpFe.id, backendId: httpBe2.id, match: { hostHeader: 'a.example.com', matchSubdomains: false } });
  const b = await api.createRoute({ frontendId: httpFe.id, backendId: httpBe2.id, match: { pathBegin: '/b', matchSubdomains: false } });
  const c = await api.createRoute({ frontendId: tcpFe.id, backendId: tcpBe.id, match: { sni: 'c.example.com', matchSubdomains: true } });
  try {
    assert.deepEqual((await api.listRoutes({ orderBy: 'created_at_asc' })).routes.map((r) => r.id), [a.id, b.id, c.id]);
    assert.deepEqual((await api.listRoutes({ frontendId: httpFe.id })).routes.map((r) => r.id), [a.id, b.id]);
    const desc = await api.listRoutes({ frontendId: httpFe.id, orderBy: 'created_at_desc' });
    assert.deepEqual(desc.routes.map((r) => r.id), [b.id, a.id]);
    assert.equal(desc.totalCount, 2);
    const page2 = await f.http('GET', `/routes?page=2&page_size=2`);
    assert.deepEqual(page2.json.routes.map((r: { id: string }) => r.id), [c.id]);
    assert.equal(page2.json.total_count, 3);
    assert.equal((await api.getLb({ lbId: lb.id })).routeCount, 3);
  } finally {
    for (const r of [a, b, c]) await api.deleteRoute({ routeId: r.id });
  }
});

test('refusals name the argument and change nothing', async () => {
  const watch = [`/lbs/${lb.id}`, '/routes'];
  const post = (body: Record<string, unknown>, args: string[]) => refused(f, 'POST', '/routes', body, args, watch);
  const fe = httpFe.id;
  await post({ frontend_id: fe, backend_id: httpBe2.id, match: {} }, ['match']);
  await post({ frontend_id: fe, backend_id: httpBe2.id }, ['match']);
  await post({ frontend_id: fe, backend_id: httpBe2.id, match: { host_header: 'a.com', path_begin: '/x' } }, ['match']);
  await post({ frontend_id: fe, backend_id: httpBe2.id, match: { host_header: 'a.com:8080' } }, ['match.host_header']);
  await post({ frontend_id: fe, backend_id: httpBe2.id, match: { host_header: "a.com' || { always_true }" } }, ['match.host_header']);
  await post({ frontend_id: fe, backend_id: httpBe2.id, match: { path_begin: '/a b' } }, ['match.path_begin']);
  await post({ frontend_id: fe, backend_id: httpBe2.id, match: { path_begin: "/a'" } }, ['match.path_begin']);
  // SNI routes need a TCP frontend (Scaleway removed them for HTTP backends); host and path routes an HTTP one.
  await post({ frontend_id: fe, backend_id: httpBe2.id, match: { sni: 'a.com' } }, ['match.sni']);
  await post({ frontend_id: tcpFe.id, backend_id: tcpBe.id, match: { host_header: 'a.com' } }, ['match.host_header']);
  await post({ frontend_id: tcpFe.id, backend_id: tcpBe.id, match: { path_begin: '/a' } }, ['match.path_begin']);
  await post({ frontend_id: tcpFe.id, backend_id: tcpBe.id, match: { sni: '*.a.com' } }, ['match.sni']);
  // The backend must have the frontend's protocol and belong to its LB.
  await post({ frontend_id: fe, backend_id: tcpBe.id, match: { host_header: 'a.com' } }, ['backend_id']);
  const other = await readyLb(api, 'other');
  const foreign = await api.createBackend(backendRequest(other.id, { name: 'foreign' }));
  await post({ frontend_id: fe, backend_id: foreign.id, match: { host_header: 'a.com' } }, ['backend_id']);
  await post({ frontend_id: 'nope', backend_id: httpBe2.id, match: { host_header: 'a.com' } }, ['frontend_id']);
  const missing = '00000000-0000-4000-8000-000000000000';
  await sdkError(api.createRoute({ frontendId: missing, backendId: httpBe2.id, match: { hostHeader: 'a.com', matchSubdomains: false } }),
    Errors.ResourceNotFoundError);

  const r = await api.createRoute({ frontendId: fe, backendId: httpBe2.id, match: { hostHeader: 'keep.example.com', matchSubdomains: false } });
  await refused(f, 'PUT', `/routes/${r.id}`, { backend_id: httpBe2.id, match: { sni: 'a.com' } }, ['match.sni'], [`/routes/${r.id}`]);
  await refused(f, 'PUT', `/routes/${r.id}`, { backend_id: tcpBe.id, match: { host_header: 'a.com' } }, ['backend_id'], [`/routes/${r.id}`]);
  await api.deleteRoute({ routeId: r.id });
});

test('a backend that routes point to cannot be deleted (412); deleting a frontend deletes its routes', async () => {
  const be = await api.createBackend(backendRequest(lb.id, { name: 'target' }));
  const fe = await api.createFrontend({ lbId: lb.id, name: 'gone', inboundPort: nextPort++, backendId: httpBe.id, enableHttp3: false, enableAccessLogs: false });
  const r = await api.createRoute({ frontendId: fe.id, backendId: be.id, match: { hostHeader: 'x.example.com', matchSubdomains: false } });
  const err = await sdkError(api.deleteBackend({ backendId: be.id }), Errors.PreconditionFailedError);
  assert.match(err.message + JSON.stringify(err), /route/);
  await api.deleteFrontend({ frontendId: fe.id });
  await notFound(api.getRoute({ routeId: r.id }), 'route', r.id);
  assert.equal((await api.getLb({ lbId: lb.id })).routeCount, 0);
  await api.deleteBackend({ backendId: be.id });
});

test('a frontend or backend change that would break its routes is refused', async () => {
  const r = await api.createRoute({ frontendId: httpFe.id, backendId: httpBe2.id, match: { hostHeader: 'y.example.com', matchSubdomains: false } });
  // The frontend moving to a TCP backend: its host route could not work.
  await refused(f, 'PUT', `/frontends/${httpFe.id}`, { name: 'web', inbound_port: httpFe.inboundPort, backend_id: tcpBe.id }, ['backend_id'],
    [`/frontends/${httpFe.id}`]);
  // The route's backend turning TCP behind an HTTP frontend.
  const toTcp = updateRequest(httpBe2.id, backendRequest(lb.id, { name: 'api' }), { forwardProtocol: 'tcp' });
  assert.deepEqual(await assertUnchanged(f, [`/backends/${httpBe2.id}`], () => invalidArgs(api.updateBackend(toTcp))), ['forward_protocol']);
  await api.deleteRoute({ routeId: r.id });
});
