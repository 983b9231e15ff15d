// The Store interface: every method is one transaction, resolved only after it is committed.
// Writes to an LB or any of its children bump the LB's configVersion and notify change listeners after commit,
// which is how the data plane learns what to apply.
import { ACL_LIMITS, type Acl } from '../domain/acls.js';
import type { Backend } from '../domain/backends.js';
import type { Certificate } from '../domain/certificates.js';
import type { Frontend } from '../domain/frontends.js';
import type { Ip } from '../domain/ips.js';
import type { ApiKey } from '../domain/keys.js';
import type { Lb, LbStatus } from '../domain/lbs.js';
import type { Route } from '../domain/routes.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import type { Subscriber } from '../domain/subscribers.js';
import { LIMITS } from '../domain/validation.js';

export type OrderBy = 'created_at_asc' | 'created_at_desc' | 'name_asc' | 'name_desc';

export interface Page {
  page: number;
  pageSize: number;
  orderBy: OrderBy;
}

export interface Paged<T> {
  items: T[];
  total: number;
}

export interface LbFilter {
  zone: string;
  /** Projects the caller may see; undefined means every project (admin). */
  projectIds?: string[];
  name?: string;
  projectId?: string;
  organizationId?: string;
  tags?: string[];
  /** Only these LBs. */
  ids?: string[];
}

export interface IpFilter {
  zone: string;
  projectIds?: string[];
  ipAddress?: string;
  projectId?: string;
  organizationId?: string;
  ipType?: 'all' | 'ipv4' | 'ipv6';
  tags?: string[];
}

export interface SubscriberFilter {
  zone: string;
  projectIds?: string[];
  name?: string;
  projectId?: string;
  organizationId?: string;
}

export interface ChildFilter {
  lbId: string;
  name?: string;
}

/** GET /routes is zone-wide: the zone, the projects the caller may see, and an optional frontend. */
export interface RouteFilter {
  zone: string;
  projectIds?: string[];
  frontendId?: string;
}

export type ChangeListener = (lbId: string) => void;

export interface Store {
  // Load balancers. `attachIpIds` are existing flexible IPs; `newIps` are created attached to the LB.
  createLb(lb: Lb, attachIpIds: string[], newIps: Ip[]): Promise<void>;
  getLb(id: string): Promise<Lb | null>;
  listLbs(filter: LbFilter, page: Page): Promise<Paged<Lb>>;
  /** Every LB of every zone, for the data plane at start. */
  allLbIds(): Promise<string[]>;
  /**
   * Writes the LB's own fields (name, description, tags, TLS level…) and bumps its config version. The lifecycle —
   * status and a requested deletion — stays as stored: a caller's copy may be stale, and only setLbStatus and
   * requestLbDeletion change it.
   */
  updateLb(lb: Lb): Promise<void>;
  /**
   * Read-modify-write of the LB's own fields in one transaction (the LB locked meanwhile): `change` gets the LB as
   * stored and returns the new one, or throws to change nothing. As with updateLb, the lifecycle and the config version
   * stay the store's. Null when there is no such LB.
   */
  changeLb(id: string, change: (current: Lb) => Lb): Promise<Lb | null>;
  /**
   * changeLb for an attachment to private network `pnId`: `change` also gets the addresses every LB holds on that
   * network (address → LB id), read in the same transaction under a lock of the network, so that two attaches racing in
   * any processes never pick the same address.
   */
  changeLbOnNetwork(id: string, pnId: string, change: (current: Lb, used: Map<string, string>) => Lb): Promise<Lb | null>;
  /** Sets the lifecycle status: no config version bump, no notification. A deletion in progress is never undone. */
  setLbStatus(id: string, status: LbStatus): Promise<void>;
  /** Marks the LB `to_delete` (a change: bumped and notified); `releaseIps` is kept for deleteLb. No-op if already deleting. */
  requestLbDeletion(id: string, releaseIps: boolean): Promise<void>;
  /** Deletes the LB and its children; its IPs are deleted (`releaseIps`) or detached. */
  deleteLb(id: string, releaseIps: boolean): Promise<void>;
  /** The LB with its IP addresses and children, read consistently. */
  snapshot(lbId: string): Promise<LbSnapshot | null>;

  // Flexible IPs.
  createIp(ip: Ip): Promise<void>;
  getIp(id: string): Promise<Ip | null>;
  /** By address, IPv4 in numeric order then IPv6, as Scaleway lists them; `page.orderBy` does not apply. */
  listIps(filter: IpFilter, page: Page): Promise<Paged<Ip>>;
  ipsOfLb(lbId: string): Promise<Ip[]>;
  updateIp(ip: Ip, previousLbId: string | null): Promise<void>;
  deleteIp(id: string): Promise<void>;
  usedAddresses(): Promise<Set<string>>;

  // Backends. Creating one past LIMITS.backendsPerLb is a LimitError: the count and the insert are one transaction.
  createBackend(b: Backend): Promise<void>;
  getBackend(id: string): Promise<Backend | null>;
  listBackends(filter: ChildFilter, page: Page): Promise<Paged<Backend>>;
  updateBackend(b: Backend): Promise<void>;
  /**
   * Read-modify-write of one backend in one transaction (its LB locked meanwhile, so that concurrent changes, e.g. two
   * add-servers, both land): `change` gets the current backend and returns the new one, or throws to change nothing.
   * Null when there is no such backend.
   */
  changeBackend(id: string, change: (current: Backend) => Backend): Promise<Backend | null>;
  deleteBackend(id: string): Promise<void>;
  countBackends(lbId: string): Promise<number>;

  // Frontends. Creating one past LIMITS.frontendsPerLb is a LimitError.
  createFrontend(f: Frontend): Promise<void>;
  getFrontend(id: string): Promise<Frontend | null>;
  listFrontends(filter: ChildFilter, page: Page): Promise<Paged<Frontend>>;
  frontendsOfBackend(backendId: string): Promise<Frontend[]>;
  updateFrontend(f: Frontend): Promise<void>;
  deleteFrontend(id: string): Promise<void>;
  countFrontends(lbId: string): Promise<number>;

  // Certificates (their PEM files live beside, see certificate-files.ts). Creating or deleting one changes no running
  // config (a frontend must name it first, and one in use is not deleted); an update bumps the LB only when its PEM or
  // its ACME order changed.
  createCertificate(c: Certificate): Promise<void>;
  getCertificate(id: string): Promise<Certificate | null>;
  listCertificates(filter: ChildFilter, page: Page): Promise<Paged<Certificate>>;
  /** Every certificate of every LB (the ACME job's work list). */
  allCertificates(): Promise<Certificate[]>;
  updateCertificate(c: Certificate): Promise<void>;
  /** Read-modify-write of one certificate in one transaction (as changeBackend); null when there is no such certificate. */
  changeCertificate(id: string, change: (current: Certificate) => Certificate): Promise<Certificate | null>;
  deleteCertificate(id: string): Promise<void>;
  frontendsOfCertificate(certificateId: string): Promise<Frontend[]>;
  // Routes and ACLs belong to a frontend: deleting the frontend deletes them.
  createRoute(r: Route): Promise<void>;
  getRoute(id: string): Promise<Route | null>;
  listRoutes(filter: RouteFilter, page: Page): Promise<Paged<Route>>;
  routesOfFrontend(frontendId: string): Promise<Route[]>;
  routesOfBackend(backendId: string): Promise<Route[]>;
  updateRoute(r: Route): Promise<void>;
  deleteRoute(id: string): Promise<void>;
  countRoutes(lbId: string): Promise<number>;
  /** A LimitError past ACL_LIMITS.perFrontend. */
  createAcl(a: Acl): Promise<void>;
  getAcl(id: string): Promise<Acl | null>;
  listAcls(filter: { frontendId: string; name?: string }, page: Page): Promise<Paged<Acl>>;
  aclsOfFrontend(frontendId: string): Promise<Acl[]>;
  updateAcl(a: Acl): Promise<void>;
  deleteAcl(id: string): Promise<void>;
  /** Replaces all ACLs of the frontend with `acls` in one transaction. */
  setAcls(frontendId: string, lbId: string, acls: Acl[]): Promise<void>;
  // Alert subscribers. Deleting one unsubscribes the LBs that used it (no config change: no bump, no notification).
  createSubscriber(s: Subscriber): Promise<void>;
  getSubscriber(id: string): Promise<Subscriber | null>;
  listSubscribers(filter: SubscriberFilter, page: Page): Promise<Paged<Subscriber>>;
  updateSubscriber(s: Subscriber): Promise<void>;
  deleteSubscriber(id: string): Promise<void>;

  // Settings that must survive restarts (generated admin key, default project…).
  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;
  /** Stores `value` unless the key is set already; returns the stored value (processes starting together agree). */
  initSetting(key: string, value: string): Promise<string>;

  // Project-scoped API keys. Another process (the `fulcrum keys` CLI) may write them while `serve` runs: reads must see
  // every committed write at once, with no cache.
  createApiKey(key: ApiKey): Promise<void>;
  /** The key whose secret has this hash, unless it is revoked; null otherwise. */
  findApiKey(secretHash: string): Promise<ApiKey | null>;
  /** Every key, revoked ones included, in creation order. */
  listApiKeys(): Promise<ApiKey[]>;
  /** Revokes the key named by its id or access key; returns it as revoked, or null when no active key has that name. */
  revokeApiKey(idOrAccessKey: string, at: string): Promise<ApiKey | null>;

  onChange(listener: ChangeListener): void;
  close(): Promise<void>;
}

/** Raised by a store when a write would break a uniqueness rule (an address or a frontend port already taken). */
export class ConflictError extends Error {
  constructor(readonly what: 'address' | 'inbound_port', message: string) {
    super(message);
  }
}

/** A per-parent limit that store writes enforce inside their transaction, whatever process writes. */
export const STORE_LIMITS = {
  backends: LIMITS.backendsPerLb,
  frontends: LIMITS.frontendsPerLb,
  acls: ACL_LIMITS.perFrontend,
} as const;

/** Raised by a store when a create would pass a limit of its parent (STORE_LIMITS); nothing is written. */
export class LimitError extends Error {
  constructor(readonly what: keyof typeof STORE_LIMITS) {
    super(`at most ${STORE_LIMITS[what]} ${what}`);
  }
}

/** Throws a LimitError when a parent holding `count` children of the kind has no room for one more. */
export function checkRoom(what: keyof typeof STORE_LIMITS, count: number): void {
  if (count >= STORE_LIMITS[what]) throw new LimitError(what);
}

/** A caller's new LB document as a store writes it: the lifecycle as stored, the config version bumped. */
export function keepLifecycle(current: Lb, next: Lb): Lb {
  return {
    ...next, id: current.id, status: current.status, releaseIpsOnDelete: current.releaseIpsOnDelete,
    configVersion: current.configVersion + 1,
  };
}

/**
 * Sealed copies of certificates' PEMs in a shared store (PostgreSQL), one per (certificate, PEM hash), so that every
 * process on the store can run a certificate created through any of them (certificate-pems.ts). The text is sealed
 * before it gets here (pem-seal.ts): a store never sees a PEM.
 */
export interface SealedPemStore {
  putSealedPem(certificateId: string, pemSha256: string, sealed: string): Promise<void>;
  sealedPem(certificateId: string, pemSha256: string): Promise<string | null>;
  deleteSealedPems(certificateId: string): Promise<void>;
  /** Every row whose sealed text does not start with `prefix` (sealed under another key than the current one). */
  sealedPemsOutside(prefix: string): Promise<{ certificateId: string; pemSha256: string; sealed: string }[]>;
  /** Removes rows older than `graceMs` that no certificate names (deleted, or replaced by a renewal); returns how many. */
  sweepSealedPems(graceMs: number): Promise<number>;
}

/**
 * HTTP-01 answers kept in a shared store (PostgreSQL): each change bumps the LB's config version and is announced
 * like any other, and the LB's snapshot carries them (`challenges`) to every process running its HAProxy.
 */
export interface ChallengeStore {
  /** Sets (or, with null, removes) the answer for a token of the LB; false when the LB is gone. */
  setAcmeChallenge(lbId: string, token: string, keyAuthorization: string | null): Promise<boolean>;
}

/** Whether a certificate's new version changes what HAProxy sees: the PEM, and the HTTP-01 listener while an order runs. */
export function certificateChangesConfig(current: Certificate, next: Certificate): boolean {
  return current.pemSha256 !== next.pemSha256 || current.orderActive !== next.orderActive;
}

/** The addresses the LBs hold on private network `pnId`, each with its LB's id. */
export function addressesOn(pnId: string, lbs: Lb[]): Map<string, string> {
  const used = new Map<string, string>();
  for (const lb of lbs) for (const a of lb.privateNetworks ?? []) if (a.privateNetworkId === pnId) used.set(a.address, lb.id);
  return used;
}
