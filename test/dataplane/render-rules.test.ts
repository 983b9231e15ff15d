// render-rules.ts: the one frontend rule order (ACME slot, ACLs by index, routes most specific first, default backend)
// for HTTP, TCP passthrough and TLS-terminating frontends; the subnet map files; haproxy -c over all of it; the
// renderer's own refusals.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import type { Acl, AclAction, AclMatch } from '../../src/domain/acls.js';
import { certificateFileName, type Certificate } from '../../src/domain/certificates.js';
import type { Route, RouteMatch } from '../../src/domain/routes.js';
import type { LbSnapshot } from '../../src/domain/snapshot.js';
import { renderConfig } from '../../src/dataplane/render.js';
import { quotedWord, ruleLists, subnetMapPath } from '../../src/dataplane/render-rules.js';
import { challengeMapPath, crtListsOf } from '../../src/dataplane/render-tls.js';
import { assignServerIds } from '../../src/dataplane/server-ids.js';
import { Pki } from '../fixtures/pki.js';
import { makeBackend, makeFrontend, makeSnapshot } from '../fixtures/snapshots.js';

const RUN = '/run/fulcrum/lb1';
let seq = 0;
const T = (n: number) => `2024-01-01T00:00:0${n}.000Z`;

function acl(frontendId: string, index: number, action: AclAction, match: Partial<AclMatch> = {}): Acl {
  return { id: `a${++seq}`, lbId: 'lb1', frontendId, name: `n${seq}`, description: '', index, action, createdAt: T(seq % 10), updatedAt: T(0),
    match: { ipSubnet: [], ipsEdgeServices: false, httpFilter: 'acl_http_filter_none', httpFilterValue: [], httpFilterOption: null, invert: false, ...match } };
}

function route(frontendId: string, backendId: string, match: Omit<RouteMatch, 'matchSubdomains'> & { matchSubdomains?: boolean }): Route {
  return { id: `r${++seq}`, lbId: 'lb1', frontendId, backendId, match: { matchSubdomains: false, ...match }, createdAt: T(seq % 10), updatedAt: T(0) };
}

/** A ready certificate of the LB (the PEM file itself is only needed by haproxy -c). */
function certificate(id: string): Certificate {
  return { id, lbId: 'lb1', name: id, type: 'custom', commonName: 'a.test', subjectAlternativeName: [], fingerprint: '',
    notValidBefore: null, notValidAfter: null, status: 'ready', statusDetails: null, pemSha256: 'x', orderActive: false,
    nextOrderAt: null, createdAt: T(0), updatedAt: T(0) };
}
const CERTS = '/var/lib/fulcrum/certificates';

const DENY = { type: 'deny', redirect: null } as const;
const ALLOW = { type: 'allow', redirect: null } as const;

function httpSnapshot(): LbSnapshot {
  const s = makeSnapshot('lb1', ['127.0.0.9'], [makeFrontend('fh', 'lb1', 'web', 80)],
    [makeBackend('web', 'lb1'), makeBackend('api', 'lb1', { failoverHost: '192.0.2.10' }), makeBackend('blog', 'lb1')]);
  s.acls = [
    acl('fh', 5, { type: 'redirect', redirect: { type: 'location', target: 'https://example.com/moved?a=1', code: 301 } },
      { httpFilter: 'http_header_match', httpFilterOption: 'x-env', httpFilterValue: ['staging env', 'dev'], invert: true }),
    acl('fh', 1, ALLOW, { ipSubnet: ['10.0.0.0/8', '2001:DB8::/32'] }),
    acl('fh', 2, DENY, { ipSubnet: ['192.0.2.1'], httpFilter: 'path_begin', httpFilterValue: ['/admin', '/private'] }),
    acl('fh', 3, { type: 'redirect', redirect: { type: 'scheme', target: 'https', code: 302 } }, { httpFilter: 'regex', httpFilterValue: ['^/a\\.b$'] }),
    acl('fh', 4, DENY, { invert: true }), // "not everything": never matches, rendered as nothing
  ];
  s.routes = [
    route('fh', 'api', { kind: 'path_begin', value: '/api' }),
    route('fh', 'blog', { kind: 'host_header', value: 'example.org', matchSubdomains: true }),
    route('fh', 'api', { kind: 'path_begin', value: '/api/v2' }),
    route('fh', 'blog', { kind: 'host_header', value: 'Blog.Example.com' }),
  ];
  return s;
}

/** The lines of frontend `id` after its `no log`/`option httplog` line: the rules. */
function rulesOf(cfg: string, id: string): string[] {
  const lines = cfg.split('\n');
  const start = lines.indexOf(`frontend fe_${id}`);
  const end = lines.indexOf('', start);
  const body = lines.slice(start + 1, end).map((l) => l.trim());
  return body.slice(body.findIndex((l) => /log$/.test(l)) + 1);
}

const opts = (s: LbSnapshot) => ({ runDir: RUN, serverIds: assignServerIds({}, s) });

test('HTTP frontend: ACLs in index order (allow guards the rest, invert, every action), then routes most specific first, then the default', () => {
  const s = httpSnapshot();
  const [allow, deny] = [s.acls![1], s.acls![2]];
  assert.deepEqual(rulesOf(renderConfig(s, opts(s)), 'fh'), [
    'acl fulcrum_allowed var(txn.fulcrum_allowed) -m found',
    `acl acl0_src src,map_ip(${RUN}/rules/acl-${allow.id}.map) -m found`,
    'http-request set-var(txn.fulcrum_allowed) bool(true) if !fulcrum_allowed acl0_src',
    `acl acl1_src src,map_ip(${RUN}/rules/acl-${deny.id}.map) -m found`,
    "acl acl1_http path_beg '/admin' '/private'",
    'http-request deny deny_status 403 if !fulcrum_allowed acl1_src acl1_http',
    "acl acl2_http path_reg '^/a\\.b$'",
    'http-request redirect scheme https code 302 if !fulcrum_allowed acl2_http',
    "acl acl4_http req.hdr(x-env) -m str 'staging env' 'dev'",
    "http-request redirect location 'https://example.com/moved?a=1' code 301 if !fulcrum_allowed !acl4_http",
    'http-request set-var(txn.fulcrum_host) req.hdr(host),field(1,:),lower',
    'acl route0 var(txn.fulcrum_host) -m str blog.example.com',
    'use_backend be_blog if route0',
    'acl route1 var(txn.fulcrum_host) -m str example.org',
    'acl route1 var(txn.fulcrum_host) -m end .example.org',
    'use_backend be_blog if route1',
    "acl route2 path_beg '/api/v2'",
    'use_backend be_api_failover if route2 { nbsrv(be_api) lt 1 }',
    'use_backend be_api if route2',
    "acl route3 path_beg '/api'",
    'use_backend be_api_failover if route3 { nbsrv(be_api) lt 1 }',
    'use_backend be_api if route3',
    'default_backend be_web',
  ]);
  // With certificates configured, a frontend on port 80 answers ACME HTTP-01 challenges before any ACL.
  const withAcme = rulesOf(renderConfig(s, { ...opts(s), certDir: CERTS }), 'fh');
  assert.match(withAcme[0], /^http-request return .* if \{ path_beg \/\.well-known\/acme-challenge\/ \}/);
  assert.equal(withAcme[1], 'acl fulcrum_allowed var(txn.fulcrum_allowed) -m found');
});

test('TCP frontend: subnet ACLs at session time (after a PROXY header), SNI passthrough routes on the ClientHello', () => {
  const s = makeSnapshot('lb1', ['127.0.0.9'], [makeFrontend('ft', 'lb1', 'tls', 443)],
    [makeBackend('tls', 'lb1', { forwardProtocol: 'tcp' }), makeBackend('a', 'lb1', { forwardProtocol: 'tcp' })]);
  s.acls = [acl('ft', 0, DENY, { ipSubnet: ['198.51.100.0/24'], invert: true }), acl('ft', 1, ALLOW, { ipSubnet: ['198.51.100.7'] })];
  s.routes = [route('ft', 'a', { kind: 'sni', value: 'a.example.net', matchSubdomains: true })];
  assert.deepEqual(rulesOf(renderConfig(s, opts(s)), 'ft'), [
    'acl fulcrum_allowed var(sess.fulcrum_allowed) -m found',
    `acl acl0_src src,map_ip(${RUN}/rules/acl-${s.acls[0].id}.map) -m found`,
    'tcp-request session reject if !fulcrum_allowed !acl0_src',
    `acl acl1_src src,map_ip(${RUN}/rules/acl-${s.acls[1].id}.map) -m found`,
    'tcp-request session set-var(sess.fulcrum_allowed) bool(true) if !fulcrum_allowed acl1_src',
    'tcp-request inspect-delay 5s',
    'tcp-request content accept if { req.ssl_hello_type 1 }',
    'tcp-request content accept if { req.len gt 0 } !{ req.ssl_hello_type 1 }',
    'acl route0 req.ssl_sni -i a.example.net',
    'acl route0 req.ssl_sni -m end -i .a.example.net',
    'use_backend be_a if route0',
    'default_backend be_tls',
  ]);
});

test('TLS-terminating frontend: SNI routes read the connection\'s SNI (ssl_fc_sni), no ClientHello inspection', () => {
  const s = makeSnapshot('lb1', ['127.0.0.9'], [{ ...makeFrontend('fs', 'lb1', 'tls', 443), certificateIds: ['cert-1'] }],
    [makeBackend('tls', 'lb1', { forwardProtocol: 'tcp' }), makeBackend('a', 'lb1', { forwardProtocol: 'tcp' })]);
  s.certificates = [certificate('cert-1')];
  s.routes = [route('fs', 'a', { kind: 'sni', value: 'a.example.net' })];
  assert.deepEqual(rulesOf(renderConfig(s, { ...opts(s), certDir: CERTS }), 'fs'), [
    'acl route0 ssl_fc_sni -i a.example.net', 'use_backend be_a if route0', 'default_backend be_tls',
  ]);
});

test('subnet maps: canonical addresses and CIDRs, once each; the edge-services list only where asked for', () => {
  const s = makeSnapshot('lb1', [], [makeFrontend('fh', 'lb1', 'web', 80)], [makeBackend('web', 'lb1')]);
  const a = acl('fh', 0, DENY, { ipSubnet: ['2001:DB8:0::/32', '10.0.0.1', '10.0.0.1/32', '10.0.0.1'] });
  const b = acl('fh', 1, DENY, { ipsEdgeServices: true });
  const c = acl('fh', 2, DENY, { httpFilter: 'path_end', httpFilterValue: ['.php'] });
  s.acls = [a, b, c];
  const lists = ruleLists(s, RUN, ['203.0.113.0/24']);
  assert.deepEqual([...lists.keys()], [subnetMapPath(RUN, a.id), subnetMapPath(RUN, b.id)], 'no map for an ACL without subnets');
  assert.equal(lists.get(subnetMapPath(RUN, a.id)), '2001:db8::/32 1\n10.0.0.1 1\n10.0.0.1/32 1\n');
  assert.equal(lists.get(subnetMapPath(RUN, b.id)), '203.0.113.0/24 1\n');
  assert.equal(ruleLists(s, RUN).get(subnetMapPath(RUN, b.id)), '', 'no operator list: an empty map, which matches nothing');
});

test('haproxy -c accepts HTTP, TCP passthrough and TLS-terminating rule sets with their maps, without warnings', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-rules-'));
  const pki = await Pki.create();
  try {
    writeFileSync(join(dir, certificateFileName('c')), (await pki.leaf(['b.test'])).chain);
    writeFileSync(challengeMapPath(dir), ''); // the HTTP frontend is on port 80: ACME answers come first
    const http = httpSnapshot();
    const tcp = makeSnapshot('lb1', ['127.0.0.9'], [makeFrontend('ft', 'lb1', 'tls', 443), { ...makeFrontend('fs', 'lb1', 'tls', 8443), certificateIds: ['c'] }],
      [makeBackend('tls', 'lb1', { forwardProtocol: 'tcp' }), makeBackend('a', 'lb1', { forwardProtocol: 'tcp' })]);
    tcp.acls = [acl('ft', 0, DENY, { ipSubnet: ['::1', '10.0.0.0/8'] })];
    tcp.routes = [route('ft', 'a', { kind: 'sni', value: 'a.test' }), route('fs', 'a', { kind: 'sni', value: 'b.test', matchSubdomains: true })];
    tcp.certificates = [certificate('c')];
    for (const s of [http, tcp]) {
      const o = { runDir: dir, certDir: dir, serverIds: assignServerIds({}, s) };
      writeFileSync(join(dir, 'server-state'), '1\n');
      const lists = [...ruleLists(s, dir), ...crtListsOf(s, { certDir: dir, runDir: dir }).map((l) => [l.path, l.text] as const)];
      for (const [path, text] of lists) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, text);
      }
      writeFileSync(join(dir, 'haproxy.cfg'), renderConfig(s, o));
      const r = spawnSync('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8', timeout: 30_000 });
      const out = `${r.stdout}${r.stderr}`;
      assert.equal(r.status, 0, out);
      assert.deepEqual(out.split('\n').filter((l) => /\[(ALERT|WARNING)\]/.test(l) && !/could not resolve address/.test(l)), []);
    }
  } finally {
    pki.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the renderer refuses what the API would have refused', () => {
  assert.throws(() => quotedWord('v', "a'b"), /cannot be written/);
  assert.throws(() => quotedWord('v', 'a\nb'), /cannot be written/);
  assert.throws(() => quotedWord('v', ' lead'), /cannot be written/);
  assert.equal(quotedWord('v', 'a b#c'), "'a b#c'");
  const s = httpSnapshot();
  s.backends.push(makeBackend('tcp', 'lb1', { forwardProtocol: 'tcp' }));
  s.routes = [route('fh', 'tcp', { kind: 'host_header', value: 'x.test' })];
  assert.throws(() => renderConfig(s, opts(s)), /protocol differs/);
  s.routes = [route('fh', 'web', { kind: 'sni', value: 'x.test' })];
  assert.throws(() => renderConfig(s, opts(s)), /does not fit/);
});
