// Every backend operation of the seed through the official SDK, unmodified: list (name filter, order_by, paging),
// create, get, update, delete, add/set/remove servers and the health check of each kind.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum, waitLbReady } from '../helpers/fulcrum.js';
import { assertUnchanged, backendRequest, invalidArgs, notFound, readyLb, updateRequest } from '../helpers/api.js';

let f: Fulcrum;
let api: Lbv1.ZonedAPI;
let lb: Lbv1.Lb;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none' });
  api = f.sdk();
  lb = await readyLb(api, 'backends');
});
after(async () => { await f.destroy(); });

/** A health check as the SDK reads it: every kind key present, all but one undefined. */
const NO_KIND = {
  tcpConfig: undefined, mysqlConfig: undefined, pgsqlConfig: undefined, ldapConfig: undefined, redisConfig: undefined,
  httpConfig: undefined, httpsConfig: undefined,
};

/** A backend as the SDK reads it with Fulcrum's defaults for what `backendRequest` leaves out; `over` replaces fields. */
function expected(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'be', forwardProtocol: 'http', forwardPort: 8080, forwardPortAlgorithm: 'roundrobin', stickySessions: 'none',
    stickySessionsCookieName: '',
    healthCheck: { port: 8080, checkDelay: 3000, checkTimeout: 1000, checkMaxRetries: 3, checkSendProxy: false, transientCheckDelay: '0.500s', ...NO_KIND, tcpConfig: {} },
    pool: [], sendProxyV2: false, timeoutServer: 300000, timeoutConnect: 5000, timeoutTunnel: 900000,
    onMarkedDownAction: 'on_marked_down_action_none', proxyProtocol: 'proxy_protocol_unknown', failoverHost: null, sslBridging: false,
    ignoreSslServerVerify: null, redispatchAttemptCount: null, maxRetries: null, maxConnections: null, timeoutQueue: null,
    ...over,
  };
}

/** The backend without its identity, embedded LB and times, which each test checks on its own. */
function view(b: Lbv1.Backend): Record<string, unknown> {
  const { id: _id, lb: _lb, createdAt: _c, updatedAt: _u, ...rest } = b;
  return rest;
}

/** A create request setting every field, in the encodings a TS SDK user types. */
const full = (lbId: string, name = 'full'): Lbv1.ZonedApiCreateBackendRequest => ({
  lbId, name, forwardProtocol: 'http', forwardPort: 8080, forwardPortAlgorithm: 'leastconn', stickySessions: 'cookie',
  stickySessionsCookieName: 'SRVID', serverIp: ['127.0.0.2', '2001:DB8:0:0::0002', '127.0.0.3'],
  healthCheck: {
    port: 8081, checkDelay: '2s', checkTimeout: '500ms', checkMaxRetries: 4, checkSendProxy: true, transientCheckDelay: '0.25s',
    httpConfig: { uri: '/health?full=1', method: 'HEAD', code: 204, hostHeader: 'app.example.com' },
  },
  timeoutServer: '10s', timeoutConnect: '1500ms', timeoutTunnel: '60000', onMarkedDownAction: 'shutdown_sessions',
  proxyProtocol: 'proxy_protocol_v2', failoverHost: 'failover.example.com', sslBridging: true, ignoreSslServerVerify: true,
  redispatchAttemptCount: 2, maxRetries: 5, maxConnections: 100, timeoutQueue: '4s',
});

const FULL_EXPECTED = expected({
  name: 'full', forwardPortAlgorithm: 'leastconn', stickySessions: 'cookie', stickySessionsCookieName: 'SRVID',
  healthCheck: {
    port: 8081, checkDelay: 2000, checkTimeout: 500, checkMaxRetries: 4, checkSendProxy: true, transientCheckDelay: '0.250s',
    ...NO_KIND, httpConfig: { uri: '/health?full=1', method: 'HEAD', code: 204, hostHeader: 'app.example.com' },
  },
  pool: ['127.0.0.2', '2001:db8::2', '127.0.0.3'], sendProxyV2: true, timeoutServer: 10000, timeoutConnect: 1500, timeoutTunnel: 60000,
  onMarkedDownAction: 'shutdown_sessions', proxyProtocol: 'proxy_protocol_v2', failoverHost: 'failover.example.com', sslBridging: true,
  ignoreSslServerVerify: true, redispatchAttemptCount: 2, maxRetries: 5, maxConnections: 100, timeoutQueue: '4s',
});

test('create with every field; get and list read the same backend', async () => {
  const be = await api.createBackend(full(lb.id));
  assert.match(be.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(view(be), FULL_EXPECTED);
  assert.equal(be.lb?.id, lb.id);
  assert.equal(be.lb?.name, 'backends');
  assert.ok(be.createdAt instanceof Date && be.updatedAt instanceof Date);
  assert.ok(Math.abs(be.createdAt.getTime() - Date.now()) < 60_000);

  const got = await api.getBackend({ backendId: be.id });
  assert.deepEqual(view(got), FULL_EXPECTED);
  assert.equal(got.id, be.id);
  assert.deepEqual(got.createdAt, be.createdAt);
  assert.deepEqual(got.updatedAt, be.updatedAt);
  assert.equal(got.lb?.backendCount, (await api.getLb({ lbId: lb.id })).backendCount);

  const listed = (await api.listBackends({ lbId: lb.id, name: 'full' })).backends.find((b) => b.id === be.id);
  assert.ok(listed);
  assert.deepEqual(view(listed), FULL_EXPECTED);
});

test('create with the required fields only: OAS defaults, and a TCP check for an HTTP backend', async () => {
  const be = await api.createBackend(backendRequest(lb.id, { name: 'minimal' }));
  assert.deepEqual(view(be), expected({ name: 'minimal' }));
  assert.deepEqual(view(await api.getBackend({ backendId: be.id })), expected({ name: 'minimal' }));
});

test('list: name substring filter, order_by, paging with an unpaginated total_count, and .all()', async () => {
  const own = await readyLb(api, 'list-backends');
  const names = ['web-b', 'api', 'web-a', 'my-web-c', 'db'];
  for (const name of names) await api.createBackend(backendRequest(own.id, { name }));

  const all = await api.listBackends({ lbId: own.id });
  assert.deepEqual(all.backends.map((b) => b.name), names, 'created_at_asc is the default order');
  assert.equal(all.totalCount, 5);
  for (const b of all.backends) assert.equal(b.lb?.id, own.id);

  const web = await api.listBackends({ lbId: own.id, name: 'web' });
  assert.deepEqual(web.backends.map((b) => b.name), ['web-b', 'web-a', 'my-web-c']);
  assert.equal(web.totalCount, 3);
  assert.equal((await api.listBackends({ lbId: own.id, name: 'nothing' })).totalCount, 0);

  const order = async (orderBy: Lbv1.ListBackendsRequestOrderBy) =>
    (await api.listBackends({ lbId: own.id, orderBy })).backends.map((b) => b.name);
  assert.deepEqual(await order('name_asc'), ['api', 'db', 'my-web-c', 'web-a', 'web-b']);
  assert.deepEqual(await order('name_desc'), ['web-b', 'web-a', 'my-web-c', 'db', 'api']);
  assert.deepEqual(await order('created_at_desc'), [...names].reverse());
  assert.deepEqual(await order('created_at_asc'), names);

  const page = async (p: number) => api.listBackends({ lbId: own.id, orderBy: 'name_asc', page: p, pageSize: 2 });
  assert.deepEqual((await page(1)).backends.map((b) => b.name), ['api', 'db']);
  assert.deepEqual((await page(2)).backends.map((b) => b.name), ['my-web-c', 'web-a']);
  const last = await page(3);
  assert.deepEqual(last.backends.map((b) => b.name), ['web-b']);
  assert.equal(last.totalCount, 5);
  const beyond = await page(4);
  assert.deepEqual(beyond.backends, []);
  assert.equal(beyond.totalCount, 5);

  const everything = await api.listBackends({ lbId: own.id, pageSize: 2, orderBy: 'name_desc' }).all();
  assert.deepEqual(everything.map((b) => b.name), ['web-b', 'web-a', 'my-web-c', 'db', 'api']);
  const iterated: string[] = [];
  for await (const chunk of api.listBackends({ lbId: own.id, pageSize: 3, name: 'web' })) iterated.push(...chunk.map((b) => b.name));
  assert.deepEqual(iterated, ['web-b', 'web-a', 'my-web-c']);
});

test('update replaces every field; health check, pool and identity stay', async () => {
  const req = full(lb.id, 'to-update');
  const be = await api.createBackend(req);
  const up = await api.updateBackend(updateRequest(be.id, req, {
    name: 'updated', forwardProtocol: 'tcp', forwardPort: 9090, forwardPortAlgorithm: 'first', stickySessions: 'table',
    stickySessionsCookieName: '', timeoutServer: '20000', timeoutConnect: '2s', timeoutTunnel: '1m',
    onMarkedDownAction: 'on_marked_down_action_none', proxyProtocol: 'proxy_protocol_v1', failoverHost: undefined, sslBridging: false,
    ignoreSslServerVerify: false, redispatchAttemptCount: 0, maxRetries: 0, maxConnections: 0, timeoutQueue: '0.000000000s',
  }));
  const want = expected({
    ...FULL_EXPECTED, name: 'updated', forwardProtocol: 'tcp', forwardPort: 9090, forwardPortAlgorithm: 'first',
    stickySessions: 'table', stickySessionsCookieName: '', timeoutServer: 20000, timeoutConnect: 2000, timeoutTunnel: 60000,
    onMarkedDownAction: 'on_marked_down_action_none', proxyProtocol: 'proxy_protocol_v1', sendProxyV2: false, failoverHost: null,
    sslBridging: false, ignoreSslServerVerify: false, redispatchAttemptCount: 0, maxRetries: 0, maxConnections: 0, timeoutQueue: '0s',
  });
  assert.deepEqual(view(up), want);
  assert.equal(up.id, be.id);
  assert.deepEqual(up.createdAt, be.createdAt);
  assert.ok(up.updatedAt! >= be.updatedAt!);
  assert.deepEqual(view(await api.getBackend({ backendId: be.id })), want);
});

test('PUT replaces all fields: an omitted optional field gets its default', async () => {
  const req = full(lb.id, 'put-semantics');
  const be = await api.createBackend(req);
  const up = await api.updateBackend({
    backendId: be.id, name: 'put-semantics', forwardProtocol: 'http', forwardPort: 8080, forwardPortAlgorithm: 'roundrobin',
    stickySessions: 'none', stickySessionsCookieName: '',
  });
  assert.deepEqual(view(up), expected({ name: 'put-semantics', healthCheck: FULL_EXPECTED.healthCheck, pool: FULL_EXPECTED.pool }));
});

test('the health-check port does not follow a later forward_port change', async () => {
  const req = backendRequest(lb.id, { name: 'hc-port', forwardPort: 3333, healthCheck: { port: 3333, checkMaxRetries: 2, checkSendProxy: false } });
  const be = await api.createBackend(req);
  const up = await api.updateBackend(updateRequest(be.id, req, { forwardPort: 4444 }));
  assert.equal(up.forwardPort, 4444);
  assert.equal(up.healthCheck?.port, 3333);
  assert.equal((await api.getBackend({ backendId: be.id })).healthCheck?.port, 3333);
});

test('servers: add appends, set replaces, remove drops; addresses are normalized and order is kept', async () => {
  const be = await api.createBackend(backendRequest(lb.id, { name: 'pool', serverIp: ['127.0.0.10'] }));
  const added = await api.addBackendServers({ backendId: be.id, serverIp: ['127.0.0.12', '2001:DB8::A', '127.0.0.11'] });
  assert.deepEqual(added.pool, ['127.0.0.10', '127.0.0.12', '2001:db8::a', '127.0.0.11']);
  assert.equal(added.id, be.id);
  assert.equal(added.name, 'pool');

  // Adding an address that is already in the pool keeps it once, in its place.
  const again = await api.addBackendServers({ backendId: be.id, serverIp: ['2001:db8:0::a', '127.0.0.13'] });
  assert.deepEqual(again.pool, ['127.0.0.10', '127.0.0.12', '2001:db8::a', '127.0.0.11', '127.0.0.13']);

  const removed = await api.removeBackendServers({ backendId: be.id, serverIp: ['127.0.0.12', '2001:0db8::000a', '127.0.0.99'] });
  assert.deepEqual(removed.pool, ['127.0.0.10', '127.0.0.11', '127.0.0.13']);

  const set = await api.setBackendServers({ backendId: be.id, serverIp: ['::1', '127.0.0.20'] });
  assert.deepEqual(set.pool, ['::1', '127.0.0.20']);
  assert.deepEqual((await api.getBackend({ backendId: be.id })).pool, ['::1', '127.0.0.20']);

  const emptied = await api.setBackendServers({ backendId: be.id, serverIp: [] });
  assert.deepEqual(emptied.pool, []);
  // The pool endpoints leave every other field alone.
  assert.deepEqual(view(emptied), { ...view(be), pool: [] });
});

test('server changes are refused whole: a bad or duplicated address changes nothing', async () => {
  const be = await api.createBackend(backendRequest(lb.id, { name: 'pool-refused', serverIp: ['127.0.0.10'] }));
  const watch = [`/backends/${be.id}`, `/lbs/${lb.id}`];
  await assertUnchanged(f, watch, async () => {
    assert.deepEqual(await invalidArgs(api.addBackendServers({ backendId: be.id, serverIp: ['127.0.0.11', 'not-an-ip'] })), ['server_ip.1']);
    assert.deepEqual(await invalidArgs(api.setBackendServers({ backendId: be.id, serverIp: ['::1', '0:0::1'] })), ['server_ip.1']);
    assert.deepEqual(await invalidArgs(api.removeBackendServers({ backendId: be.id, serverIp: ['127.0.0.10', '300.1.1.1'] })), ['server_ip.1']);
  });
});

const KINDS: { name: string; input: Partial<Lbv1.HealthCheck>; output: Record<string, unknown> }[] = [
  { name: 'tcp', input: { tcpConfig: {} }, output: { tcpConfig: {} } },
  { name: 'mysql', input: { mysqlConfig: { user: 'monitor' } }, output: { mysqlConfig: { user: 'monitor' } } },
  { name: 'pgsql', input: { pgsqlConfig: { user: 'postgres' } }, output: { pgsqlConfig: { user: 'postgres' } } },
  { name: 'ldap', input: { ldapConfig: {} }, output: { ldapConfig: {} } },
  { name: 'redis', input: { redisConfig: {} }, output: { redisConfig: {} } },
  {
    name: 'http', input: { httpConfig: { uri: '/status', method: 'GET', code: 200, hostHeader: 'svc.example.com:8080' } },
    output: { httpConfig: { uri: '/status', method: 'GET', code: 200, hostHeader: 'svc.example.com:8080' } },
  },
  {
    name: 'http without code or host header', input: { httpConfig: { uri: '/', method: 'POST', hostHeader: '' } },
    output: { httpConfig: { uri: '/', method: 'POST', code: null, hostHeader: '' } },
  },
  {
    name: 'https', input: { httpsConfig: { uri: '/healthz', method: 'GET', code: 204, hostHeader: 'secure.example.com', sni: 'secure.example.com' } },
    output: { httpsConfig: { uri: '/healthz', method: 'GET', code: 204, hostHeader: 'secure.example.com', sni: 'secure.example.com' } },
  },
];

test('update the health check: each kind; the answer is a HealthCheck and the new kind replaces the old', async () => {
  const be = await api.createBackend(backendRequest(lb.id, {
    name: 'checks', healthCheck: { port: 8080, checkMaxRetries: 3, checkSendProxy: false, httpConfig: { uri: '/', method: 'GET', hostHeader: '' } },
  }));
  for (const [i, kind] of KINDS.entries()) {
    const hc = await api.updateHealthCheck({
      backendId: be.id, port: 9000 + i, checkDelay: `${i + 1}s`, checkTimeout: String(500 + i), checkMaxRetries: 2 + i,
      checkSendProxy: i % 2 === 0, transientCheckDelay: `${100 * (i + 1)}ms`, ...kind.input,
    });
    const want = {
      port: 9000 + i, checkDelay: 1000 * (i + 1), checkTimeout: 500 + i, checkMaxRetries: 2 + i, checkSendProxy: i % 2 === 0,
      transientCheckDelay: formatSeconds(100 * (i + 1)), ...NO_KIND, ...kind.output,
    };
    assert.deepEqual(hc, want, kind.name);
    const got = await api.getBackend({ backendId: be.id });
    assert.deepEqual(got.healthCheck, want, `${kind.name}, read back`);
    assert.equal(got.forwardPort, 8080, 'the backend itself does not change');
  }
});

/** "0.100s", "1s", "1.500s": the protobuf duration strings Fulcrum emits. */
function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}s`;
}

test('Terraform-style burst: PUT backend, PUT health check and PUT servers back to back are all applied', async () => {
  const req = backendRequest(lb.id, { name: 'burst' });
  const be = await api.createBackend(req);
  const [up, hc, servers] = await Promise.all([
    api.updateBackend(updateRequest(be.id, req, { forwardPort: 8181 })),
    api.updateHealthCheck({ backendId: be.id, port: 8182, checkMaxRetries: 5, checkSendProxy: false, httpConfig: { uri: '/up', method: 'GET', hostHeader: '' } }),
    api.setBackendServers({ backendId: be.id, serverIp: ['127.0.0.5'] }),
  ]);
  assert.equal(up.forwardPort, 8181);
  assert.equal(hc.port, 8182);
  assert.deepEqual(servers.pool, ['127.0.0.5']);
  assert.equal(servers.lb?.status, 'ready', 'the LB stays ready while its instance applies');
  const ready = await waitLbReady(api, lb.id);
  assert.equal(ready.status, 'ready');
  const got = await api.getBackend({ backendId: be.id });
  assert.equal(got.forwardPort, 8181);
  assert.equal(got.healthCheck?.port, 8182);
  assert.equal(got.healthCheck?.httpConfig?.uri, '/up');
  assert.deepEqual(got.pool, ['127.0.0.5']);
});

test('delete: 204, then every operation on the backend is a 404', async () => {
  const be = await api.createBackend(backendRequest(lb.id, { name: 'doomed' }));
  const countBefore = (await api.getLb({ lbId: lb.id })).backendCount;
  assert.equal(await api.deleteBackend({ backendId: be.id }), undefined);
  assert.equal((await api.getLb({ lbId: lb.id })).backendCount, countBefore - 1);
  await notFound(api.getBackend({ backendId: be.id }), 'backend', be.id);
  await notFound(api.deleteBackend({ backendId: be.id }), 'backend', be.id);
  await notFound(api.updateBackend(updateRequest(be.id, backendRequest(lb.id))), 'backend', be.id);
  await notFound(api.addBackendServers({ backendId: be.id, serverIp: ['127.0.0.1'] }), 'backend', be.id);
  await notFound(api.setBackendServers({ backendId: be.id, serverIp: ['127.0.0.1'] }), 'backend', be.id);
  await notFound(api.removeBackendServers({ backendId: be.id, serverIp: ['127.0.0.1'] }), 'backend', be.id);
  await notFound(api.updateHealthCheck({ backendId: be.id, port: 80, checkMaxRetries: 1, checkSendProxy: false }), 'backend', be.id);
  assert.ok(!(await api.listBackends({ lbId: lb.id }).all()).some((b) => b.id === be.id));
});

test('operations on backends of an unknown LB are 404s naming the LB', async () => {
  const ghost = '00000000-0000-4000-8000-000000000000';
  await notFound(api.listBackends({ lbId: ghost }), 'lb', ghost);
  await notFound(api.createBackend(backendRequest(ghost)), 'lb', ghost);
});

test('a list shows every change at once: each item is the backend as a GET reads it, the LB as it is now', async () => {
  const own = await readyLb(api, 'list-fresh');
  const created = [];
  for (const name of ['a', 'b', 'c']) created.push(await api.createBackend(backendRequest(own.id, { name, serverIp: ['127.0.0.5'] })));
  const ids = created.map((b) => b.id);
  const check = async (what: string) => {
    const listed = await api.listBackends({ lbId: own.id, orderBy: 'created_at_asc' });
    const lbNow = await api.getLb({ lbId: own.id });
    const gets = await Promise.all(ids.map((backendId) => api.getBackend({ backendId })));
    assert.equal(listed.totalCount, ids.length, what);
    // Read twice in a row (the second from what the first kept), the list is the same.
    assert.deepEqual(await api.listBackends({ lbId: own.id, orderBy: 'created_at_asc' }), listed, what);
    assert.deepEqual(listed.backends.map((b) => ({ ...b, lb: undefined })), gets.map((b) => ({ ...b, lb: undefined })), what);
    for (const b of listed.backends) assert.deepEqual(b.lb, lbNow, `${what}: the embedded LB is the LB now`);
    // A page and a name filter of the same version are lists of their own.
    const second = await api.listBackends({ lbId: own.id, orderBy: 'created_at_asc', page: 2, pageSize: 1 });
    assert.deepEqual(second.backends.map((b) => b.id), ids.slice(1, 2), what);
  };
  await check('created');
  await api.updateBackend(updateRequest(ids[0], backendRequest(own.id, { name: 'a2', forwardPort: 8081 })));
  await check('updated');
  await api.setBackendServers({ backendId: ids[1], serverIp: ['127.0.0.6', '127.0.0.7'] });
  await check('servers set');
  await api.addBackendServers({ backendId: ids[1], serverIp: ['127.0.0.8'] });
  await check('servers added');
  await api.removeBackendServers({ backendId: ids[1], serverIp: ['127.0.0.6'] });
  await check('servers removed');
  await api.updateHealthCheck({ backendId: ids[2], port: 9000, checkMaxRetries: 5, checkSendProxy: false, checkDelay: '4s', checkTimeout: '2s' });
  await check('health check');
  await api.updateLb({ lbId: own.id, name: 'renamed', description: 'd', tags: ['t'] });
  await check('LB renamed');
  await api.deleteBackend({ backendId: ids[0] });
  ids.shift();
  await check('deleted');
  ids.push((await api.createBackend(backendRequest(own.id, { name: 'd' }))).id);
  await check('created again');
});
