// IPv6 flexible IPs on real HAProxy: `assign_flexible_ipv6` and `POST /ips {is_ipv6: true}` take addresses from the
// IPv6 part of a mixed `--ip-pool`, and frontends answer on them. The test adds its IPv6 addresses to the loopback
// interface (root) and removes them at the end, whatever happened.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { freePort, httpGet, loopbackNet, startHttpServer, startHttpServers, waitFor } from '../fixtures/servers.js';
import { waitLbReady } from '../helpers/fulcrum.js';
import { E2e, fastCheck } from './support/lb.js';

const prefix = `fd7c:4e11:${Math.floor(Math.random() * 0xffff).toString(16)}`;
/** Three addresses for the pool, one for an IPv6 backend server. */
const v6 = [1, 2, 3, 4].map((n) => `${prefix}::${n}`);
const ipNet = loopbackNet();
const added: string[] = [];
const ip6 = (...args: string[]) => execFileSync('ip', ['-6', 'addr', ...args, 'dev', 'lo'], { stdio: 'pipe' });

before(() => {
  for (const a of v6) {
    ip6('add', `${a}/128`, 'nodad');
    added.push(a);
  }
});
after(() => {
  for (const a of added) ip6('del', `${a}/128`);
});

const e = E2e.suite('ipv6', () => ({ ipNet, ipPool: `${ipNet}.0/24,${v6.slice(0, 3).join(',')}` }));

test('assign_flexible_ipv6: the LB gets an IPv4 and an IPv6 address; a frontend answers on both', async () => {
  const servers = e.serve(...await startHttpServers([e.host(), e.host()]));
  const created = await e.api.createLb({ name: 'dual', description: '', type: 'LB-S', assignFlexibleIp: true, assignFlexibleIpv6: true } as never);
  assert.equal(created.ip.length, 2);
  const [four, six] = created.ip.map((i) => i.ipAddress);
  assert.ok(four.startsWith(`${ipNet}.`), four);
  assert.ok(v6.slice(0, 3).includes(six), `${six} comes from the IPv6 part of the pool`);
  await waitLbReady(e.api, created.id);
  const be = await e.api.createBackend({ lbId: created.id, name: 'be', forwardProtocol: 'http', forwardPort: servers[0].port,
    forwardPortAlgorithm: 'roundrobin', stickySessions: 'none', stickySessionsCookieName: '', serverIp: servers.map((s) => s.host),
    healthCheck: fastCheck() } as never);
  const port = await freePort(four);
  await e.api.createFrontend({ lbId: created.id, name: 'fe', inboundPort: port, backendId: be.id, enableHttp3: false } as never);
  await waitLbReady(e.api, created.id);
  // Servers of a new backend take traffic once they passed their first checks.
  await waitFor('both servers checked', async () => (await e.api.listBackendStats({ lbId: created.id, backendId: be.id }))
    .backendServersStats.every((s) => s.serverState === 'running'), 10_000, 25);
  const ids = servers.map((s) => s.id);
  const over6 = await httpGet(six, port);
  assert.equal(over6.status, 200);
  assert.ok(ids.includes(over6.body), `answered over IPv6 by ${over6.body}`);
  assert.ok(ids.includes((await httpGet(four, port)).body), 'and over IPv4');
});

test('POST /ips with is_ipv6 takes an IPv6 address; an LB on it alone serves over IPv6, to an IPv6 backend server', async () => {
  const ip = await e.api.createIp({ isIpv6: true } as never);
  assert.ok(v6.slice(0, 3).includes(ip.ipAddress), ip.ipAddress);
  assert.equal(ip.lbId, null);
  assert.match(ip.reverse, /\.fulcrum\.internal$/);
  const listed = await e.f.http('GET', '/ips?ip_type=ipv6');
  assert.ok(listed.json.ips.some((i: { id: string }) => i.id === ip.id));
  assert.ok(listed.json.ips.every((i: { ip_address: string }) => i.ip_address.includes(':')));

  const server = e.serve(await startHttpServer(v6[3], 'six-server'))[0];
  const lb = await e.api.createLb({ name: 'v6-only', description: '', type: 'LB-S', ipIds: [ip.id], assignFlexibleIp: false } as never);
  assert.deepEqual(lb.ip.map((i) => i.ipAddress), [ip.ipAddress]);
  await waitLbReady(e.api, lb.id);
  const be = await e.api.createBackend({ lbId: lb.id, name: 'be6', forwardProtocol: 'http', forwardPort: server.port,
    forwardPortAlgorithm: 'roundrobin', stickySessions: 'none', stickySessionsCookieName: '', serverIp: [v6[3]],
    healthCheck: fastCheck() } as never);
  const port = await freePort(ip.ipAddress);
  await e.api.createFrontend({ lbId: lb.id, name: 'fe6', inboundPort: port, backendId: be.id, enableHttp3: false } as never);
  await waitLbReady(e.api, lb.id);
  let answer = await httpGet(ip.ipAddress, port);
  // The server is added UP after its first check (spec §4 recipe): wait for it, bounded.
  for (let i = 0; i < 100 && answer.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    answer = await httpGet(ip.ipAddress, port);
  }
  assert.equal(answer.status, 200);
  assert.equal(answer.body, 'six-server');
});
