// Rendering of what Fulcrum accepts for compatibility with Scaleway: the backend `host` (Host header, SNI), health-check
// URIs in absolute form, cookie stickiness on tcp (no effect), and HTTP/3 for both values of the QUIC capability.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import type { Backend } from '../../src/domain/backends.js';
import type { Certificate } from '../../src/domain/certificates.js';
import type { Frontend } from '../../src/domain/frontends.js';
import { detectCapabilities, parseCapabilities } from '../../src/dataplane/capabilities.js';
import { inertSettings } from '../../src/dataplane/inert-settings.js';
import { renderConfig, serverArgs } from '../../src/dataplane/render.js';
import { ALT_SVC_MAX_AGE_S, http3Blocker, http3Lines, quicTls } from '../../src/dataplane/render-http3.js';
import { assignServerIds } from '../../src/dataplane/server-ids.js';
import { check } from '../fixtures/haproxy-check.js';
import { makeBackend, makeFrontend, makeHealthCheck, makeSnapshot } from '../fixtures/snapshots.js';

const render = (backends: Backend[], frontends: Frontend[] = [], quic = false) => {
  const s = makeSnapshot('lb1', ['127.0.0.1', '::1'], frontends, backends);
  return renderConfig(s, { runDir: '/@RUN@', serverIds: assignServerIds({}, s), quic });
};

/** Asserts haproxy -c accepts the config with no alert nor warning. */
function valid(cfg: string): void {
  const r = check(cfg);
  assert.equal(r.status, 0, r.out);
  assert.deepEqual([...r.alerts, ...r.warnings], [], r.out);
}

test('backend host: the Host header towards the servers of an http backend, IPv6 in brackets; nothing on tcp', () => {
  const http = makeBackend('b1', 'lb1', { host: 'app.example.com:8443', pool: ['127.0.0.2'] });
  const v6 = makeBackend('b2', 'lb1', { host: '2001:db8::1', pool: ['127.0.0.3'] });
  const tcp = makeBackend('b3', 'lb1', { host: 'db.example.com', forwardProtocol: 'tcp', pool: ['127.0.0.4'] });
  const cfg = render([http, v6, tcp]);
  assert.match(cfg, /^ {2}http-request set-header Host app\.example\.com:8443$/m);
  assert.match(cfg, /^ {2}http-request set-header Host \[2001:db8::1\]$/m);
  assert.equal(cfg.match(/set-header Host/g)?.length, 2, 'not in the tcp backend');
  assert.doesNotMatch(cfg, /\bsni\b/, 'no SNI without ssl_bridging or an https check');
  valid(cfg);
});

test('backend host with ssl_bridging: SNI of traffic and checks, in the server line and the runtime add-server arguments', () => {
  const b = makeBackend('b1', 'lb1', { host: 'app.example.com:8443', sslBridging: true, ignoreSslServerVerify: true, pool: ['127.0.0.2'] });
  const args = serverArgs(b, '127.0.0.2', 1);
  assert.match(args, / ssl verify none sni str\(app\.example\.com\) check-sni app\.example\.com /);
  const cfg = render([b]);
  assert.ok(cfg.includes(`server `) && cfg.includes(args), 'the config line has the same words as the runtime command');
  // An https check naming its own SNI keeps it for checks; traffic still uses the backend host.
  const own = makeBackend('b2', 'lb1', { host: 'app.example.com', sslBridging: true, pool: ['127.0.0.3'],
    healthCheck: makeHealthCheck({ config: { kind: 'https', uri: '/', method: 'GET', code: null, hostHeader: '', sni: 'check.example.com' } }) });
  const ownArgs = serverArgs(own, '127.0.0.3', 1);
  assert.match(ownArgs, /sni str\(app\.example\.com\)/);
  assert.deepEqual(ownArgs.match(/check-sni \S+/g), ['check-sni check.example.com']);
  // An IP address is no SNI (RFC 6066): the Host header only.
  const ip = makeBackend('b3', 'lb1', { host: '192.0.2.7', sslBridging: true, pool: ['127.0.0.4'] });
  assert.doesNotMatch(serverArgs(ip, '127.0.0.4', 1), /sni/);
  valid(render([b, own, ip]));
});

test('a health-check uri in absolute form is sent as written (absolute-form request target)', () => {
  const b = makeBackend('b1', 'lb1', { pool: ['127.0.0.2'],
    healthCheck: makeHealthCheck({ config: { kind: 'http', uri: 'http://test.com/health', method: 'GET', code: 200, hostHeader: '' } }) });
  const cfg = render([b]);
  assert.match(cfg, /^ {2}http-check send meth GET uri http:\/\/test\.com\/health$/m);
  valid(cfg);
});

test('cookie stickiness on a tcp backend renders no cookie (it has no effect there) and is reported as inert', () => {
  const b = makeBackend('b1', 'lb1', { forwardProtocol: 'tcp', stickySessions: 'cookie', cookieName: 'SRV', pool: ['127.0.0.2'] });
  const cfg = render([b]);
  assert.doesNotMatch(cfg, /cookie/);
  valid(cfg);
  const notes = inertSettings(makeSnapshot('lb1', [], [], [b]), false);
  assert.deepEqual(notes, ['backend b1: sticky_sessions cookie has no effect on a tcp backend (use table)']);
});

test('HTTP/3: QUIC binds and alt-svc only with the QUIC capability, an http backend and TLS; never otherwise', () => {
  const f = makeFrontend('f1', 'lb1', 'b1', 443, { enableHttp3: true });
  const tls = 'ssl crt-list /run/lb/crt-list';
  assert.deepEqual(http3Lines(f, ['192.0.2.1', '2001:db8::1'], { quic: true, http: true, tls }), [
    `bind quic4@192.0.2.1:443 ${tls} alpn h3`,
    `bind quic6@[2001:db8::1]:443 ${tls} alpn h3`,
    `http-after-response set-header alt-svc 'h3=":443"; ma=${ALT_SVC_MAX_AGE_S}'`,
  ]);
  assert.deepEqual(http3Lines(f, ['192.0.2.1'], { quic: false, http: true, tls }), []);
  assert.deepEqual(http3Lines(f, ['192.0.2.1'], { quic: true, http: false, tls }), []);
  assert.deepEqual(http3Lines(f, ['192.0.2.1'], { quic: true, http: true, tls: null }), []);
  assert.deepEqual(http3Lines({ ...f, enableHttp3: false }, ['192.0.2.1'], { quic: true, http: true, tls }), []);
  assert.match(http3Blocker(f, { quic: false, http: true, tls })!, /no QUIC support/);
  assert.equal(http3Blocker(f, { quic: true, http: true, tls }), null);
});

test('HTTP/3 without TLS termination: the config is the same for both capability values, h1/h2 served, and the reason logged', () => {
  const b = makeBackend('b1', 'lb1', { pool: ['127.0.0.2'] });
  const f = makeFrontend('f1', 'lb1', 'b1', 8443, { enableHttp3: true });
  const without = render([b], [f], false);
  assert.equal(render([b], [f], true), without);
  assert.equal(without, render([b], [{ ...f, enableHttp3: false }], false), 'enable_http3 changes nothing here');
  assert.doesNotMatch(without, /quic|alt-svc/);
  valid(without);
  const s = makeSnapshot('lb1', [], [f], [b]);
  assert.match(inertSettings(s, false)[0], /^frontend f1: enable_http3 has no effect: this HAProxy build has no QUIC support/);
  assert.match(inertSettings(s, true)[0], /needs TLS termination/);
});

test('the QUIC capability is read from haproxy -vv: +QUIC or -QUIC in the feature list; this machine\'s binary agrees', () => {
  assert.equal(parseCapabilities('Feature list : +EPOLL -QUIC +OPENSSL').quic, false);
  assert.equal(parseCapabilities('Feature list : +EPOLL +QUIC +OPENSSL').quic, true);
  assert.equal(parseCapabilities('Feature list : +QUICK').quic, false);
  assert.equal(parseCapabilities('no feature list').quic, false);
  const vv = execFileSync('haproxy', ['-vv'], { encoding: 'utf8' });
  assert.equal(detectCapabilities().quic, /\+QUIC\b/.test(vv));
  assert.equal(detectCapabilities('/nonexistent/haproxy').quic, false);
});

test('failover_host as a URL: the scheme picks the port and TLS, a path becomes the page every failed-over request gets', () => {
  const url = (id: string, failoverHost: string) => makeBackend(id, 'lb1', { failoverHost, pool: ['127.0.0.2'] });
  const cfg = render([url('b1', 'https://bucket.example.com/error.html'), url('b2', 'http://192.0.2.9'), url('b3', 'http://192.0.2.8:443/')]);
  const section = (id: string) => cfg.split('\n\n').find((s) => s.startsWith(`backend be_${id}_failover`))!.trim();
  assert.match(section('b1'), /set-header Host bucket\.example\.com\n {2}http-request set-path \/error\.html\n {2}server failover bucket\.example\.com:443 .* ssl verify required ca-file @system-ca sni str\(bucket\.example\.com\)$/);
  assert.match(section('b2'), /set-header Host 192\.0\.2\.9\n {2}server failover 192\.0\.2\.9:80$/);
  assert.match(section('b3'), /set-header Host 192\.0\.2\.8:443\n {2}server failover 192\.0\.2\.8:443$/, 'http:// on port 443: no TLS, no path');
  valid(cfg);
  const tcp = makeBackend('b4', 'lb1', { forwardProtocol: 'tcp', failoverHost: 'x.example.com' });
  assert.doesNotMatch(render([tcp]), /failover/);
  assert.deepEqual(inertSettings(makeSnapshot('lb1', [], [], [tcp]), false), ['backend b4: failover_host has no effect on a tcp backend']);
});

test('timeouts of 0 render as the defaults (HAProxy would read 0 as "never")', () => {
  const b = makeBackend('b1', 'lb1', { timeoutServerMs: 0, timeoutConnectMs: 0, timeoutTunnelMs: 0 });
  const cfg = render([b], [makeFrontend('f1', 'lb1', 'b1', 80, { timeoutClientMs: 0 })]);
  for (const line of ['timeout server 300000ms', 'timeout connect 5000ms', 'timeout tunnel 900000ms', 'timeout client 300000ms']) {
    assert.ok(cfg.includes(`  ${line}\n`), line);
  }
  assert.doesNotMatch(cfg, / 0ms/);
});

test('HTTP/3 on a TLS frontend: the QUIC bind reuses the TCP bind\'s TLS words, with ALPN h3 instead of h2', () => {
  assert.equal(quicTls({ bind: ' ssl crt-list /run/x.crtlist ssl-min-ver TLSv1.2 alpn h2,http/1.1', firstRules: [] }),
    'ssl crt-list /run/x.crtlist ssl-min-ver TLSv1.2');
  assert.equal(quicTls({ bind: ' ssl crt-list /run/x.crtlist ssl-min-ver TLSv1.2', firstRules: [] }), 'ssl crt-list /run/x.crtlist ssl-min-ver TLSv1.2');
  assert.equal(quicTls({ bind: '', firstRules: [] }), null);
});

test('renderConfig: an enable_http3 frontend with a certificate gets QUIC binds and alt-svc only when the binary has QUIC', () => {
  const T = '2024-01-01T00:00:00.000Z';
  const cert: Certificate = { id: 'c1', lbId: 'lb1', name: 'c', type: 'custom', commonName: 'a.example.com', subjectAlternativeName: [],
    fingerprint: '', notValidBefore: T, notValidAfter: T, status: 'ready', statusDetails: null, pemSha256: 'ab', orderActive: false,
    nextOrderAt: null, createdAt: T, updatedAt: T };
  const b = makeBackend('b1', 'lb1', { pool: ['127.0.0.2'] });
  const f = makeFrontend('f1', 'lb1', 'b1', 443, { enableHttp3: true, certificateIds: ['c1'] });
  const s = { ...makeSnapshot('lb1', ['192.0.2.1'], [f], [b]), certificates: [cert] };
  const cfg = (quic: boolean) => renderConfig(s, { runDir: '/run/lb1', certDir: '/certs', serverIds: assignServerIds({}, s), quic });
  const withQuic = cfg(true);
  const tcpBind = /^ {2}bind 192\.0\.2\.1:443 (ssl crt-list \S+ .*) alpn h2,http\/1\.1$/m.exec(withQuic);
  assert.ok(tcpBind, withQuic);
  assert.ok(withQuic.includes(`  bind quic4@192.0.2.1:443 ${tcpBind[1]} alpn h3\n`), 'same certificates and TLS profile over QUIC');
  assert.match(withQuic, /^ {2}http-after-response set-header alt-svc 'h3=":443"; ma=86400'$/m);
  const without = cfg(false);
  assert.doesNotMatch(without, /quic|alt-svc/);
  assert.equal(without, withQuic.split('\n').filter((l) => !/quic4@|alt-svc/.test(l)).join('\n'), 'nothing else differs');
  assert.deepEqual(inertSettings(s, true), []);
  assert.match(inertSettings(s, false)[0], /no QUIC support/);
});
