// Validation of every field: a 400 `invalid_arguments` whose details name each bad argument, and nothing changed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Errors } from '@scaleway/sdk-client';
import {
  backendBody, expectInvalid, frontendBody, healthCheckBody as hc, readAll, refused, sdkError, withTargets,
} from '../helpers/api.js';

const t = withTargets();

type Json = Record<string, unknown>;
type Case = [what: string, fields: Json, args: string[]];

/** The LB (whose instance time moves on any committed change of it or its children) and what a request targets. */
const watchBackends = () => [`/lbs/${t.lbId}`, `/lbs/${t.lbId}/backends?page_size=100`];
const watchFrontends = () => [`/lbs/${t.lbId}`, `/lbs/${t.lbId}/frontends?page_size=100`];
const watchBackend = () => [`/lbs/${t.lbId}`, `/backends/${t.backendId}`];

/**
 * Runs `check` (which sends refused requests) on every case in turn; after each one the objects at `watch` must read as
 * they did before the first. A failure names its case.
 */
async function eachCase<C extends [string, ...unknown[]]>(cases: C[], watch: string[], check: (...c: C) => Promise<void>): Promise<void> {
  const before = await readAll(t.f, watch);
  for (const c of cases) {
    await check(...c)
      .then(async () => assert.deepEqual(await readAll(t.f, watch), before, 'a refused request changed something'))
      .catch((e: Error) => { throw new Error(`${c[0]}: ${e.message}`); });
  }
}

/** Backend fields shared by create and update, each bad in one way. */
const SETTINGS_CASES: Case[] = [
  ['unknown protocol', { forward_protocol: 'udp' }, ['forward_protocol']],
  ['port 0', { forward_port: 0 }, ['forward_port']],
  ['port 65536', { forward_port: 65536 }, ['forward_port']],
  ['negative port', { forward_port: -80 }, ['forward_port']],
  ['fractional port', { forward_port: 80.5 }, ['forward_port']],
  ['port as an object', { forward_port: {} }, ['forward_port']],
  ['unknown algorithm', { forward_port_algorithm: 'random' }, ['forward_port_algorithm']],
  ['unknown stickiness', { sticky_sessions: 'source' }, ['sticky_sessions']],
  ['cookie stickiness without a cookie name', { sticky_sessions: 'cookie' }, ['sticky_sessions_cookie_name']],
  ['cookie stickiness with a null cookie name', { sticky_sessions: 'cookie', sticky_sessions_cookie_name: null }, ['sticky_sessions_cookie_name']],
  ...['a b', 'a;b', 'a=b', '"a"', 'a,b', 'é', 'a\tb', 'a#b', 'c'.repeat(65)].map((name): Case =>
    [`cookie name ${JSON.stringify(name)}`, { sticky_sessions: 'cookie', sticky_sessions_cookie_name: name }, ['sticky_sessions_cookie_name']]),
  ['a bad cookie name even without cookie stickiness', { sticky_sessions_cookie_name: 'a b' }, ['sticky_sessions_cookie_name']],
  ['cookie stickiness on a TCP backend without a cookie name', { forward_protocol: 'tcp', sticky_sessions: 'cookie' }, ['sticky_sessions_cookie_name']],
  ['unknown proxy protocol', { proxy_protocol: 'proxy_protocol_v3' }, ['proxy_protocol']],
  ['unknown on_marked_down_action', { on_marked_down_action: 'restart' }, ['on_marked_down_action']],
  ['send_proxy_v2 as a string', { send_proxy_v2: 'yes' }, ['send_proxy_v2']],
  ['ssl_bridging as a number', { ssl_bridging: 1 }, ['ssl_bridging']],
  ...(['timeout_server', 'timeout_connect', 'timeout_tunnel'] as const).flatMap((k): Case[] => [
    [`${k} negative`, { [k]: -1 }, [k]],
    [`${k} negative string`, { [k]: '-5s' }, [k]],
    [`${k} beyond 2^31-1 ms`, { [k]: 2_147_483_648 }, [k]],
    [`${k} in days`, { [k]: '30d' }, [k]],
    [`${k} as words`, { [k]: 'soon' }, [k]],
    [`${k} as a boolean`, { [k]: true }, [k]],
  ]),
  ['timeout_queue negative', { timeout_queue: -1 }, ['timeout_queue']],
  ['timeout_queue as words', { timeout_queue: 'never' }, ['timeout_queue']],
  ['timeout_queue beyond 2^31-1 ms', { timeout_queue: '2147484s' }, ['timeout_queue']],
  ...['ftp://failover.example.com', 'https://', 'https://failover.example.com/a%20b', 'https://failover.example.com/?q=1',
    'https://failover.example.com/#x', 'a b.example.com', 'fail\u0007over.example.com', 'failover.example.com:0',
    'failover.example.com:99999', '-bad-.example.com', 'a\nb'].map((host): Case =>
    [`failover host ${JSON.stringify(host)}`, { failover_host: host }, ['failover_host']]),
  ['empty name', { name: '' }, ['name']],
  ['name of 256 characters', { name: 'n'.repeat(256) }, ['name']],
  ['name of 2000 characters', { name: 'n'.repeat(2000) }, ['name']],
  ['name with a newline', { name: 'a\nb' }, ['name']],
  ['name missing', { name: undefined }, ['name']],
  ['max_retries 33', { max_retries: 33 }, ['max_retries']],
  ['max_retries -1', { max_retries: -1 }, ['max_retries']],
  ['max_connections -1', { max_connections: -1 }, ['max_connections']],
  ['max_connections too large', { max_connections: 100_001 }, ['max_connections']],
  ['redispatch_attempt_count -1', { redispatch_attempt_count: -1 }, ['redispatch_attempt_count']],
  ['redispatch_attempt_count 33', { redispatch_attempt_count: 33 }, ['redispatch_attempt_count']],
  ...['a b', 'app.example.com/path', 'https://app.example.com', 'app.example.com:0', '"app"', 'app%x', 'a\r\nX: 1', 'fe80::1%eth0'].map((host): Case =>
    [`backend host ${JSON.stringify(host)}`, { host }, ['host']]),
  ['protocol missing', { forward_protocol: undefined }, ['forward_protocol']],
  ['port missing', { forward_port: undefined }, ['forward_port']],
];

/** Health-check fields, each bad in one way; argument names are relative to the health check. */
const HEALTH_CHECK_CASES: Case[] = [
  ['port 0', { port: 0 }, ['port']],
  ['port 70000', { port: 70000 }, ['port']],
  ['check_delay below 100 ms', { check_delay: 50 }, ['check_delay']],
  ['check_delay as words', { check_delay: 'often' }, ['check_delay']],
  ['check_delay beyond 2^31-1 ms', { check_delay: 2_147_483_648 }, ['check_delay']],
  ['check_timeout below 100 ms', { check_timeout: '10ms' }, ['check_timeout']],
  ['check_timeout negative', { check_timeout: -1000 }, ['check_timeout']],
  ['check_max_retries 0', { check_max_retries: 0 }, ['check_max_retries']],
  ['check_max_retries 10000', { check_max_retries: 10000 }, ['check_max_retries']],
  ['check_max_retries fractional', { check_max_retries: 1.5 }, ['check_max_retries']],
  ['transient_check_delay below 100 ms', { transient_check_delay: '0.05s' }, ['transient_check_delay']],
  ['transient_check_delay as words', { transient_check_delay: 'fast' }, ['transient_check_delay']],
  ['check_send_proxy as a string', { check_send_proxy: 'true' }, ['check_send_proxy']],
  ['two kinds', { tcp_config: {}, http_config: { uri: '/' } }, ['tcp_config', 'http_config']],
  ['three kinds', { redis_config: {}, ldap_config: {}, mysql_config: { user: 'u' } }, ['redis_config', 'ldap_config', 'mysql_config']],
  ['mysql without a user', { mysql_config: {} }, ['mysql_config.user']],
  ['mysql with an empty user', { mysql_config: { user: '' } }, ['mysql_config.user']],
  ['pgsql with a bad user', { pgsql_config: { user: 'a b' } }, ['pgsql_config.user']],
  ['pgsql with a user of 64 characters', { pgsql_config: { user: 'u'.repeat(64) } }, ['pgsql_config.user']],
  ...['health', '/a b', '/a"b', '/a#b', '/a\nb', `/${'p'.repeat(2048)}`, 'ftp://test.com/health', 'http://', 'http:///health',
    'http://te st.com/health', 'http://test.com/a b', "http://test.com/'", 'http://test.com/#x', 'http://test.com:0/'].map((uri): Case =>
    [`http uri ${JSON.stringify(uri.slice(0, 30))}`, { http_config: { uri, method: 'GET' } }, ['http_config.uri']]),
  ['https uri without a slash', { https_config: { uri: 'x', method: 'GET' } }, ['https_config.uri']],
  ...['get', 'G ET', 'GET\r\n', 'GETGETGETGETGETGETGET'].map((method): Case =>
    [`http method ${JSON.stringify(method)}`, { http_config: { uri: '/', method } }, ['http_config.method']]),
  ['http code 99', { http_config: { uri: '/', method: 'GET', code: 99 } }, ['http_config.code']],
  ['http code 600', { http_config: { uri: '/', method: 'GET', code: 600 } }, ['http_config.code']],
  ['http code as a string', { http_config: { uri: '/', method: 'GET', code: '200' } }, ['http_config.code']],
  ...['a b', 'a\r\nX-Injected: 1', 'host/path', 'host:0', 'host:65536', '"host"', 'host#x'].map((h): Case =>
    [`host header ${JSON.stringify(h)}`, { http_config: { uri: '/', method: 'GET', host_header: h } }, ['http_config.host_header']]),
  ['https host header with a space', { https_config: { uri: '/', method: 'GET', host_header: 'a b' } }, ['https_config.host_header']],
  ...['a b', 'a\u0000b', 'a\tb', 'host:443', '-x-'].map((sni): Case =>
    [`sni ${JSON.stringify(sni)}`, { https_config: { uri: '/', method: 'GET', sni } }, ['https_config.sni']]),
  ['a kind that is not an object', { tcp_config: 'yes' }, ['tcp_config']],
];

/** Server address lists, each bad in one way. */
const SERVER_CASES: [string, unknown[], string[]][] = [
  ['three-part IPv4', ['1.2.3'], ['server_ip.0']],
  ['IPv4 with leading zeros', ['10.0.0.1', '010.0.0.1'], ['server_ip.1']],
  ['octet above 255', ['256.0.0.1'], ['server_ip.0']],
  ['host name', ['backend.example.com'], ['server_ip.0']],
  ['CIDR', ['10.0.0.0/24'], ['server_ip.0']],
  ['address with a port', ['10.0.0.1:80'], ['server_ip.0']],
  ['IPv6 with a zone id', ['fe80::1%eth0'], ['server_ip.0']],
  ['bracketed IPv6', ['[::1]'], ['server_ip.0']],
  ['unspecified IPv4', ['0.0.0.0'], ['server_ip.0']],
  ['unspecified IPv6', ['::'], ['server_ip.0']],
  ['multicast', ['224.0.0.1'], ['server_ip.0']],
  ['broadcast', ['255.255.255.255'], ['server_ip.0']],
  ['empty string', [''], ['server_ip.0']],
  ['with spaces', [' 10.0.0.1'], ['server_ip.0']],
  ['a number', [167772161], ['server_ip.0']],
  ['duplicate', ['10.0.0.1', '10.0.0.1'], ['server_ip.1']],
  ['duplicate once normalized', ['2001:db8::1', '2001:DB8:0:0:0:0:0:1'], ['server_ip.1']],
  ['two bad entries', ['x', '10.0.0.9', 'y'], ['server_ip.0', 'server_ip.2']],
  ['101 servers', Array.from({ length: 101 }, (_, i) => `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`), ['server_ip']],
];

describe('backend validation', () => {
  test('create: each bad setting is named, and nothing is created', async () => {
    await eachCase(SETTINGS_CASES, watchBackends(), (_, fields, args) => expectInvalid(t.f, 'POST', `/lbs/${t.lbId}/backends`, backendBody(fields), args));
  });

  test('update: each bad setting is named, and the backend is unchanged', async () => {
    await eachCase(SETTINGS_CASES, watchBackend(), (_, fields, args) => {
      const { health_check: _h, server_ip: _s, ...body } = backendBody(fields);
      return expectInvalid(t.f, 'PUT', `/backends/${t.backendId}`, body, args);
    });
  });

  test('create: each bad health-check field is named under health_check', async () => {
    await eachCase(HEALTH_CHECK_CASES, watchBackends(), (_, fields, args) =>
      expectInvalid(t.f, 'POST', `/lbs/${t.lbId}/backends`, backendBody({ health_check: hc(fields) }), args.map((a) => `health_check.${a}`)));
  });

  test('PUT healthcheck: each bad field is named, and the check is unchanged', async () => {
    await eachCase(HEALTH_CHECK_CASES, watchBackend(), (_, fields, args) => expectInvalid(t.f, 'PUT', `/backends/${t.backendId}/healthcheck`, hc(fields), args));
  });

  test('server addresses: each bad one is named on create, add, set and remove, and the pool is unchanged', async () => {
    await eachCase(SERVER_CASES, [...watchBackends(), `/backends/${t.backendId}`], async (_, list, args) => {
      await expectInvalid(t.f, 'POST', `/lbs/${t.lbId}/backends`, backendBody({ server_ip: list }), args);
      for (const method of ['POST', 'PUT', 'DELETE']) await expectInvalid(t.f, method, `/backends/${t.backendId}/servers`, { server_ip: list }, args);
    });
  });

  test('the servers body needs server_ip', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      await refused(t.f, method, `/backends/${t.backendId}/servers`, {}, ['server_ip'], watchBackend());
      await refused(t.f, method, `/backends/${t.backendId}/servers`, { server_ip: '10.0.0.1' }, ['server_ip'], watchBackend());
    }
  });

  test('adding beyond the pool limit is refused', async () => {
    const full = (await t.f.http('POST', `/lbs/${t.lbId}/backends`, backendBody({
      name: 'full-pool', server_ip: Array.from({ length: 100 }, (_, i) => `10.9.0.${i + 1}`),
    }))).json;
    assert.equal(full.pool.length, 100);
    await refused(t.f, 'POST', `/backends/${full.id}/servers`, { server_ip: ['10.9.1.1'] }, ['server_ip'], [`/backends/${full.id}`, `/lbs/${t.lbId}`]);
    assert.equal((await t.f.http('DELETE', `/backends/${full.id}`)).status, 204);
  });

  test('one request with many bad arguments names every one of them', async () => {
    await refused(t.f, 'POST', `/lbs/${t.lbId}/backends`, backendBody({
      forward_protocol: 'udp', forward_port: 0, forward_port_algorithm: 'random', sticky_sessions: 'cookie', proxy_protocol: 'v9',
      on_marked_down_action: 'x', server_ip: ['10.0.0.1', 'nope', '10.0.0.1'], timeout_server: 'soon', max_retries: 99, name: '',
      failover_host: 'ftp://x', health_check: hc({ port: 0, check_delay: 1, tcp_config: {}, http_config: { uri: '/' } }),
    }), [
      'forward_protocol', 'forward_port', 'forward_port_algorithm', 'sticky_sessions_cookie_name', 'proxy_protocol',
      'on_marked_down_action', 'server_ip.1', 'server_ip.2', 'timeout_server', 'max_retries', 'name', 'failover_host',
      'health_check.port', 'health_check.check_delay', 'health_check.tcp_config', 'health_check.http_config',
    ], watchBackends());
    await refused(t.f, 'POST', '/lbs', { name: '', description: '', type: 'LB-XL', ssl_compatibility_level: 'tls13', tags: ['\u0000'] },
      ['name', 'type', 'ssl_compatibility_level', 'tags.0'], ['/lbs?page_size=100']);
  });

  test('the SDK raises InvalidArgumentsError with the details', async () => {
    const err = await sdkError(t.f.sdk().createBackend({
      lbId: t.lbId, name: 'sdk', forwardProtocol: 'http', forwardPort: 0, forwardPortAlgorithm: 'roundrobin', stickySessions: 'cookie',
      stickySessionsCookieName: '', serverIp: ['nope'], healthCheck: { port: 80, checkMaxRetries: 3, checkSendProxy: false },
    }), Errors.InvalidArgumentsError);
    assert.equal(err.status, 400);
    assert.deepEqual(err.details.map((d) => d.argumentName).sort(), ['forward_port', 'server_ip.0', 'sticky_sessions_cookie_name']);
    for (const d of err.details) assert.ok(d.helpMessage && d.helpMessage.length > 0);
  });
});

describe('frontend, LB and IP validation', () => {
  const FRONTEND_CASES: Case[] = [
    ['port 0', { inbound_port: 0 }, ['inbound_port']],
    ['port 65536', { inbound_port: 65536 }, ['inbound_port']],
    ['port as a string', { inbound_port: '80' }, ['inbound_port']],
    ['port missing', { inbound_port: undefined }, ['inbound_port']],
    ['backend id not a UUID', { backend_id: 'backend-1' }, ['backend_id']],
    ['backend id missing', { backend_id: undefined }, ['backend_id']],
    ['empty name', { name: '' }, ['name']],
    ['name with a control character', { name: 'a\u0001' }, ['name']],
    ['name of 256 characters', { name: 'n'.repeat(256) }, ['name']],
    ['timeout_client as words', { timeout_client: 'long' }, ['timeout_client']],
    ['timeout_client negative', { timeout_client: -1 }, ['timeout_client']],
    ['timeout_client beyond 2^31-1 ms', { timeout_client: '600h' }, ['timeout_client']],
    ['connection_rate_limit negative', { connection_rate_limit: -1 }, ['connection_rate_limit']],
    ['connection_rate_limit too large', { connection_rate_limit: 1_000_001 }, ['connection_rate_limit']],
    ['a certificate id that is not a UUID (deprecated field)', { certificate_id: 'cert-1' }, ['certificate_id']],
    ['a certificate id that is not a UUID', { certificate_ids: ['cert-1'] }, ['certificate_ids.0']],
    ['51 certificates', { certificate_ids: Array.from({ length: 51 }, () => '00000000-0000-4000-8000-0000000000ce') }, ['certificate_ids']],
    ['access logs as a string', { enable_access_logs: 'yes' }, ['enable_access_logs']],
  ];

  test('frontend create and update: each bad field is named, and nothing changes', async () => {
    await eachCase(FRONTEND_CASES, [...watchFrontends(), `/frontends/${t.frontendId}`], async (_, fields, args) => {
      await expectInvalid(t.f, 'POST', `/lbs/${t.lbId}/frontends`, frontendBody(t.backendId, { inbound_port: 9100, ...fields }), args);
      await expectInvalid(t.f, 'PUT', `/frontends/${t.frontendId}`, frontendBody(t.backendId, fields), args);
    });
  });

  const LB_CASES: Case[] = [
    ['empty name', { name: '' }, ['name']],
    ['name missing', { name: undefined }, ['name']],
    ['name of 256 characters', { name: 'n'.repeat(256) }, ['name']],
    ['name with a newline', { name: 'a\nb' }, ['name']],
    ['description of 1025 characters', { description: 'd'.repeat(1025) }, ['description']],
    ['description with a control character', { description: 'a\u0000' }, ['description']],
    ['tag with a control character', { tags: ['ok', 'bad\u0007'] }, ['tags.1']],
    ['51 tags', { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, ['tags']],
    ['tag of 129 characters', { tags: ['t'.repeat(129)] }, ['tags.0']],
    ['tags not a list', { tags: 'a,b' }, ['tags']],
    ['unknown TLS level', { ssl_compatibility_level: 'tls13' }, ['ssl_compatibility_level']],
  ];

  test('LB create and update: each bad field is named, and nothing changes', async () => {
    const watch = [`/lbs?page_size=100`, '/ips?page_size=100', `/lbs/${t.lbId}`];
    const createOnly: Case[] = [
      ['unknown type', { type: 'LB-XXL' }, ['type']],
      ['project id not a UUID', { project_id: 'my-project' }, ['project_id']],
      ['organization id not a UUID', { organization_id: 'my-org' }, ['organization_id']],
      ['three IPs', { ip_ids: ['a', 'b', 'c'] }, ['ip_ids']],
      ['assign_flexible_ip as a string', { assign_flexible_ip: 'yes' }, ['assign_flexible_ip']],
    ];
    await eachCase([...LB_CASES, ...createOnly], watch, (_, fields, args) =>
      expectInvalid(t.f, 'POST', '/lbs', { name: 'lb', description: '', type: 'LB-S', ...fields }, args));
    await eachCase(LB_CASES, watch, (_, fields, args) => expectInvalid(t.f, 'PUT', `/lbs/${t.lbId}`, { name: 'errors', description: '', ...fields }, args));
  });

  test('IP create and PATCH: each bad field is named, and nothing changes', async () => {
    const cases: Case[] = [
      ['reverse with a trailing dot', { reverse: 'x.example.com.' }, ['reverse']],
      ['reverse with a space', { reverse: 'x example.com' }, ['reverse']],
      ['reverse of 300 characters', { reverse: `${'a'.repeat(60)}.`.repeat(5) + 'com' }, ['reverse']],
      ['tag with a control character', { tags: ['a\u0001'] }, ['tags.0']],
      ['51 tags', { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, ['tags']],
    ];
    const watch = ['/ips?page_size=100', `/ips/${t.ipId}`];
    await eachCase([...cases, ['is_ipv6 as a string', { is_ipv6: 'no' }, ['is_ipv6']]], watch, (_, fields, args) => expectInvalid(t.f, 'POST', '/ips', fields, args));
    await eachCase(cases, watch, (_, fields, args) => expectInvalid(t.f, 'PATCH', `/ips/${t.ipId}`, fields, args));
  });
});
