// Changes never drop a request: under a continuous request loop, 50 pool changes (runtime API) and 10 reload-class
// changes cause zero failed requests; and SIGKILL of `fulcrum serve` interrupts no traffic, with no duplicate HAProxy
// after it restarts and adopts the running one.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Fulcrum, waitLbReady } from '../helpers/fulcrum.js';
import { startLoad } from '../helpers/load.js';
import { haproxyMastersOf } from '../helpers/procs.js';
import { freePort, loopbackNet } from '../helpers/ports.js';
import { startHttpServers, waitFor, type HttpTestServer } from '../fixtures/servers.js';

let f: Fulcrum;
let servers: HttpTestServer[];
let lbId: string;
let backendId: string;
let lbAddress: string;
let inbound: number;
const net = loopbackNet();
const ips = [11, 12, 13, 14].map((n) => `${net}.${n}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.99) - 1)];

before(async () => {
  f = await Fulcrum.start();
  servers = await startHttpServers(ips);
  const api = f.sdk();
  const lb = await api.createLb({ name: 'hitless', description: '', type: 'LB-S', tags: [] } as never);
  lbId = lb.id;
  lbAddress = lb.ip[0].ipAddress;
  const be = await api.createBackend({
    lbId, name: 'app', forwardProtocol: 'http', forwardPort: servers[0].port, forwardPortAlgorithm: 'roundrobin',
    stickySessions: 'none', stickySessionsCookieName: '', serverIp: ips.slice(0, 2),
    healthCheck: { port: servers[0].port, checkDelay: '300', checkTimeout: '200', checkMaxRetries: 2, checkSendProxy: false,
      transientCheckDelay: '0.1s', httpConfig: { uri: '/health', method: 'GET', hostHeader: '' } },
  } as never);
  backendId = be.id;
  inbound = await freePort(lbAddress);
  await api.createFrontend({ lbId, name: 'www', inboundPort: inbound, backendId, enableHttp3: false } as never);
  await waitLbReady(api, lbId);
  await waitFor('traffic through the LB', async () => {
    const r = await fetch(`http://${lbAddress}:${inbound}/`).catch(() => null);
    return r?.status === 200;
  }, 10_000);
});

after(async () => {
  await f.destroy();
  await Promise.all(servers.map((s) => s.close()));
});

test('50 pool changes and 10 reload-class changes under load: zero failed requests', async () => {
  const api = f.sdk();
  const load = startLoad(lbAddress, inbound, { concurrency: 4, maxMs: 120_000 });
  const addToTraffic: number[] = [];
  for (let i = 0; i < 50; i++) {
    const ip = ips[2 + (Math.floor(i / 2) % 2)];
    if (i % 2 === 0) {
      const server = servers.find((s) => s.host === ip)!;
      const before = server.hits;
      await api.addBackendServers({ backendId, serverIp: [ip] });
      const answered = performance.now();
      await waitFor(`${ip} receives traffic`, () => server.hits > before, 10_000, 2);
      addToTraffic.push(performance.now() - answered);
    } else {
      await api.removeBackendServers({ backendId, serverIp: [ip] });
    }
    await waitLbReady(api, lbId);
  }
  const reloads: number[] = [];
  for (let i = 0; i < 10; i++) {
    const be = await api.getBackend({ backendId });
    const started = performance.now();
    await api.updateBackend({
      backendId, name: be.name, forwardProtocol: be.forwardProtocol, forwardPort: be.forwardPort,
      forwardPortAlgorithm: i % 2 === 0 ? 'leastconn' : 'roundrobin', stickySessions: 'none', stickySessionsCookieName: '',
      timeoutServer: String(20_000 + i * 1000), timeoutConnect: '5000', timeoutTunnel: '900000',
      onMarkedDownAction: 'on_marked_down_action_none', proxyProtocol: 'proxy_protocol_none',
    } as never);
    await waitLbReady(api, lbId);
    reloads.push(performance.now() - started);
  }
  await new Promise((r) => setTimeout(r, 500));
  const res = await load.stop();
  console.log(`# measured: pool add → first request on the new server (health-checked, rise 2 at 100 ms): median ${median(addToTraffic).toFixed(0)} ms, p99 ${p99(addToTraffic).toFixed(0)} ms over ${addToTraffic.length}`);
  console.log(`# measured: reload-class change → applied (new worker serving): median ${median(reloads).toFixed(0)} ms, max ${Math.max(...reloads).toFixed(0)} ms over ${reloads.length}`);
  console.log(`# measured: ${res.ok} requests during the changes, ${res.failed} failed`);
  assert.equal(res.failed, 0, `failed requests: ${res.errors.join('; ')}`);
  assert.ok(res.ok > 500, `the loop ran (${res.ok} requests)`);
  for (const s of servers) assert.ok((res.byServer.get(s.id) ?? 0) > 0, `${s.id} served traffic during the run`);
});

test('SIGKILL of fulcrum serve interrupts no traffic; the restart adopts HAProxy without a duplicate', async () => {
  const lbDir = join(f.dataDir, 'lbs', lbId);
  const mastersBefore = haproxyMastersOf(lbDir);
  assert.equal(mastersBefore.length, 1, 'one HAProxy master for the LB');
  const load = startLoad(lbAddress, inbound, { concurrency: 4, maxMs: 60_000 });
  await new Promise((r) => setTimeout(r, 300));
  await f.kill();
  const duringDown = load.result.ok;
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(load.result.ok > duringDown, 'requests kept succeeding while the control plane was dead');
  await f.launch();
  await waitLbReady(f.sdk(), lbId);
  await new Promise((r) => setTimeout(r, 500));
  const res = await load.stop();
  assert.equal(res.failed, 0, `failed requests: ${res.errors.join('; ')}`);
  assert.deepEqual(haproxyMastersOf(lbDir), mastersBefore, 'the same master was adopted, none added');
  // The adopted instance still takes changes.
  await f.sdk().removeBackendServers({ backendId, serverIp: [ips[0]] });
  await waitLbReady(f.sdk(), lbId);
  const r2 = await startLoad(lbAddress, inbound, { concurrency: 2, maxRequests: 200, maxMs: 20_000 }).finished();
  assert.equal(r2.failed, 0);
  assert.equal(r2.byServer.get(ips[0]) ?? 0, 0, 'the removed server gets nothing');
});
