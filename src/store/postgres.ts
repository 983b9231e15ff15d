// The shared store: PostgreSQL through `pg`, for several `fulcrum serve` processes on one database. The same
// document-per-row design as the SQLite store (sqlite.ts). Every method is one transaction; a write to an LB's children
// first locks the LB's row, so that writes to one LB run one after another in every process (limits, config versions).
// Committed changes are announced with NOTIFY inside the transaction (delivered on commit) and every store LISTENs on a
// connection of its own: its listeners hear changes committed by any process.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Acl } from '../domain/acls.js';
import type { Backend } from '../domain/backends.js';
import type { Certificate } from '../domain/certificates.js';
import type { Frontend } from '../domain/frontends.js';
import { addressSortKey, type Ip } from '../domain/ips.js';
import type { ApiKey } from '../domain/keys.js';
import { isBeingDeleted, type Lb, type LbStatus } from '../domain/lbs.js';
import type { Route } from '../domain/routes.js';
import type { AcmeChallenge, LbSnapshot } from '../domain/snapshot.js';
import type { Subscriber } from '../domain/subscribers.js';
import { discard, openSession } from './pg-sessions.js';
import { STORE_MIGRATIONS, migrate, type MigrationSet } from './postgres-migrations.js';
import {
  childWhere, creationOrder, ipWhere, lbWhere, orderSql, routeWhere, subscriberWhere, type Dialect, type Where,
} from './query.js';
import {
  ConflictError, addressesOn, certificateChangesConfig, checkRoom, keepLifecycle, type ChangeListener, type ChildFilter, type IpFilter, type LbFilter, type Page, type Paged, type RouteFilter,
  type ChallengeStore, type SealedPemStore, type Store, type SubscriberFilter,
} from './store.js';

const PG: Dialect = {
  contains: (column) => `strpos(${column}, ?) > 0`,
  hasTag: `(doc::jsonb -> 'tags') @> jsonb_build_array(?::text)`,
  isIpv6: `strpos(address, ':') > 0`,
  insertion: 'seq',
  bytewise: (column) => `${column} COLLATE "C"`,
};
const CREATION_ORDER = creationOrder(PG);

/** The NOTIFY channel of committed LB changes; the payload is `<store instance> <LB id>`. */
const CHANGES_CHANNEL = 'fulcrum_lb_changes';
/** First key of the transaction-level advisory locks of private networks (the second is the network id's hash). */
const PN_LOCK_CLASS = 4242;
/** Connections each store may open for queries (the LISTEN connection is one more). */
const POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;
/** Delays between attempts to re-open a dropped LISTEN connection. */
const RELISTEN_MIN_MS = 100;
const RELISTEN_MAX_MS = 5_000;

export interface PostgresStoreOptions {
  /** Told when the change feed drops or comes back (the store keeps retrying meanwhile). */
  onFeedEvent?: (event: 'lost' | 'restored', err?: unknown) => void;
  /** Further migration sets to apply with the store's own (e.g. another module's tables). */
  migrations?: MigrationSet[];
}

type Row = { doc: string };

/** `?` placeholders (as the shared query builder writes them) to PostgreSQL's `$n`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Queries on a pool (each its own transaction) or on one connection inside a transaction. */
class Conn {
  constructor(private readonly q: pg.Pool | pg.PoolClient) {}

  async rows<T>(sql: string, ...args: unknown[]): Promise<T[]> {
    return (await this.q.query(numbered(sql), args)).rows as T[];
  }

  async run(sql: string, ...args: unknown[]): Promise<number> {
    return (await this.q.query(numbered(sql), args)).rowCount ?? 0;
  }

  async docs<T>(sql: string, ...args: unknown[]): Promise<T[]> {
    return (await this.rows<Row>(sql, ...args)).map((r) => JSON.parse(r.doc) as T);
  }

  async doc<T>(sql: string, ...args: unknown[]): Promise<T | null> {
    return (await this.docs<T>(sql, ...args))[0] ?? null;
  }

  async count(sql: string, ...args: unknown[]): Promise<number> {
    return Number((await this.rows<{ n: string }>(sql, ...args))[0].n);
  }

  async paged<T>(table: string, where: Where, page: Page, order = orderSql(PG, page.orderBy)): Promise<Paged<T>> {
    const total = await this.count(`SELECT COUNT(*) AS n FROM ${table} ${where.sql}`, ...where.args);
    const items = await this.docs<T>(`SELECT doc FROM ${table} ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
      ...where.args, page.pageSize, (page.page - 1) * page.pageSize);
    return { items, total };
  }
}

export class PostgresStore implements Store, SealedPemStore, ChallengeStore {
  private readonly listeners: ChangeListener[] = [];
  /** Tells this store's own notifications (already told at commit) from other processes'. */
  private readonly instance = randomUUID();
  private readonly read: Conn;
  private feed: pg.Client | null = null;
  private closed = false;
  private relistenTimer: NodeJS.Timeout | null = null;

  private constructor(private readonly url: string, private readonly pool: pg.Pool, private readonly opts: PostgresStoreOptions) {
    this.read = new Conn(pool);
  }

  /** Connects, migrates (once across processes) and starts listening to the change feed. */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // An idle connection that drops is replaced by the pool; without a handler its error would end the process.
    pool.on('error', () => undefined);
    const store = new PostgresStore(url, pool, opts);
    try {
      await migrate(pool, [STORE_MIGRATIONS, ...(opts.migrations ?? [])]);
      await store.listen();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  // ---- change feed

  private tell(lbIds: Iterable<string>): void {
    for (const id of lbIds) for (const l of this.listeners) l(id);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on('notification', (m) => {
      const [from, lbId] = (m.payload ?? '').split(' ');
      if (from !== this.instance && lbId) this.tell([lbId]);
    });
    const lost = (err?: unknown) => {
      if (this.feed !== client) return;
      this.feed = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.opts.onFeedEvent?.('lost', err);
      this.relisten(RELISTEN_MIN_MS);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await openSession(client, (c) => c.query(`LISTEN ${CHANGES_CHANNEL}`));
    this.feed = client;
  }

  /** Re-opens the feed after `delayMs`, backing off; once back, every LB counts as changed (some news may be lost). */
  private relisten(delayMs: number): void {
    this.relistenTimer = setTimeout(() => {
      this.relistenTimer = null;
      if (this.closed) return;
      this.listen().then(() => {
        this.opts.onFeedEvent?.('restored');
        // Listening again: what changed meanwhile is re-read. If that read fails, the feed is dropped and retried.
        this.allLbIds().then((ids) => this.tell(ids), () => { void this.feed?.end(); });
      }, (err: unknown) => {
        this.opts.onFeedEvent?.('lost', err);
        this.relisten(Math.min(delayMs * 2, RELISTEN_MAX_MS));
      });
    }, delayMs);
    this.relistenTimer.unref();
  }

  // ---- transactions

  /** Runs `fn` in one transaction that also announces the changed LBs; tells local listeners once committed. */
  private async write<T>(changedLbIds: (result: T) => string[], fn: (tx: Conn) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    let result: T;
    let changed: string[];
    try {
      await c.query('BEGIN');
      try {
        result = await fn(new Conn(c));
        changed = [...new Set(changedLbIds(result))];
        if (changed.length) {
          await c.query('SELECT pg_notify($1, $2 || \' \' || id) FROM unnest($3::text[]) AS id', [CHANGES_CHANNEL, this.instance, changed]);
        }
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch((e: Error) => { broken = e; });
        throw translateConstraint(err);
      }
    } finally {
      c.release(broken);
    }
    this.tell(changed);
    return result;
  }

  /** Reads in one snapshot of the database. */
  private async readConsistent<T>(fn: (tx: Conn) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const result = await fn(new Conn(c));
        await c.query('COMMIT');
        return result;
      } catch (err) {
        await c.query('ROLLBACK').catch((e: Error) => { broken = e; });
        throw err;
      }
    } finally {
      c.release(broken);
    }
  }

  /** Locks the LB's row until commit: the first step of every write to the LB or its children. */
  private lockLb(tx: Conn, id: string): Promise<Lb | null> {
    return tx.doc<Lb>('SELECT doc FROM lbs WHERE id = ? FOR UPDATE', id);
  }

  private async putLb(tx: Conn, lb: Lb): Promise<void> {
    await tx.run('UPDATE lbs SET name = ?, doc = ? WHERE id = ?', lb.name, JSON.stringify(lb), lb.id);
  }

  /** Bumps the config version of an LB locked by this transaction. */
  private async bump(tx: Conn, lb: Lb | null): Promise<void> {
    if (lb) await this.putLb(tx, { ...lb, configVersion: lb.configVersion + 1 });
  }

  // ---- load balancers

  async createLb(lb: Lb, attachIpIds: string[], newIps: Ip[]): Promise<void> {
    await this.write(() => [lb.id], async (tx) => {
      await tx.run('INSERT INTO lbs (id, zone, project_id, organization_id, name, created_at, doc) VALUES (?,?,?,?,?,?,?)',
        lb.id, lb.zone, lb.projectId, lb.organizationId, lb.name, lb.createdAt, JSON.stringify(lb));
      for (const ip of newIps) await this.insertIp(tx, ip);
      for (const id of attachIpIds) {
        const ip = await tx.doc<Ip>('SELECT doc FROM ips WHERE id = ? FOR UPDATE', id);
        if (ip) await this.putIp(tx, { ...ip, lbId: lb.id, updatedAt: lb.createdAt });
      }
    });
  }

  async getLb(id: string): Promise<Lb | null> {
    return this.read.doc<Lb>('SELECT doc FROM lbs WHERE id = ?', id);
  }

  async listLbs(f: LbFilter, page: Page): Promise<Paged<Lb>> {
    return this.read.paged<Lb>('lbs', lbWhere(PG, f), page);
  }

  async allLbIds(): Promise<string[]> {
    return (await this.read.rows<{ id: string }>(`SELECT id FROM lbs ORDER BY ${CREATION_ORDER}`)).map((r) => r.id);
  }

  async updateLb(lb: Lb): Promise<void> {
    await this.changeLb(lb.id, () => lb);
  }

  async changeLb(id: string, change: (current: Lb) => Lb): Promise<Lb | null> {
    return this.write((next) => (next ? [id] : []), async (tx) => {
      const current = await this.lockLb(tx, id);
      if (!current) return null;
      const next = keepLifecycle(current, change(current));
      await this.putLb(tx, next);
      return next;
    });
  }

  async changeLbOnNetwork(id: string, pnId: string, change: (current: Lb, used: Map<string, string>) => Lb): Promise<Lb | null> {
    return this.write((next) => (next ? [id] : []), async (tx) => {
      // Attaches to one network queue here, whatever LB and process: the second one reads the first one's address.
      await tx.run('SELECT pg_advisory_xact_lock(?, hashtext(?))', PN_LOCK_CLASS, pnId);
      const current = await this.lockLb(tx, id);
      if (!current) return null;
      const holders = await tx.docs<Lb>(`SELECT doc FROM lbs WHERE doc::jsonb -> 'privateNetworks' @> jsonb_build_array(jsonb_build_object('privateNetworkId', ?::text))`, pnId);
      const next = keepLifecycle(current, change(current, addressesOn(pnId, holders)));
      await this.putLb(tx, next);
      return next;
    });
  }

  async setLbStatus(id: string, status: LbStatus): Promise<void> {
    await this.write(() => [], async (tx) => {
      // Derived state, worked out again at every start (as in the SQLite store): its commit need not wait for the WAL
      // flush, nor for a synchronous standby.
      await tx.run('SET LOCAL synchronous_commit = off');
      const lb = await this.lockLb(tx, id);
      if (!lb || (isBeingDeleted(lb.status) && status !== 'deleting')) return;
      await this.putLb(tx, { ...lb, status });
    });
  }

  async requestLbDeletion(id: string, releaseIps: boolean): Promise<void> {
    await this.write((marked) => (marked ? [id] : []), async (tx) => {
      const lb = await this.lockLb(tx, id);
      if (!lb || isBeingDeleted(lb.status)) return false;
      await this.putLb(tx, { ...lb, status: 'to_delete', releaseIpsOnDelete: releaseIps, configVersion: lb.configVersion + 1 });
      return true;
    });
  }

  async deleteLb(id: string, releaseIps: boolean): Promise<void> {
    await this.write(() => [id], async (tx) => {
      await this.lockLb(tx, id);
      await tx.run('DELETE FROM frontends WHERE lb_id = ?', id);
      await tx.run('DELETE FROM certificate_pems WHERE certificate_id IN (SELECT id FROM certificates WHERE lb_id = ?)', id);
      await tx.run('DELETE FROM certificates WHERE lb_id = ?', id);
      await tx.run('DELETE FROM backends WHERE lb_id = ?', id);
      if (releaseIps) await tx.run('DELETE FROM ips WHERE lb_id = ?', id);
      else {
        for (const ip of await tx.docs<Ip>('SELECT doc FROM ips WHERE lb_id = ?', id)) await this.putIp(tx, { ...ip, lbId: null });
      }
      await tx.run('DELETE FROM lbs WHERE id = ?', id);
    });
  }

  async snapshot(lbId: string): Promise<LbSnapshot | null> {
    return this.readConsistent(async (tx) => {
      const lb = await tx.doc<Lb>('SELECT doc FROM lbs WHERE id = ?', lbId);
      if (!lb) return null;
      const addresses = (await tx.rows<{ address: string }>(`SELECT address FROM ips WHERE lb_id = ? ORDER BY ${CREATION_ORDER}`, lbId))
        .map((r) => r.address);
      const children = <T>(table: string) => tx.docs<T>(`SELECT doc FROM ${table} WHERE lb_id = ? ORDER BY ${CREATION_ORDER}`, lbId);
      const backends = await children<Backend>('backends');
      const frontends = await children<Frontend>('frontends');
      const certificates = await children<Certificate>('certificates');
      const routes = await children<Route>('routes');
      const acls = await children<Acl>('acls');
      const challenges = await tx.rows<AcmeChallenge>(
        'SELECT token, key_authorization AS "keyAuthorization" FROM acme_challenges WHERE lb_id = ? ORDER BY token', lbId);
      return { lb, addresses, backends, frontends, certificates, routes, acls, challenges };
    });
  }

  // ---- flexible IPs

  private async insertIp(tx: Conn, ip: Ip): Promise<void> {
    await tx.run(`INSERT INTO ips (id, zone, project_id, organization_id, address, address_key, lb_id, created_at, doc)
      VALUES (?,?,?,?,?,?,?,?,?)`, ip.id, ip.zone, ip.projectId, ip.organizationId, ip.address, addressSortKey(ip.address), ip.lbId,
    ip.createdAt, JSON.stringify(ip));
  }

  private async putIp(tx: Conn, ip: Ip): Promise<void> {
    await tx.run('UPDATE ips SET lb_id = ?, doc = ? WHERE id = ?', ip.lbId, JSON.stringify(ip), ip.id);
  }

  async createIp(ip: Ip): Promise<void> {
    await this.write(() => (ip.lbId ? [ip.lbId] : []), async (tx) => {
      const lb = ip.lbId ? await this.lockLb(tx, ip.lbId) : null;
      await this.insertIp(tx, ip);
      await this.bump(tx, lb);
    });
  }

  async getIp(id: string): Promise<Ip | null> {
    return this.read.doc<Ip>('SELECT doc FROM ips WHERE id = ?', id);
  }

  async listIps(f: IpFilter, page: Page): Promise<Paged<Ip>> {
    return this.read.paged<Ip>('ips', ipWhere(PG, f), page, `${PG.bytewise('address_key')} ASC`);
  }

  async ipsOfLb(lbId: string): Promise<Ip[]> {
    return this.read.docs<Ip>(`SELECT doc FROM ips WHERE lb_id = ? ORDER BY ${CREATION_ORDER}`, lbId);
  }

  async updateIp(ip: Ip, previousLbId: string | null): Promise<void> {
    // Locked in id order, so that two moves between the same LBs cannot deadlock.
    const changed = [...new Set([ip.lbId, previousLbId].filter((x): x is string => x !== null))].sort();
    await this.write(() => changed, async (tx) => {
      const lbs: (Lb | null)[] = [];
      for (const id of changed) lbs.push(await this.lockLb(tx, id));
      await this.putIp(tx, ip);
      for (const lb of lbs) await this.bump(tx, lb);
    });
  }

  async deleteIp(id: string): Promise<void> {
    await this.write(() => [], (tx) => tx.run('DELETE FROM ips WHERE id = ?', id));
  }

  async usedAddresses(): Promise<Set<string>> {
    return new Set((await this.read.rows<{ address: string }>('SELECT address FROM ips')).map((r) => r.address));
  }

  // ---- backends

  /** Runs a write to one child of an LB: locks the LB, writes, bumps it. `lbId` null (no such child): nothing happens. */
  private async childWrite(lbId: string | null, fn: (tx: Conn) => Promise<unknown>): Promise<void> {
    if (lbId === null) return;
    await this.write(() => [lbId], async (tx) => {
      const lb = await this.lockLb(tx, lbId);
      await fn(tx);
      await this.bump(tx, lb);
    });
  }

  /** The LB of a child row, for a write addressed by the child's id (an LB id never changes). */
  private async lbOf(table: string, id: string): Promise<string | null> {
    return (await this.read.rows<{ lb_id: string }>(`SELECT lb_id FROM ${table} WHERE id = ?`, id))[0]?.lb_id ?? null;
  }

  private count(tx: Conn, table: string, parentColumn: string, parentId: string): Promise<number> {
    return tx.count(`SELECT COUNT(*) AS n FROM ${table} WHERE ${parentColumn} = ?`, parentId);
  }

  async createBackend(b: Backend): Promise<void> {
    await this.childWrite(b.lbId, async (tx) => {
      checkRoom('backends', await this.count(tx, 'backends', 'lb_id', b.lbId));
      await tx.run('INSERT INTO backends (id, lb_id, name, created_at, doc) VALUES (?,?,?,?,?)', b.id, b.lbId, b.name, b.createdAt, JSON.stringify(b));
    });
  }

  async getBackend(id: string): Promise<Backend | null> {
    return this.read.doc<Backend>('SELECT doc FROM backends WHERE id = ?', id);
  }

  async listBackends(f: ChildFilter, page: Page): Promise<Paged<Backend>> {
    return this.read.paged<Backend>('backends', childWhere(PG, 'lb_id', f), page);
  }

  async updateBackend(b: Backend): Promise<void> {
    await this.childWrite(b.lbId, (tx) => tx.run('UPDATE backends SET name = ?, doc = ? WHERE id = ?', b.name, JSON.stringify(b), b.id));
  }

  async changeBackend(id: string, change: (current: Backend) => Backend): Promise<Backend | null> {
    const lbId = await this.lbOf('backends', id);
    if (lbId === null) return null;
    return this.write((next) => (next ? [lbId] : []), async (tx) => {
      const lb = await this.lockLb(tx, lbId);
      // Read under the LB's lock: a change committed meanwhile by another process is seen, not overwritten.
      const current = await tx.doc<Backend>('SELECT doc FROM backends WHERE id = ?', id);
      if (!current) return null;
      const next = { ...change(current), id, lbId };
      await tx.run('UPDATE backends SET name = ?, doc = ? WHERE id = ?', next.name, JSON.stringify(next), id);
      await this.bump(tx, lb);
      return next;
    });
  }

  async deleteBackend(id: string): Promise<void> {
    await this.childWrite(await this.lbOf('backends', id), (tx) => tx.run('DELETE FROM backends WHERE id = ?', id));
  }

  async countBackends(lbId: string): Promise<number> {
    return this.count(this.read, 'backends', 'lb_id', lbId);
  }

  // ---- frontends

  async createFrontend(f: Frontend): Promise<void> {
    await this.childWrite(f.lbId, async (tx) => {
      checkRoom('frontends', await this.count(tx, 'frontends', 'lb_id', f.lbId));
      await tx.run('INSERT INTO frontends (id, lb_id, backend_id, inbound_port, name, created_at, doc) VALUES (?,?,?,?,?,?,?)',
        f.id, f.lbId, f.backendId, f.inboundPort, f.name, f.createdAt, JSON.stringify(f));
    });
  }

  async getFrontend(id: string): Promise<Frontend | null> {
    return this.read.doc<Frontend>('SELECT doc FROM frontends WHERE id = ?', id);
  }

  async listFrontends(f: ChildFilter, page: Page): Promise<Paged<Frontend>> {
    return this.read.paged<Frontend>('frontends', childWhere(PG, 'lb_id', f), page);
  }

  async frontendsOfBackend(backendId: string): Promise<Frontend[]> {
    return this.read.docs<Frontend>(`SELECT doc FROM frontends WHERE backend_id = ? ORDER BY ${CREATION_ORDER}`, backendId);
  }

  async updateFrontend(f: Frontend): Promise<void> {
    await this.childWrite(f.lbId, (tx) => tx.run('UPDATE frontends SET backend_id = ?, inbound_port = ?, name = ?, doc = ? WHERE id = ?',
      f.backendId, f.inboundPort, f.name, JSON.stringify(f), f.id));
  }

  async deleteFrontend(id: string): Promise<void> {
    await this.childWrite(await this.lbOf('frontends', id), (tx) => tx.run('DELETE FROM frontends WHERE id = ?', id));
  }

  async countFrontends(lbId: string): Promise<number> {
    return this.count(this.read, 'frontends', 'lb_id', lbId);
  }

  // ---- certificates

  async createCertificate(c: Certificate): Promise<void> {
    await this.write(() => [], (tx) => tx.run('INSERT INTO certificates (id, lb_id, name, created_at, doc) VALUES (?,?,?,?,?)',
      c.id, c.lbId, c.name, c.createdAt, JSON.stringify(c)));
  }

  async getCertificate(id: string): Promise<Certificate | null> {
    return this.read.doc<Certificate>('SELECT doc FROM certificates WHERE id = ?', id);
  }

  async listCertificates(f: ChildFilter, page: Page): Promise<Paged<Certificate>> {
    return this.read.paged<Certificate>('certificates', childWhere(PG, 'lb_id', f), page);
  }

  async allCertificates(): Promise<Certificate[]> {
    return this.read.docs<Certificate>(`SELECT doc FROM certificates ORDER BY ${CREATION_ORDER}`);
  }

  async updateCertificate(c: Certificate): Promise<void> {
    await this.changeCertificate(c.id, () => c);
  }

  async changeCertificate(id: string, change: (current: Certificate) => Certificate): Promise<Certificate | null> {
    const lbId = await this.lbOf('certificates', id);
    if (lbId === null) return null;
    let bumped = false;
    return this.write((next) => (next && bumped ? [lbId] : []), async (tx) => {
      const lb = await this.lockLb(tx, lbId);
      const current = await tx.doc<Certificate>('SELECT doc FROM certificates WHERE id = ?', id);
      if (!current) return null;
      const next = { ...change(current), id, lbId };
      await tx.run('UPDATE certificates SET name = ?, doc = ? WHERE id = ?', next.name, JSON.stringify(next), id);
      bumped = certificateChangesConfig(current, next);
      if (bumped) await this.bump(tx, lb);
      return next;
    });
  }

  async deleteCertificate(id: string): Promise<void> {
    await this.write(() => [], (tx) => tx.run('DELETE FROM certificates WHERE id = ?', id));
  }

  // ---- ACME HTTP-01 answers

  async setAcmeChallenge(lbId: string, token: string, keyAuthorization: string | null): Promise<boolean> {
    return this.write((found) => (found ? [lbId] : []), async (tx) => {
      const lb = await this.lockLb(tx, lbId);
      if (!lb) return false;
      // Answers of orders whose process died before removing them: no order waits an hour for its validation.
      await tx.run(`DELETE FROM acme_challenges WHERE lb_id = ? AND (token = ? OR created_at < now() - interval '1 hour')`, lbId, token);
      if (keyAuthorization !== null) {
        await tx.run('INSERT INTO acme_challenges (lb_id, token, key_authorization) VALUES (?,?,?)', lbId, token, keyAuthorization);
      }
      await this.bump(tx, lb);
      return true;
    });
  }

  // ---- sealed PEMs (no change to any LB: the certificate's document, written after, announces a new PEM)

  async putSealedPem(certificateId: string, pemSha256: string, sealed: string): Promise<void> {
    await this.write(() => [], (tx) => tx.run(`INSERT INTO certificate_pems (certificate_id, pem_sha256, sealed) VALUES (?,?,?)
      ON CONFLICT (certificate_id, pem_sha256) DO UPDATE SET sealed = excluded.sealed, created_at = now()`, certificateId, pemSha256, sealed));
  }

  async sealedPem(certificateId: string, pemSha256: string): Promise<string | null> {
    return (await this.read.rows<{ sealed: string }>('SELECT sealed FROM certificate_pems WHERE certificate_id = ? AND pem_sha256 = ?',
      certificateId, pemSha256))[0]?.sealed ?? null;
  }

  async deleteSealedPems(certificateId: string): Promise<void> {
    await this.write(() => [], (tx) => tx.run('DELETE FROM certificate_pems WHERE certificate_id = ?', certificateId));
  }

  async sealedPemsOutside(prefix: string): Promise<{ certificateId: string; pemSha256: string; sealed: string }[]> {
    return this.read.rows(`SELECT certificate_id AS "certificateId", pem_sha256 AS "pemSha256", sealed FROM certificate_pems
      WHERE left(sealed, length(?)) <> ?`, prefix, prefix);
  }

  async sweepSealedPems(graceMs: number): Promise<number> {
    return this.write(() => [], (tx) => tx.run(`DELETE FROM certificate_pems p WHERE p.created_at < now() - make_interval(secs => ?::float8 / 1000)
      AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.id = p.certificate_id AND c.doc::jsonb ->> 'pemSha256' = p.pem_sha256)`, graceMs));
  }

  async frontendsOfCertificate(certificateId: string): Promise<Frontend[]> {
    return this.read.docs<Frontend>(`SELECT doc FROM frontends WHERE (doc::jsonb -> 'certificateIds') @> jsonb_build_array(?::text)
      ORDER BY ${CREATION_ORDER}`, certificateId);
  }

  // ---- routes and ACLs (deleted with their frontend by ON DELETE CASCADE)

  async createRoute(r: Route): Promise<void> {
    await this.childWrite(r.lbId, (tx) => tx.run(`INSERT INTO routes (id, lb_id, zone, project_id, frontend_id, backend_id, created_at, doc)
      SELECT ?, id, zone, project_id, ?, ?, ?, ? FROM lbs WHERE id = ?`, r.id, r.frontendId, r.backendId, r.createdAt, JSON.stringify(r), r.lbId));
  }

  async getRoute(id: string): Promise<Route | null> {
    return this.read.doc<Route>('SELECT doc FROM routes WHERE id = ?', id);
  }

  async listRoutes(f: RouteFilter, page: Page): Promise<Paged<Route>> {
    return this.read.paged<Route>('routes', routeWhere(f), page);
  }

  async routesOfFrontend(frontendId: string): Promise<Route[]> {
    return this.read.docs<Route>(`SELECT doc FROM routes WHERE frontend_id = ? ORDER BY ${CREATION_ORDER}`, frontendId);
  }

  async routesOfBackend(backendId: string): Promise<Route[]> {
    return this.read.docs<Route>(`SELECT doc FROM routes WHERE backend_id = ? ORDER BY ${CREATION_ORDER}`, backendId);
  }

  async updateRoute(r: Route): Promise<void> {
    await this.childWrite(r.lbId, (tx) => tx.run('UPDATE routes SET backend_id = ?, doc = ? WHERE id = ?', r.backendId, JSON.stringify(r), r.id));
  }

  async deleteRoute(id: string): Promise<void> {
    await this.childWrite(await this.lbOf('routes', id), (tx) => tx.run('DELETE FROM routes WHERE id = ?', id));
  }

  async countRoutes(lbId: string): Promise<number> {
    return this.count(this.read, 'routes', 'lb_id', lbId);
  }

  private async insertAcl(tx: Conn, a: Acl): Promise<void> {
    await tx.run('INSERT INTO acls (id, lb_id, frontend_id, name, created_at, doc) VALUES (?,?,?,?,?,?)',
      a.id, a.lbId, a.frontendId, a.name, a.createdAt, JSON.stringify(a));
  }

  async createAcl(a: Acl): Promise<void> {
    await this.childWrite(a.lbId, async (tx) => {
      checkRoom('acls', await this.count(tx, 'acls', 'frontend_id', a.frontendId));
      await this.insertAcl(tx, a);
    });
  }

  async getAcl(id: string): Promise<Acl | null> {
    return this.read.doc<Acl>('SELECT doc FROM acls WHERE id = ?', id);
  }

  async listAcls(f: { frontendId: string; name?: string }, page: Page): Promise<Paged<Acl>> {
    return this.read.paged<Acl>('acls', childWhere(PG, 'frontend_id', f), page);
  }

  async aclsOfFrontend(frontendId: string): Promise<Acl[]> {
    return this.read.docs<Acl>(`SELECT doc FROM acls WHERE frontend_id = ? ORDER BY ${CREATION_ORDER}`, frontendId);
  }

  async updateAcl(a: Acl): Promise<void> {
    await this.childWrite(a.lbId, (tx) => tx.run('UPDATE acls SET name = ?, doc = ? WHERE id = ?', a.name, JSON.stringify(a), a.id));
  }

  async deleteAcl(id: string): Promise<void> {
    await this.childWrite(await this.lbOf('acls', id), (tx) => tx.run('DELETE FROM acls WHERE id = ?', id));
  }

  async setAcls(frontendId: string, lbId: string, acls: Acl[]): Promise<void> {
    await this.childWrite(lbId, async (tx) => {
      await tx.run('DELETE FROM acls WHERE frontend_id = ?', frontendId);
      for (const a of acls) await this.insertAcl(tx, a);
    });
  }

  // ---- subscribers

  async createSubscriber(s: Subscriber): Promise<void> {
    await this.write(() => [], (tx) => tx.run(
      'INSERT INTO subscribers (id, zone, project_id, organization_id, name, created_at, doc) VALUES (?,?,?,?,?,?,?)',
      s.id, s.zone, s.projectId, s.organizationId, s.name, s.createdAt, JSON.stringify(s),
    ));
  }

  async getSubscriber(id: string): Promise<Subscriber | null> {
    return this.read.doc<Subscriber>('SELECT doc FROM subscribers WHERE id = ?', id);
  }

  async listSubscribers(f: SubscriberFilter, page: Page): Promise<Paged<Subscriber>> {
    return this.read.paged<Subscriber>('subscribers', subscriberWhere(PG, f), page);
  }

  async updateSubscriber(s: Subscriber): Promise<void> {
    await this.write(() => [], (tx) => tx.run('UPDATE subscribers SET name = ?, doc = ? WHERE id = ?', s.name, JSON.stringify(s), s.id));
  }

  async deleteSubscriber(id: string): Promise<void> {
    await this.write(() => [], async (tx) => {
      await tx.run(`UPDATE lbs SET doc = jsonb_set(doc::jsonb, '{subscriberId}', 'null'::jsonb)::text
        WHERE doc::jsonb ->> 'subscriberId' = ?`, id);
      await tx.run('DELETE FROM subscribers WHERE id = ?', id);
    });
  }

  // ---- settings

  async getSetting(key: string): Promise<string | null> {
    return (await this.read.rows<{ value: string }>('SELECT value FROM settings WHERE key = ?', key))[0]?.value ?? null;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.write(() => [], (tx) => tx.run(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value,
    ));
  }

  async initSetting(key: string, value: string): Promise<string> {
    // The insert waits for a concurrent one of the same key to commit; the select then sees whichever won.
    return this.write(() => [], async (tx) => {
      await tx.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', key, value);
      return (await tx.rows<{ value: string }>('SELECT value FROM settings WHERE key = ?', key))[0].value;
    });
  }

  // ---- API keys

  async createApiKey(k: ApiKey): Promise<void> {
    await this.write(() => [], (tx) => tx.run(
      'INSERT INTO api_keys (id, access_key, secret_hash, project_id, created_at, revoked_at, doc) VALUES (?,?,?,?,?,?,?)',
      k.id, k.accessKey, k.secretHash, k.projectId, k.createdAt, k.revokedAt, JSON.stringify(k),
    ));
  }

  async findApiKey(secretHash: string): Promise<ApiKey | null> {
    return this.read.doc<ApiKey>('SELECT doc FROM api_keys WHERE secret_hash = ? AND revoked_at IS NULL', secretHash);
  }

  async listApiKeys(): Promise<ApiKey[]> {
    return this.read.docs<ApiKey>(`SELECT doc FROM api_keys ORDER BY ${CREATION_ORDER}`);
  }

  async revokeApiKey(idOrAccessKey: string, at: string): Promise<ApiKey | null> {
    return this.write(() => [], async (tx) => {
      const k = await tx.doc<ApiKey>('SELECT doc FROM api_keys WHERE (id = ? OR access_key = ?) AND revoked_at IS NULL FOR UPDATE',
        idOrAccessKey, idOrAccessKey);
      if (!k) return null;
      const revoked = { ...k, revokedAt: at };
      await tx.run('UPDATE api_keys SET revoked_at = ?, doc = ? WHERE id = ?', at, JSON.stringify(revoked), k.id);
      return revoked;
    });
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.relistenTimer) clearTimeout(this.relistenTimer);
    const feed = this.feed;
    this.feed = null;
    if (feed) await discard(feed);
    await this.pool.end();
  }
}

function translateConstraint(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e.code === '23505') {
    if (e.constraint === 'ips_address_key') return new ConflictError('address', 'address already allocated');
    if (e.constraint === 'frontends_port_unique') return new ConflictError('inbound_port', 'inbound port already used');
  }
  return err;
}
