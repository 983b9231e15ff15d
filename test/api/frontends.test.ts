// Frontends through the official SDK: create, get, list, update, delete; the port rule (409) and the backend-in-use
// rule (412).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Errors } from '@scaleway/sdk-client';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum } from '../helpers/fulcrum.js';
import { assertUnchanged, backendRequest, invalidArgs, notFound, readyLb, sdkError } from '../helpers/api.js';

let f: Fulcrum;
let api: Lbv1.ZonedAPI;
let lb: Lbv1.Lb;
let be: Lbv1.Backend;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none' });
  api = f.sdk();
  lb = await readyLb(api, 'frontends');
  be = await api.createBackend(backendRequest(lb.id, { name: 'fe-backend' }));
});
after(async () => { await f.destroy(); });

let nextPort = 10_000;
const port = () => nextPort++;

function frontendRequest(over: Partial<Lbv1.ZonedApiCreateFrontendRequest> = {}): Lbv1.ZonedApiCreateFrontendRequest {
  return { lbId: lb.id, name: 'fe', inboundPort: port(), backendId: be.id, enableHttp3: false, enableAccessLogs: false, ...over };
}

/** The frontend without identity, times and embedded objects. */
function view(fe: Lbv1.Frontend): Record<string, unknown> {
  const { id: _id, lb: _lb, backend: _be, createdAt: _c, updatedAt: _u, ...rest } = fe;
  return rest;
}

test('create with every supported field; the answer embeds the backend (with its LB) and the LB', async () => {
  const p = port();
  const fe = await api.createFrontend(frontendRequest({ name: 'full', inboundPort: p, timeoutClient: '30s', connectionRateLimit: 100, enableAccessLogs: true }));
  assert.deepEqual(view(fe), {
    name: 'full', inboundPort: p, timeoutClient: 30000, certificate: undefined, certificateIds: [], enableHttp3: false,
    connectionRateLimit: 100, enableAccessLogs: true,
  });
  assert.match(fe.id, /^[0-9a-f-]{36}$/);
  assert.ok(fe.createdAt instanceof Date && fe.updatedAt instanceof Date);
  assert.equal(fe.lb?.id, lb.id);
  assert.equal(fe.backend?.id, be.id);
  assert.equal(fe.backend?.name, 'fe-backend');
  assert.equal(fe.backend?.lb?.id, lb.id);
  assert.deepEqual(fe.backend?.healthCheck, be.healthCheck);

  const got = await api.getFrontend({ frontendId: fe.id });
  assert.deepEqual(view(got), view(fe));
  assert.equal(got.id, fe.id);
  assert.equal(got.backend?.id, be.id);
  assert.deepEqual(got.createdAt, fe.createdAt);
});

test('create with the required fields only: no client timeout, no rate limit (0 means none)', async () => {
  const p = port();
  const fe = await api.createFrontend(frontendRequest({ name: 'minimal', inboundPort: p, connectionRateLimit: 0 }));
  assert.deepEqual(view(fe), {
    name: 'minimal', inboundPort: p, timeoutClient: null, certificate: undefined, certificateIds: [], enableHttp3: false,
    connectionRateLimit: null, enableAccessLogs: false,
  });
});

test('list: name substring filter, order_by, paging and .all()', async () => {
  const own = await readyLb(api, 'fe-list');
  const ownBe = await api.createBackend(backendRequest(own.id));
  const names = ['https', 'admin', 'http-alt', 'metrics'];
  for (const [i, name] of names.entries()) {
    await api.createFrontend({ lbId: own.id, name, inboundPort: 8000 + i, backendId: ownBe.id, enableHttp3: false, enableAccessLogs: false });
  }
  const list = async (req: Partial<Lbv1.ZonedApiListFrontendsRequest>) =>
    (await api.listFrontends({ lbId: own.id, ...req }).all()).map((x) => x.name);
  assert.deepEqual(await list({}), names);
  assert.deepEqual(await list({ name: 'http' }), ['https', 'http-alt']);
  assert.deepEqual(await list({ orderBy: 'name_asc' }), ['admin', 'http-alt', 'https', 'metrics']);
  assert.deepEqual(await list({ orderBy: 'name_desc' }), ['metrics', 'https', 'http-alt', 'admin']);
  assert.deepEqual(await list({ orderBy: 'created_at_desc' }), [...names].reverse());
  assert.deepEqual(await list({ orderBy: 'name_asc', pageSize: 3 }), ['admin', 'http-alt', 'https', 'metrics']);
  const p2 = await api.listFrontends({ lbId: own.id, page: 2, pageSize: 3 });
  assert.deepEqual(p2.frontends.map((x) => x.name), ['metrics']);
  assert.equal(p2.totalCount, 4);
  for (const x of p2.frontends) {
    assert.equal(x.lb?.id, own.id);
    assert.equal(x.backend?.id, ownBe.id);
  }
});

test('update replaces every field, including the backend; an omitted timeout goes back to none', async () => {
  const other = await api.createBackend(backendRequest(lb.id, { name: 'other-backend' }));
  const fe = await api.createFrontend(frontendRequest({ name: 'to-update', timeoutClient: '1m', connectionRateLimit: 5 }));
  const p = port();
  const up = await api.updateFrontend({
    frontendId: fe.id, name: 'updated', inboundPort: p, backendId: other.id, timeoutClient: '2500ms', connectionRateLimit: 0,
    enableHttp3: false, enableAccessLogs: true,
  });
  const want = {
    name: 'updated', inboundPort: p, timeoutClient: 2500, certificate: undefined, certificateIds: [], enableHttp3: false,
    connectionRateLimit: null, enableAccessLogs: true,
  };
  assert.deepEqual(view(up), want);
  assert.equal(up.backend?.id, other.id);
  assert.equal(up.id, fe.id);
  assert.deepEqual(up.createdAt, fe.createdAt);
  const got = await api.getFrontend({ frontendId: fe.id });
  assert.deepEqual(view(got), want);
  assert.equal(got.backend?.id, other.id);

  const bare = await api.updateFrontend({ frontendId: fe.id, name: 'updated', inboundPort: p, backendId: other.id, enableHttp3: false, enableAccessLogs: false });
  assert.equal(bare.timeoutClient, null);
});

test('a port taken on the LB is a 409 on create and on update, and changes nothing', async () => {
  const taken = port();
  const holder = await api.createFrontend(frontendRequest({ name: 'holder', inboundPort: taken }));
  const mover = await api.createFrontend(frontendRequest({ name: 'mover' }));
  await assertUnchanged(f, [`/lbs/${lb.id}`, `/frontends/${holder.id}`, `/frontends/${mover.id}`, `/lbs/${lb.id}/frontends?page_size=100`], async () => {
    const onCreate = await sdkError(api.createFrontend(frontendRequest({ name: 'clash', inboundPort: taken })), Errors.AlreadyExistsError);
    assert.equal(onCreate.status, 409);
    assert.equal(onCreate.resource, 'frontend');
    assert.equal(onCreate.resourceId, holder.id);
    assert.match(onCreate.helpMessage, new RegExp(String(taken)));
    const onUpdate = await sdkError(api.updateFrontend({
      frontendId: mover.id, name: 'mover', inboundPort: taken, backendId: be.id, enableHttp3: false, enableAccessLogs: false,
    }), Errors.AlreadyExistsError);
    assert.equal(onUpdate.resourceId, holder.id);
  });
  // Keeping its own port is not a clash, and the same port on another LB (another IP) is fine.
  const same = await api.updateFrontend({ frontendId: holder.id, name: 'holder2', inboundPort: taken, backendId: be.id, enableHttp3: false, enableAccessLogs: false });
  assert.equal(same.name, 'holder2');
  const lb2 = await readyLb(api, 'second');
  const be2 = await api.createBackend(backendRequest(lb2.id));
  const elsewhere = await api.createFrontend({ lbId: lb2.id, name: 'x', inboundPort: taken, backendId: be2.id, enableHttp3: false, enableAccessLogs: false });
  assert.equal(elsewhere.inboundPort, taken);
});

test('a backend used by a frontend cannot be deleted (412); once the frontend is gone it can', async () => {
  const used = await api.createBackend(backendRequest(lb.id, { name: 'in-use' }));
  const fe = await api.createFrontend(frontendRequest({ name: 'user', backendId: used.id }));
  await assertUnchanged(f, [`/backends/${used.id}`, `/lbs/${lb.id}`], async () => {
    const err = await sdkError(api.deleteBackend({ backendId: used.id }), Errors.PreconditionFailedError);
    assert.equal(err.status, 412);
    assert.equal(err.precondition, 'resource_still_in_use');
    assert.match(err.helpMessage ?? '', new RegExp(fe.id));
  });
  const countBefore = (await api.getLb({ lbId: lb.id })).frontendCount;
  assert.equal(await api.deleteFrontend({ frontendId: fe.id }), undefined);
  assert.equal((await api.getLb({ lbId: lb.id })).frontendCount, countBefore - 1);
  await notFound(api.getFrontend({ frontendId: fe.id }), 'frontend', fe.id);
  await notFound(api.deleteFrontend({ frontendId: fe.id }), 'frontend', fe.id);
  await notFound(api.updateFrontend({ frontendId: fe.id, name: 'x', inboundPort: 1, backendId: used.id, enableHttp3: false, enableAccessLogs: false }), 'frontend', fe.id);
  await api.deleteBackend({ backendId: used.id });
  await notFound(api.getBackend({ backendId: used.id }), 'backend', used.id);
});

test('the backend must exist and belong to the same LB', async () => {
  const lb2 = await readyLb(api, 'foreign');
  const foreign = await api.createBackend(backendRequest(lb2.id));
  const fe = await api.createFrontend(frontendRequest({ name: 'stays' }));
  await assertUnchanged(f, [`/lbs/${lb.id}`, `/lbs/${lb.id}/frontends?page_size=100`, `/frontends/${fe.id}`], async () => {
    assert.deepEqual(await invalidArgs(api.createFrontend(frontendRequest({ backendId: foreign.id }))), ['backend_id']);
    assert.deepEqual(await invalidArgs(api.updateFrontend({
      frontendId: fe.id, name: 'stays', inboundPort: fe.inboundPort, backendId: foreign.id, enableHttp3: false, enableAccessLogs: false,
    })), ['backend_id']);
    const ghost = '00000000-0000-4000-8000-0000000000be';
    await notFound(api.createFrontend(frontendRequest({ backendId: ghost })), 'backend', ghost);
  });
});

test('an unknown certificate is a 404', async () => {
  await assertUnchanged(f, [`/lbs/${lb.id}`, `/lbs/${lb.id}/frontends?page_size=100`], async () => {
    const ghost = '00000000-0000-4000-8000-0000000000ce';
    await notFound(api.createFrontend(frontendRequest({ certificateIds: [ghost] })), 'certificate', ghost);
  });
});

test('operations on frontends of an unknown LB are 404s naming the LB', async () => {
  const ghost = '00000000-0000-4000-8000-000000000000';
  await notFound(api.listFrontends({ lbId: ghost }), 'lb', ghost);
  await notFound(api.createFrontend(frontendRequest({ lbId: ghost })), 'lb', ghost);
});
