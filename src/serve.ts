// `fulcrum serve`: the API, the reconciler and the HAProxy supervisor in one process; state in SQLite under the data dir
// or in a PostgreSQL database that several `fulcrum serve` share (`--store`).
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { AddressPool } from './api/address-pool.js';
import { Keys } from './api/auth.js';
import { buildApi } from './api/server.js';
import { DEFAULTS, type ServeConfig } from './config.js';
import { AcmeJob } from './control/acme.js';
import { Alerts } from './control/alerts.js';
import { smtpSender } from './control/alerts-mail.js';
import { StatsPoller, subscribedLbIds } from './control/events.js';
import { MemoryDataPlane } from './control/memory-dataplane.js';
import type { DataPlanePort } from './control/port.js';
import { Reconciler } from './control/reconciler.js';
import { coordinate, type Coordination } from './store/leader.js';
import { HaproxyDataPlane } from './dataplane/dataplane.js';
import { CertificateFiles } from './store/certificate-files.js';
import { serveCertificatePems, type CertificatePems } from './store/certificate-pems.js';
import type { Certificate } from './domain/certificates.js';
import { SharedStoreDataPlane } from './control/shared-dataplane.js';
import { isChallengeStore, storeChallenges } from './control/store-challenges.js';
import { describeStore, openStore } from './store/open.js';
import { isUuid } from './domain/validation.js';
import { LogRotator } from './ops/log-rotation.js';
import { ControlMetrics } from './ops/metrics.js';
import { inRange, type PrivateNetwork } from './domain/private-networks.js';

export interface Running {
  url: string;
  close(): Promise<void>;
}

export async function serve(cfg: ServeConfig, log: Logger = pino({ level: cfg.logLevel })): Promise<Running> {
  mkdirSync(cfg.dataDir, { recursive: true });
  const metrics = new ControlMetrics();
  const store = metrics.meterStore(await openStore(cfg.store, cfg.dataDir, log.child({ component: 'store' })));
  const pems = serveCertificatePems(cfg, store, new CertificateFiles(cfg.dataDir), log);
  if (pems.shared) await sealPems(pems, await store.allCertificates(), log);
  // The agents mode's modules (placement, cluster tables) load only when it is chosen.
  const agents = cfg.dataplane === 'agents'
    ? await (await import('./cluster/agents-mode.js')).startAgentsControl(cfg.store, store, log.child({ component: 'placement' }),
      (lbId) => reconciler.refresh(lbId)) : null;
  // Without HAProxy in this process, the reconciler applies to the nodes (agents) or to memory (none).
  const local = cfg.dataplane === 'haproxy';
  const pool = new AddressPool(cfg.ipPool);
  checkNoOverlap(pool, cfg.privateNetworks);

  if (cfg.secretKey !== null && !isUuid(cfg.secretKey)) throw new Error('FULCRUM_SECRET_KEY must be a UUID (the Scaleway SDKs refuse other keys)');
  let secretKey = cfg.secretKey ?? (await store.getSetting('admin_secret_key'));
  if (!secretKey) {
    // Processes starting together on one shared store all end up with the key stored first.
    const generated = randomUUID();
    secretKey = await store.initSetting('admin_secret_key', generated);
    // Printed once, on the start that generated it.
    if (secretKey === generated) process.stdout.write(`Fulcrum admin secret key (stored in ${describeStore(cfg.store, cfg.dataDir)}): ${secretKey}\n`);
  }
  const defaultProjectId = await store.getSetting('default_project_id') ?? await store.initSetting('default_project_id', randomUUID());

  const haproxy = !local ? null : new HaproxyDataPlane({ dataDir: cfg.dataDir, certDir: pems.dir, edgeServicesIps: cfg.edgeServicesIps,
    log: log.child({ component: 'dataplane' }), onReload: metrics.onReload });
  // On a shared store, certificates' PEMs and ACME answers may come from another process: through the store.
  const shared = isChallengeStore(store) ? store : null;
  const dataPlane: DataPlanePort = metrics.meterDataPlane(agents ? agents.dataPlane : !haproxy ? new MemoryDataPlane()
    : shared ? new SharedStoreDataPlane(haproxy, pems, false) : haproxy);
  // On a shared store, an API-only process leaves lifecycles to the processes with a data plane while one is connected
  // (and until it can ask: what it left is finished at reconciler.start()).
  let coordination: Coordination | null = null;
  const reconciler = new Reconciler(store, dataPlane, log.child({ component: 'reconciler' }), undefined,
    async () => cfg.dataplane !== 'none' || (coordination !== null && !(await coordination.dataPlaneConnected())));
  // Live reads of backend-stats feed the events of every LB; the poller keeps those of LBs with a subscriber flowing.
  const poller = new StatsPoller(() => subscribedLbIds(store), reconciler);
  const acmeJob = new AcmeJob(store, shared ? storeChallenges(shared, log.child({ component: 'acme' })) : dataPlane, pems, (lbId) => reconciler.settled(lbId), {
    directoryUrl: cfg.acme?.directoryUrl ?? DEFAULTS.acmeDirectory, email: cfg.acme?.email ?? null, caFile: cfg.acme?.caFile ?? null,
    dataDir: cfg.dataDir,
  }, log.child({ component: 'acme' }));
  const app = await buildApi({
    store, reconciler, pool, zones: cfg.zones, defaultProjectId, certificatePems: pems, acme: acmeJob,
    privateNetworks: cfg.privateNetworks, mailRelay: cfg.smtp !== null, instances: agents?.instances,
  }, new Keys(secretKey, store), log, { rateLimit: cfg.rateLimit, adminRateLimit: cfg.adminRateLimit,
    metrics: { control: metrics, dataDir: local ? cfg.dataDir : null, public: cfg.metricsPublic } });
  // The jobs that must run once per deployment run in the leader only (store/leader.ts).
  let alerts: Alerts | null = null;
  const coordinationLog = log.child({ component: 'coordination' });
  coordination = await coordinate(cfg.store, {
    dataPlane: cfg.dataplane !== 'none',
    async onLeading(leading) {
      if (leading) {
        alerts = new Alerts(reconciler.events, store, cfg.smtp ? smtpSender(cfg.smtp) : null, log.child({ component: 'alerts' }));
        poller.start();
        acmeJob.lead();
      } else {
        await acmeJob.stepDown();
        await poller.stop();
        await alerts?.close();
        alerts = null;
      }
      if (cfg.store) coordinationLog.info({ leading }, leading ? 'leading: ACME orders and alerts run here' : 'no longer leading');
    },
    onDataPlaneGone() {
      coordinationLog.info('no process with a data plane is connected: this one finishes lifecycles');
      void reconciler.start().catch((err: unknown) => coordinationLog.warn({ err }, 're-checking every LB failed'));
    },
    onError: (err) => coordinationLog.warn({ err }, 'coordination connection lost: not leading until it is back'),
  });
  await reconciler.start();
  await acmeJob.start();
  const rotator = !local ? null : new LogRotator(cfg.dataDir, cfg.logRotation);
  rotator?.start();
  const address = await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
  log.info({ address, dataDir: cfg.dataDir, store: describeStore(cfg.store, cfg.dataDir), zones: cfg.zones }, 'fulcrum serving');

  return {
    url: address,
    async close() {
      await app.close();
      await rotator?.stop();
      await coordination?.close();
      await acmeJob.close();
      await agents?.dataPlane.close(); // ends its waits for the nodes, so that the reconciler settles at once
      await reconciler.close();
      await agents?.close();
      await dataPlane.close();
      await store.close();
    },
  };
}

/**
 * At start, with a shared store and a key: seals the PEM files received before the key was set, and seals again under
 * the current key what a previous one sealed (docs/scale-out.md, rotation).
 */
async function sealPems(pems: CertificatePems, certificates: Certificate[], log: Logger): Promise<void> {
  const keyId = pems.shared!.sealer.keyId;
  const sealed = await pems.sealLocalFiles(certificates);
  if (sealed) log.info({ certificates: sealed, keyId }, 'sealed into the store the PEM files of certificates received before FULCRUM_PEM_KEY was set');
  const { resealed, unreadable } = await pems.resealUnderCurrentKey();
  if (resealed) log.info({ rows: resealed, keyId }, 'sealed again under the current FULCRUM_PEM_KEY the PEMs a previous key sealed');
  if (unreadable) log.warn({ rows: unreadable, keyId }, 'PEMs in the store sealed under a key this process does not have (FULCRUM_PEM_KEY_PREVIOUS)');
}

/** A private network overlapping the IP pool would let two LBs bind one address (HAProxy binds with SO_REUSEPORT). */
function checkNoOverlap(pool: AddressPool, networks: PrivateNetwork[]): void {
  for (const n of networks) {
    const clash = [...pool.v4, ...pool.v6].find((a) => inRange(a, n.cidr));
    if (clash) throw new Error(`--private-network ${n.id}=${n.cidr} overlaps --ip-pool (${clash})`);
  }
}
