// Which server gets the next request: the three algorithms, IPv4 and IPv6 pool servers, pool changes and
// forward_port, through `fulcrum serve` and its HAProxy, driven by the official SDK.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHttpServer, startHttpServers, type HttpTestServer } from '../fixtures/servers.js';
import { E2e, measure, type BackendRequest, type Service } from './support/lb.js';
import { holdSlow, tally } from './support/traffic.js';

const e = E2e.suite('balancing');

/** Identity servers on one port, one per address, and a service balancing over them. */
async function serversAndService(hosts: string[], req: Partial<BackendRequest> = {}): Promise<{ servers: HttpTestServer[]; svc: Service }> {
  const servers = e.serve(...await startHttpServers(hosts));
  const svc = await e.lb.service({ forwardPort: servers[0].port, serverIp: servers.map((s) => s.host), ...req });
  return { servers, svc };
}

const threeHosts = () => [e.host(), e.host(), e.host()];

test('roundrobin spreads requests evenly over three servers; an added server gets traffic, a removed one none', async () => {
  const { servers, svc } = await serversAndService(threeHosts());
  const seen = tally(await svc.bodies(30));
  assert.deepEqual(Object.keys(seen).sort(), servers.map((s) => s.host).sort());
  for (const [host, n] of Object.entries(seen)) assert.ok(n >= 8 && n <= 12, `${host} got ${n} of 30: ${JSON.stringify(seen)}`);

  // Pool add goes through the runtime API; the new server takes traffic once it passed its checks (rise 2, 300 ms).
  const [extra] = e.serve(await startHttpServer(e.host(), 'extra', servers[0].port));
  const added = await svc.addServers([extra.host]);
  await measure('pool add (runtime API, checks every 300 ms, rise 2) -> first request on the new server', added,
    async () => (await svc.get()).body === 'extra', 10_000, 5);
  await e.lb.ready();

  const removedAt = await svc.removeServers([servers[0].host]);
  await measure('pool remove (drain, delete) -> ten requests in a row avoid the removed server', removedAt,
    async () => !(await svc.bodies(10)).includes(servers[0].host), 10_000, 0);
  await e.lb.ready();
  const hits = servers[0].hits;
  assert.ok(!(await svc.bodies(12)).includes(servers[0].host));
  assert.equal(servers[0].hits, hits, 'the removed server got no request once the change was applied');
});

test('leastconn sends new requests to the server with the fewest open ones', async () => {
  const { servers, svc } = await serversAndService(threeHosts(), { forwardPortAlgorithm: 'leastconn' });
  const first = await holdSlow(svc, servers, 1200);
  const second = await holdSlow(svc, servers, 1201);
  assert.notEqual(first.holder, second.holder, 'the second long request went to an idle server');
  const idle = servers.find((s) => s !== first.holder && s !== second.holder)!;
  assert.deepEqual(tally(await svc.bodies(9)), { [idle.host]: 9 }, 'every short request went to the idle server');
  for (const r of [first, second]) assert.equal((await r.answer).status, 200);
});

test('first fills the first server up to max_connections before using the next', async () => {
  const { servers, svc } = await serversAndService(threeHosts(), { forwardPortAlgorithm: 'first', maxConnections: 2 });
  const [s1, s2] = servers;
  assert.deepEqual(tally(await svc.bodies(6)), { [s1.host]: 6 }, 'with room left, everything goes to the first server');
  const held = [await holdSlow(svc, servers, 1200), await holdSlow(svc, servers, 1201)];
  assert.deepEqual(held.map((h) => h.holder.host), [s1.host, s1.host], 'the first server takes up to max_connections (2)');
  assert.deepEqual(tally(await svc.bodies(4)), { [s2.host]: 4 }, 'with the first server full, the second one takes the rest');
  for (const h of held) assert.equal((await h.answer).status, 200);
  assert.deepEqual(tally(await svc.bodies(3)), { [s1.host]: 3 }, 'the first server again once it has room');
});

test('an IPv6 pool server on ::1 gets its share of the traffic next to an IPv4 one', async () => {
  const { svc } = await serversAndService(['::1', e.host()]);
  const seen = tally(await svc.bodies(10));
  assert.equal(seen['::1'], 5, JSON.stringify(seen));
  await svc.waitServer('::1', 'running', 'passed');
});

test('a forward_port change moves the traffic to the new port without a failed request', async () => {
  const hosts = [e.host(), e.host()];
  const { svc } = await serversAndService(hosts);
  const next = e.serve(...await startHttpServers(hosts));
  for (const s of next) s.id = `${s.host} new`;
  let stop = false;
  const failures: string[] = [];
  const loop = (async () => {
    for (let i = 0; i < 5000 && !stop; i++) {
      const r = await svc.get().catch((err: Error) => ({ status: 0, body: err.message }));
      if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
    }
  })();
  // The health check keeps its own port (the old forward port, given at creation), where the old servers still run.
  const changed = await svc.update({ forwardPort: next[0].port });
  await measure('forward_port change (reload) -> first answer from the new port', changed,
    async () => (await svc.get()).body.endsWith(' new'), 10_000, 5);
  await e.lb.ready();
  stop = true;
  await loop;
  assert.deepEqual(failures, []);
  assert.ok((await svc.bodies(6)).every((b) => b.endsWith(' new')));
});
