// `fulcrum keys create|list|revoke`: project-scoped secret keys, written to the same store as `fulcrum serve` uses (the
// SQLite file in WAL mode, or PostgreSQL: safe while it runs, and it sees each change on the next request).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hashSecretKey, newAccessKey, type ApiKey } from './domain/keys.js';
import { isText, isUuid } from './domain/validation.js';
import { SQLITE_FILE, openStore } from './store/open.js';
import type { Store } from './store/store.js';

/** Where `fulcrum serve` keeps its state: a PostgreSQL URL, or else the SQLite file in the data dir. */
export interface StoreLocation {
  dataDir: string;
  storeUrl: string | null;
}

async function withStore<T>({ dataDir, storeUrl }: StoreLocation, create: boolean, fn: (s: Store) => Promise<T>): Promise<T> {
  if (!storeUrl) {
    if (create) mkdirSync(dataDir, { recursive: true });
    else if (!existsSync(join(dataDir, SQLITE_FILE))) throw new Error(`no Fulcrum store in ${dataDir} (give --data-dir or --store)`);
  }
  const store = await openStore(storeUrl, dataDir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const publicView = (k: ApiKey) => ({
  id: k.id, access_key: k.accessKey, project_id: k.projectId, description: k.description, created_at: k.createdAt,
  revoked_at: k.revokedAt,
});

export async function createKey(at: StoreLocation, opts: { project: string; description?: string; json?: boolean }): Promise<string> {
  if (!isUuid(opts.project)) throw new Error(`--project ${opts.project}: expected a project id (a UUID)`);
  const description = opts.description ?? '';
  if (!isText(description, 255)) throw new Error('--description: at most 255 characters, on one line');
  const secret = randomUUID();
  const key: ApiKey = {
    id: randomUUID(), accessKey: newAccessKey(), secretHash: hashSecretKey(secret), projectId: opts.project.toLowerCase(),
    description, createdAt: new Date().toISOString(), revokedAt: null,
  };
  await withStore(at, true, (s) => s.createApiKey(key));
  if (opts.json) return JSON.stringify({ ...publicView(key), secret_key: secret });
  return [
    `access key: ${key.accessKey}`,
    `secret key: ${secret}`,
    `project:    ${key.projectId}`,
    `id:         ${key.id}`,
    '',
    'The secret key is shown only now: Fulcrum keeps a hash of it. Clients send it as X-Auth-Token (SCW_SECRET_KEY).',
  ].join('\n');
}

export async function listKeys(at: StoreLocation, opts: { json?: boolean }): Promise<string> {
  const keys = await withStore(at, false, (s) => s.listApiKeys());
  if (opts.json) return JSON.stringify(keys.map(publicView));
  if (keys.length === 0) return 'no keys (the admin key is FULCRUM_SECRET_KEY or the one printed on first start)';
  const rows = [['ACCESS KEY', 'ID', 'PROJECT', 'CREATED', 'REVOKED', 'DESCRIPTION'],
    ...keys.map((k) => [k.accessKey, k.id, k.projectId, k.createdAt, k.revokedAt ?? '-', k.description])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export async function revokeKey(at: StoreLocation, name: string): Promise<string> {
  const k = await withStore(at, false, (s) => s.revokeApiKey(name, new Date().toISOString()));
  if (!k) throw new Error(`no active key with access key or id ${name}`);
  return `revoked ${k.accessKey} (project ${k.projectId}); it is refused from the next request on`;
}
