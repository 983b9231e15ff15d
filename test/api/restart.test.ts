// State survives a restart of the server: a graceful stop, a SIGKILL right after acknowledged writes, and the
// generated admin key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum, waitLbReady } from '../helpers/fulcrum.js';
import { backendRequest, readyLb, waitLbGone } from '../helpers/api.js';

/** Every object the API shows, read raw. */
async function everything(f: Fulcrum): Promise<unknown> {
  const get = async (path: string) => {
    const r = await f.http('GET', path);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return r.json;
  };
  const lbs = await get('/lbs?page_size=100');
  const out: Record<string, unknown> = { lbs, ips: await get('/ips?page_size=100') };
  for (const lb of lbs.lbs as { id: string }[]) {
    const backends = await get(`/lbs/${lb.id}/backends?page_size=100`);
    const frontends = await get(`/lbs/${lb.id}/frontends?page_size=100`);
    out[lb.id] = { lb: await get(`/lbs/${lb.id}`), backends, frontends, stats: await get(`/lbs/${lb.id}/backend-stats?page_size=100`) };
    for (const b of backends.backends as { id: string }[]) out[b.id] = await get(`/backends/${b.id}`);
    for (const x of frontends.frontends as { id: string }[]) out[x.id] = await get(`/frontends/${x.id}`);
  }
  for (const ip of (out.ips as { ips: { id: string }[] }).ips) out[ip.id] = await get(`/ips/${ip.id}`);
  return withoutInstanceTimes(out);
}

/** An instance's `updated_at` is the time of its last state change, which a restart legitimately moves. */
function withoutInstanceTimes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutInstanceTimes);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = k === 'instances' && Array.isArray(x)
      ? x.map(({ updated_at: _u, ...rest }) => withoutInstanceTimes(rest))
      : withoutInstanceTimes(x);
  }
  return out;
}

async function waitAllReady(api: Lbv1.ZonedAPI): Promise<void> {
  for (const lb of await api.listLbs({}).all()) await waitLbReady(api, lb.id);
}

/** Builds a bit of everything: two LBs, backends with every health-check kind in use, frontends, a free IP. */
async function populate(api: Lbv1.ZonedAPI): Promise<{ lb: Lbv1.Lb; gone: Lbv1.Lb }> {
  const lb = await readyLb(api, 'persist', { tags: ['a', 'b'] });
  await api.updateLb({ lbId: lb.id, name: 'persisted', description: 'survives', tags: ['c'], sslCompatibilityLevel: 'ssl_compatibility_level_old' });
  const be = await api.createBackend(backendRequest(lb.id, {
    name: 'web', stickySessions: 'cookie', stickySessionsCookieName: 'SRV', serverIp: ['127.0.0.1', '::1'], timeoutQueue: '2.5s',
    maxConnections: 0, redispatchAttemptCount: 0, proxyProtocol: 'proxy_protocol_v2', failoverHost: 'down.example.com',
  }));
  await api.addBackendServers({ backendId: be.id, serverIp: ['127.0.0.2'] });
  await api.updateHealthCheck({
    backendId: be.id, port: 8443, checkDelay: '5s', checkTimeout: '2s', checkMaxRetries: 4, checkSendProxy: true, transientCheckDelay: '0.3s',
    httpsConfig: { uri: '/ready', method: 'GET', code: 200, hostHeader: 'web.example.com', sni: 'web.example.com' },
  });
  const db = await api.createBackend(backendRequest(lb.id, {
    name: 'db', forwardProtocol: 'tcp', forwardPort: 5432, healthCheck: { port: 5432, checkMaxRetries: 2, checkSendProxy: false, pgsqlConfig: { user: 'monitor' } },
  }));
  await api.createFrontend({ lbId: lb.id, name: 'http', inboundPort: 80, backendId: be.id, timeoutClient: '1m', enableHttp3: false, enableAccessLogs: true });
  await api.createFrontend({ lbId: lb.id, name: 'pg', inboundPort: 5432, backendId: db.id, connectionRateLimit: 50, enableHttp3: false, enableAccessLogs: false });
  await api.createIp({ isIpv6: false, reverse: 'spare.example.com', tags: ['spare'] });
  const gone = await readyLb(api, 'deleted-before-restart');
  await api.deleteLb({ lbId: gone.id, releaseIp: false });
  return { lb, gone };
}

test('everything survives a graceful restart, and the server keeps working', async () => {
  const f = await Fulcrum.start({ dataplane: 'none' });
  try {
    const { lb, gone } = await populate(f.sdk());
    await waitLbGone(f, gone.id);
    await waitAllReady(f.sdk());
    const defaultProject = (await f.http('POST', '/ips', {})).json.project_id;
    const before = await everything(f);

    await f.stop();
    await f.launch();
    const api = f.sdk(); // the restarted server listens on a new port
    await waitAllReady(api);
    assert.deepEqual(await everything(f), before);
    assert.equal((await api.getLb({ lbId: lb.id })).status, 'ready');
    assert.equal((await f.http('POST', '/ips', {})).json.project_id, defaultProject, 'the default project is kept');

    // Writes go on: new objects get fresh addresses and ports are still enforced.
    const used = new Set((await api.listIPs({}).all()).map((i) => i.ipAddress));
    const more = await readyLb(api, 'after-restart');
    assert.ok(!used.has(more.ip[0].ipAddress));
    const be = (await api.listBackends({ lbId: lb.id, name: 'web' })).backends[0];
    const clash = await f.http('POST', `/lbs/${lb.id}/frontends`, { name: 'x', inbound_port: 80, backend_id: be.id });
    assert.equal(clash.status, 409);
  } finally {
    await f.destroy();
  }
});

test('acknowledged writes survive a SIGKILL; LBs created or deleted just before it end up ready or gone', async () => {
  const f = await Fulcrum.start({ dataplane: 'none' });
  try {
    let api = f.sdk();
    const { gone } = await populate(api);
    const lb = (await api.listLbs({ name: 'persisted' })).lbs[0];
    const be = (await api.listBackends({ lbId: lb.id, name: 'web' })).backends[0];
    // A burst of acknowledged writes, then a crash with no pause.
    await api.setBackendServers({ backendId: be.id, serverIp: ['127.0.0.7', '127.0.0.8'] });
    await api.updateHealthCheck({ backendId: be.id, port: 81, checkMaxRetries: 9, checkSendProxy: false, redisConfig: {} });
    const creating = await api.createLb({ name: 'created-then-crash', description: '', type: 'LB-S' });
    const doomed = await readyLb(api, 'deleted-then-crash');
    await api.deleteLb({ lbId: doomed.id, releaseIp: true });
    const lastWrite = await api.updateLb({ lbId: lb.id, name: 'last-write', description: 'acked', tags: [] });
    await f.kill();

    await f.launch();
    api = f.sdk();
    const got = await api.getBackend({ backendId: be.id });
    assert.deepEqual(got.pool, ['127.0.0.7', '127.0.0.8']);
    assert.equal(got.healthCheck?.port, 81);
    assert.equal(got.healthCheck?.checkMaxRetries, 9);
    assert.deepEqual(got.healthCheck?.redisConfig, {});
    assert.equal(got.healthCheck?.httpsConfig, undefined);
    const reread = await waitLbReady(api, lb.id);
    assert.equal(reread.name, 'last-write');
    assert.equal(reread.description, 'acked');
    assert.deepEqual(reread.updatedAt, lastWrite.updatedAt);

    assert.equal((await waitLbReady(api, creating.id)).status, 'ready', 'an LB created just before the crash is brought up');
    await waitLbGone(f, doomed.id);
    assert.equal((await f.http('GET', `/ips/${doomed.ip[0].id}`)).status, 404, 'a delete acknowledged before the crash completes');
    await waitLbGone(f, gone.id);
    assert.equal((await api.getIp({ ipId: gone.ip[0].id })).lbId, null);
  } finally {
    await f.destroy();
  }
});

test('a generated admin key is stored, printed once, and still valid after a restart', async () => {
  const f = await Fulcrum.start({ dataplane: 'none', secretKey: null });
  try {
    const key = f.key;
    assert.match(f.output, new RegExp(`admin secret key .*: ${key}\n`), 'the key is printed');
    assert.equal((await f.http('GET', '/lbs')).status, 200);
    assert.equal((await f.http('GET', '/lbs', undefined, { 'X-Auth-Token': '00000000-0000-4000-8000-000000000000' })).status, 401);
    const lb = await readyLb(f.sdk(), 'kept');

    const printedBefore = f.output.length;
    await f.stop();
    await f.launch();
    assert.equal(f.key, key);
    assert.doesNotMatch(f.output.slice(printedBefore), /secret key/, 'printed only on the start that generated it');
    assert.equal((await f.sdk().getLb({ lbId: lb.id })).name, 'kept');
  } finally {
    await f.destroy();
  }
});
