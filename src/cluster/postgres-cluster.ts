// The cluster tables on PostgreSQL, beside the store's (same database, same migration runner and advisory lock, their
// own migration set). Heartbeat ages are computed by the database so that node clocks never matter.
import pg from 'pg';
import { discard, openSession } from '../store/pg-sessions.js';
import { migrate, type MigrationSet } from '../store/postgres-migrations.js';
import { checkNodeAddress, checkNodeName, checkVrid } from './names.js';
import type { ClusterNode, ClusterStore, InstanceReport, Placement } from './types.js';

export const CLUSTER_MIGRATIONS: MigrationSet = {
  name: 'cluster',
  steps: [
    `CREATE TABLE cluster_nodes (name TEXT PRIMARY KEY, address TEXT NOT NULL, heartbeat_at TIMESTAMPTZ NOT NULL);
     CREATE TABLE cluster_lbs (lb_id TEXT PRIMARY KEY, vrid INTEGER NOT NULL UNIQUE CHECK (vrid BETWEEN 1 AND 255));
     CREATE TABLE cluster_placements (
       lb_id TEXT NOT NULL REFERENCES cluster_lbs(lb_id) ON DELETE CASCADE, node TEXT NOT NULL REFERENCES cluster_nodes(name),
       slot INTEGER NOT NULL CHECK (slot IN (0, 1)), instance_id TEXT NOT NULL,
       PRIMARY KEY (lb_id, node), UNIQUE (lb_id, slot));
     CREATE TABLE cluster_reports (
       lb_id TEXT NOT NULL REFERENCES cluster_lbs(lb_id) ON DELETE CASCADE, node TEXT NOT NULL,
       status TEXT NOT NULL, reason TEXT, updated_at TEXT NOT NULL, applied_version INTEGER NOT NULL, stats JSONB NOT NULL,
       PRIMARY KEY (lb_id, node));`,
    'ALTER TABLE cluster_reports ADD COLUMN tried_version INTEGER NOT NULL DEFAULT 0;',
  ],
};

/** The NOTIFY channel of reports and placement changes; the payload is the LB's id. */
const REPORTS_CHANNEL = 'fulcrum_cluster_reports';
/** Advisory lock key of placement rounds (next to the migrations' 4_242_015_001). */
const PLACEMENT_LOCK = 4_242_015_002;
const CONNECT_TIMEOUT_MS = 5_000;
/** A query that hangs (a cut network) fails after this long, so heartbeats and placement rounds stay bounded. */
const QUERY_TIMEOUT_MS = 5_000;

type PlacementRow = { lb_id: string; node: string; instance_id: string; slot: number; vrid: number };
const placement = (r: PlacementRow): Placement => ({ lbId: r.lb_id, node: r.node, instanceId: r.instance_id, slot: r.slot, vrid: r.vrid });
const PLACEMENTS = 'SELECT p.lb_id, p.node, p.instance_id, p.slot, l.vrid FROM cluster_placements p JOIN cluster_lbs l USING (lb_id)';

export class PostgresCluster implements ClusterStore {
  private watcher: pg.Client | null = null;
  private readonly watchers: ((lbId: string) => void)[] = [];

  private constructor(private readonly url: string, private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresCluster> {
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS });
    pool.on('error', () => undefined); // a dropped idle connection is replaced on next use
    try {
      await migrate(pool, [CLUSTER_MIGRATIONS]);
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresCluster(url, pool);
  }

  async heartbeat(name: string, address: string): Promise<void> {
    await this.pool.query(`INSERT INTO cluster_nodes (name, address, heartbeat_at) VALUES ($1, $2, now())
      ON CONFLICT (name) DO UPDATE SET address = excluded.address, heartbeat_at = excluded.heartbeat_at`,
    [checkNodeName(name), checkNodeAddress(address)]);
  }

  async nodes(): Promise<ClusterNode[]> {
    const r = await this.pool.query<{ name: string; address: string; age_ms: number }>(
      `SELECT name, address, (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age_ms FROM cluster_nodes ORDER BY name`);
    return r.rows.map((n) => ({ name: n.name, address: n.address, ageMs: n.age_ms }));
  }

  async placements(): Promise<Placement[]> {
    return (await this.pool.query<PlacementRow>(`${PLACEMENTS} ORDER BY p.lb_id, p.slot`)).rows.map(placement);
  }

  async placementsOf(lbId: string): Promise<Placement[]> {
    return (await this.pool.query<PlacementRow>(`${PLACEMENTS} WHERE p.lb_id = $1 ORDER BY p.slot`, [lbId])).rows.map(placement);
  }

  async setPlacements(lbId: string, placements: Placement[]): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      if (!placements.length) {
        await c.query('DELETE FROM cluster_lbs WHERE lb_id = $1', [lbId]);
      } else {
        const vrid = checkVrid(placements[0].vrid);
        if (placements.some((p) => p.vrid !== vrid || p.lbId !== lbId)) throw new Error(`placements of ${lbId} disagree`);
        await c.query(`INSERT INTO cluster_lbs (lb_id, vrid) VALUES ($1, $2) ON CONFLICT (lb_id) DO UPDATE SET vrid = excluded.vrid`,
          [lbId, vrid]);
        await c.query('DELETE FROM cluster_placements WHERE lb_id = $1', [lbId]);
        for (const p of placements) {
          await c.query('INSERT INTO cluster_placements (lb_id, node, slot, instance_id) VALUES ($1, $2, $3, $4)',
            [lbId, p.node, p.slot, p.instanceId]);
        }
        // A node that lost the LB no longer reports it.
        await c.query('DELETE FROM cluster_reports WHERE lb_id = $1 AND NOT (node = ANY($2))', [lbId, placements.map((p) => p.node)]);
      }
      await c.query('SELECT pg_notify($1, $2)', [REPORTS_CHANNEL, lbId]);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async report(r: InstanceReport): Promise<void> {
    // Only while the node holds the LB: a late report of a moved instance is dropped. A stored report is announced.
    await this.pool.query(`WITH stored AS (
        INSERT INTO cluster_reports (lb_id, node, status, reason, updated_at, applied_version, tried_version, stats)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM cluster_placements WHERE lb_id = $1 AND node = $2)
        ON CONFLICT (lb_id, node) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at,
          applied_version = excluded.applied_version, tried_version = excluded.tried_version, stats = excluded.stats
        RETURNING lb_id)
      SELECT pg_notify($9, lb_id) FROM stored`,
    [r.lbId, r.node, r.state.status, r.state.reason, r.state.updatedAt, r.appliedVersion, r.triedVersion, JSON.stringify(r.stats),
      REPORTS_CHANNEL]);
  }

  async reports(lbId: string): Promise<InstanceReport[]> {
    const r = await this.pool.query<{ node: string; status: InstanceReport['state']['status']; reason: string | null;
      updated_at: string; applied_version: number; tried_version: number; stats: InstanceReport['stats'] }>(
      `SELECT node, status, reason, updated_at, applied_version, tried_version, stats FROM cluster_reports WHERE lb_id = $1
        ORDER BY node`, [lbId]);
    return r.rows.map((x) => ({ lbId, node: x.node, state: { status: x.status, reason: x.reason, updatedAt: x.updated_at },
      appliedVersion: x.applied_version, triedVersion: x.tried_version, stats: x.stats }));
  }

  /**
   * LISTENs on a connection of its own, opened now or, after it dropped, on the next call: callers call again from time
   * to time (the agents data plane does while it waits), and re-read what they wait for after a drop.
   */
  async watch(listener?: (lbId: string) => void): Promise<void> {
    if (listener) this.watchers.push(listener);
    if (this.watcher) return;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    const dropped = () => {
      if (this.watcher === client) this.watcher = null;
      client.removeAllListeners('notification');
    };
    client.on('error', dropped);
    client.on('end', dropped);
    client.on('notification', (m) => { if (m.payload) for (const l of this.watchers) l(m.payload); });
    this.watcher = client;
    try {
      await openSession(client, (c) => c.query(`LISTEN ${REPORTS_CHANNEL}`));
    } catch (e) {
      dropped();
      throw e;
    }
  }

  async exclusively(fn: () => Promise<void>): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('SELECT pg_advisory_lock($1)', [PLACEMENT_LOCK]);
      try {
        await fn();
      } finally {
        await c.query('SELECT pg_advisory_unlock($1)', [PLACEMENT_LOCK]);
      }
    } finally {
      c.release();
    }
  }

  async close(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = null;
    if (watcher) await discard(watcher);
    await this.pool.end();
  }
}
