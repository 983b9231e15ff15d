// Which store a command uses: the embedded SQLite file in the data dir, or a PostgreSQL database shared by several
// `fulcrum serve` processes (`--store postgres://…`).
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export const SQLITE_FILE = 'fulcrum.db';

/** `--store URL`: a postgres:// or postgresql:// URL (null: the SQLite file in the data dir). */
export function parseStoreUrl(url: string | undefined): string | null {
  if (url === undefined || url === '') return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('--store: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error(`--store ${redactUrl(url)}: expected a postgres:// URL`);
  if (!u.hostname || u.pathname.length < 2) throw new Error(`--store ${redactUrl(url)}: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE`);
  return url;
}

/** The URL as logs and messages show it: never its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** How a store is named in logs and messages. */
export function describeStore(storeUrl: string | null, dataDir: string): string {
  return storeUrl ? redactUrl(storeUrl) : join(dataDir, SQLITE_FILE);
}

export async function openStore(storeUrl: string | null, dataDir: string, log?: Logger): Promise<Store> {
  if (!storeUrl) return new SqliteStore(join(dataDir, SQLITE_FILE));
  // Loaded only for a shared store: pg and the PostgreSQL store cost about 0.1–0.2 s at every start otherwise.
  const { PostgresStore } = await import('./postgres.js');
  return PostgresStore.open(storeUrl, {
    onFeedEvent: (event, err) => {
      if (event === 'lost') log?.warn({ err }, 'change feed (LISTEN) lost: reconnecting; writes of other processes wait until then');
      else log?.info('change feed (LISTEN) restored: every LB is re-checked');
    },
  });
}
