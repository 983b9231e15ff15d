// HA pairs end to end, in network namespaces (root only): PostgreSQL and the API (`serve --dataplane agents`) in the
// host namespace on the test bridge, three nodes each running `fulcrum agent`, backend servers on bridge addresses,
// traffic from the host namespace to the LB address. A node is failed by SIGKILL of its agent, HAProxy and keepalived
// (and, in the second test, by cutting its link): traffic continues from the other node within the failover time,
// table-sticky clients keep their server (HAProxy peers), the lost instance reads `error`, and placement moves it to
// the third node. Every wait is bounded; the namespaces, bridge, processes and temp dirs go away in `after`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { canUseNetns, createNetLab, type NetLab, type SecondNetwork } from '../fixtures/netns.js';
import { startPostgres, type Postgres } from '../fixtures/postgres.js';
import { httpGet, startHttpServer, waitFor, type HttpTestServer } from '../fixtures/servers.js';
import { Fulcrum } from '../helpers/fulcrum.js';
import { getFrom } from '../e2e/support/servers.js';
import { fastCheck, report } from '../e2e/support/lb.js';
import { haproxyMastersOf } from '../helpers/procs.js';
import { lbPaths } from '../../src/dataplane/haproxy.js';
import { backendName } from '../../src/dataplane/names.js';
import { cli } from '../../src/dataplane/runtime.js';
import { parseTable } from '../../src/dataplane/stick-tables.js';
import { NODE_METRICS_PORT, TEST_PEM_KEY, destroyAgent, holds, keepalivedPids, killNode, startAgent, type Agent } from './support/cluster.js';

const skip = !canUseNetns() ? 'needs root (network namespaces)'
  : spawnSync('keepalived', ['--version']).error ? 'needs keepalived (scripts/install.sh --test)' : false;

const PORT = 8080;
/** The private network the nodes reach through their `eth1` (SecondNetwork), and one they have no interface on. */
const PN = '3a5c7e90-1b2d-4f60-8a9b-0c1d2e3f4a5b';
const PN_ELSEWHERE = '4b6d8fa1-2c3e-4071-9bac-1d2e3f4a5b6c';
/** Failover must fit in this (the bound); the measured gap is printed. */
const FAILOVER_BOUND_MS = 3000;

/** Requests to the LB every PROBE_MS from one source; records successes (time, server) for the gap measurement. */
function probe(host: string, port: number) {
  const ok: { at: number; server: string }[] = [];
  const failed: string[] = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running && i < 5000; i++) {
      const t = performance.now();
      try {
        const r = await httpGet(host, port, '/', {}, 300);
        if (r.status === 200) ok.push({ at: t, server: r.body });
      } catch (e) {
        failed.push(`${Math.round(t)}: ${(e as Error).message}`); // part of the gap
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    ok,
    get failed() { return failed; },
    async stop() { running = false; await done; },
    /** Longest time without a successful request, between `from` and the last success. */
    gapAfter(from: number): number {
      const times = [from, ...ok.filter((o) => o.at >= from).map((o) => o.at)];
      return Math.max(...times.slice(1).map((t, i) => t - times[i]));
    },
  };
}

describe('HA pairs across node namespaces', { skip, timeout: 240_000 }, () => {
  let lab: NetLab;
  let pg: Postgres;
  let api: Fulcrum;
  let sdk: Lbv1.ZonedAPI;
  const agents: Agent[] = [];
  const servers: HttpTestServer[] = [];
  let clients: string[] = [];
  let storeUrl = '';
  let fillers: string[] = [];
  let pn: SecondNetwork;
  const agentArgs = () => ['--private-network', `${PN}=${pn.iface}`];

  before(async () => {
    lab = createNetLab(3);
    try {
      pg = await startPostgres(lab.hostAddress);
      const url = await pg.database();
      storeUrl = url;
      servers.push(await startHttpServer(lab.addHostAddress(201), 's1'));
      servers.push(await startHttpServer(lab.addHostAddress(202), 's2', servers[0].port));
      clients = [2, 3, 4, 5].map((n) => lab.addHostAddress(n));
      fillers = [6, 7, 8, 9].map((n) => lab.addHostAddress(n));
      pn = lab.addNetwork();
      api = await Fulcrum.start({ dataplane: 'agents', ipPool: [100, 101, 102, 103, 104].map((n) => `${lab.prefix}.${n}`).join(','),
        env: { FULCRUM_STORE: url, FULCRUM_PEM_KEY: TEST_PEM_KEY,
          FULCRUM_PRIVATE_NETWORK: `${PN}=${pn.prefix}.0/24,${PN_ELSEWHERE}=10.250.0.0/24` } });
      sdk = api.sdk();
      for (const n of lab.nodes) agents.push(startAgent(lab, n, url, undefined, { extraArgs: agentArgs() }));
      // Every node registered before the first LB is placed (else it would go to the nodes that started first).
      const db = new URL(url).pathname.slice(1);
      await waitFor('all agents registered', async () => {
        const n = await pg.sql('SELECT count(*) FROM cluster_nodes', db).catch(() => '0');
        return Number(n.trim()) === lab.nodes.length;
      }, 30_000, 100);
    } catch (e) {
      await teardown();
      throw e;
    }
  });

  // Each step runs even when an earlier one failed: nothing may outlive the test.
  const teardown = async () => {
    const steps = [() => api?.destroy().catch(() => api?.kill()), ...agents.map((a) => () => destroyAgent(a)),
      ...servers.map((s) => () => s.close()), () => pg?.stop(), () => lab?.cleanup()];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
  };
  after(teardown);

  /**
   * An LB with one HTTP backend (table-sticky unless said otherwise) over `over` (both servers by default) and a
   * frontend on PORT; `attach` runs before the backend is created. Resolves once both instances are ready and every
   * server is UP on both (a pin is only tested when round robin had a choice; a failover must find servers up).
   */
  async function haLb(name: string, { over = servers, sticky = true, attach }: { over?: HttpTestServer[]; sticky?: boolean;
    attach?: (lbId: string) => Promise<unknown> } = {}): Promise<{ lb: Lbv1.Lb; vip: string; backendId: string }> {
    const lb = await sdk.createLb({ name, description: '', tags: [], type: 'lb-s', assignFlexibleIp: true });
    await attach?.(lb.id);
    const backend = await sdk.createBackend({ lbId: lb.id, name: 'app', forwardProtocol: 'http', forwardPort: over[0].port,
      forwardPortAlgorithm: 'roundrobin', stickySessions: sticky ? 'table' : 'none', stickySessionsCookieName: '',
      serverIp: over.map((s) => s.host),
      healthCheck: fastCheck({ port: over[0].port, httpConfig: { uri: '/health', method: 'GET', code: 200, hostHeader: '' } }) });
    await sdk.createFrontend({ lbId: lb.id, name: 'www', inboundPort: PORT, backendId: backend.id, enableHttp3: false,
      enableAccessLogs: false });
    const ready = await waitFor('both instances ready', async () => {
      const l = await sdk.getLb({ lbId: lb.id });
      return l.instances.length === 2 && l.instances.every((i) => i.status === 'ready') ? l : null;
    }, 30_000, 100);
    await waitFor('every server up on both nodes', async () => {
      const stats = (await sdk.listBackendStats({ lbId: lb.id })).backendServersStats;
      return stats.length === 2 * over.length && stats.every((s) => s.serverState === 'running');
    }, 20_000, 200);
    return { lb: ready, vip: ready.ip[0].ipAddress, backendId: backend.id };
  }

  /**
   * Pins every client to the same server: round robin alternates, and a filler source takes the other server before
   * each client. A node without the replicated table would spread the clients over both servers.
   */
  async function pinClients(vip: string): Promise<Map<string, string>> {
    const pins = new Map<string, string>();
    for (let i = 0; i < clients.length; i++) {
      await getFrom(fillers[i], vip, PORT);
      pins.set(clients[i], (await getFrom(clients[i], vip, PORT)).body);
    }
    assert.equal(new Set(pins.values()).size, 1, `clients pinned to one server: ${[...pins.values()]}`);
    return pins;
  }

  async function serverOf(src: string, vip: string): Promise<string> {
    return (await getFrom(src, vip, PORT)).body;
  }

  test('a killed node: traffic continues from its pair within 3 s, sticky clients keep their server, the instance reads error, then moves', async () => {
    const { lb, vip, backendId } = await haLb('ha');
    const nodesOf = (l: Lbv1.Lb) => l.instances.map((i) => i.ipAddress).sort();
    assert.deepEqual(nodesOf(lb), [lab.nodes[0].address, lab.nodes[1].address], 'placed on the two least-loaded nodes');
    const master = await waitFor('one node holds the LB address', () => agents.find((a) => holds(lab, a.node, vip)), 5000, 100);
    const backup = agents.find((a) => a !== master && lb.instances.some((i) => i.ipAddress === a.node.address))!;

    const pins = await pinClients(vip);
    const pinnedAt = performance.now();
    // Each node serves its own HAProxy's metrics of the LB, under Scaleway ids; the master counted the pinning requests.
    const requestsOn = async (a: Agent) => {
      const text = await (await fetch(`http://${a.node.address}:${NODE_METRICS_PORT}/metrics`)).text();
      assert.match(text, new RegExp(`^fulcrum_lb_exporter_up\\{lb_id="${lb.id}"\\} 1$`, 'm'), `${a.node.name} scraped its HAProxy`);
      const m = new RegExp(`^haproxy_frontend_http_requests_total\\{lb_id="${lb.id}",frontend_id="[^"]+"\\} (\\d+)$`, 'm').exec(text);
      assert.ok(m, `${a.node.name} has the frontend's request count`);
      return Number(m[1]);
    };
    assert.ok(await requestsOn(master) >= clients.length * 2, 'the master served the pinning requests');
    assert.equal(await requestsOn(backup), 0, 'the backup served none');
    // Replication is asynchronous (peers push entries as they change): a pin made just before a crash can be lost.
    // The test waits until the other node's table holds every pin, read on its HAProxy's admin socket.
    const backupSock = lbPaths(join(backup.dataDir, 'haproxy'), lb.id).adminSock;
    await waitFor('the pins replicated to the other node', async () => {
      const keys = new Set(parseTable(await cli(backupSock, `show table ${backendName(backendId)}`).catch(() => '')).map((p) => p.key));
      return clients.every((c) => keys.has(`::ffff:${c}`));
    }, 10_000, 20);
    report('last pin → replicated to the other node', performance.now() - pinnedAt);

    const p = probe(vip, PORT);
    await waitFor('probe succeeds', () => p.ok.length > 3, 5000);
    const killedAt = performance.now();
    killNode(master);
    await waitFor('traffic from the other node', () => p.ok.some((o) => o.at > killedAt + 100), 10_000, 50);
    await waitFor('the address moved', () => holds(lab, backup.node, vip), 5000, 50);
    await new Promise((r) => setTimeout(r, 500));
    await p.stop();
    const gap = p.gapAfter(killedAt);
    report('failover gap after SIGKILL of a node', gap);
    assert.ok(gap < FAILOVER_BOUND_MS, `traffic stopped for ${Math.round(gap)} ms`);

    // Clients asked in the reverse order: a fresh round robin would not reproduce the pins.
    for (const c of [...clients].reverse()) assert.equal(await serverOf(c, vip), pins.get(c), `client ${c} kept its server`);

    const lost = await waitFor('the lost instance reads error', async () => {
      const l = await sdk.getLb({ lbId: lb.id });
      return l.instances.find((i) => i.ipAddress === master.node.address && i.status === 'error') ? l : null;
    }, 10_000, 100);
    report('kill → the lost instance reads error', performance.now() - killedAt);
    assert.equal(lost.status, 'ready', 'one instance still serves: the LB stays ready');
    assert.ok(lost.instances.some((i) => i.ipAddress === backup.node.address && i.status === 'ready'));
    const metrics = await (await fetch(`${api.url}/metrics`, { headers: { 'X-Auth-Token': api.key } })).text();
    assert.match(metrics, /^fulcrum_lb_instances\{status="error"\} 1$/m, 'the metrics count instances per node');

    const third = agents.find((a) => a !== master && a !== backup)!;
    const moved = await waitFor('the instance moved to the third node', async () => {
      const l = await sdk.getLb({ lbId: lb.id });
      return l.instances.length === 2 && l.instances.every((i) => i.status === 'ready')
        && nodesOf(l).includes(third.node.address) ? l : null;
    }, 30_000, 200);
    report('kill → the instance runs on the third node', performance.now() - killedAt);
    assert.ok(!nodesOf(moved).includes(master.node.address));
    assert.equal((await httpGet(vip, PORT)).status, 200);
    const stats = await waitFor('stats of both instances', async () => {
      const all = (await sdk.listBackendStats({ lbId: lb.id })).backendServersStats;
      return all.length === 4 ? all : null;
    }, 10_000, 200);
    assert.deepEqual([...new Set(stats.map((s) => s.instanceId))].sort(), moved.instances.map((i) => i.id).sort(),
      'backend stats per instance');
  });

  test('an agent restart moves nothing: HAProxy and keepalived keep running and are adopted', async () => {
    const { lb, vip } = await haLb('restart');
    const master = await waitFor('one node holds the LB address', () => agents.find((a) => holds(lab, a.node, vip)), 5000, 100);
    const before = { haproxy: haproxyMastersOf(master.dataDir).sort(), keepalived: keepalivedPids(master).sort() };
    const keepalivedLog = join(master.dataDir, 'keepalived', 'keepalived.log');
    const logBefore = readFileSync(keepalivedLog, 'utf8').length;
    assert.ok(before.haproxy.length > 0 && before.keepalived.length === 2, JSON.stringify(before));
    const p = probe(vip, PORT);
    await waitFor('probe succeeds', () => p.ok.length > 3, 5000);
    const exited = new Promise((r) => master.child.once('exit', r));
    master.child.kill('SIGKILL');
    await exited;
    const restartedAt = new Date().toISOString();
    const restarted = startAgent(lab, master.node, storeUrl, master.dataDir, { extraArgs: agentArgs() });
    agents[agents.indexOf(master)] = restarted;
    // The restarted agent reports its instance ready again, as of after the restart (its first apply adopted HAProxy).
    const instance = lb.instances.find((i) => i.ipAddress === master.node.address)!;
    await waitFor('the restarted agent reports', async () => {
      const rows = await pg.sql(`SELECT count(*) FROM cluster_reports WHERE node = '${master.node.name}' AND status = 'ready'`
        + ` AND lb_id = '${lb.id}' AND updated_at > '${restartedAt}'`, new URL(storeUrl).pathname.slice(1));
      return Number(rows.trim()) === 1;
    }, 20_000, 100);
    await new Promise((r) => setTimeout(r, 1500)); // a few heartbeats of the new agent
    await p.stop();
    assert.deepEqual(p.failed, [], 'no request failed while the agent restarted');
    assert.ok(holds(lab, master.node, vip), 'the address stayed');
    assert.deepEqual(haproxyMastersOf(master.dataDir).sort(), before.haproxy, 'HAProxy adopted, not restarted');
    assert.deepEqual(keepalivedPids(restarted).sort(), before.keepalived, 'keepalived adopted, not restarted');
    // Not reloaded either: the restarted agent rendered the same keepalived.conf, with every LB of the node.
    assert.doesNotMatch(readFileSync(keepalivedLog, 'utf8').slice(logBefore), /Reload/i);
    const after = await sdk.getLb({ lbId: lb.id });
    assert.equal(after.instances.find((i) => i.id === instance.id)?.status, 'ready');
  });

  test('a node cut from the network: its pair takes the address within 3 s', async () => {
    const { vip } = await haLb('cut');
    const master = await waitFor('one node holds the LB address', () => agents.find((a) => holds(lab, a.node, vip)), 5000, 100);
    const p = probe(vip, PORT);
    await waitFor('probe succeeds', () => p.ok.length > 3, 5000);
    const cutAt = performance.now();
    lab.cut(master.node);
    try {
      await waitFor('traffic from the other node', () => p.ok.some((o) => o.at > cutAt + 100), 10_000, 50);
      await new Promise((r) => setTimeout(r, 500));
      await p.stop();
      const gap = p.gapAfter(cutAt);
      report('failover gap after cutting a node\'s link', gap);
      assert.ok(gap < FAILOVER_BOUND_MS, `traffic stopped for ${Math.round(gap)} ms`);
    } finally {
      await p.stop();
      lab.restore(master.node);
    }
  });

  test('a private network: the LB\'s address there moves with its VIP, and both nodes check its servers from their own address', async () => {
    const pnServer = await startHttpServer(pn.addHostAddress(201), 'pn');
    servers.push(pnServer);
    // A network the nodes have no interface on: the instances read error, saying which flag is missing.
    const elsewhere = await sdk.createLb({ name: 'pn-elsewhere', description: '', tags: [], type: 'lb-s', assignFlexibleIp: true });
    await sdk.attachPrivateNetwork({ lbId: elsewhere.id, privateNetworkId: PN_ELSEWHERE, staticConfig: { ipAddress: ['10.250.0.5'] } });
    const refused = await waitFor('instances of the LB on an unknown network read error', async () => {
      const l = await sdk.getLb({ lbId: elsewhere.id });
      return l.instances.length === 2 && l.instances.every((i) => i.status === 'error') ? l : null;
    }, 30_000, 200);
    const reasons = await pg.sql(`SELECT reason FROM cluster_reports WHERE lb_id = '${refused.id}'`, new URL(storeUrl).pathname.slice(1));
    assert.match(reasons, new RegExp(`--private-network ${PN_ELSEWHERE}=INTERFACE`));

    const privateAddress = `${pn.prefix}.50`;
    // The backup's checks pass too (haLb waits for the server up on both instances): it reaches the server from its
    // own address on the network, as it does not hold the LB's, so a failover finds the server already up.
    const { lb: ready, vip } = await haLb('pn', { over: [pnServer], sticky: false,
      attach: (lbId) => sdk.attachPrivateNetwork({ lbId, privateNetworkId: PN, staticConfig: { ipAddress: [privateAddress] } }) });
    const master = await waitFor('one node holds the LB address', () => agents.find((a) => holds(lab, a.node, vip)), 5000, 100);
    const holdsPrivate = (a: Agent) => lab.execIn(a.node, 'ip', ['-4', '-o', 'addr', 'show', 'dev', pn.iface]).includes(` ${privateAddress}/`);
    assert.ok(holdsPrivate(master), 'the master holds the private address too');
    const backup = agents.find((a) => a !== master && ready.instances.some((i) => i.ipAddress === a.node.address))!;
    assert.ok(!holdsPrivate(backup), 'the backup does not');
    for (const host of [vip, privateAddress]) assert.equal((await httpGet(host, PORT)).body, 'pn', `served on ${host}`);

    killNode(master);
    await waitFor('the private address moved', () => holdsPrivate(backup), 10_000, 50);
    for (const host of [vip, privateAddress]) {
      await waitFor(`served on ${host} by the other node`, async () => (await httpGet(host, PORT).catch(() => null))?.body === 'pn', 5000, 50);
    }
  });
});
