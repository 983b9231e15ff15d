// ACLs in real traffic: every match kind (client subnet, path prefix and suffix, regex, header), invert, every action
// (allow, deny 403 / TCP close, redirect by location and scheme with its code), index order (the first match decides),
// ACLs and routes together, 10,000-subnet lists replaced without a reload, and changes under load without a failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { createConnection } from 'node:net';
import { startHttpServer, startTcpServer } from '../fixtures/servers.js';
import { startLoad } from '../helpers/load.js';
import { E2e, measure, report, type Service } from './support/lb.js';
import { firstLine, getFrom } from './support/servers.js';

const e = E2e.suite('acls');

async function httpService(id = 'app'): Promise<{ svc: Service; fe: string }> {
  const [s] = e.serve(await startHttpServer(e.host(), id));
  const svc = await e.lb.service({ forwardPort: s.port, serverIp: [s.host] });
  const fe = (await e.api.listFrontends({ lbId: e.lb.id })).frontends.find((f) => f.inboundPort === svc.port)!.id;
  return { svc, fe };
}

type Spec = { index: number; action: Lbv1.AclAction; match?: Partial<Lbv1.AclMatch> };
const spec = (s: Spec): Lbv1.AclSpec => ({ name: `acl${s.index}`, description: '', index: s.index, action: s.action,
  match: { ipSubnet: [], ipsEdgeServices: false, httpFilter: 'acl_http_filter_none', httpFilterValue: [], invert: false, ...s.match } });

async function setAcls(fe: string, specs: Spec[]): Promise<void> {
  await e.api.setAcls({ frontendId: fe, acls: specs.map(spec) });
  await e.lb.ready();
}

const status = async (svc: Service, path = '/', headers: Record<string, string> = {}) => (await svc.get(path, headers)).status;
const DENY = { type: 'deny' } as const;
const ALLOW = { type: 'allow' } as const;

test('ip_subnet: single addresses and CIDRs of the client; index order decides; invert', async () => {
  const { svc, fe } = await httpService();
  const [c1, c2, c3] = [e.host(), e.host(), e.host()];
  const from = async (ip: string) => (await getFrom(ip, e.lb.ip, svc.port)).status;

  await setAcls(fe, [{ index: 1, action: DENY, match: { ipSubnet: [c1] } }]);
  assert.equal(await from(c1), 403);
  assert.equal(await from(c2), 200);

  // allow c2 first, then deny the whole /24: the first match decides.
  await setAcls(fe, [{ index: 2, action: DENY, match: { ipSubnet: [`${e.net}.0/24`] } }, { index: 1, action: ALLOW, match: { ipSubnet: [c2] } }]);
  assert.equal(await from(c2), 200);
  assert.equal(await from(c1), 403);
  assert.equal(await from(c3), 403);

  // invert: deny everyone but c3.
  await setAcls(fe, [{ index: 0, action: DENY, match: { ipSubnet: [`${c3}/32`], invert: true } }]);
  assert.equal(await from(c3), 200);
  assert.equal(await from(c1), 403);
  await setAcls(fe, []);
  assert.equal(await from(c1), 200);
});

test('http filters: path_begin, path_end, regex on the path, header match (any value), each with invert', async () => {
  const { svc, fe } = await httpService();
  await setAcls(fe, [
    { index: 1, action: DENY, match: { httpFilter: 'path_begin', httpFilterValue: ['/admin', '/private'] } },
    { index: 2, action: DENY, match: { httpFilter: 'path_end', httpFilterValue: ['.php'] } },
    { index: 3, action: DENY, match: { httpFilter: 'regex', httpFilterValue: ['^/v[0-9]+/secret\\.txt$'] } },
    { index: 4, action: DENY, match: { httpFilter: 'http_header_match', httpFilterOption: 'x-env', httpFilterValue: ['staging', 'dev box'] } },
  ]);
  assert.equal(await status(svc, '/admin/users'), 403);
  assert.equal(await status(svc, '/private'), 403);
  assert.equal(await status(svc, '/public'), 200);
  assert.equal(await status(svc, '/index.php'), 403);
  assert.equal(await status(svc, '/index.php5'), 200);
  assert.equal(await status(svc, '/v12/secret.txt'), 403);
  assert.equal(await status(svc, '/v12/secretXtxt'), 200, 'the escaped dot is a literal dot');
  assert.equal(await status(svc, '/', { 'x-env': 'staging' }), 403);
  assert.equal(await status(svc, '/', { 'x-env': 'dev box' }), 403);
  assert.equal(await status(svc, '/', { 'x-env': 'prod' }), 200);
  assert.equal(await status(svc, '/'), 200);

  // invert on an HTTP filter: deny every path but /ok...
  await setAcls(fe, [{ index: 1, action: DENY, match: { httpFilter: 'path_begin', httpFilterValue: ['/ok'], invert: true } }]);
  assert.equal(await status(svc, '/ok/1'), 200);
  assert.equal(await status(svc, '/nope'), 403);
  // ...and on subnet AND filter: not (client in net and path /x).
  await setAcls(fe, [{ index: 1, action: DENY,
    match: { ipSubnet: [`${e.net}.0/24`], httpFilter: 'path_begin', httpFilterValue: ['/x'], invert: true } }]);
  const me = e.host();
  assert.equal((await getFrom(me, e.lb.ip, svc.port, '/x')).status, 200);
  assert.equal((await getFrom(me, e.lb.ip, svc.port, '/y')).status, 403);
});

test('redirect: location with its code (default 302), scheme keeps host and path', async () => {
  const { svc, fe } = await httpService();
  await setAcls(fe, [
    { index: 1, action: { type: 'redirect', redirect: { type: 'location', target: 'https://example.com/moved', code: 301 } },
      match: { httpFilter: 'path_begin', httpFilterValue: ['/old'] } },
    { index: 2, action: { type: 'redirect', redirect: { type: 'scheme', target: 'https' } }, match: { httpFilter: 'path_begin', httpFilterValue: ['/secure'] } },
    { index: 3, action: { type: 'redirect', redirect: { type: 'location', target: '/elsewhere', code: 308 } },
      match: { httpFilter: 'path_end', httpFilterValue: ['.htm'] } },
  ]);
  const old = await svc.get('/old/page');
  assert.equal(old.status, 301);
  assert.equal(old.headers.location, 'https://example.com/moved');
  const sec = await svc.get('/secure/a?b=1', { host: 'shop.example.com' });
  assert.equal(sec.status, 302, 'default code');
  assert.equal(sec.headers.location, 'https://shop.example.com/secure/a?b=1');
  const htm = await svc.get('/x.htm');
  assert.equal(htm.status, 308);
  assert.equal(htm.headers.location, '/elsewhere');
  assert.equal(await status(svc, '/other'), 200);
});

test('TCP frontend: a denied client\'s connection is closed, an allowed one reaches the server', async () => {
  const [s] = e.serve(await startTcpServer(e.host(), 'tcp-app'));
  const svc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: s.port, serverIp: [s.host] });
  const fe = (await e.api.listFrontends({ lbId: e.lb.id })).frontends.find((f) => f.inboundPort === svc.port)!.id;
  const [ok, bad] = [e.host(), e.host()];
  await setAcls(fe, [{ index: 1, action: ALLOW, match: { ipSubnet: [ok] } }, { index: 2, action: DENY, match: { ipSubnet: [`${e.net}.0/24`] } }]);
  assert.equal(await firstLineFrom(bad, e.lb.ip, svc.port), '', 'nothing from the server: the LB closed (or reset) the connection');
  assert.equal(s.hits, 0, 'the denied connection never reached the server');
  assert.equal(await firstLineFrom(ok, e.lb.ip, svc.port), 'tcp-app');
  assert.equal(await firstLineFrom('127.0.0.1', e.lb.ip, svc.port), 'tcp-app', 'a client no ACL matches is let through');
});

/** The first line the TCP test server sends, through the LB, from `localAddress`; '' when the LB closes or resets first. */
const firstLineFrom = (localAddress: string, host: string, port: number): Promise<string> =>
  firstLine(createConnection({ host, port, localAddress, timeout: 3000 }));

test('ACLs and routes together: ACLs first, then routes', async () => {
  const { svc, fe } = await httpService('main');
  const [s] = e.serve(await startHttpServer(e.host(), 'blog'));
  const blog = await e.lb.backend({ name: 'blog', forwardPort: s.port, serverIp: [s.host] });
  await e.api.createRoute({ frontendId: fe, backendId: blog.id, match: { hostHeader: 'blog.example.com', matchSubdomains: false } });
  await setAcls(fe, [{ index: 1, action: DENY, match: { httpFilter: 'path_begin', httpFilterValue: ['/wp-admin'] } },
    { index: 2, action: ALLOW, match: { httpFilter: 'http_header_match', httpFilterOption: 'host', httpFilterValue: ['blog.example.com'] } },
    { index: 3, action: DENY, match: { httpFilter: 'path_begin', httpFilterValue: ['/draft'] } }]);
  await e.lb.checked(blog); // a new backend's server takes traffic once checked
  assert.equal((await svc.get('/', { host: 'blog.example.com' })).body, 'blog');
  assert.equal(await status(svc, '/wp-admin/', { host: 'blog.example.com' }), 403, 'the deny before the allow applies');
  assert.equal((await svc.get('/draft', { host: 'blog.example.com' })).body, 'blog', 'allowed: the later deny no longer applies, routing does');
  assert.equal(await status(svc, '/draft', { host: 'www.example.com' }), 403);
  assert.equal((await svc.get('/', { host: 'www.example.com' })).body, 'main');
});

test('10,000 subnets on one ACL: applied, then replaced through the runtime API without a reload', async () => {
  const { svc, fe } = await httpService();
  const me = e.host();
  const subnets = (withMe: boolean) => Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`)
    .slice(withMe ? 1 : 0).concat(withMe ? [`${me}/32`] : []);
  const acl = await e.api.createAcl({ frontendId: fe, name: 'blocklist', index: 1, description: '', action: DENY,
    match: { ipSubnet: subnets(true), ipsEdgeServices: false, httpFilter: 'acl_http_filter_none', httpFilterValue: [], invert: false } });
  await e.lb.ready();
  assert.equal((await getFrom(me, e.lb.ip, svc.port)).status, 403);
  assert.equal((await getFrom(e.host(), e.lb.ip, svc.port)).status, 200);

  const workers = await e.lb.workers();
  const load = startLoad(e.lb.ip, svc.port, { concurrency: 2, maxMs: 30_000, maxRequests: 100_000 });
  const t0 = performance.now();
  await e.api.updateAcl({ aclId: acl.id, name: 'blocklist', index: 1, action: DENY,
    match: { ipSubnet: subnets(false), ipsEdgeServices: false, httpFilter: 'acl_http_filter_none', httpFilterValue: [], invert: false } });
  await measure('10,000-subnet list replaced (client removed) -> first 200', t0, async () => (await getFrom(me, e.lb.ip, svc.port)).status === 200);
  const t1 = performance.now();
  await e.api.updateAcl({ aclId: acl.id, name: 'blocklist', index: 1, action: DENY,
    match: { ipSubnet: subnets(true), ipsEdgeServices: false, httpFilter: 'acl_http_filter_none', httpFilterValue: [], invert: false } });
  await measure('10,000-subnet list replaced (client added) -> first 403', t1, async () => (await getFrom(me, e.lb.ip, svc.port)).status === 403);
  await e.lb.ready();
  assert.deepEqual(await e.lb.workers(), workers, 'no reload: the same worker serves');
  const res = await load.stop();
  assert.equal(res.failed, 0, res.errors.join('\n'));
  assert.ok(res.ok > 10);
});

test('ACL changes under load (set, create, update, delete, reloads and runtime updates): 0 failed requests', async () => {
  const { svc, fe } = await httpService();
  const load = startLoad(e.lb.ip, svc.port, { concurrency: 4, maxMs: 60_000, maxRequests: 200_000, path: '/load' });
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < 4; i++) {
    await setAcls(fe, [{ index: 1, action: DENY, match: { ipSubnet: [`192.0.2.${i}/32`, '198.51.100.0/24'] } },
      { index: 2, action: DENY, match: { httpFilter: 'path_begin', httpFilterValue: [`/blocked${i}`] } }]);
    assert.equal(await status(svc, `/blocked${i}/x`), 403);
    const a = await e.api.createAcl({ frontendId: fe, name: 'tmp', index: 9, description: '', action: ALLOW,
      match: { ipSubnet: ['203.0.113.0/24'], ipsEdgeServices: false, httpFilter: 'acl_http_filter_none', httpFilterValue: [], invert: false } });
    await e.api.updateAcl({ aclId: a.id, name: 'tmp', index: 9, action: ALLOW,
      match: { ipSubnet: ['203.0.113.0/25'], ipsEdgeServices: false, httpFilter: 'acl_http_filter_none', httpFilterValue: [], invert: false } });
    await e.lb.ready();
    await e.api.deleteAcl({ aclId: a.id });
    n += 4;
  }
  await setAcls(fe, []);
  const res = await load.stop();
  report(`${n + 1} ACL changes under load (${res.ok} requests)`, performance.now() - t0);
  assert.equal(res.failed, 0, res.errors.join('\n'));
  assert.ok(res.ok > 100);
});
