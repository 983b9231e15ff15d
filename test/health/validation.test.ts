// Every health-check field is validated by the API before anything reaches HAProxy: a bad value is a 400
// `invalid_arguments` naming the field, and nothing changes (the backend as read back, the LB's haproxy.cfg). Values
// at the edges of what is accepted do reach HAProxy, which runs them. Driven through the official SDK (raw HTTP only for
// what the SDK cannot send).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Addresses, healthCheck, Lab } from './support/lab.js';

let lab: Lab;
let backendId: string;
const PORT = 8080;
const ip = new Addresses().next();

before(async () => {
  lab = await Lab.start('health-validation');
  backendId = (await lab.backend({ name: 'validated', protocol: 'tcp', forwardPort: PORT, pool: [ip],
    check: healthCheck(PORT, { tcpConfig: {} }) })).id;
});
after(async () => { await lab?.close(); });

/** Argument names of an SDK call refused with 400 invalid_arguments. */
async function refusedArguments(call: () => Promise<unknown>): Promise<string[]> {
  try {
    await call();
  } catch (e) {
    const err = e as { status?: number; details?: Array<{ argumentName: string }> };
    assert.equal(err.status, 400, String(e));
    return (err.details ?? []).map((d) => d.argumentName);
  }
  assert.fail('the request was accepted');
}

/** What must not change when a request is refused. */
async function snapshot(): Promise<{ backend: unknown; config: string; count: number }> {
  const b = await lab.api.getBackend({ backendId });
  const list = await lab.api.listBackends({ lbId: lab.lbId, pageSize: 100 });
  return { backend: { hc: b.healthCheck, updatedAt: b.updatedAt }, config: await lab.haproxyConfig(), count: list.totalCount };
}

type Config = Parameters<typeof healthCheck>[1];
const http = (c: Partial<Lbv1.HealthCheckHttpConfig>): Config => ({ httpConfig: { uri: '/health', method: 'GET', hostHeader: '', ...c } });
const https = (c: Partial<Lbv1.HealthCheckHttpsConfig>): Config => ({ httpsConfig: { uri: '/health', method: 'GET', hostHeader: '', sni: '', ...c } });

/** User names HAProxy could misread (spaces, quotes, `#`, line breaks), or that are not names at all. */
const BAD_USERS = ['', ' ', 'check user', "o'brien", 'a"b', 'a#b', 'a\nb', 'a\\b', 'a;b', 'a%b', 'x'.repeat(64)];

const CASES: Array<{ field: string; bad: Array<{ config?: Config; hc?: Partial<Lbv1.HealthCheck> }> }> = [
  { field: 'mysql_config.user', bad: BAD_USERS.map((user) => ({ config: { mysqlConfig: { user } } })) },
  { field: 'pgsql_config.user', bad: BAD_USERS.map((user) => ({ config: { pgsqlConfig: { user } } })) },
  { field: 'http_config.uri', bad: ['health', '/a b', '/a#b', '/a"b', "/a'b", '/a\nb', '/a\\b', 'ftp://x/health', 'http://x y/h'].map((uri) => ({ config: http({ uri }) })) },
  { field: 'http_config.method', bad: ['get', 'G ET', 'GET\n', 'ABCDEFGHIJKLMNOPQ', 'GE%T', 'GET;'].map((method) => ({ config: http({ method }) })) },
  { field: 'http_config.code', bad: [99, 600, -1].map((code) => ({ config: http({ code }) })) },
  { field: 'http_config.host_header', bad: ['a b', 'a%b', 'a"b', 'a#b', 'h:99999', 'a\nb', 'a/b', 'a;b'].map((hostHeader) => ({ config: http({ hostHeader }) })) },
  { field: 'https_config.uri', bad: ['x', '/a b'].map((uri) => ({ config: https({ uri }) })) },
  { field: 'https_config.host_header', bad: ['a b', 'a%b'].map((hostHeader) => ({ config: https({ hostHeader }) })) },
  { field: 'https_config.sni', bad: ['a b', 'a%b', 'a;b', '-bad-', 'a"b', 'a\nb'].map((sni) => ({ config: https({ sni }) })) },
  { field: 'port', bad: [0, -1, 65536].map((port) => ({ hc: { port } })) },
  { field: 'check_delay', bad: ['99', 'abc', '-5', '2147483648', '1x'].map((checkDelay) => ({ hc: { checkDelay } })) },
  { field: 'check_timeout', bad: ['99', 'abc', '-1'].map((checkTimeout) => ({ hc: { checkTimeout } })) },
  { field: 'check_max_retries', bad: [0, 10_000, 1.5, -1].map((checkMaxRetries) => ({ hc: { checkMaxRetries } })) },
  { field: 'transient_check_delay', bad: ['0.05s', 'abc', '-1s', '99ms'].map((transientCheckDelay) => ({ hc: { transientCheckDelay } })) },
];

test('PUT healthcheck: every bad value of every field is a 400 naming the field, and nothing changes', async () => {
  const before = await snapshot();
  for (const c of CASES) {
    for (const b of c.bad) {
      const names = await refusedArguments(() => lab.api.updateHealthCheck({ backendId, ...healthCheck(PORT, b.config ?? { tcpConfig: {} }, b.hc) } as never));
      assert.deepEqual(names, [c.field], `${c.field}: ${JSON.stringify(b)}`);
    }
    assert.deepEqual(await snapshot(), before, `nothing changed after the bad values of ${c.field}`);
  }
});

test('what the SDK cannot send is refused too: two kinds at once, a check_send_proxy that is not a boolean', async () => {
  const before = await snapshot();
  const base = { port: PORT, check_delay: 1000, check_timeout: 1000, check_max_retries: 3, check_send_proxy: false };
  let r = await lab.f.http('PUT', `/backends/${backendId}/healthcheck`, { ...base, tcp_config: {}, redis_config: {} });
  assert.equal(r.status, 400);
  assert.deepEqual(r.json.details.map((d: { argument_name: string }) => d.argument_name).sort(), ['redis_config', 'tcp_config']);
  r = await lab.f.http('PUT', `/backends/${backendId}/healthcheck`, { ...base, check_send_proxy: 'yes' });
  assert.equal(r.status, 400);
  assert.deepEqual(r.json.details.map((d: { argument_name: string }) => d.argument_name), ['check_send_proxy']);
  r = await lab.f.http('PUT', `/backends/${backendId}/healthcheck`, { ...base, mysql_config: { user: null } });
  assert.equal(r.status, 400);
  assert.deepEqual(r.json.details.map((d: { argument_name: string; reason: string }) => [d.argument_name, d.reason]), [['mysql_config.user', 'required']]);
  assert.deepEqual(await snapshot(), before);
});

test('create backend: a bad health check is a 400 naming health_check.<field>, and no backend is created', async () => {
  const before = await snapshot();
  const create = (config: Config, hc: Partial<Lbv1.HealthCheck> = {}) => () => lab.api.createBackend({
    lbId: lab.lbId, name: 'refused', forwardProtocol: 'tcp', forwardPort: PORT, forwardPortAlgorithm: 'roundrobin',
    stickySessions: 'none', stickySessionsCookieName: '', serverIp: [ip], healthCheck: healthCheck(PORT, config, hc),
  } as never);
  const expect = async (call: () => Promise<unknown>, names: string[]) => assert.deepEqual((await refusedArguments(call)).sort(), names);
  await expect(create({ mysqlConfig: { user: "haproxy' #" } }), ['health_check.mysql_config.user']);
  await expect(create({ pgsqlConfig: { user: 'check\nuser' } }), ['health_check.pgsql_config.user']);
  await expect(create(http({ uri: '/a b', hostHeader: 'a b' })), ['health_check.http_config.host_header', 'health_check.http_config.uri']);
  await expect(create(https({ sni: 'a b' }), { port: 0, checkMaxRetries: 0 }),
    ['health_check.check_max_retries', 'health_check.https_config.sni', 'health_check.port']);
  assert.deepEqual(await snapshot(), before);
});

test('values at the edges of what is accepted reach HAProxy, which runs them', async () => {
  const accepted: Array<{ config: Config; hc?: Partial<Lbv1.HealthCheck> }> = [
    { config: { mysqlConfig: { user: `a.b-c_${'x'.repeat(57)}` } } },
    { config: { pgsqlConfig: { user: 'A-1.b_c' } } },
    { config: http({ uri: "/a?x=$HOME&y=(1);z=%41*!,:@~", method: 'OPTIONS', code: 418, hostHeader: '[::1]:8080' }) },
    { config: https({ uri: '/', method: 'HEAD', code: 100, hostHeader: 'h_1.example:1', sni: 'a_b.example.' }) },
    { config: http({ uri: 'http://test.com/health', method: 'GET', code: 200 }) },
    { config: https({ uri: 'https://[::1]:8443/h?x=1', method: 'GET' }) },
    { config: { ldapConfig: {} }, hc: { checkDelay: '100', checkTimeout: '100', transientCheckDelay: '0.1s', checkMaxRetries: 9999, port: 65535 } },
    { config: { redisConfig: {} }, hc: { checkDelay: '2147483647', checkTimeout: '2147483647', transientCheckDelay: '2147483.647s', checkSendProxy: true } },
  ];
  for (const a of accepted) {
    const hc = await lab.setCheck(backendId, healthCheck(PORT, a.config, a.hc));
    const lb = await lab.ready();
    assert.equal(lb.status, 'ready', `HAProxy runs ${JSON.stringify(a)}`);
    const got = await lab.api.getBackend({ backendId });
    assert.deepEqual(got.healthCheck, hc, 'read back as answered');
  }
});
