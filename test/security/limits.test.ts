// Limits: the 1 MiB body (413), Scaleway's 300 backends and 300 frontends per LB (also under concurrent creates), 100
// servers per backend, 100 items per list page, and the per-key rate limit: 429 too_many_requests in the shape the
// TypeScript SDK turns into its TooManyRequestsError, per key (one key's flood does not slow another), refilled over
// time, with requests whose key is refused limited per client address; default 100 per second, bursts of 200, for
// project keys; the admin key is not limited unless --admin-rate-limit asks for it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Errors, createClient } from '@scaleway/sdk-client';
import { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum } from '../helpers/fulcrum.js';
import { ROUTES, fillPath, withQuery, type Fixture } from './routes.js';
import { StoreDump, assertScalewayError, createFixture, createProjectKey, ok, raw, sleep, startFulcrum } from './support.js';

const PROJECT = randomUUID();

describe('size limits', () => {
  let f: Fulcrum;
  let fx: Fixture;
  let dump: StoreDump;
  before(async () => {
    f = await startFulcrum({ dataplane: 'none' });
    fx = await createFixture(f, PROJECT);
    dump = new StoreDump(f.dataDir);
  });
  after(async () => {
    dump.close();
    await f.destroy();
  });

  test('a body over 1 MiB is 413 in Scaleway\'s shape, with or without a length; nothing is created', async () => {
    const body = JSON.stringify({ name: 'big', description: 'd'.repeat(1024 * 1024) });
    for (const chunked of [false, true]) {
      const before = dump.all();
      const r = await raw(f.url, 'POST', fillPath('/lbs', fx), { headers: { 'x-auth-token': f.key, 'content-type': 'application/json' }, body, chunked });
      assert.equal(r.status, 413, r.text);
      assertScalewayError(r, 'over 1 MiB');
      assert.equal(r.json.details[0].argument_name, 'body');
      assert.equal(dump.all(), before);
    }
  });

  test('300 backends per LB: the 301st is refused naming lb_id; concurrent creates cannot pass the limit', async () => {
    const lb = await ok(f, 'POST', '/lbs', { project_id: PROJECT, name: 'many-backends' });
    const create = (i: number) => f.http('POST', `/lbs/${lb.id}/backends`, { name: `b${i}`, forward_protocol: 'tcp', forward_port: 1000 + i });
    for (let i = 0; i < 290; i++) assert.equal((await create(i)).status, 200);
    // 30 at once for the last 10 places.
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => create(290 + i)));
    assert.equal(burst.filter((r) => r.status === 200).length, 10, 'exactly the 10 places left');
    for (const r of burst.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(r.json.details.map((d: { argument_name: string }) => d.argument_name), ['lb_id']);
    }
    assert.equal((await ok(f, 'GET', `/lbs/${lb.id}/backends?page_size=1`)).total_count, 300);
    assert.equal((await ok(f, 'GET', `/lbs/${lb.id}`)).backend_count, 300);
    const r = await create(999);
    assert.equal(r.status, 400);
    assert.match(r.json.details[0].help_message, /at most 300 backends/);
  });

  test('300 frontends per LB: the 301st is refused naming lb_id', async () => {
    const lb = await ok(f, 'POST', '/lbs', { project_id: PROJECT, name: 'many-frontends' });
    const be = await ok(f, 'POST', `/lbs/${lb.id}/backends`, { name: 'b', forward_protocol: 'tcp', forward_port: 80 });
    const create = (i: number) => f.http('POST', `/lbs/${lb.id}/frontends`, { name: `f${i}`, inbound_port: 20_000 + i, backend_id: be.id });
    for (let i = 0; i < 290; i++) assert.equal((await create(i)).status, 200);
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => create(290 + i)));
    assert.equal(burst.filter((r) => r.status === 200).length, 10, 'exactly the 10 places left');
    assert.equal((await ok(f, 'GET', `/lbs/${lb.id}`)).frontend_count, 300);
    const r = await create(999);
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.json.details.map((d: { argument_name: string }) => d.argument_name), ['lb_id']);
    assert.match(r.json.details[0].help_message, /at most 300 frontends/);
  });

  test('100 servers per backend: on create, set and add; the pool is unchanged by a refusal', async () => {
    const ips = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `127.250.${Math.floor((i + from) / 250)}.${((i + from) % 250) + 1}`);
    const base = { name: 'pool', forward_protocol: 'tcp', forward_port: 80 };
    const c101 = await f.http('POST', `/lbs/${fx.lbId}/backends`, { ...base, server_ip: ips(101) });
    assert.equal(c101.status, 400, c101.text);
    assert.ok(c101.json.details.some((d: { argument_name: string }) => d.argument_name === 'server_ip'));
    const be = await ok(f, 'POST', `/lbs/${fx.lbId}/backends`, { ...base, server_ip: ips(100) });
    assert.equal(be.pool.length, 100);
    const before = dump.all();
    for (const [method, list] of [['POST', ips(1, 100)], ['PUT', ips(101)]] as const) {
      const r = await f.http(method, `/backends/${be.id}/servers`, { server_ip: list });
      assert.equal(r.status, 400, `${method}: ${r.text}`);
      assert.match(r.json.details[0].help_message, /at most 100 servers/);
    }
    assert.equal(dump.all(), before, 'the pool is unchanged');
    // Adding what is already there is no growth.
    assert.equal((await ok(f, 'POST', `/backends/${be.id}/servers`, { server_ip: ips(5) })).pool.length, 100);
    await ok(f, 'DELETE', `/backends/${be.id}`);
  });

  test('every list route caps page_size at 100: 100 is served, 101 and more are 400 naming page_size', async () => {
    const lists = ROUTES.filter((r) => r.method === 'GET' && r.query && 'page_size' in r.query);
    assert.ok(lists.length >= 6, lists.map((r) => r.path).join());
    for (const route of lists) {
      const ok100 = await raw(f.url, 'GET', withQuery(fillPath(route.path, fx), { page_size: '100' }), { headers: { 'x-auth-token': f.key } });
      assert.equal(ok100.status, 200, `${route.path}?page_size=100: ${ok100.text}`);
      for (const size of ['101', '1000', '999999999', '1000000000', '-1', '1e3']) {
        const r = await raw(f.url, 'GET', withQuery(fillPath(route.path, fx), { page_size: size }), { headers: { 'x-auth-token': f.key } });
        assert.equal(r.status, 400, `${route.path}?page_size=${size}: ${r.text}`);
        assertScalewayError(r, route.path);
        assert.deepEqual(r.json.details.map((d: { argument_name: string }) => d.argument_name), ['page_size'], r.text);
      }
    }
  });
});

describe('rate limit', () => {
  let f: Fulcrum;
  /** A project key's secret: project keys get the limit. */
  let key: string;
  before(async () => {
    f = await Fulcrum.start({ dataplane: 'none', env: { FULCRUM_RATE_LIMIT: '20', FULCRUM_RATE_LIMIT_BURST: '10' } });
    key = (await createProjectKey(f.dataDir, randomUUID())).secret_key;
  });
  after(async () => { await f.destroy(); });

  const get = (key: string) => f.http('GET', '/lb-types', undefined, { 'X-Auth-Token': key });

  test('over its burst a key gets 429 too_many_requests in the SDK\'s shape, with Retry-After; the key is served again after a pause', async () => {
    await sleep(600); // a full bucket
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 40 }, () => get(key)));
    const seconds = (performance.now() - started) / 1000;
    const refused = answers.filter((r) => r.status === 429);
    const served = answers.filter((r) => r.status === 200).length;
    // The burst, plus what refilled at 20/s while the 40 were answered (a busy machine answers them more slowly).
    assert.ok(served >= 10 && served <= 10 + Math.ceil(20 * seconds) + 1, `about the burst of 10 served: ${served} in ${seconds.toFixed(2)} s`);
    assert.ok(refused.length >= 40 - 11 - Math.ceil(20 * seconds), `${refused.length} refused`);
    assert.equal(refused.length + served, 40);
    const r = refused[0];
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(r.headers.get('retry-after'), '1');
    assert.deepEqual(r.json, {
      type: 'too_many_requests', message: 'too many requests', help_message: r.json.help_message,
      limit: { quota: 20, window_seconds: 1 }, reset_seconds: 1,
    });
    assert.equal(typeof r.json.help_message, 'string');
    // The official SDK raises its typed error from that body.
    const api = new Lbv1.ZonedAPI(createClient({ accessKey: 'SCWXXXXXXXXXXXXXXXXX', secretKey: key, apiURL: f.url, defaultZone: 'fr-par-1', defaultRegion: 'fr-par' }));
    let typed: InstanceType<typeof Errors.TooManyRequestsError> | null = null;
    for (let i = 0; i < 50 && !typed; i++) {
      typed = await api.listLbTypes({}).then(() => null, (e: unknown) => (e instanceof Errors.TooManyRequestsError ? e : null));
    }
    assert.ok(typed, 'the SDK raised TooManyRequestsError');
    assert.equal(typed.status, 429);
    assert.deepEqual(typed.limit, { quota: 20, windowSeconds: 1 });
    assert.equal(typed.resetSeconds, 1);
    // 20 per second: after a second there is room again.
    await sleep(1100);
    assert.equal((await get(key)).status, 200);
  });

  test('the limit is per key: one key\'s flood leaves another key served', async () => {
    const other = await createProjectKey(f.dataDir, randomUUID());
    await sleep(600);
    // Both at once: one project key floods while the other sends a few.
    const [flood, mine] = await Promise.all([
      Promise.all(Array.from({ length: 40 }, () => get(key))),
      Promise.all(Array.from({ length: 8 }, () => get(other.secret_key))),
    ]);
    assert.ok(flood.filter((r) => r.status === 429).length >= 20, 'the flooding key is refused');
    assert.deepEqual(mine.map((r) => r.status), Array(8).fill(200), 'the other key is served');
  });

  test('the admin key is not limited by default: a flood far over the project keys\' limit is all served', async () => {
    const answers = await Promise.all(Array.from({ length: 120 }, () => get(f.key)));
    assert.deepEqual(answers.map((r) => r.status), Array(120).fill(200));
  });

  test('requests with a refused key are limited per client address: 401 until the burst, then 429', async () => {
    await sleep(600);
    const answers = await Promise.all(Array.from({ length: 40 }, () => get(randomUUID())));
    const statuses = new Set(answers.map((r) => r.status));
    assert.deepEqual([...statuses].sort(), [401, 429]);
    for (const r of answers) assertScalewayError({ status: r.status, headers: { 'content-type': r.headers.get('content-type')! }, text: r.text, json: r.json }, 'bad key');
  });
});

test('--admin-rate-limit limits the admin key (bursts of twice the rate), and leaves project keys to --rate-limit', async () => {
  const f = await Fulcrum.start({ dataplane: 'none', env: { FULCRUM_ADMIN_RATE_LIMIT: '5' } });
  try {
    const project = (await createProjectKey(f.dataDir, randomUUID())).secret_key;
    await sleep(300);
    const get = (key: string) => f.http('GET', '/lb-types', undefined, { 'X-Auth-Token': key });
    const [admin, mine] = await Promise.all([
      Promise.all(Array.from({ length: 40 }, () => get(f.key))),
      Promise.all(Array.from({ length: 40 }, () => get(project))),
    ]);
    const served = admin.filter((r) => r.status === 200).length;
    assert.ok(served >= 10 && served <= 14, `about the admin burst of 10 served: ${served}`);
    assert.deepEqual(admin.find((r) => r.status === 429)?.json.limit, { quota: 5, window_seconds: 1 });
    assert.deepEqual(mine.map((r) => r.status), Array(40).fill(200), 'the project key keeps its own (raised) limit');
  } finally {
    await f.destroy();
  }
});

test('the default limit is 100 requests per second per project key, in bursts of 200; none for the admin key', async () => {
  // The test helper raises the limit for the other suites; removing the variable leaves the server's default.
  const f = await Fulcrum.start({ dataplane: 'none', env: { FULCRUM_RATE_LIMIT: undefined, FULCRUM_RATE_LIMIT_BURST: undefined } });
  try {
    const key = (await createProjectKey(f.dataDir, randomUUID())).secret_key;
    const admin = await Promise.all(Array.from({ length: 400 }, () => f.http('GET', '/lb-types')));
    assert.deepEqual(admin.map((r) => r.status), Array(400).fill(200), 'the admin key is not limited by default');
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 400 }, () => f.http('GET', '/lb-types', undefined, { 'X-Auth-Token': key })));
    const seconds = (performance.now() - started) / 1000;
    const served = answers.filter((r) => r.status === 200).length;
    const refused = answers.filter((r) => r.status === 429);
    console.log(`# 400 requests at once in ${seconds.toFixed(2)} s: ${served} served, ${refused.length} refused`);
    assert.equal(served + refused.length, 400);
    assert.ok(served >= 200, `the burst of 200 is served (${served})`);
    assert.ok(served <= 200 + Math.ceil(100 * seconds) + 1, `no more than the burst and the refill (${served} in ${seconds.toFixed(2)} s)`);
    // On a machine slow enough to need over 2 s for them, the refill may serve them all.
    if (seconds < 1.5) assert.ok(refused.length > 0, 'some were refused');
    for (const r of refused) assert.equal(r.json.limit.quota, 100);
  } finally {
    await f.destroy();
  }
});
