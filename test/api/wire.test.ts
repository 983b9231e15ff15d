// The wire contract over raw HTTP, for what the SDK hides (spec §1, §3, §11): content type and status codes, every
// field present with null for unset optionals, the two duration encodings, a Terraform-shaped request round trip,
// server-side defaults and paging.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Fulcrum, ZONE, waitLbReady } from '../helpers/fulcrum.js';
import {
  assertInvalid, assertJsonContentType, assertKeys, assertRfc3339, backendBody, frontendBody, waitLbGone,
} from '../helpers/api.js';

let f: Fulcrum;
let lbId: string;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none' });
  lbId = (await newLb('wire')).id;
});
after(async () => { await f.destroy(); });

type Json = Record<string, any>;

/** Sends a request that must succeed with `status`, and returns its JSON. */
async function ok(method: string, path: string, body?: unknown, status = 200): Promise<Json> {
  const r = await f.http(method, path, body);
  assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  assertJsonContentType(r);
  if (status === 204) assert.equal(r.text, '', 'a 204 has no body');
  return r.json;
}

async function newLb(name: string, over: Json = {}): Promise<Json> {
  const lb = await ok('POST', '/lbs', { name, description: '', type: 'LB-S', ...over });
  await waitLbReady(f.sdk(), lb.id);
  return lb;
}

const LB_KEYS = ['id', 'name', 'description', 'status', 'instances', 'organization_id', 'project_id', 'ip', 'tags', 'frontend_count',
  'backend_count', 'type', 'subscriber', 'ssl_compatibility_level', 'created_at', 'updated_at', 'private_network_count',
  'route_count', 'region', 'zone'];
const INSTANCE_KEYS = ['id', 'status', 'ip_address', 'created_at', 'updated_at', 'region', 'zone'];
const IP_KEYS = ['id', 'ip_address', 'organization_id', 'project_id', 'lb_id', 'reverse', 'tags', 'region', 'zone'];
const BACKEND_KEYS = ['id', 'name', 'forward_protocol', 'forward_port', 'forward_port_algorithm', 'sticky_sessions',
  'sticky_sessions_cookie_name', 'health_check', 'pool', 'lb', 'send_proxy_v2', 'timeout_server', 'timeout_connect',
  'timeout_tunnel', 'on_marked_down_action', 'proxy_protocol', 'created_at', 'updated_at', 'failover_host', 'ssl_bridging',
  'ignore_ssl_server_verify', 'redispatch_attempt_count', 'max_retries', 'max_connections', 'timeout_queue', 'host'];
const HC_KEYS = ['port', 'check_delay', 'check_timeout', 'check_max_retries', 'check_send_proxy', 'transient_check_delay'];
const FRONTEND_KEYS = ['id', 'name', 'inbound_port', 'backend', 'lb', 'timeout_client', 'certificate', 'certificate_ids',
  'created_at', 'updated_at', 'enable_http3', 'connection_rate_limit', 'enable_access_logs'];

/** The object without identity, times and embedded LB, for exact comparisons. */
function bare(o: Json): Json {
  const { id: _id, lb: _lb, backend: _be, created_at: _c, updated_at: _u, ...rest } = o;
  return rest;
}

test('every answer is exactly application/json: 200 on create and update, 204 with no body on delete, errors too', async () => {
  const lb = await newLb('codes');
  const be = await ok('POST', `/lbs/${lb.id}/backends`, backendBody());
  await ok('PUT', `/backends/${be.id}`, backendBody({ name: 'renamed' }));
  await ok('POST', `/backends/${be.id}/servers`, { server_ip: ['127.0.0.1'] });
  await ok('PUT', `/backends/${be.id}/servers`, { server_ip: ['127.0.0.2', '127.0.0.3'] });
  const afterRemove = await ok('DELETE', `/backends/${be.id}/servers`, { server_ip: ['127.0.0.2'] });
  assert.deepEqual(afterRemove.pool, ['127.0.0.3'], 'DELETE …/servers answers 200 and the backend');
  await ok('PUT', `/backends/${be.id}/healthcheck`, { port: 80, check_max_retries: 2 });
  const fe = await ok('POST', `/lbs/${lb.id}/frontends`, frontendBody(be.id));
  await ok('PUT', `/frontends/${fe.id}`, frontendBody(be.id, { inbound_port: 81 }));
  await ok('GET', `/frontends/${fe.id}`);
  await ok('GET', `/lbs/${lb.id}/backend-stats`);
  await ok('GET', `/lbs/${lb.id}/stats`);
  await ok('GET', '/lb-types');
  await ok('PUT', `/lbs/${lb.id}`, { name: 'codes2', description: '' });
  const ip = await ok('POST', '/ips', {});
  await ok('PATCH', `/ips/${ip.id}`, { tags: ['x'] });

  const errors: [number, Promise<Awaited<ReturnType<Fulcrum['http']>>>][] = [
    [412, f.http('DELETE', `/backends/${be.id}`)],
    [409, f.http('POST', `/lbs/${lb.id}/frontends`, frontendBody(be.id, { inbound_port: 81 }))],
    [400, f.http('POST', '/lbs', '{"name":')],
    [404, f.http('GET', '/backends/00000000-0000-4000-8000-000000000000')],
    [404, f.http('GET', '/no/such/route')],
    [401, f.http('GET', '/lbs', undefined, { 'X-Auth-Token': '00000000-0000-4000-8000-000000000000' })],
  ];
  for (const [status, pending] of errors) {
    const r = await pending;
    assert.equal(r.status, status, r.text);
    assertJsonContentType(r);
    assert.equal(typeof r.json.type, 'string');
    assert.equal(typeof r.json.message, 'string');
  }

  await ok('DELETE', `/frontends/${fe.id}`, undefined, 204);
  await ok('DELETE', `/backends/${be.id}`, undefined, 204);
  await ok('DELETE', `/ips/${ip.id}`, undefined, 204);
  await ok('DELETE', `/lbs/${lb.id}?release_ip=true`, undefined, 204);
});

test('every field is present; unset optionals are null, empty lists []; times are RFC 3339 UTC', async () => {
  const lb = await ok('GET', `/lbs/${lbId}`);
  assertKeys(lb, LB_KEYS, 'Lb');
  assertKeys(lb.instances[0], INSTANCE_KEYS, 'Instance');
  assertKeys(lb.ip[0], IP_KEYS, 'Ip');
  assert.equal(lb.subscriber, null);
  for (const t of [lb.created_at, lb.updated_at, lb.instances[0].created_at, lb.instances[0].updated_at]) assertRfc3339(t, 'LB time');

  const be = await ok('POST', `/lbs/${lbId}/backends`, backendBody({ name: 'nulls' }));
  assertKeys(be, BACKEND_KEYS, 'Backend');
  assertKeys(be.health_check, [...HC_KEYS, 'tcp_config'], 'HealthCheck');
  assertKeys(be.lb, LB_KEYS, 'Backend.lb');
  assert.deepEqual(be.health_check.tcp_config, {});
  for (const k of ['failover_host', 'ignore_ssl_server_verify', 'redispatch_attempt_count', 'max_retries', 'max_connections', 'timeout_queue']) {
    assert.equal(be[k], null, `backend ${k}`);
  }
  assert.equal(be.ssl_bridging, false);
  assert.equal(be.host, '');
  assert.deepEqual(be.pool, []);
  assertRfc3339(be.created_at, 'backend created_at');
  assertRfc3339(be.updated_at, 'backend updated_at');

  const fe = await ok('POST', `/lbs/${lbId}/frontends`, frontendBody(be.id, { name: 'nulls', inbound_port: 9001 }));
  assertKeys(fe, FRONTEND_KEYS, 'Frontend');
  assertKeys(fe.backend, BACKEND_KEYS, 'Frontend.backend');
  assertKeys(fe.backend.lb, LB_KEYS, 'Frontend.backend.lb');
  assertKeys(fe.lb, LB_KEYS, 'Frontend.lb');
  for (const k of ['timeout_client', 'certificate', 'connection_rate_limit']) assert.equal(fe[k], null, `frontend ${k}`);
  assert.deepEqual(fe.certificate_ids, []);
  assertRfc3339(fe.created_at, 'frontend created_at');

  const ip = await ok('POST', '/ips', { is_ipv6: false });
  assertKeys(ip, IP_KEYS, 'Ip');
  assert.equal(ip.lb_id, null);

  const types = await ok('GET', '/lb-types');
  assertKeys(types, ['lb_types', 'total_count'], 'ListLbTypesResponse');
  assertKeys(types.lb_types[0], ['name', 'stock_status', 'description', 'region', 'zone'], 'LbType');
  for (const [path, key] of [['/lbs', 'lbs'], ['/ips', 'ips'], [`/lbs/${lbId}/backends`, 'backends'], [`/lbs/${lbId}/frontends`, 'frontends']]) {
    assertKeys(await ok('GET', path), [key, 'total_count'], `list ${path}`);
  }
});

test('a PUT of the health check answers a HealthCheck, and the new kind replaces the old', async () => {
  const be = await ok('POST', `/lbs/${lbId}/backends`, backendBody({
    name: 'hc-answer', health_check: { port: 80, check_max_retries: 2, http_config: { uri: '/', method: 'GET' } },
  }));
  assert.deepEqual(be.health_check.http_config, { uri: '/', method: 'GET', code: null, host_header: '' });
  const hc = await ok('PUT', `/backends/${be.id}/healthcheck`, { port: 81, check_max_retries: 3, redis_config: {} });
  assertKeys(hc, [...HC_KEYS, 'redis_config'], 'HealthCheck');
  assert.deepEqual(hc, {
    port: 81, check_delay: 3000, check_timeout: 1000, check_max_retries: 3, check_send_proxy: false, transient_check_delay: '0.500s',
    redis_config: {},
  });
  assert.deepEqual((await ok('GET', `/backends/${be.id}`)).health_check, hc);
  const noKind = await ok('PUT', `/backends/${be.id}/healthcheck`, { port: 82, check_max_retries: 3 });
  assertKeys(noKind, [...HC_KEYS, 'tcp_config'], 'a check without a kind is a TCP check');
});

test('no health-check kind means tcp_config {}, also for an HTTP backend; a null health check takes the forward port', async () => {
  const be = await ok('POST', `/lbs/${lbId}/backends`, backendBody({ name: 'tcp-default', forward_protocol: 'http', forward_port: 8443, health_check: null }));
  assert.deepEqual(be.health_check, {
    port: 8443, check_delay: 3000, check_timeout: 1000, check_max_retries: 3, check_send_proxy: false, transient_check_delay: '0.500s',
    tcp_config: {},
  });
});

test('send_proxy_v2 reflects proxy_protocol v2', async () => {
  const cases: [Json, string, boolean][] = [
    [{ proxy_protocol: 'proxy_protocol_v2' }, 'proxy_protocol_v2', true],
    [{ proxy_protocol: 'proxy_protocol_v2', send_proxy_v2: false }, 'proxy_protocol_v2', true],
    [{ proxy_protocol: 'proxy_protocol_v1' }, 'proxy_protocol_v1', false],
    [{ proxy_protocol: 'proxy_protocol_none' }, 'proxy_protocol_none', false],
    [{ proxy_protocol: 'proxy_protocol_unknown' }, 'proxy_protocol_unknown', false],
    [{ proxy_protocol: 'proxy_protocol_v2_ssl' }, 'proxy_protocol_v2_ssl', false],
    [{ proxy_protocol: 'proxy_protocol_v2_ssl_cn' }, 'proxy_protocol_v2_ssl_cn', false],
    [{ send_proxy_v2: true }, 'proxy_protocol_v2', true],
    [{ send_proxy_v2: true, proxy_protocol: 'proxy_protocol_none' }, 'proxy_protocol_v2', true],
    [{ send_proxy_v2: true, proxy_protocol: 'proxy_protocol_v1' }, 'proxy_protocol_v1', false],
  ];
  const be = await ok('POST', `/lbs/${lbId}/backends`, backendBody({ name: 'proxy' }));
  for (const [input, protocol, sendV2] of cases) {
    const up = await ok('PUT', `/backends/${be.id}`, backendBody({ name: 'proxy', ...input }));
    assert.equal(up.proxy_protocol, protocol, JSON.stringify(input));
    assert.equal(up.send_proxy_v2, sendV2, JSON.stringify(input));
    const created = await ok('POST', `/lbs/${lbId}/backends`, backendBody({ name: 'proxy-create', ...input }));
    assert.deepEqual([created.proxy_protocol, created.send_proxy_v2], [protocol, sendV2], `create ${JSON.stringify(input)}`);
    await ok('DELETE', `/backends/${created.id}`, undefined, 204);
  }
});

/** Inputs in every encoding, and the milliseconds they mean, for a field whose bare numbers are in `unit`. */
function encodings(unit: 'ms' | 's'): [unknown, number][] {
  const n = (ms: number) => (unit === 'ms' ? ms : ms / 1000);
  return [
    [n(5000), 5000], [String(n(5000)), 5000], [n(250), 250], [String(n(250)), 250], ['5s', 5000], ['1.5s', 1500], ['500ms', 500],
    ['0.500000000s', 500], ['4.000000000s', 4000], ['2m', 120_000], ['.75s', 750],
  ];
}

/** Protobuf JSON duration with 0 or 3 fraction digits, the way Fulcrum writes them. */
function proto(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}s`;
}

test('durations: millisecond fields accept every encoding and answer integers', async () => {
  const be = await ok('POST', `/lbs/${lbId}/backends`, backendBody({ name: 'ms' }));
  const fe = await ok('POST', `/lbs/${lbId}/frontends`, frontendBody(be.id, { name: 'ms', inbound_port: 9002 }));
  for (const [input, ms] of encodings('ms')) {
    const what = JSON.stringify(input);
    const up = await ok('PUT', `/backends/${be.id}`, backendBody({ name: 'ms', timeout_server: input, timeout_connect: input, timeout_tunnel: input }));
    assert.deepEqual([up.timeout_server, up.timeout_connect, up.timeout_tunnel], [ms, ms, ms], what);
    const hc = await ok('PUT', `/backends/${be.id}/healthcheck`, { port: 80, check_max_retries: 2, check_delay: input, check_timeout: input });
    assert.deepEqual([hc.check_delay, hc.check_timeout], [ms, ms], what);
    const upFe = await ok('PUT', `/frontends/${fe.id}`, frontendBody(be.id, { name: 'ms', inbound_port: 9002, timeout_client: input }));
    assert.equal(upFe.timeout_client, ms, what);
    const got = await ok('GET', `/backends/${be.id}`);
    assert.deepEqual([got.timeout_server, got.health_check.check_delay], [ms, ms], `${what}, read back`);
  }
});

test('durations: transient_check_delay and timeout_queue accept every encoding and answer protobuf strings', async () => {
  const be = await ok('POST', `/lbs/${lbId}/backends`, backendBody({ name: 'seconds' }));
  for (const [input, ms] of encodings('s')) {
    const what = JSON.stringify(input);
    const up = await ok('PUT', `/backends/${be.id}`, backendBody({ name: 'seconds', timeout_queue: input }));
    assert.equal(up.timeout_queue, proto(ms), what);
    const hc = await ok('PUT', `/backends/${be.id}/healthcheck`, { port: 80, check_max_retries: 2, transient_check_delay: input });
    assert.equal(hc.transient_check_delay, proto(ms), what);
  }
  const cases: [unknown, string][] = [['0.000000000s', '0s'], [0, '0s'], ['0s', '0s'], ['1ms', '0.001s'], ['0.200000000s', '0.200s'], ['61.5s', '61.500s']];
  for (const [input, out] of cases) {
    const up = await ok('PUT', `/backends/${be.id}`, backendBody({ name: 'seconds', timeout_queue: input }));
    assert.equal(up.timeout_queue, out, JSON.stringify(input));
  }
});

test('a Terraform-shaped session round-trips: explicit nulls, zero values, back-to-back PUTs', async () => {
  const projectId = f.projectId;
  const ip = await ok('POST', '/ips', { project_id: projectId, reverse: null, is_ipv6: false, tags: null });
  assert.deepEqual(ip.tags, []);
  const lb = await ok('POST', '/lbs', {
    project_id: projectId, name: 'tf-lb', description: '', ip_id: ip.id, assign_flexible_ip: null, assign_flexible_ipv6: null,
    ip_ids: [ip.id], tags: null, type: 'LB-S', ssl_compatibility_level: 'ssl_compatibility_level_intermediate',
  });
  assert.equal(lb.status, 'to_create');
  assert.deepEqual(lb.tags, []);
  assert.equal(lb.type, 'lb-s');
  assert.deepEqual(lb.ip.map((i: Json) => i.id), [ip.id]);
  await waitLbReady(f.sdk(), lb.id);

  const request = {
    name: 'tf-lb-bkd', forward_protocol: 'http', forward_port: 80, forward_port_algorithm: 'roundrobin', sticky_sessions: 'none',
    sticky_sessions_cookie_name: '',
    health_check: { port: 80, check_max_retries: 2, check_send_proxy: false, transient_check_delay: '0.500000000s', check_delay: 60000, check_timeout: 30000 },
    server_ip: [], send_proxy_v2: false, timeout_server: 300000, timeout_connect: 5000, timeout_tunnel: 900000,
    on_marked_down_action: 'on_marked_down_action_none', proxy_protocol: 'proxy_protocol_none', failover_host: null,
    ssl_bridging: false, ignore_ssl_server_verify: false, redispatch_attempt_count: 0, max_retries: 3, max_connections: 0,
    timeout_queue: '0.000000000s',
  };
  const answer = {
    ...request, server_ip: undefined, pool: [], host: '',
    health_check: { port: 80, check_delay: 60000, check_timeout: 30000, check_max_retries: 2, check_send_proxy: false, transient_check_delay: '0.500s', tcp_config: {} },
    timeout_queue: '0s',
  };
  delete answer.server_ip;
  const be = await ok('POST', `/lbs/${lb.id}/backends`, request);
  assert.deepEqual(bare(be), answer);
  assert.equal(be.lb.id, lb.id);
  assert.deepEqual(bare(await ok('GET', `/backends/${be.id}`)), answer);

  // Terraform's update: PUT backend, PUT health check, PUT servers, without waiting in between.
  const { health_check: _hc, server_ip: _ips, ...updateBody } = request;
  const put = await ok('PUT', `/backends/${be.id}`, { ...updateBody, forward_port: 81, proxy_protocol: 'proxy_protocol_unknown' });
  assert.deepEqual(bare(put), { ...answer, forward_port: 81, proxy_protocol: 'proxy_protocol_unknown' });
  const hc = await ok('PUT', `/backends/${be.id}/healthcheck`, {
    port: 81, check_max_retries: 3, check_send_proxy: true, tcp_config: {}, transient_check_delay: '0.200000000s', check_delay: 10000, check_timeout: 15000,
  });
  assert.deepEqual(hc, { check_delay: 10000, check_max_retries: 3, check_send_proxy: true, check_timeout: 15000, port: 81, tcp_config: {}, transient_check_delay: '0.200s' });
  const servers = await ok('PUT', `/backends/${be.id}/servers`, { server_ip: ['10.1.1.1', '10.1.1.2'] });
  assert.deepEqual(servers.pool, ['10.1.1.1', '10.1.1.2']);
  assert.equal(servers.lb.status, 'ready', 'no 409 while the instance is pending: the LB stays ready');

  const fe = await ok('POST', `/lbs/${lb.id}/frontends`, {
    name: 'tf-lb-frt', inbound_port: 80, backend_id: be.id, timeout_client: null, certificate_id: null, certificate_ids: null,
    enable_http3: false, connection_rate_limit: 0, enable_access_logs: false,
  });
  assert.deepEqual(bare(fe), {
    name: 'tf-lb-frt', inbound_port: 80, timeout_client: null, certificate: null, certificate_ids: [], enable_http3: false,
    connection_rate_limit: null, enable_access_logs: false,
  });
  assert.equal(fe.backend.id, be.id);
  // …and the frontend PUT Terraform sends right after creating it.
  const fePut = await ok('PUT', `/frontends/${fe.id}`, {
    name: 'tf-lb-frt', inbound_port: 80, backend_id: be.id, timeout_client: 300000, certificate_id: null, certificate_ids: [],
    enable_http3: false, connection_rate_limit: 0, enable_access_logs: false,
  });
  assert.equal(fePut.timeout_client, 300000);

  // The Go SDK marshals an empty server list as null.
  const emptied = await ok('PUT', `/backends/${be.id}/servers`, { server_ip: null });
  assert.deepEqual(emptied.pool, []);
  const readded = await ok('POST', `/backends/${be.id}/servers`, { server_ip: null });
  assert.deepEqual(readded.pool, []);
});

test('paging: page_size defaults to 20 and is capped at 100; total_count is unpaginated', async () => {
  const lb = await newLb('paging');
  for (let i = 0; i < 23; i++) await ok('POST', `/lbs/${lb.id}/backends`, backendBody({ name: `b${String(i).padStart(2, '0')}` }));
  const first = await ok('GET', `/lbs/${lb.id}/backends`);
  assert.equal(first.backends.length, 20);
  assert.equal(first.total_count, 23);
  const second = await ok('GET', `/lbs/${lb.id}/backends?page=2`);
  assert.deepEqual(second.backends.map((b: Json) => b.name), ['b20', 'b21', 'b22']);
  assert.equal(second.total_count, 23);
  const third = await ok('GET', `/lbs/${lb.id}/backends?page=3`);
  assert.deepEqual(third.backends, []);
  assert.equal(third.total_count, 23);
  assert.equal((await ok('GET', `/lbs/${lb.id}/backends?page_size=100`)).backends.length, 23);
  assert.equal((await ok('GET', `/lbs/${lb.id}/backends?page_size=0`)).backends.length, 20, 'page_size=0 means the default');
  assert.deepEqual((await ok('GET', `/lbs/${lb.id}/backends?page_size=5&page=5&order_by=name_desc`)).backends.map((b: Json) => b.name), ['b02', 'b01', 'b00']);
  assertInvalid(await f.http('GET', `/lbs/${lb.id}/backends?page_size=101`), ['page_size']);
  assertInvalid(await f.http('GET', `/lbs/${lb.id}/backends?page=0`), ['page']);
  assertInvalid(await f.http('GET', `/lbs/${lb.id}/backends?page=-1`), ['page']);
  assertInvalid(await f.http('GET', `/lbs/${lb.id}/backends?page_size=ten`), ['page_size']);
  assertInvalid(await f.http('GET', `/lbs/${lb.id}/backends?order_by=name`), ['order_by']);
  assertInvalid(await f.http('GET', '/ips?ip_type=ipv5'), ['ip_type']);
  // The SDK's .all() pages through with the server's default page size.
  const all = await f.sdk().listBackends({ lbId: lb.id }).all();
  assert.equal(all.length, 23);
  await ok('DELETE', `/lbs/${lb.id}?release_ip=true`, undefined, 204);
});

test('DELETE /lbs takes release_ip from the query (SDKs) or from a JSON body (the API docs\' curl)', async () => {
  const viaBody = await newLb('release-body');
  await ok('DELETE', `/lbs/${viaBody.id}`, { release_ip: true }, 204);
  await waitLbGone(f, viaBody.id);
  assert.equal((await f.http('GET', `/ips/${viaBody.ip[0].id}`)).status, 404);

  const viaQuery = await newLb('release-query');
  await ok('DELETE', `/lbs/${viaQuery.id}?release_ip=false`, undefined, 204);
  await waitLbGone(f, viaQuery.id);
  assert.equal((await ok('GET', `/ips/${viaQuery.ip[0].id}`)).lb_id, null);

  const bad = await newLb('release-bad');
  assertInvalid(await f.http('DELETE', `/lbs/${bad.id}?release_ip=yes`), ['release_ip']);
  assertInvalid(await f.http('DELETE', `/lbs/${bad.id}`, { release_ip: 'yes' }), ['release_ip']);
  assert.equal((await ok('GET', `/lbs/${bad.id}`)).status, 'ready');
});

test('request bodies are read as JSON whatever their content type, or without one', async () => {
  const send = (headers: Record<string, string>, body: BodyInit) =>
    fetch(`${f.url}/lb/v1/zones/${ZONE}/ips`, { method: 'POST', headers: { 'X-Auth-Token': f.key, ...headers }, body });
  const json = JSON.stringify({ tags: ['ct'] });
  const variants: Record<string, string>[] = [
    { 'Content-Type': 'application/json; charset=utf-8' }, { 'Content-Type': 'application/x-www-form-urlencoded' }, {},
  ];
  for (const headers of variants) {
    const r = await send(headers, new TextEncoder().encode(json));
    assert.equal(r.status, 200, JSON.stringify(headers));
    assert.deepEqual((await r.json()).tags, ['ct']);
  }
});
