// Access control: every route refuses a missing, malformed, unknown or revoked key with 401 denied_authentication;
// project keys made with `fulcrum keys` (while the server runs) see and change only their project's LBs, IPs and
// children — others' objects answer 404 exactly like objects that do not exist, creating in another project is 403
// permissions_denied — and the admin key sees everything. Keys are stored hashed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Errors, createClient } from '@scaleway/sdk-client';
import { Lbv1 } from '@scaleway/sdk-lb';
import { sdkError } from '../helpers/api.js';
import type { Fulcrum } from '../helpers/fulcrum.js';
import { ID_KINDS, ROUTES, fillPath, paramsOf, routeKeys, withQuery, type Fixture } from './routes.js';
import {
  StoreDump, apiRoutes, assertScalewayError, createFixture, createProjectKey, keysCli, ok, raw, startFulcrum, type CreatedKey,
} from './support.js';

const PA = randomUUID();
const PB = randomUUID();
let f: Fulcrum;
let dump: StoreDump;
let fxA: Fixture;
let fxB: Fixture;
let keyA: CreatedKey;
let keyB: CreatedKey;

before(async () => {
  f = await startFulcrum({ dataplane: 'none' });
  dump = new StoreDump(f.dataDir);
  // Keys made by the CLI while the server runs, against its data dir.
  keyA = await createProjectKey(f.dataDir, PA);
  keyB = await createProjectKey(f.dataDir, PB);
  fxA = await createFixture(f, PA, keyA.secret_key, 8001);
  fxB = await createFixture(f, PB, f.key, 8001);
});

after(async () => {
  dump.close();
  await f.destroy();
});

const sdk = (secretKey: string, projectId: string) => new Lbv1.ZonedAPI(createClient({
  accessKey: 'SCWXXXXXXXXXXXXXXXXX', secretKey, apiURL: f.url, defaultProjectId: projectId, defaultOrganizationId: projectId,
  defaultZone: 'fr-par-1', defaultRegion: 'fr-par',
}));

/** A request as the route table describes it (valid body and query), with the given key headers. */
function send(route: (typeof ROUTES)[number], fx: Fixture, headers: Record<string, string | string[]>, method: string = route.method) {
  const path = withQuery(fillPath(route.path, fx), route.query);
  const body = route.body ? JSON.stringify(route.body(fx)) : undefined;
  return raw(f.url, method, path, { headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body });
}

test('the route table of the suites is every route the API registers (HEAD included)', async () => {
  const registered = await apiRoutes();
  assert.deepEqual(registered, routeKeys(), 'test/security/routes.ts must list every route: add the new one there');
  assert.ok(registered.length >= 38, `${registered.length} routes`);
});

describe('every route refuses a request without a valid key: 401 denied_authentication, nothing changed', () => {
  // Headers are built when the test runs: some need the admin key, known only once the server runs.
  const cases: [string, () => Record<string, string | string[]>, string][] = [
    ['no X-Auth-Token', () => ({}), 'invalid_argument'],
    ['an empty key', () => ({ 'x-auth-token': '' }), 'invalid_argument'],
    ['a key that is not a UUID', () => ({ 'x-auth-token': 'admin' }), 'invalid_argument'],
    ['the admin key with its last character changed', () => ({ 'x-auth-token': f.key.slice(0, -1) + (f.key.endsWith('0') ? '1' : '0') }), 'not_found'],
    ['the admin key with a suffix', () => ({ 'x-auth-token': `${f.key}0` }), 'invalid_argument'],
    ['an unknown UUID', () => ({ 'x-auth-token': randomUUID() }), 'not_found'],
    ['the admin key twice', () => ({ 'x-auth-token': [f.key, f.key] }), 'invalid_argument'],
    ['the admin key in another header', () => ({ authorization: `Bearer ${f.key}` }), 'invalid_argument'],
  ];
  for (const [what, makeHeaders, reason] of cases) {
    test(what, async () => {
      const headers = makeHeaders();
      for (const method of ['GET', 'HEAD'] as const) {
        for (const route of ROUTES.filter((r) => (method === 'HEAD' ? r.method === 'GET' : true))) {
          const before = dump.all();
          const r = await send(route, fxA, headers, method === 'HEAD' ? 'HEAD' : route.method);
          const label = `${method === 'HEAD' ? 'HEAD' : route.method} ${route.path} with ${what}`;
          assert.equal(r.status, 401, `${label}: ${r.text}`);
          assertScalewayError(r, label, method === 'HEAD' ? 'HEAD' : route.method);
          if (method !== 'HEAD') {
            assert.deepEqual(r.json, { type: 'denied_authentication', message: 'authentication is denied', method: 'api_key', reason }, label);
          }
          assert.equal(dump.all(), before, `${label} changed nothing`);
        }
      }
    });
  }

  test('the SDK raises its typed DeniedAuthenticationError', async () => {
    const err = await sdkError(sdk(randomUUID(), PA).listLbs({}), Errors.DeniedAuthenticationError);
    assert.equal(err.status, 401);
    assert.equal(err.reason, 'not_found');
  });
});

describe('project keys', () => {
  test('a project key lists only its project: LBs and IPs; a project_id filter cannot widen it', async () => {
    const lbs = await ok(f, 'GET', '/lbs?page_size=100', undefined, keyA.secret_key);
    assert.deepEqual(lbs.lbs.map((l: { id: string }) => l.id), [fxA.lbId]);
    assert.equal(lbs.total_count, 1);
    assert.deepEqual((await ok(f, 'GET', `/lbs?project_id=${PB}`, undefined, keyA.secret_key)).lbs, []);
    assert.deepEqual((await ok(f, 'GET', `/lbs?lb_ids=${fxB.lbId}`, undefined, keyA.secret_key)).lbs, []);
    const ips = await ok(f, 'GET', '/ips?page_size=100', undefined, keyA.secret_key);
    assert.ok(ips.ips.length >= 2);
    assert.ok(ips.ips.every((i: { project_id: string }) => i.project_id === PA), JSON.stringify(ips.ips));
    // The admin key sees both projects.
    const all = (await ok(f, 'GET', '/lbs?page_size=100')).lbs.map((l: { id: string }) => l.id);
    assert.ok(all.includes(fxA.lbId) && all.includes(fxB.lbId));
  });

  test('every route on another project\'s objects answers 404 exactly like a missing object, and changes nothing', async () => {
    const missing: Fixture = {
      ...fxB, lbId: randomUUID(), backendId: randomUUID(), frontendId: randomUUID(), ipId: randomUUID(), routeId: randomUUID(), aclId: randomUUID(),
    };
    let checked = 0;
    for (const route of ROUTES.filter((r) => paramsOf(r.path).length > 0)) {
      for (const [name, fx] of [['other project', fxB], ['missing', missing]] as const) {
        const before = dump.all();
        const r = await send(route, fx, { 'x-auth-token': keyA.secret_key });
        const label = `key A: ${route.method} ${route.path} on the ${name}'s object`;
        assert.equal(r.status, 404, `${label}: ${r.text}`);
        assertScalewayError(r, label);
        assert.equal(r.json.type, 'not_found', label);
        assert.equal(dump.all(), before, `${label} changed nothing`);
        checked++;
      }
      // Same answer for "someone else's" and "nobody's", up to the id it names.
      const other = await send(route, fxB, { 'x-auth-token': keyA.secret_key });
      const none = await send(route, missing, { 'x-auth-token': keyA.secret_key });
      const norm = (j: { resource_id?: string }) => ({ ...j, resource_id: undefined });
      assert.deepEqual(norm(other.json), norm(none.json), `${route.method} ${route.path}: nothing tells the two apart`);
    }
    assert.ok(checked >= 40);
    // …while the owner and the admin reach the same objects.
    await ok(f, 'GET', `/lbs/${fxB.lbId}`, undefined, keyB.secret_key);
    await ok(f, 'GET', `/backends/${fxB.backendId}`, undefined, f.key);
    await ok(f, 'GET', `/frontends/${fxA.frontendId}`, undefined, f.key);
  });

  test('references to another project\'s objects inside a body answer 404 and change nothing', async () => {
    const keyed = { 'x-auth-token': keyA.secret_key, 'content-type': 'application/json' };
    const attempts: [string, string, Record<string, unknown>][] = [
      ['POST', fillPath('/lbs/:lb_id/frontends', fxA), { name: 'x', inbound_port: 9100, backend_id: fxB.backendId }],
      ['PUT', fillPath('/frontends/:frontend_id', fxA), { name: 'x', inbound_port: 8001, backend_id: fxB.backendId }],
      ['PATCH', fillPath('/ips/:ip_id', fxA), { lb_id: fxB.lbId }],
      ['POST', fillPath('/lbs', fxA), { project_id: PA, name: 'x', ip_ids: [fxB.ipId] }],
      ['POST', fillPath('/lbs', fxA), { project_id: PA, name: 'x', ip_id: fxB.ipId }],
      ['GET', withQuery(fillPath('/lbs/:lb_id/backend-stats', fxA), { backend_id: fxB.backendId }), {}],
      ['GET', withQuery(fillPath('/lbs/:lb_id/stats', fxA), { backend_id: fxB.backendId }), {}],
    ];
    for (const [method, path, body] of attempts) {
      const before = dump.all();
      const r = await raw(f.url, method, path, { headers: keyed, body: method === 'GET' ? undefined : JSON.stringify(body) });
      assert.equal(r.status, 404, `${method} ${path} ${JSON.stringify(body)}: ${r.text}`);
      assertScalewayError(r, path);
      assert.equal(dump.all(), before, `${method} ${path} changed nothing`);
    }
  });

  test('creating in another project is 403 permissions_denied (the SDK\'s typed error); without project_id it lands in the key\'s own', async () => {
    const api = sdk(keyA.secret_key, PB);
    const before = dump.all();
    const err = await sdkError(api.createLb({ name: 'x', description: '', type: 'LB-S', tags: [] } as never), Errors.PermissionsDeniedError);
    assert.equal(err.status, 403);
    assert.deepEqual(err.list, [{ action: 'write', resource: 'lb' }]);
    const ipErr = await sdkError(api.createIp({} as never), Errors.PermissionsDeniedError);
    assert.deepEqual(ipErr.list, [{ action: 'write', resource: 'ip' }]);
    assert.equal(dump.all(), before, 'nothing was created');
    // Raw, without any project: the key's project, not the deployment's default.
    const lb = await ok(f, 'POST', '/lbs', { name: 'own' }, keyA.secret_key);
    assert.equal(lb.project_id, PA);
    await ok(f, 'DELETE', `/lbs/${lb.id}?release_ip=true`, undefined, keyA.secret_key);
    await f.waitGone('fr-par-1', lb.id);
    const ip = await ok(f, 'POST', '/ips', {}, keyA.secret_key);
    assert.equal(ip.project_id, PA);
    await ok(f, 'DELETE', `/ips/${ip.id}`, undefined, keyA.secret_key);
  });

  test('a project key drives its own project through the official SDK', async () => {
    const api = sdk(keyA.secret_key, PA);
    const lb = await api.getLb({ lbId: fxA.lbId });
    assert.equal(lb.projectId, PA);
    const be = await api.addBackendServers({ backendId: fxA.backendId, serverIp: [fxA.serverIps[3]] });
    assert.ok(be.pool.includes(fxA.serverIps[3]));
    await api.removeBackendServers({ backendId: fxA.backendId, serverIp: [fxA.serverIps[3]] });
    await sdkError(api.getBackend({ backendId: fxB.backendId }), Errors.ResourceNotFoundError);
  });

  test('keys made and revoked by the CLI count from the next request, without a restart', async () => {
    const pc = randomUUID();
    const k = await createProjectKey(f.dataDir, pc);
    assert.match(k.access_key, /^SCW[A-Z0-9]{17}$/);
    assert.deepEqual((await ok(f, 'GET', '/lbs', undefined, k.secret_key)).lbs, []);
    // The secret is a UUID: the SDK accepts it; upper case is the same key.
    await ok(f, 'GET', '/lbs', undefined, k.secret_key.toUpperCase());
    const listed = JSON.parse(await keysCli(f.dataDir, 'list', '--json')) as Record<string, unknown>[];
    const row = listed.find((x) => x.access_key === k.access_key)!;
    assert.deepEqual(row, { id: k.id, access_key: k.access_key, project_id: pc, description: '', created_at: row.created_at, revoked_at: null });
    assert.ok(!JSON.stringify(listed).includes(k.secret_key), 'list never shows a secret');
    const text = await keysCli(f.dataDir, 'list');
    assert.ok(text.includes(k.access_key) && !text.includes(k.secret_key));

    await keysCli(f.dataDir, 'revoke', k.access_key);
    const r = await f.http('GET', '/lbs', undefined, { 'X-Auth-Token': k.secret_key });
    assert.equal(r.status, 401);
    assert.equal(r.json.reason, 'not_found');
    // Revoking by id works as well; a second revoke is an error.
    const k2 = await createProjectKey(f.dataDir, pc);
    await ok(f, 'GET', '/lbs', undefined, k2.secret_key);
    await keysCli(f.dataDir, 'revoke', k2.id);
    assert.equal((await f.http('GET', '/lbs', undefined, { 'X-Auth-Token': k2.secret_key })).status, 401);
    await assert.rejects(keysCli(f.dataDir, 'revoke', k2.id), /no active key/);
    assert.equal(JSON.parse(await keysCli(f.dataDir, 'list', '--json')).find((x: { id: string }) => x.id === k2.id).revoked_at !== null, true);
  });

  test('secrets are stored only as SHA-256 hashes: no secret appears in any file of the data dir', async () => {
    const rows = dump.rows<{ secret_hash: string; doc: string }>('SELECT secret_hash, doc FROM api_keys');
    assert.ok(rows.length >= 2);
    const { createHash } = await import('node:crypto');
    for (const k of [keyA, keyB]) {
      assert.ok(rows.some((r) => r.secret_hash === createHash('sha256').update(k.secret_key).digest('hex')));
    }
    for (const name of readdirSync(f.dataDir)) {
      if (!name.startsWith('fulcrum.db')) continue;
      const bytes = readFileSync(join(f.dataDir, name));
      for (const k of [keyA, keyB]) {
        assert.ok(!bytes.includes(Buffer.from(k.secret_key)), `${name} holds a secret in clear`);
        assert.ok(!bytes.includes(Buffer.from(k.secret_key.toUpperCase())), `${name} holds a secret in clear`);
      }
    }
  });

  test('the admin key reaches every project\'s objects', async () => {
    for (const fx of [fxA, fxB]) {
      for (const kind of ID_KINDS) {
        const route = { lb_id: '/lbs/:lb_id', backend_id: '/backends/:backend_id', frontend_id: '/frontends/:frontend_id', ip_id: '/ips/:ip_id',
          route_id: '/routes/:route_id', acl_id: '/acls/:acl_id' }[kind];
        const r = await raw(f.url, 'GET', fillPath(route, fx), { headers: { 'x-auth-token': f.key } });
        assert.equal(r.status, 200, `${route}: ${r.text}`);
      }
    }
  });
});
