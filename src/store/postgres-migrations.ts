// Schema migrations on PostgreSQL, in named sets (the store's own below; other modules may bring theirs). Every set is
// applied under one session advisory lock, so that any number of processes starting together migrate exactly once;
// `fulcrum_migrations` records how many steps of each set have run, each step in its own transaction.
import type pg from 'pg';

export interface MigrationSet {
  /** Stable name, the key in fulcrum_migrations. */
  name: string;
  /** SQL steps in order; a step once released is never edited, only followed by new ones. */
  steps: string[];
}

/** The advisory lock key of migrations (any constant 64-bit number no other code uses). */
const MIGRATION_LOCK = 4_242_015_001;

// The same tables as the SQLite store (migrations.ts), with `seq` for insertion order (SQLite's rowid) and
// `address_key` for the numeric address order that SQLite computes with a function.
export const STORE_MIGRATIONS: MigrationSet = {
  name: 'store',
  steps: [
    `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE lbs (
       id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, zone TEXT NOT NULL, project_id TEXT NOT NULL,
       organization_id TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX lbs_zone ON lbs(zone, created_at);
     CREATE TABLE ips (
       id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, zone TEXT NOT NULL, project_id TEXT NOT NULL,
       organization_id TEXT NOT NULL, address TEXT NOT NULL UNIQUE, address_key TEXT NOT NULL, lb_id TEXT REFERENCES lbs(id),
       created_at TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX ips_lb ON ips(lb_id);
     CREATE TABLE backends (
       id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, lb_id TEXT NOT NULL REFERENCES lbs(id),
       name TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX backends_lb ON backends(lb_id, created_at);
     CREATE TABLE frontends (
       id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, lb_id TEXT NOT NULL REFERENCES lbs(id),
       backend_id TEXT NOT NULL REFERENCES backends(id), inbound_port INTEGER NOT NULL, name TEXT NOT NULL,
       created_at TEXT NOT NULL, doc TEXT NOT NULL, CONSTRAINT frontends_port_unique UNIQUE (lb_id, inbound_port));
     CREATE INDEX frontends_backend ON frontends(backend_id);
     CREATE TABLE api_keys (
       id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, access_key TEXT NOT NULL UNIQUE,
       secret_hash TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT,
       doc TEXT NOT NULL);
     CREATE TABLE certificates (
       id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, lb_id TEXT NOT NULL REFERENCES lbs(id),
       name TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX certificates_lb ON certificates(lb_id, created_at);
     CREATE TABLE routes (
       id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, lb_id TEXT NOT NULL REFERENCES lbs(id),
       zone TEXT NOT NULL, project_id TEXT NOT NULL,
       frontend_id TEXT NOT NULL REFERENCES frontends(id) ON DELETE CASCADE, backend_id TEXT NOT NULL REFERENCES backends(id),
       name TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX routes_frontend ON routes(frontend_id, created_at);
     CREATE INDEX routes_backend ON routes(backend_id);
     CREATE INDEX routes_lb ON routes(lb_id);
     CREATE INDEX routes_zone ON routes(zone, created_at);
     CREATE TABLE acls (
       id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, lb_id TEXT NOT NULL REFERENCES lbs(id),
       frontend_id TEXT NOT NULL REFERENCES frontends(id) ON DELETE CASCADE, name TEXT NOT NULL,
       created_at TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX acls_frontend ON acls(frontend_id, created_at);
     CREATE TABLE subscribers (
       id TEXT PRIMARY KEY, seq BIGINT GENERATED ALWAYS AS IDENTITY, zone TEXT NOT NULL, project_id TEXT NOT NULL,
       organization_id TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL);
     CREATE INDEX subscribers_zone ON subscribers(zone, created_at);`,
    // Certificates' PEMs, sealed (pem-seal.ts), one row per version: a row is written before the certificate's document
    // names its hash, so whoever reads that document finds the PEM. Old versions and orphans are swept.
    `CREATE TABLE certificate_pems (
       certificate_id TEXT NOT NULL, pem_sha256 TEXT NOT NULL, sealed TEXT NOT NULL,
       created_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (certificate_id, pem_sha256));`,
    // HTTP-01 answers of running ACME orders: part of the LB's snapshot, served by every process running its HAProxy.
    `CREATE TABLE acme_challenges (
       lb_id TEXT NOT NULL REFERENCES lbs(id) ON DELETE CASCADE, token TEXT NOT NULL, key_authorization TEXT NOT NULL,
       created_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (lb_id, token));`,
  ],
};

/** Brings every set up to date, holding the migration lock (other processes wait for it, then find nothing to do). */
export async function migrate(pool: pg.Pool, sets: MigrationSet[]): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await c.query('CREATE TABLE IF NOT EXISTS fulcrum_migrations (set_name TEXT PRIMARY KEY, applied INTEGER NOT NULL)');
      for (const set of sets) {
        const row = await c.query<{ applied: number }>('SELECT applied FROM fulcrum_migrations WHERE set_name = $1', [set.name]);
        for (let i = row.rows[0]?.applied ?? 0; i < set.steps.length; i++) {
          await c.query('BEGIN');
          try {
            await c.query(set.steps[i]);
            await c.query(`INSERT INTO fulcrum_migrations (set_name, applied) VALUES ($1, $2)
              ON CONFLICT (set_name) DO UPDATE SET applied = excluded.applied`, [set.name, i + 1]);
            await c.query('COMMIT');
          } catch (err) {
            await c.query('ROLLBACK');
            throw err;
          }
        }
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    c.release();
  }
}
