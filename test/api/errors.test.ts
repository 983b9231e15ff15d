// Errors: authentication (401), the 404 shapes, malformed and oversized bodies — and no input produces a 5xx.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Errors, createClient } from '@scaleway/sdk-client';
import { Lbv1 } from '@scaleway/sdk-lb';
import { ZONE } from '../helpers/fulcrum.js';
import {
  assertJsonContentType, assertUnchanged, backendBody, frontendBody, healthCheckBody as hc, refused, sdkError, withTargets,
} from '../helpers/api.js';

const t = withTargets();

type Json = Record<string, unknown>;
const watchBackend = () => [`/lbs/${t.lbId}`, `/backends/${t.backendId}`];
const watchBackends = () => [`/lbs/${t.lbId}`, `/lbs/${t.lbId}/backends?page_size=100`];

describe('request shape', () => {
  test('malformed JSON is a 400 naming the body, and changes nothing', async () => {
    for (const text of ['{', '{"name":}', 'nul', '{"name":"a"} x', '\u0000', '[1,]']) {
      await refused(t.f, 'POST', '/lbs', text, ['body'], ['/lbs?page_size=100']);
      await refused(t.f, 'PUT', `/backends/${t.backendId}`, text, ['body'], watchBackend());
    }
  });

  test('a body that is not an object is a 400 naming the body', async () => {
    for (const body of ['[]', '"text"', '42', 'null', 'true']) {
      await refused(t.f, 'POST', `/lbs/${t.lbId}/backends`, body, ['body'], watchBackends());
      await refused(t.f, 'PUT', `/backends/${t.backendId}/healthcheck`, body, ['body'], watchBackend());
    }
  });

  test('a body over 1 MiB is refused and changes nothing', async () => {
    const r = await assertUnchanged(t.f, ['/lbs?page_size=100'], () =>
      t.f.http('POST', '/lbs', JSON.stringify({ name: 'big', description: 'd'.repeat(1024 * 1024 + 10), type: 'LB-S' })));
    assert.equal(r.status, 413);
    assertJsonContentType(r);
    assert.equal(r.json.type, 'invalid_arguments');
    assert.equal(r.json.details[0].argument_name, 'body');
  });

  test('unknown fields are ignored', async () => {
    const r = await t.f.http('PUT', `/backends/${t.backendId}/healthcheck`, hc({ grpc_config: { service: 'x' }, future_field: 1 }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.tcp_config, {});
  });
});

describe('authentication', () => {
  test('no key, an empty key, a key that is not a UUID and a wrong key are all 401 denied_authentication', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'X-Auth-Token': '' }, 'invalid_argument'],
      [{ 'X-Auth-Token': 'secret' }, 'invalid_argument'],
      [{ 'X-Auth-Token': '00000000-0000-4000-8000-000000000000' }, 'not_found'],
      [{ 'X-Auth-Token': t.f.key.slice(0, -1) + (t.f.key.endsWith('0') ? '1' : '0') }, 'not_found'],
    ];
    for (const [headers, reason] of cases) {
      for (const [method, path, body] of [['GET', '/lbs'], ['POST', '/lbs', '{"name":'], ['DELETE', `/lbs/${t.lbId}`], ['GET', '/nowhere']] as const) {
        const r = await assertUnchanged(t.f, [`/lbs/${t.lbId}`], () => t.f.http(method, path, body, headers));
        assert.equal(r.status, 401, `${method} ${path} with ${JSON.stringify(headers)}`);
        assertJsonContentType(r);
        assert.deepEqual(r.json, { type: 'denied_authentication', message: 'authentication is denied', method: 'api_key', reason });
      }
    }
    const none = await fetch(`${t.f.url}/lb/v1/zones/${ZONE}/lbs`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('content-type'), 'application/json');
    assert.equal((await none.json()).reason, 'invalid_argument');
  });

  test('the key is case-insensitive (it is a UUID)', async () => {
    assert.equal((await t.f.http('GET', '/lbs', undefined, { 'X-Auth-Token': t.f.key.toUpperCase() })).status, 200);
  });

  test('the SDK with a wrong key raises DeniedAuthenticationError', async () => {
    const client = createClient({
      accessKey: 'SCWXXXXXXXXXXXXXXXXX', secretKey: '00000000-0000-4000-8000-000000000001', apiURL: t.f.url,
      defaultProjectId: t.f.projectId, defaultZone: ZONE, defaultRegion: 'fr-par',
    });
    const err = await sdkError(new Lbv1.ZonedAPI(client).listLbs({}), Errors.DeniedAuthenticationError);
    assert.equal(err.status, 401);
    assert.equal(err.method, 'api_key');
    assert.equal(err.reason, 'not_found');
  });
});

describe('not found', () => {
  const ghost = '00000000-0000-4000-8000-00000000dead';
  test('404 bodies carry the real API\'s message and the standard resource fields', async () => {
    const cases: [string, string, string][] = [
      [`/lbs/${ghost}`, 'lbs not Found', 'lb'],
      [`/backends/${ghost}`, 'backend not Found', 'backend'],
      [`/frontends/${ghost}`, 'frontend not Found', 'frontend'],
      [`/ips/${ghost}`, 'ips not Found', 'ip'],
      [`/lbs/${ghost}/backends`, 'lbs not Found', 'lb'],
      [`/lbs/${ghost}/frontends`, 'lbs not Found', 'lb'],
      [`/lbs/${ghost}/backend-stats`, 'lbs not Found', 'lb'],
      [`/lbs/${ghost}/stats`, 'lbs not Found', 'lb'],
    ];
    for (const [path, message, resource] of cases) {
      const r = await t.f.http('GET', path);
      assert.equal(r.status, 404, path);
      assertJsonContentType(r);
      assert.deepEqual(r.json, { message, resource, resource_id: ghost, type: 'not_found' }, path);
    }
    // Not a UUID at all: still a 404 of the same shape.
    assert.deepEqual((await t.f.http('GET', '/backends/nope')).json, { message: 'backend not Found', resource: 'backend', resource_id: 'nope', type: 'not_found' });
  });

  test('writes to missing objects are 404s and create nothing', async () => {
    const writes: [string, string, unknown, string][] = [
      ['PUT', `/backends/${ghost}`, backendBody(), 'backend'],
      ['DELETE', `/backends/${ghost}`, undefined, 'backend'],
      ['PUT', `/backends/${ghost}/healthcheck`, hc({}), 'backend'],
      ['POST', `/backends/${ghost}/servers`, { server_ip: ['10.0.0.1'] }, 'backend'],
      ['PUT', `/frontends/${ghost}`, frontendBody(t.backendId), 'frontend'],
      ['DELETE', `/frontends/${ghost}`, undefined, 'frontend'],
      ['PUT', `/lbs/${ghost}`, { name: 'x', description: '' }, 'lb'],
      ['DELETE', `/lbs/${ghost}?release_ip=true`, undefined, 'lb'],
      ['PATCH', `/ips/${ghost}`, { reverse: 'x.example.com' }, 'ip'],
      ['DELETE', `/ips/${ghost}`, undefined, 'ip'],
      ['POST', `/lbs/${ghost}/backends`, backendBody(), 'lb'],
      ['POST', `/lbs/${ghost}/frontends`, frontendBody(t.backendId), 'lb'],
    ];
    for (const [method, path, body, resource] of writes) {
      const r = await assertUnchanged(t.f, watchBackend(), () => t.f.http(method, path, body));
      assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
      assert.equal(r.json.resource, resource);
      assert.equal(r.json.resource_id, ghost);
    }
  });

  test('an unknown route is a 404 in the same shape', async () => {
    const r = await t.f.http('GET', '/acls');
    assert.equal(r.status, 404);
    assertJsonContentType(r);
    assert.equal(r.json.type, 'not_found');
    assert.equal(typeof r.json.resource, 'string');
    assert.equal(typeof r.json.resource_id, 'string');
  });
});

describe('no input produces a 5xx', () => {
  const WEIRD: unknown[] = [null, true, 0, -1, 1.5, 1e300, '', 'x', '\u0000', '-5s', 'é'.repeat(300), [], [null], ['x'], {}, { uri: '/' }];

  /** Replaces each field of `base` (and of its nested objects) by each weird value; no answer may be a 5xx. */
  async function fuzz(method: string, path: string, base: Json, cleanup?: (created: Json) => Promise<void>): Promise<void> {
    const variants: Json[] = [];
    const walk = (obj: Json, set: (o: Json) => Json) => {
      for (const key of Object.keys(obj)) {
        for (const v of WEIRD) variants.push(set({ ...obj, [key]: v }));
        const child = obj[key];
        if (child && typeof child === 'object' && !Array.isArray(child)) walk(child as Json, (c) => set({ ...obj, [key]: c }));
      }
    };
    walk(base, (o) => o);
    for (const body of variants) {
      const r = await t.f.http(method, path, body);
      assert.ok(r.status < 500, `${method} ${path} ${JSON.stringify(body).slice(0, 200)} → ${r.status} ${r.text}`);
      assertJsonContentType(r);
      if (r.status === 200 && cleanup) await cleanup(r.json);
    }
  }

  test('backend routes', async () => {
    const full = backendBody({
      sticky_sessions: 'cookie', sticky_sessions_cookie_name: 'SRV', timeout_server: 1000, timeout_connect: 1000, timeout_tunnel: 1000,
      on_marked_down_action: 'shutdown_sessions', proxy_protocol: 'proxy_protocol_v1', failover_host: 'f.example.com', ssl_bridging: true,
      ignore_ssl_server_verify: true, redispatch_attempt_count: 1, max_retries: 1, max_connections: 1, timeout_queue: '1s', send_proxy_v2: false,
      server_ip: ['10.0.0.1'],
      health_check: hc({ check_delay: 1000, check_timeout: 1000, check_send_proxy: false, transient_check_delay: '1s',
        https_config: { uri: '/', method: 'GET', code: 200, host_header: 'h', sni: 's' } }),
    });
    await fuzz('POST', `/lbs/${t.lbId}/backends`, full, async (b) => {
      assert.equal((await t.f.http('DELETE', `/backends/${b.id as string}`)).status, 204);
    });
    const { health_check: check, server_ip: _s, ...settings } = full;
    await fuzz('PUT', `/backends/${t.backendId}`, settings);
    await fuzz('PUT', `/backends/${t.backendId}/healthcheck`, check as Json);
    await fuzz('PUT', `/backends/${t.backendId}/healthcheck`, hc({ mysql_config: { user: 'u' } }));
    for (const method of ['POST', 'PUT', 'DELETE']) await fuzz(method, `/backends/${t.backendId}/servers`, { server_ip: ['10.0.0.1'] });
  });

  test('frontend, LB and IP routes', async () => {
    await fuzz('PUT', `/frontends/${t.frontendId}`, frontendBody(t.backendId, {
      timeout_client: 1000, certificate_id: null, certificate_ids: [], connection_rate_limit: 1,
    }));
    await fuzz('PUT', `/lbs/${t.lbId}`, { name: 'errors', description: '', tags: ['a'], ssl_compatibility_level: 'ssl_compatibility_level_old' });
    await fuzz('PATCH', `/ips/${t.ipId}`, { reverse: 'keep.example.com', tags: ['keep'], lb_id: null });
    await fuzz('POST', '/ips', { project_id: t.f.projectId, reverse: 'r.example.com', is_ipv6: false, tags: [] }, async (ip) => {
      assert.equal((await t.f.http('DELETE', `/ips/${ip.id as string}`)).status, 204);
    });
    await fuzz('POST', '/lbs', {
      name: 'fuzz', description: '', type: 'LB-S', tags: [], project_id: t.f.projectId, ip_ids: [], assign_flexible_ip: true,
      assign_flexible_ipv6: false, ssl_compatibility_level: 'ssl_compatibility_level_old',
    }, async (lb) => {
      assert.equal((await t.f.http('DELETE', `/lbs/${lb.id as string}?release_ip=true`)).status, 204);
    });
  });

  test('query strings', async () => {
    const values = ['', '-1', 'abc', '99999999999', '1.5', '%00'];
    for (const v of values) {
      for (const p of ['page', 'page_size', 'order_by', 'name', 'tags', 'ip_type', 'ip_address', 'project_id', 'backend_id']) {
        for (const path of ['/lbs', '/ips', `/lbs/${t.lbId}/backends`, `/lbs/${t.lbId}/frontends`, `/lbs/${t.lbId}/backend-stats`, `/lbs/${t.lbId}/stats`, '/lb-types']) {
          const r = await t.f.http('GET', `${path}?${p}=${v}`);
          assert.ok(r.status < 500, `${path}?${p}=${v} → ${r.status} ${r.text}`);
        }
      }
    }
  });
});
