// The embedded store: SQLite through better-sqlite3, WAL journal, synchronous=FULL so that an acknowledged write
// survives a crash of the process or the machine.
import Database from 'better-sqlite3';
import type { Acl } from '../domain/acls.js';
import type { Backend } from '../domain/backends.js';
import type { Certificate } from '../domain/certificates.js';
import type { Frontend } from '../domain/frontends.js';
import { addressSortKey, type Ip } from '../domain/ips.js';
import type { ApiKey } from '../domain/keys.js';
import { isBeingDeleted, type Lb, type LbStatus } from '../domain/lbs.js';
import type { Route } from '../domain/routes.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import type { Subscriber } from '../domain/subscribers.js';
import { MIGRATIONS } from './migrations.js';
import {
  childWhere, creationOrder, ipWhere, lbWhere, orderSql, routeWhere, subscriberWhere, type Dialect, type Where,
} from './query.js';
import {
  ConflictError, addressesOn, certificateChangesConfig, checkRoom, keepLifecycle, type ChangeListener, type ChildFilter, type IpFilter, type LbFilter, type Page, type Paged, type RouteFilter,
  type Store, type SubscriberFilter,
} from './store.js';

type Row = { doc: string };

const MAX_CACHED_STATEMENTS = 500;

const SQLITE: Dialect = {
  contains: (column) => `instr(${column}, ?) > 0`,
  hasTag: 'EXISTS (SELECT 1 FROM json_each(json_extract(doc, \'$.tags\')) WHERE value = ?)',
  isIpv6: "instr(address, ':') > 0",
  insertion: 'rowid',
  // SQLite compares text bytewise (BINARY) unless told otherwise.
  bytewise: (column) => column,
};
const CREATION_ORDER = creationOrder(SQLITE);

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly listeners: ChangeListener[] = [];
  /** Prepared statements by SQL text: preparing costs about as much as running a point query. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.function('address_order', { deterministic: true }, (a) => addressSortKey(String(a)));
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[i]);
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      // Filters with IN lists make texts that vary with the list's length: the cache stays bounded.
      if (this.statements.size < MAX_CACHED_STATEMENTS) this.statements.set(sql, st);
    }
    return st;
  }

  /** Runs `fn` in one transaction, then tells listeners which LBs changed. */
  private write<T>(changedLbIds: (result: T) => string[], fn: () => T, mode: 'deferred' | 'immediate' = 'deferred'): T {
    let result: T;
    try {
      result = this.db.transaction(fn)[mode]();
    } catch (err) {
      throw translateConstraint(err);
    }
    for (const id of changedLbIds(result)) for (const l of this.listeners) l(id);
    return result;
  }

  private docs<T>(sql: string, ...args: unknown[]): T[] {
    return (this.stmt(sql).all(...args) as Row[]).map((r) => JSON.parse(r.doc) as T);
  }

  private doc<T>(sql: string, ...args: unknown[]): T | null {
    const row = this.stmt(sql).get(...args) as Row | undefined;
    return row ? (JSON.parse(row.doc) as T) : null;
  }

  private paged<T>(table: string, where: Where, page: Page, order = orderSql(SQLITE, page.orderBy)): Paged<T> {
    const total = (this.stmt(`SELECT COUNT(*) AS n FROM ${table} ${where.sql}`).get(...where.args) as { n: number }).n;
    const items = this.docs<T>(
      `SELECT doc FROM ${table} ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
      ...where.args, page.pageSize, (page.page - 1) * page.pageSize,
    );
    return { items, total };
  }

  private bumpVersion(lbId: string): void {
    const lb = this.doc<Lb>('SELECT doc FROM lbs WHERE id = ?', lbId);
    if (!lb) return;
    this.putLb({ ...lb, configVersion: lb.configVersion + 1 });
  }

  // ---- load balancers

  async createLb(lb: Lb, attachIpIds: string[], newIps: Ip[]): Promise<void> {
    this.write(() => [lb.id], () => {
      this.stmt('INSERT INTO lbs (id, zone, project_id, organization_id, name, created_at, doc) VALUES (?,?,?,?,?,?,?)')
        .run(lb.id, lb.zone, lb.projectId, lb.organizationId, lb.name, lb.createdAt, JSON.stringify(lb));
      for (const ip of newIps) this.insertIp(ip);
      for (const id of attachIpIds) {
        const ip = this.doc<Ip>('SELECT doc FROM ips WHERE id = ?', id);
        if (!ip) continue;
        this.putIp({ ...ip, lbId: lb.id, updatedAt: lb.createdAt });
      }
    });
  }

  async getLb(id: string): Promise<Lb | null> {
    return this.doc<Lb>('SELECT doc FROM lbs WHERE id = ?', id);
  }

  async listLbs(f: LbFilter, page: Page): Promise<Paged<Lb>> {
    return this.paged<Lb>('lbs', lbWhere(SQLITE, f), page);
  }

  async allLbIds(): Promise<string[]> {
    return (this.stmt(`SELECT id FROM lbs ORDER BY ${CREATION_ORDER}`).all() as { id: string }[]).map((r) => r.id);
  }

  private putLb(lb: Lb): void {
    this.stmt('UPDATE lbs SET name = ?, doc = ? WHERE id = ?').run(lb.name, JSON.stringify(lb), lb.id);
  }

  async updateLb(lb: Lb): Promise<void> {
    await this.changeLb(lb.id, () => lb);
  }

  async changeLb(id: string, change: (current: Lb) => Lb): Promise<Lb | null> {
    return this.write((next) => (next ? [id] : []), () => {
      const current = this.doc<Lb>('SELECT doc FROM lbs WHERE id = ?', id);
      if (!current) return null;
      const next = keepLifecycle(current, change(current));
      this.putLb(next);
      return next;
    });
  }

  async changeLbOnNetwork(id: string, pnId: string, change: (current: Lb, used: Map<string, string>) => Lb): Promise<Lb | null> {
    // IMMEDIATE: the write lock is taken before the read, so another connection's attach waits instead of reading the
    // same free address.
    return this.write((next) => (next ? [id] : []), () => {
      const current = this.doc<Lb>('SELECT doc FROM lbs WHERE id = ?', id);
      if (!current) return null;
      const used = addressesOn(pnId, this.docs<Lb>('SELECT doc FROM lbs WHERE instr(doc, ?) > 0', pnId));
      const next = keepLifecycle(current, change(current, used));
      this.putLb(next);
      return next;
    }, 'immediate');
  }

  async setLbStatus(id: string, status: LbStatus): Promise<void> {
    // A lifecycle status is derived state: the reconciler works it out again at every start. So its commit does not
    // wait for the disk (WAL with synchronous=NORMAL still survives a crash of the process; a power cut may lose it, and
    // the next start redoes it); the next FULL commit flushes it with its own. Starting 100 LBs writes 200 of them.
    this.db.pragma('synchronous = NORMAL');
    try {
      this.write(() => [], () => {
        const lb = this.doc<Lb>('SELECT doc FROM lbs WHERE id = ?', id);
        if (!lb || (isBeingDeleted(lb.status) && status !== 'deleting')) return;
        this.putLb({ ...lb, status });
      });
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  async requestLbDeletion(id: string, releaseIps: boolean): Promise<void> {
    this.write((marked) => (marked ? [id] : []), () => {
      const lb = this.doc<Lb>('SELECT doc FROM lbs WHERE id = ?', id);
      if (!lb || isBeingDeleted(lb.status)) return false;
      this.putLb({ ...lb, status: 'to_delete', releaseIpsOnDelete: releaseIps, configVersion: lb.configVersion + 1 });
      return true;
    });
  }

  async deleteLb(id: string, releaseIps: boolean): Promise<void> {
    this.write(() => [id], () => {
      this.stmt('DELETE FROM frontends WHERE lb_id = ?').run(id);
      this.stmt('DELETE FROM certificates WHERE lb_id = ?').run(id);
      this.stmt('DELETE FROM backends WHERE lb_id = ?').run(id);
      if (releaseIps) this.stmt('DELETE FROM ips WHERE lb_id = ?').run(id);
      else {
        for (const ip of this.docs<Ip>('SELECT doc FROM ips WHERE lb_id = ?', id)) this.putIp({ ...ip, lbId: null });
      }
      this.stmt('DELETE FROM lbs WHERE id = ?').run(id);
    });
  }

  async snapshot(lbId: string): Promise<LbSnapshot | null> {
    return this.db.transaction(() => {
      const lb = this.doc<Lb>('SELECT doc FROM lbs WHERE id = ?', lbId);
      if (!lb) return null;
      const addresses = (this.stmt(`SELECT address FROM ips WHERE lb_id = ? ORDER BY ${CREATION_ORDER}`).all(lbId) as
        { address: string }[]).map((r) => r.address);
      const backends = this.docs<Backend>(`SELECT doc FROM backends WHERE lb_id = ? ORDER BY ${CREATION_ORDER}`, lbId);
      const frontends = this.docs<Frontend>(`SELECT doc FROM frontends WHERE lb_id = ? ORDER BY ${CREATION_ORDER}`, lbId);
      const certificates = this.docs<Certificate>(`SELECT doc FROM certificates WHERE lb_id = ? ORDER BY ${CREATION_ORDER}`, lbId);
      const routes = this.docs<Route>(`SELECT doc FROM routes WHERE lb_id = ? ORDER BY ${CREATION_ORDER}`, lbId);
      const acls = this.docs<Acl>(`SELECT doc FROM acls WHERE lb_id = ? ORDER BY ${CREATION_ORDER}`, lbId);
      return { lb, addresses, backends, frontends, certificates, routes, acls };
    })();
  }

  // ---- flexible IPs

  private insertIp(ip: Ip): void {
    this.stmt('INSERT INTO ips (id, zone, project_id, organization_id, address, lb_id, created_at, doc) VALUES (?,?,?,?,?,?,?,?)')
      .run(ip.id, ip.zone, ip.projectId, ip.organizationId, ip.address, ip.lbId, ip.createdAt, JSON.stringify(ip));
  }

  private putIp(ip: Ip): void {
    this.stmt('UPDATE ips SET lb_id = ?, doc = ? WHERE id = ?').run(ip.lbId, JSON.stringify(ip), ip.id);
  }

  async createIp(ip: Ip): Promise<void> {
    this.write(() => (ip.lbId ? [ip.lbId] : []), () => this.insertIp(ip));
  }

  async getIp(id: string): Promise<Ip | null> {
    return this.doc<Ip>('SELECT doc FROM ips WHERE id = ?', id);
  }

  async listIps(f: IpFilter, page: Page): Promise<Paged<Ip>> {
    return this.paged<Ip>('ips', ipWhere(SQLITE, f), page, 'address_order(address) ASC');
  }

  async ipsOfLb(lbId: string): Promise<Ip[]> {
    return this.docs<Ip>(`SELECT doc FROM ips WHERE lb_id = ? ORDER BY ${CREATION_ORDER}`, lbId);
  }

  async updateIp(ip: Ip, previousLbId: string | null): Promise<void> {
    const changed = [...new Set([ip.lbId, previousLbId].filter((x): x is string => x !== null))];
    this.write(() => changed, () => {
      this.putIp(ip);
      for (const id of changed) this.bumpVersion(id);
    });
  }

  async deleteIp(id: string): Promise<void> {
    this.write(() => [], () => this.stmt('DELETE FROM ips WHERE id = ?').run(id));
  }

  async usedAddresses(): Promise<Set<string>> {
    return new Set((this.stmt('SELECT address FROM ips').all() as { address: string }[]).map((r) => r.address));
  }

  // ---- backends

  async createBackend(b: Backend): Promise<void> {
    this.write(() => [b.lbId], () => {
      checkRoom('backends', this.count('backends', 'lb_id', b.lbId));
      this.stmt('INSERT INTO backends (id, lb_id, name, created_at, doc) VALUES (?,?,?,?,?)')
        .run(b.id, b.lbId, b.name, b.createdAt, JSON.stringify(b));
      this.bumpVersion(b.lbId);
    });
  }

  async getBackend(id: string): Promise<Backend | null> {
    return this.doc<Backend>('SELECT doc FROM backends WHERE id = ?', id);
  }

  async listBackends(f: ChildFilter, page: Page): Promise<Paged<Backend>> {
    return this.paged<Backend>('backends', childWhere(SQLITE, 'lb_id', f), page);
  }

  async updateBackend(b: Backend): Promise<void> {
    this.write(() => [b.lbId], () => {
      this.stmt('UPDATE backends SET name = ?, doc = ? WHERE id = ?').run(b.name, JSON.stringify(b), b.id);
      this.bumpVersion(b.lbId);
    });
  }

  async changeBackend(id: string, change: (current: Backend) => Backend): Promise<Backend | null> {
    let lbId = '';
    return this.write((next) => (next ? [lbId] : []), () => {
      const current = this.doc<Backend>('SELECT doc FROM backends WHERE id = ?', id);
      if (!current) return null;
      lbId = current.lbId;
      const next = { ...change(current), id, lbId };
      this.stmt('UPDATE backends SET name = ?, doc = ? WHERE id = ?').run(next.name, JSON.stringify(next), id);
      this.bumpVersion(lbId);
      return next;
    });
  }

  async deleteBackend(id: string): Promise<void> {
    const b = await this.getBackend(id);
    if (!b) return;
    this.write(() => [b.lbId], () => {
      this.stmt('DELETE FROM backends WHERE id = ?').run(id);
      this.bumpVersion(b.lbId);
    });
  }

  private count(table: string, parentColumn: string, parentId: string): number {
    return (this.stmt(`SELECT COUNT(*) AS n FROM ${table} WHERE ${parentColumn} = ?`).get(parentId) as { n: number }).n;
  }

  async countBackends(lbId: string): Promise<number> {
    return this.count('backends', 'lb_id', lbId);
  }

  // ---- frontends

  async createFrontend(f: Frontend): Promise<void> {
    this.write(() => [f.lbId], () => {
      checkRoom('frontends', this.count('frontends', 'lb_id', f.lbId));
      this.stmt('INSERT INTO frontends (id, lb_id, backend_id, inbound_port, name, created_at, doc) VALUES (?,?,?,?,?,?,?)')
        .run(f.id, f.lbId, f.backendId, f.inboundPort, f.name, f.createdAt, JSON.stringify(f));
      this.bumpVersion(f.lbId);
    });
  }

  async getFrontend(id: string): Promise<Frontend | null> {
    return this.doc<Frontend>('SELECT doc FROM frontends WHERE id = ?', id);
  }

  async listFrontends(f: ChildFilter, page: Page): Promise<Paged<Frontend>> {
    return this.paged<Frontend>('frontends', childWhere(SQLITE, 'lb_id', f), page);
  }

  async frontendsOfBackend(backendId: string): Promise<Frontend[]> {
    return this.docs<Frontend>(`SELECT doc FROM frontends WHERE backend_id = ? ORDER BY ${CREATION_ORDER}`, backendId);
  }

  async updateFrontend(f: Frontend): Promise<void> {
    this.write(() => [f.lbId], () => {
      this.stmt('UPDATE frontends SET backend_id = ?, inbound_port = ?, name = ?, doc = ? WHERE id = ?')
        .run(f.backendId, f.inboundPort, f.name, JSON.stringify(f), f.id);
      this.bumpVersion(f.lbId);
    });
  }

  async deleteFrontend(id: string): Promise<void> {
    const f = await this.getFrontend(id);
    if (!f) return;
    this.write(() => [f.lbId], () => {
      this.stmt('DELETE FROM frontends WHERE id = ?').run(id);
      this.bumpVersion(f.lbId);
    });
  }

  async countFrontends(lbId: string): Promise<number> {
    return this.count('frontends', 'lb_id', lbId);
  }

  // ---- certificates

  async createCertificate(c: Certificate): Promise<void> {
    this.write(() => [], () => this.stmt('INSERT INTO certificates (id, lb_id, name, created_at, doc) VALUES (?,?,?,?,?)')
      .run(c.id, c.lbId, c.name, c.createdAt, JSON.stringify(c)));
  }

  async getCertificate(id: string): Promise<Certificate | null> {
    return this.doc<Certificate>('SELECT doc FROM certificates WHERE id = ?', id);
  }

  async listCertificates(f: ChildFilter, page: Page): Promise<Paged<Certificate>> {
    return this.paged<Certificate>('certificates', childWhere(SQLITE, 'lb_id', f), page);
  }

  async allCertificates(): Promise<Certificate[]> {
    return this.docs<Certificate>(`SELECT doc FROM certificates ORDER BY ${CREATION_ORDER}`);
  }

  async updateCertificate(c: Certificate): Promise<void> {
    await this.changeCertificate(c.id, () => c);
  }

  async changeCertificate(id: string, change: (current: Certificate) => Certificate): Promise<Certificate | null> {
    let bumped = false;
    return this.write((next) => (next && bumped ? [next.lbId] : []), () => {
      const current = this.doc<Certificate>('SELECT doc FROM certificates WHERE id = ?', id);
      if (!current) return null;
      const next = { ...change(current), id, lbId: current.lbId };
      this.stmt('UPDATE certificates SET name = ?, doc = ? WHERE id = ?').run(next.name, JSON.stringify(next), id);
      bumped = certificateChangesConfig(current, next);
      if (bumped) this.bumpVersion(next.lbId);
      return next;
    });
  }

  async deleteCertificate(id: string): Promise<void> {
    this.write(() => [], () => this.stmt('DELETE FROM certificates WHERE id = ?').run(id));
  }

  async frontendsOfCertificate(certificateId: string): Promise<Frontend[]> {
    return this.docs<Frontend>(`SELECT doc FROM frontends WHERE EXISTS (SELECT 1 FROM json_each(json_extract(doc, '$.certificateIds'))
      WHERE value = ?) ORDER BY ${CREATION_ORDER}`, certificateId);
  }

  // ---- routes and ACLs (deleted with their frontend by ON DELETE CASCADE)

  private putRoute(r: Route, insert: boolean): void {
    if (insert) {
      this.stmt(`INSERT INTO routes (id, lb_id, zone, project_id, frontend_id, backend_id, created_at, doc)
        SELECT ?, id, zone, project_id, ?, ?, ?, ? FROM lbs WHERE id = ?`)
        .run(r.id, r.frontendId, r.backendId, r.createdAt, JSON.stringify(r), r.lbId);
    } else {
      this.stmt('UPDATE routes SET backend_id = ?, doc = ? WHERE id = ?').run(r.backendId, JSON.stringify(r), r.id);
    }
    this.bumpVersion(r.lbId);
  }

  async createRoute(r: Route): Promise<void> {
    this.write(() => [r.lbId], () => this.putRoute(r, true));
  }

  async getRoute(id: string): Promise<Route | null> {
    return this.doc<Route>('SELECT doc FROM routes WHERE id = ?', id);
  }

  async listRoutes(f: RouteFilter, page: Page): Promise<Paged<Route>> {
    return this.paged<Route>('routes', routeWhere(f), page);
  }

  async routesOfFrontend(frontendId: string): Promise<Route[]> {
    return this.docs<Route>(`SELECT doc FROM routes WHERE frontend_id = ? ORDER BY ${CREATION_ORDER}`, frontendId);
  }

  async routesOfBackend(backendId: string): Promise<Route[]> {
    return this.docs<Route>(`SELECT doc FROM routes WHERE backend_id = ? ORDER BY ${CREATION_ORDER}`, backendId);
  }

  async updateRoute(r: Route): Promise<void> {
    this.write(() => [r.lbId], () => this.putRoute(r, false));
  }

  async deleteRoute(id: string): Promise<void> {
    const r = await this.getRoute(id);
    if (!r) return;
    this.write(() => [r.lbId], () => {
      this.stmt('DELETE FROM routes WHERE id = ?').run(id);
      this.bumpVersion(r.lbId);
    });
  }

  async countRoutes(lbId: string): Promise<number> {
    return this.count('routes', 'lb_id', lbId);
  }

  private insertAcl(a: Acl): void {
    this.stmt('INSERT INTO acls (id, lb_id, frontend_id, name, created_at, doc) VALUES (?,?,?,?,?,?)')
      .run(a.id, a.lbId, a.frontendId, a.name, a.createdAt, JSON.stringify(a));
  }

  async createAcl(a: Acl): Promise<void> {
    this.write(() => [a.lbId], () => {
      checkRoom('acls', this.count('acls', 'frontend_id', a.frontendId));
      this.insertAcl(a);
      this.bumpVersion(a.lbId);
    });
  }

  async getAcl(id: string): Promise<Acl | null> {
    return this.doc<Acl>('SELECT doc FROM acls WHERE id = ?', id);
  }

  async listAcls(f: { frontendId: string; name?: string }, page: Page): Promise<Paged<Acl>> {
    return this.paged<Acl>('acls', childWhere(SQLITE, 'frontend_id', f), page);
  }

  async aclsOfFrontend(frontendId: string): Promise<Acl[]> {
    return this.docs<Acl>(`SELECT doc FROM acls WHERE frontend_id = ? ORDER BY ${CREATION_ORDER}`, frontendId);
  }

  async updateAcl(a: Acl): Promise<void> {
    this.write(() => [a.lbId], () => {
      this.stmt('UPDATE acls SET name = ?, doc = ? WHERE id = ?').run(a.name, JSON.stringify(a), a.id);
      this.bumpVersion(a.lbId);
    });
  }

  async deleteAcl(id: string): Promise<void> {
    const a = await this.getAcl(id);
    if (!a) return;
    this.write(() => [a.lbId], () => {
      this.stmt('DELETE FROM acls WHERE id = ?').run(id);
      this.bumpVersion(a.lbId);
    });
  }

  async setAcls(frontendId: string, lbId: string, acls: Acl[]): Promise<void> {
    this.write(() => [lbId], () => {
      this.stmt('DELETE FROM acls WHERE frontend_id = ?').run(frontendId);
      for (const a of acls) this.insertAcl(a);
      this.bumpVersion(lbId);
    });
  }

  // ---- subscribers

  async createSubscriber(s: Subscriber): Promise<void> {
    this.write(() => [], () => {
      this.db.prepare('INSERT INTO subscribers (id, zone, project_id, organization_id, name, created_at, doc) VALUES (?,?,?,?,?,?,?)')
        .run(s.id, s.zone, s.projectId, s.organizationId, s.name, s.createdAt, JSON.stringify(s));
    });
  }

  async getSubscriber(id: string): Promise<Subscriber | null> {
    return this.doc<Subscriber>('SELECT doc FROM subscribers WHERE id = ?', id);
  }

  async listSubscribers(f: SubscriberFilter, page: Page): Promise<Paged<Subscriber>> {
    return this.paged<Subscriber>('subscribers', subscriberWhere(SQLITE, f), page);
  }

  async updateSubscriber(s: Subscriber): Promise<void> {
    this.write(() => [], () => {
      this.db.prepare('UPDATE subscribers SET name = ?, doc = ? WHERE id = ?').run(s.name, JSON.stringify(s), s.id);
    });
  }

  async deleteSubscriber(id: string): Promise<void> {
    this.write(() => [], () => {
      this.db.prepare('UPDATE lbs SET doc = json_set(doc, \'$.subscriberId\', NULL) WHERE json_extract(doc, \'$.subscriberId\') = ?').run(id);
      this.db.prepare('DELETE FROM subscribers WHERE id = ?').run(id);
    });
  }

  // ---- settings

  async getSetting(key: string): Promise<string | null> {
    const row = this.stmt('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  async setSetting(key: string, value: string): Promise<void> {
    this.write(() => [], () => this.stmt('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value));
  }

  async initSetting(key: string, value: string): Promise<string> {
    return this.write(() => [], () => {
      this.stmt('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING').run(key, value);
      return (this.stmt('SELECT value FROM settings WHERE key = ?').get(key) as { value: string }).value;
    });
  }

  // ---- API keys

  async createApiKey(k: ApiKey): Promise<void> {
    this.write(() => [], () => this.stmt(
      'INSERT INTO api_keys (id, access_key, secret_hash, project_id, created_at, revoked_at, doc) VALUES (?,?,?,?,?,?,?)',
    ).run(k.id, k.accessKey, k.secretHash, k.projectId, k.createdAt, k.revokedAt, JSON.stringify(k)));
  }

  async findApiKey(secretHash: string): Promise<ApiKey | null> {
    return this.doc<ApiKey>('SELECT doc FROM api_keys WHERE secret_hash = ? AND revoked_at IS NULL', secretHash);
  }

  async listApiKeys(): Promise<ApiKey[]> {
    return this.docs<ApiKey>(`SELECT doc FROM api_keys ORDER BY ${CREATION_ORDER}`);
  }

  async revokeApiKey(idOrAccessKey: string, at: string): Promise<ApiKey | null> {
    return this.write(() => [], () => {
      const k = this.doc<ApiKey>('SELECT doc FROM api_keys WHERE (id = ? OR access_key = ?) AND revoked_at IS NULL', idOrAccessKey, idOrAccessKey);
      if (!k) return null;
      const revoked = { ...k, revokedAt: at };
      this.stmt('UPDATE api_keys SET revoked_at = ?, doc = ? WHERE id = ?').run(at, JSON.stringify(revoked), k.id);
      return revoked;
    });
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function translateConstraint(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE') {
    if (e.message?.includes('ips.address')) return new ConflictError('address', 'address already allocated');
    if (e.message?.includes('frontends.lb_id')) return new ConflictError('inbound_port', 'inbound port already used');
  }
  return err;
}
