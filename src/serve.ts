// `fulcrum serve`: the API, the reconciler and the HAProxy supervisor in one process, state in SQLite under the data dir.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { AddressPool } from './api/address-pool.js';
import { Keys } from './api/auth.js';
import { buildApi } from './api/server.js';
import { DEFAULTS, type ServeConfig } from './config.js';
import { AcmeJob } from './control/acme.js';
import { MemoryDataPlane } from './control/memory-dataplane.js';
import type { DataPlanePort } from './control/port.js';
import { Reconciler } from './control/reconciler.js';
import { HaproxyDataPlane } from './dataplane/dataplane.js';
import { CertificateFiles } from './store/certificate-files.js';
import { SqliteStore } from './store/sqlite.js';
import { isUuid } from './domain/validation.js';

export interface Running {
  url: string;
  close(): Promise<void>;
}

export async function serve(cfg: ServeConfig, log: Logger = pino({ level: cfg.logLevel })): Promise<Running> {
  mkdirSync(cfg.dataDir, { recursive: true });
  const store = new SqliteStore(join(cfg.dataDir, 'fulcrum.db'));
  const pool = new AddressPool(cfg.ipPool);

  if (cfg.secretKey !== null && !isUuid(cfg.secretKey)) throw new Error('FULCRUM_SECRET_KEY must be a UUID (the Scaleway SDKs refuse other keys)');
  let secretKey = cfg.secretKey ?? (await store.getSetting('admin_secret_key'));
  if (!secretKey) {
    secretKey = randomUUID();
    await store.setSetting('admin_secret_key', secretKey);
    // Printed once, on the start that generated it.
    process.stdout.write(`Fulcrum admin secret key (stored in ${cfg.dataDir}): ${secretKey}\n`);
  }
  let defaultProjectId = await store.getSetting('default_project_id');
  if (!defaultProjectId) {
    defaultProjectId = randomUUID();
    await store.setSetting('default_project_id', defaultProjectId);
  }

  const certificateFiles = new CertificateFiles(cfg.dataDir);
  const dataPlane: DataPlanePort = cfg.dataplane === 'none' ? new MemoryDataPlane()
    : new HaproxyDataPlane({ dataDir: cfg.dataDir, certDir: certificateFiles.dir, edgeServicesIps: cfg.edgeServicesIps,
      log: log.child({ component: 'dataplane' }) });
  const reconciler = new Reconciler(store, dataPlane, log.child({ component: 'reconciler' }));
  const acmeJob = new AcmeJob(store, dataPlane, certificateFiles, (lbId) => reconciler.settled(lbId), {
    directoryUrl: cfg.acme?.directoryUrl ?? DEFAULTS.acmeDirectory, email: cfg.acme?.email ?? null, caFile: cfg.acme?.caFile ?? null,
    dataDir: cfg.dataDir,
  }, log.child({ component: 'acme' }));
  const app = await buildApi({ store, reconciler, pool, zones: cfg.zones, defaultProjectId, certificateFiles, acme: acmeJob },
    new Keys(secretKey, store), log, { rateLimit: cfg.rateLimit, adminRateLimit: cfg.adminRateLimit });
  await reconciler.start();
  await acmeJob.start();
  const address = await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
  log.info({ address, dataDir: cfg.dataDir, zones: cfg.zones }, 'fulcrum serving');

  return {
    url: address,
    async close() {
      await app.close();
      await acmeJob.close();
      await reconciler.close();
      await dataPlane.close();
      await store.close();
    },
  };
}
