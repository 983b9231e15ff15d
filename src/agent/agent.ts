// `fulcrum agent`: runs the HAProxy instances (and keepalived) of the LBs placed on its node, and no API. It reads the
// LBs from the shared PostgreSQL store (whose change feed tells it what to apply), and every HEARTBEAT_MS it records
// its heartbeat, reads the placements, and publishes each instance's status and backend stats to the cluster tables.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { checkInterface, checkNodeAddress, checkNodeName } from '../cluster/names.js';
import { PostgresCluster } from '../cluster/postgres-cluster.js';
import type { InstanceReport } from '../cluster/types.js';
import { SharedStoreDataPlane } from '../control/shared-dataplane.js';
import { Reconciler } from '../control/reconciler.js';
import { HaproxyDataPlane } from '../dataplane/dataplane.js';
import type { ServerStat } from '../domain/stats.js';
import { CertificateFiles } from '../store/certificate-files.js';
import { CertificatePems } from '../store/certificate-pems.js';
import type { PemSealer } from '../store/pem-seal.js';
import { PostgresStore } from '../store/postgres.js';
import { Keepalived } from './keepalived.js';
import { NodeDataPlane } from './node-dataplane.js';
import { startNodeMetrics } from './node-metrics.js';
import { NodePlacements } from './placements.js';
import { placedStore } from './placed-store.js';

/** Heartbeat and placement period; `serve` reads a node silent for 3 of them as down (cluster/instances.ts). */
export const HEARTBEAT_MS = 500;

const PEM_KEY_NEEDED = 'fulcrum agent needs FULCRUM_PEM_KEY (or --pem-key-file), the key the API servers seal certificates\' PEMs with: '
  + 'the same 32 bytes in base64 on every process (docs/scale-out.md)';

export interface AgentConfig {
  store: string;
  node: string;
  nodeAddress: string;
  iface: string;
  dataDir: string;
  /** Private network id → this node's interface on it (`--private-network ID=IFACE`). */
  pnInterfaces: Map<string, string>;
  /** Where to serve the node's LB metrics (GET /metrics); none when null. */
  metricsListen: { host: string; port: number } | null;
  /** Opens the certificates' PEMs sealed in the store (FULCRUM_PEM_KEY); required. */
  pemSealer: PemSealer | null;
}

export interface RunningAgent {
  close(): Promise<void>;
}

export async function runAgent(cfg: AgentConfig, log: Logger): Promise<RunningAgent> {
  const node = { name: checkNodeName(cfg.node), address: checkNodeAddress(cfg.nodeAddress), iface: checkInterface(cfg.iface) };
  if (!cfg.pemSealer) throw new Error(PEM_KEY_NEEDED);
  mkdirSync(cfg.dataDir, { recursive: true });
  const cluster = await PostgresCluster.open(cfg.store);
  const store = await PostgresStore.open(cfg.store, {
    onFeedEvent: (event, err) => (event === 'lost' ? log.warn({ err }, 'change feed lost: reconnecting') : log.info('change feed restored')),
  });
  const placements = new NodePlacements(node.name);
  const refresh = async () => {
    await cluster.heartbeat(node.name, node.address);
    const [nodes, all] = await Promise.all([cluster.nodes(), cluster.placements()]);
    return placements.update(nodes, all);
  };
  await refresh();

  // The PEMs of the certificates this node's LBs use, written from the store before each apply, and their ACME
  // answers (shared-dataplane.ts).
  const pems = new CertificatePems(new CertificateFiles(cfg.dataDir), { rows: store, sealer: cfg.pemSealer });
  const haproxyDir = join(cfg.dataDir, 'haproxy');
  const haproxy = new HaproxyDataPlane({ dataDir: haproxyDir, certDir: pems.dir, log: log.child({ component: 'dataplane' }),
    peersOf: (lbId) => placements.peers(lbId), pnSource: false });
  const dataPlane = new NodeDataPlane(haproxy, new Keepalived(cfg.dataDir), node, (id, a) => placements.vrrp(id, a), cfg.pnInterfaces);
  const reconciler = new Reconciler(placedStore(store, (id) => placements.has(id), () => placements.ids()),
    new SharedStoreDataPlane(dataPlane, pems, true), log.child({ component: 'reconciler' }));

  for (const [lbId, running] of await haproxy.adoptAll(placements.ids())) {
    const snap = running ? await store.snapshot(lbId) : null;
    if (snap) dataPlane.adopted(snap);
  }

  const published = new Map<string, string>();
  const lastStats = new Map<string, ServerStat[]>();
  const publish = async (lbId: string, readStats: boolean) => {
    const own = placements.own(lbId);
    if (!own) return;
    if (readStats) lastStats.set(lbId, ((await reconciler.stats(lbId)) ?? []).map((s) => ({ ...s, instanceId: own.instanceId })));
    const r: InstanceReport = { lbId, node: node.name, state: reconciler.instanceState(lbId),
      appliedVersion: reconciler.appliedVersion(lbId), triedVersion: reconciler.triedVersion(lbId), stats: lastStats.get(lbId) ?? [] };
    const text = JSON.stringify(r);
    if (published.get(lbId) === text) return;
    await cluster.report(r);
    published.set(lbId, text);
  };
  // An instance that became ready (or failed) is published at once: that is when a change counts as applied here.
  const unsubscribe = reconciler.events.subscribe((e) => {
    if (e.kind === 'instance') void publish(e.lbId, false).catch((err: unknown) => log.warn({ err }, 'publishing an instance failed'));
  });

  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      for (const id of await refresh()) reconciler.refresh(id);
      await dataPlane.keepRunning();
      for (const id of placements.ids()) await publish(id, true);
      for (const id of published.keys()) if (!placements.has(id)) { published.delete(id); lastStats.delete(id); }
    } catch (err) {
      log.warn({ err }, 'agent heartbeat failed');
    }
    if (!stopped) timer = setTimeout(() => { ticking = tick(); }, HEARTBEAT_MS);
  };
  await reconciler.start();
  ticking = tick();
  const metrics = cfg.metricsListen ? await startNodeMetrics(cfg.metricsListen, haproxyDir, () => placements.ids(), log) : null;
  log.info({ node: node.name, address: node.address, lbs: placements.ids().length }, 'fulcrum agent running');

  return {
    async close() {
      stopped = true;
      await metrics?.close();
      if (timer) clearTimeout(timer);
      await ticking;
      unsubscribe();
      await reconciler.close();
      await dataPlane.close();
      await store.close();
      await cluster.close();
    },
  };
}
