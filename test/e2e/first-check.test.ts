// No server takes traffic before its first passing health check, however it reaches HAProxy: added through the
// runtime API, in a new backend (a reload), or redefined by a reload (TLS turned on). Each case has a server that
// answers traffic but fails its HTTP check (its /health answers 503): not one request may reach it, while traffic
// flows through the LB from before the change until after it is applied and checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, httpGet, startHttpServers, type HttpTestServer } from '../fixtures/servers.js';
import { E2e, Service, fastCheck, type Lb } from './support/lb.js';
import { selfSigned, startHttpsServer } from './support/tls.js';

const e = E2e.suite('first-check');

// Checks every 2 s: a server that started UP would take traffic for up to that long before its first check.
const httpCheck = fastCheck({ checkDelay: '2000', httpConfig: { uri: '/health', method: 'GET', code: 200, hostHeader: '' } });

/** A healthy server and one that answers traffic but fails its check, on one port. */
async function goodAndBad(): Promise<[HttpTestServer, HttpTestServer]> {
  const [good, bad] = e.serve(...await startHttpServers([e.host(), e.host()]));
  bad.healthy = false;
  return [good, bad];
}

/**
 * Sends requests to `port` of the LB (one at a time, new connection each) while `during` runs and for 1 s after it,
 * at most 3000; resolves with the bodies of the answers (failed requests count as '').
 */
async function trafficDuring(lb: Lb, port: number, during: () => Promise<void>): Promise<string[]> {
  const bodies: string[] = [];
  let until = Infinity;
  const loop = (async () => {
    while (performance.now() < until && bodies.length < 3000) {
      bodies.push(await httpGet(lb.ip, port, '/', {}, 2000).then((r) => (r.status === 200 ? r.body : ''), () => ''));
    }
  })();
  try {
    await during();
  } finally {
    until = performance.now() + 1000;
    await loop;
  }
  return bodies;
}

test('a new backend (reload): its servers answer only once checked, and the failing one never', async () => {
  const [good, bad] = await goodAndBad();
  const port = await freePort(e.lb.ip);
  const bodies = await trafficDuring(e.lb, port, async () => {
    const be = await e.lb.backend({ forwardPort: good.port, serverIp: [good.host, bad.host], healthCheck: httpCheck });
    await e.api.createFrontend({ lbId: e.lb.id, name: 'fe', inboundPort: port, backendId: be.id, enableHttp3: false } as never);
    await e.lb.ready();
    await new Service(e.lb, be, port).checked();
  });
  assert.equal(bad.hits, 0, 'the server failing its check got requests');
  assert.ok(good.hits > 0 && bodies.includes(good.host), 'the checked server took the traffic');
});

test('a server added through the runtime API answers only once checked; one failing its check never', async () => {
  const [good, bad] = await goodAndBad();
  const svc = await e.lb.service({ forwardPort: good.port, serverIp: [good.host], healthCheck: httpCheck });
  const workers = await e.lb.workers();
  const bodies = await trafficDuring(e.lb, svc.port, async () => {
    await svc.addServers([bad.host]);
    await e.lb.ready();
    await svc.waitServer(bad.host, 'stopped', 'failed');
  });
  assert.deepEqual(await e.lb.workers(), workers, 'no reload: the runtime API added it');
  assert.equal(bad.hits, 0, 'the server failing its check got requests');
  assert.ok(bodies.length > 0 && bodies.every((b) => b === good.host), `answers: ${[...new Set(bodies)].join(' ')}`);
});

test('ssl_bridging turned on (reload): each server is checked over TLS before it takes traffic over TLS', async () => {
  const tls = await selfSigned();
  const good = e.serve(await startHttpsServer(e.host(), 'good', tls))[0];
  const bad = e.serve(await startHttpsServer(e.host(), 'bad', tls, good.port))[0];
  bad.healthy = false;
  // Plain HTTP to a TLS port: every check fails and both servers are down until ssl_bridging is on.
  const svc = await e.lb.service({ forwardPort: good.port, serverIp: [good.host, bad.host], sslBridging: false,
    ignoreSslServerVerify: true, healthCheck: httpCheck });
  const workers = (await e.lb.workers()).join();
  const bodies = await trafficDuring(e.lb, svc.port, async () => {
    await svc.update({ sslBridging: true });
    await e.lb.ready();
    await svc.waitServer(good.host, 'running', 'passed');
    await svc.waitServer(bad.host, 'stopped', 'failed');
  });
  assert.notEqual((await e.lb.workers()).join(), workers, 'a reload applied it');
  assert.equal(bad.hits, 0, 'the server failing its check got requests');
  assert.ok(good.hits > 0 && bodies.includes('good'), 'the checked server took the traffic');
});
