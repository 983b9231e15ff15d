// `serve --dataplane agents` with one real `fulcrum agent` in a network namespace (root only): an LB reads `ready` only
// once the node's HAProxy runs its config, and an LB whose first config the node refuses reads `error`, its instance
// carrying the node's reason, until a change the node accepts makes it `ready`. PostgreSQL and the API run in the host
// namespace; the namespace, bridge, processes and temp dirs go away in `after`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { lbPaths } from '../../src/dataplane/haproxy.js';
import { frontendName } from '../../src/dataplane/names.js';
import { cli } from '../../src/dataplane/runtime.js';
import { canUseNetns, createNetLab, type NetLab } from '../fixtures/netns.js';
import { startPostgres, type Postgres } from '../fixtures/postgres.js';
import { httpGet, startHttpServer, waitFor, type HttpTestServer } from '../fixtures/servers.js';
import { Fulcrum } from '../helpers/fulcrum.js';
import { fastCheck } from '../e2e/support/lb.js';
import { TEST_PEM_KEY, destroyAgent, startAgent, type Agent } from './support/cluster.js';

const skip = !canUseNetns() ? 'needs root (network namespaces)'
  : spawnSync('keepalived', ['--version']).error ? 'needs keepalived (scripts/install.sh --test)' : false;

describe('agents mode: `ready` means a node runs it', { skip, timeout: 180_000 }, () => {
  let lab: NetLab;
  let pg: Postgres;
  let api: Fulcrum;
  let sdk: Lbv1.ZonedAPI;
  let agent: Agent | undefined;
  let server: HttpTestServer | undefined;
  let blocker: ReturnType<NetLab['spawnIn']> | undefined;
  let db = '';

  before(async () => {
    lab = createNetLab(1);
    try {
      pg = await startPostgres(lab.hostAddress);
      const url = await pg.database();
      server = await startHttpServer(lab.addHostAddress(201), 's1');
      api = await Fulcrum.start({ dataplane: 'agents', ipPool: `${lab.prefix}.100,${lab.prefix}.101`, env: { FULCRUM_STORE: url, FULCRUM_PEM_KEY: TEST_PEM_KEY } });
      sdk = api.sdk();
      agent = startAgent(lab, lab.nodes[0], url);
      db = new URL(url).pathname.slice(1);
      await waitFor('the agent registered', async () => (await pg.sql('SELECT count(*) FROM cluster_nodes', db).catch(() => '0')).trim() === '1',
        30_000, 100);
    } catch (e) {
      await teardown();
      throw e;
    }
  });

  const teardown = async () => {
    const steps: (() => unknown)[] = [() => blocker?.kill('SIGKILL'), () => api?.destroy().catch(() => api?.kill()), () => agent && destroyAgent(agent),
      () => server?.close(), () => pg?.stop(), () => lab?.cleanup()];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
  };
  after(teardown);

  /** An LB with one HTTP backend and a frontend on `port`, written back to back as Terraform does. */
  async function createLb(name: string, port: number): Promise<{ lb: Lbv1.Lb; frontendId: string; backendId: string }> {
    const lb = await sdk.createLb({ name, description: '', tags: [], type: 'lb-s', assignFlexibleIp: true });
    const backend = await sdk.createBackend({ lbId: lb.id, name: 'app', forwardProtocol: 'http', forwardPort: server!.port,
      forwardPortAlgorithm: 'roundrobin', stickySessions: 'none', stickySessionsCookieName: '', serverIp: [server!.host],
      healthCheck: fastCheck({ port: server!.port }) });
    const fe = await sdk.createFrontend({ lbId: lb.id, name: 'www', inboundPort: port, backendId: backend.id, enableHttp3: false,
      enableAccessLogs: false });
    return { lb, frontendId: fe.id, backendId: backend.id };
  }

  test('the LB reads ready only once the node\'s HAProxy runs its frontend', async () => {
    const { lb, frontendId } = await createLb('ready-order', 8080);
    const socket = lbPaths(join(agent!.dataDir, 'haproxy'), lb.id).adminSock;
    const seen: string[] = [];
    const ready = await waitFor('the LB reads ready', async () => {
      const l = await sdk.getLb({ lbId: lb.id });
      if (seen.at(-1) !== l.status) seen.push(l.status);
      return l.status === 'ready' ? l : null;
    }, 60_000, 20);
    // Read right after the first `ready`: the node's HAProxy answers with the frontend in its running config.
    const frontends = await cli(socket, 'show stat -1 1 -1').catch((e: Error) => `no answer: ${e.message}`);
    assert.match(frontends, new RegExp(`^${frontendName(frontendId)},FRONTEND,`, 'm'), `statuses seen: ${seen.join(' → ')}`);
    assert.ok(!seen.slice(0, -1).includes('ready'));
    assert.deepEqual(ready.instances.map((i) => i.status), ['ready']);
    // And traffic flows once the node holds the address (VRRP elects it master about 1 s after its start).
    await waitFor('traffic through the node', async () => (await httpGet(ready.ip[0].ipAddress, 8080).catch(() => null))?.body === 's1',
      20_000, 100);
  });

  test('a config the node refuses: the LB reads error, refused with the node\'s reason; an accepted change makes it ready', async () => {
    // Something else listens on port 8090 on the node: HAProxy cannot bind the LB's frontend there.
    blocker = lab.spawnIn(lab.nodes[0], process.execPath, ['-e', 'require("net").createServer().listen(8090, "0.0.0.0")'],
      { stdio: 'ignore' });
    await waitFor('the blocker listens', async () => lab.execIn(lab.nodes[0], 'ss', ['-Htln', 'sport = :8090']).includes('8090'), 10_000, 50);
    const { lb, frontendId, backendId } = await createLb('refused', 8090);
    const seen: string[] = [];
    const failed = await waitFor('the LB reads error', async () => {
      const l = await sdk.getLb({ lbId: lb.id });
      if (seen.at(-1) !== l.status) seen.push(l.status);
      return l.status === 'error' ? l : null;
    }, 60_000, 50);
    assert.ok(!seen.includes('ready'), `statuses seen: ${seen.join(' → ')}`);
    assert.deepEqual(failed.instances.map((i) => i.status), ['error']);
    // The API server's apply was refused with the node's own reason (what alerts carry and the log shows).
    const nodeReason = (await pg.sql(`SELECT reason FROM cluster_reports WHERE lb_id = '${lb.id}'`, db)).trim();
    assert.ok(nodeReason.length > 0, 'the node reported a reason');
    const refusals = () => api.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; lbId?: string; reason?: string })
      .filter((l) => l.msg === 'apply refused' && l.lbId === lb.id).map((l) => l.reason);
    await waitFor('the refusal in the API server\'s log', async () => refusals().includes(`node ${lab.nodes[0].name}: ${nodeReason}`), 10_000, 50)
      .catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(refusals())} / ${nodeReason}`); });

    await sdk.updateFrontend({ frontendId, name: 'www', inboundPort: 8091, backendId, enableHttp3: false, enableAccessLogs: false } as never);
    await waitFor('the LB reads ready after the accepted change', async () => (await sdk.getLb({ lbId: lb.id })).status === 'ready', 60_000, 50);
  });
});
