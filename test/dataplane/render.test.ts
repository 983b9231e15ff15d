// render.ts: golden file for a snapshot using every field, `haproxy -c` over many field combinations, and refusal of
// unsafe user strings. Set UPDATE_GOLDEN=1 to rewrite the golden file after an intended change (then review the diff).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { ALGORITHMS, PROXY_PROTOCOLS, STICKY_SESSIONS, type Backend, type HealthCheckConfig } from '../../src/domain/backends.js';
import type { LbSnapshot } from '../../src/domain/snapshot.js';
import { renderConfig, serverArgs, type RenderOptions } from '../../src/dataplane/render.js';
import { assignServerIds } from '../../src/dataplane/server-ids.js';
import { check } from '../fixtures/haproxy-check.js';
import { makeBackend, makeFrontend, makeHealthCheck, makeSnapshot } from '../fixtures/snapshots.js';

const goldenDir = new URL('../../../test/dataplane/golden/', import.meta.url);

test('golden: a snapshot using every field renders to the committed config', () => {
  const input = JSON.parse(readFileSync(new URL('all-fields.json', goldenDir), 'utf8')) as
    { snapshot: LbSnapshot; options: RenderOptions };
  const cfg = renderConfig(input.snapshot, input.options);
  const file = new URL('all-fields.cfg', goldenDir);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, cfg);
  assert.equal(cfg, readFileSync(file, 'utf8'));
});

test('on agents (pnSource off) servers inside a private network leave from the node\'s own address; the LB still binds its own', () => {
  const input = JSON.parse(readFileSync(new URL('all-fields.json', goldenDir), 'utf8')) as
    { snapshot: LbSnapshot; options: RenderOptions };
  const single = renderConfig(input.snapshot, input.options);
  const agents = renderConfig(input.snapshot, { ...input.options, pnSource: false });
  assert.match(single, / source 10\.0\.0\.2$/m);
  assert.doesNotMatch(agents, / source /);
  assert.equal(agents, single.replaceAll(' source 10.0.0.2', ''), 'nothing else differs');
  assert.match(agents, /bind 10\.0\.0\.2:/);
});

test('rendering does not depend on the order of sections, addresses or pools', () => {
  const input = JSON.parse(readFileSync(new URL('all-fields.json', goldenDir), 'utf8')) as
    { snapshot: LbSnapshot; options: RenderOptions };
  const s = input.snapshot;
  const shuffled: LbSnapshot = { ...s, addresses: [...s.addresses].reverse(), frontends: [...s.frontends].reverse(),
    backends: [...s.backends].reverse().map((b) => ({ ...b, pool: [...b.pool].reverse() })) };
  assert.equal(renderConfig(shuffled, input.options), renderConfig(s, input.options));
});

test('the golden config passes haproxy -c without alerts or warnings', () => {
  const input = JSON.parse(readFileSync(new URL('all-fields.json', goldenDir), 'utf8')) as { options: RenderOptions };
  const r = check(readFileSync(new URL('all-fields.cfg', goldenDir), 'utf8').replaceAll(input.options.runDir, '/@RUN@'));
  assert.equal(r.status, 0, r.out);
  assert.deepEqual(r.alerts, []);
  assert.deepEqual(r.warnings, []);
});

const CHECKS: HealthCheckConfig[] = [
  { kind: 'tcp' },
  { kind: 'http', uri: '/', method: 'GET', code: null, hostHeader: '' },
  { kind: 'http', uri: '/health?full=1', method: 'POST', code: 204, hostHeader: 'h.example.com' },
  { kind: 'https', uri: '/', method: 'HEAD', code: 200, hostHeader: 'h.example.com', sni: 'h.example.com' },
  { kind: 'https', uri: '/x', method: 'GET', code: null, hostHeader: '', sni: '' },
  { kind: 'mysql', user: 'check' },
  { kind: 'mysql', user: '' },
  { kind: 'pgsql', user: 'check' },
  { kind: 'ldap' },
  { kind: 'redis' },
];
// DNS names that resolve from /etc/hosts: HAProxy spends ~0.3 s on each name that does not resolve.
const FAILOVERS = [null, 'localhost', 'localhost:8080', '192.0.2.10', '192.0.2.10:443', '[2001:db8::1]:80',
  '2001:db8::2', 'localhost:443'];

/** Backends covering the product protocol × algorithm × stickiness × check, other fields varied by index. */
function matrix(lbId: string, variant: number): LbSnapshot {
  const backends: Backend[] = [];
  let i = 0;
  for (const forwardProtocol of ['http', 'tcp'] as const) {
    for (const algorithm of ALGORITHMS) {
      for (const stickySessions of STICKY_SESSIONS) {
        for (const config of CHECKS) {
          const n = i + variant;
          const pick = <T>(xs: readonly T[], k: number): T => xs[(n * k) % xs.length];
          backends.push(makeBackend(`b${i}`, lbId, {
            forwardProtocol, algorithm, stickySessions, cookieName: 'SRV_ID',
            forwardPort: 1000 + i, pool: pick([[], ['10.1.0.1'], ['10.1.0.1', '10.1.0.2', '2001:db8::3']], 1),
            healthCheck: makeHealthCheck({ config, port: pick([0, 1000 + i, 9999], 5), checkDelayMs: pick([0, 3000], 3),
              transientCheckDelayMs: pick([0, 500], 7), checkMaxRetries: pick([0, 1, 5], 11),
              checkTimeoutMs: pick([0, 1000], 13), checkSendProxy: pick([false, true], 17) }),
            proxyProtocol: pick(PROXY_PROTOCOLS, 19), sslBridging: pick([false, true], 23),
            ignoreSslServerVerify: pick([null, true, false], 29), onMarkedDownAction: pick(['on_marked_down_action_none', 'shutdown_sessions'] as const, 31),
            failoverHost: pick(FAILOVERS, 37), redispatchAttemptCount: pick([null, 0, 1, 3], 41),
            maxRetries: pick([null, 0, 5], 43), maxConnections: pick([null, 0, 1, 500], 47),
            timeoutServerMs: pick([null, 0, 1500], 53), timeoutConnectMs: pick([null, 250], 59),
            timeoutTunnelMs: pick([null, 60_000], 61), timeoutQueueMs: pick([null, 0, 4000], 67),
          }));
          i++;
        }
      }
    }
  }
  const frontends = backends.map((b, k) => makeFrontend(`f${k}`, lbId, b.id, 20000 + k, {
    timeoutClientMs: [null, 0, 5000][(k + variant) % 3], connectionRateLimit: [null, 1, 100][(k * 5 + variant) % 3],
    enableAccessLogs: (k + variant) % 2 === 0 }));
  return makeSnapshot(lbId, [['127.0.0.1'], ['127.0.0.1', '::1'], []][variant % 3], frontends, backends);
}

for (const variant of [0, 1, 2, 3]) {
  test(`haproxy -c accepts ${2 * 3 * 3 * CHECKS.length} field combinations (variant ${variant})`, () => {
    const s = matrix(`lb${variant}`, variant);
    const cfg = renderConfig(s, { runDir: '/@RUN@', serverIds: assignServerIds({}, s) });
    const r = check(cfg);
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(r.alerts, []);
    assert.deepEqual(r.warnings, []);
  });
}

test('edge snapshots are valid: no frontends, no addresses, empty pools, IPv6 only', () => {
  const b = makeBackend('b', 'lb', { pool: [] });
  for (const s of [makeSnapshot('lb', [], [], []), makeSnapshot('lb', [], [makeFrontend('f', 'lb', 'b', 80)], [b]),
    makeSnapshot('lb', ['::1'], [makeFrontend('f', 'lb', 'b', 80)], [{ ...b, pool: ['::1'] }])]) {
    const r = check(renderConfig(s, { runDir: '/@RUN@', serverIds: assignServerIds({}, s) }));
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(r.alerts, []);
  }
});

const base = (over: Partial<Backend>): LbSnapshot => {
  const b = makeBackend('b', 'lb', { pool: ['10.0.0.1'], ...over });
  return makeSnapshot('lb', ['127.0.0.1'], [makeFrontend('f', 'lb', 'b', 80)], [b]);
};
const render = (s: LbSnapshot) => renderConfig(s, { runDir: '/run/x', serverIds: assignServerIds({}, s) });

test('unsafe user strings are refused, not rendered', () => {
  const http = (c: Partial<Extract<HealthCheckConfig, { kind: 'http' }>>) =>
    makeHealthCheck({ config: { kind: 'http', uri: '/', method: 'GET', code: null, hostHeader: '', ...c } });
  const bad: Partial<Backend>[] = [
    { stickySessions: 'cookie', cookieName: 'A B' },
    { stickySessions: 'cookie', cookieName: 'A#B' },
    { stickySessions: 'cookie', cookieName: 'A;B' },
    { stickySessions: 'cookie', cookieName: '' },
    { failoverHost: 'a.example.com\nbackend x' },
    { failoverHost: 'a"b.example.com' },
    { failoverHost: 'a.example.com:99999' },
    { failoverHost: 'a.example.com/%[src]' },
    { healthCheck: http({ uri: '/a b' }) },
    { healthCheck: http({ uri: "/a'" }) },
    { healthCheck: http({ method: 'GE\tT' }) },
    { healthCheck: http({ hostHeader: 'h\\x' }) },
    { healthCheck: http({ hostHeader: '%[src]' }) },
    { healthCheck: makeHealthCheck({ config: { kind: 'https', uri: '/', method: 'GET', code: null, hostHeader: '', sni: 'a;b' } }) },
    { healthCheck: makeHealthCheck({ config: { kind: 'mysql', user: 'u\u0000' } }) },
    { healthCheck: makeHealthCheck({ config: { kind: 'pgsql', user: 'ü' } }) },
    { healthCheck: makeHealthCheck({ config: { kind: 'pgsql', user: '' } }) },
    { pool: ['10.0.0.1 backup'] },
    { pool: ['example.com'] },
    { forwardPort: 0 },
    { maxConnections: -1 },
    { forwardProtocol: 'udp' as never },
  ];
  for (const over of bad) assert.throws(() => render(base(over)), Error, JSON.stringify(over));
});

test('unsafe ids, two frontends on one port, unknown backends and a relative run dir are refused', () => {
  const s = base({});
  assert.throws(() => render({ ...s, backends: [{ ...s.backends[0], id: 'b x' }] }));
  assert.throws(() => render({ ...s, frontends: [...s.frontends, makeFrontend('f2', 'lb', 'b', 80)] }));
  assert.throws(() => render({ ...s, frontends: [makeFrontend('f', 'lb', 'nope', 80)] }));
  assert.throws(() => renderConfig(base({}), { runDir: 'relative', serverIds: { b: { '10.0.0.1': 1 } } }));
  assert.throws(() => renderConfig(base({}), { runDir: '/run/x', serverIds: {} }), /no server id/);
});

test('server args: one string for the server line and for add server', () => {
  const b = makeBackend('b', 'lb', { forwardPort: 443, maxConnections: 10, onMarkedDownAction: 'shutdown_sessions',
    proxyProtocol: 'proxy_protocol_v2', sslBridging: true, ignoreSslServerVerify: true,
    healthCheck: makeHealthCheck({ port: 8443, checkSendProxy: true, config: { kind: 'https', uri: '/', method: 'GET',
      code: null, hostHeader: '', sni: 'sni.example.com' } }) });
  const args = serverArgs(b, '2001:db8::7', 9);
  assert.equal(args, '[2001:db8::7]:443 id 9 maxconn 10 on-marked-down shutdown-sessions send-proxy-v2 ssl verify none '
    + 'check inter 200ms fastinter 100ms fall 2 rise 2 port 8443 check-send-proxy check-ssl check-sni sni.example.com');
  const s = makeSnapshot('lb', [], [], [{ ...b, pool: ['2001:db8::7'] }]);
  assert.match(renderConfig(s, { runDir: '/r', serverIds: { b: { '2001:db8::7': 9 } } }),
    new RegExp(`\\n  server srv-2001:db8::7 ${args.replace(/[[\]]/g, '\\$&')}\\n`));
});
