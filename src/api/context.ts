// What every route needs: the store, the reconciler, the deployment's settings, and helpers that load an object
// the caller may see (or answer 404) and render an LB with its live instance state.
import type { Backend } from '../domain/backends.js';
import type { Frontend } from '../domain/frontends.js';
import { isBeingDeleted, type Lb, type LbCounts } from '../domain/lbs.js';
import type { PrivateNetwork } from '../domain/private-networks.js';
import type { ServerStat } from '../domain/stats.js';
import type { InstanceSource } from '../cluster/instances.js';
import type { Reconciler } from '../control/reconciler.js';
import type { CertificatePems } from '../store/certificate-pems.js';
import type { Store } from '../store/store.js';
import { notFound, transientState } from '../wire/errors.js';
import { lbToWire } from '../wire/lbs.js';
import type { AddressPool } from './address-pool.js';
import type { Principal } from './auth.js';

export interface ApiContext {
  store: Store;
  reconciler: Reconciler;
  pool: AddressPool;
  zones: string[];
  defaultProjectId: string;
  /** The private networks LBs may attach to (`--private-network`); none when unset. */
  privateNetworks?: PrivateNetwork[];
  /** True when email alerts have a relay (`--smtp-url`); email subscribers are refused otherwise. */
  mailRelay?: boolean;
  /** Where certificates' PEM files are written (mode 0600). */
  certificatePems: CertificatePems;
  /** Told when a Let's Encrypt certificate is created, so its order starts now rather than at the next round. */
  acme?: { poke(): void };
  /** Agents mode: the LBs' instances (one per node) and backend stats come from the cluster tables, not the reconciler. */
  instances?: InstanceSource;
}

/** True when the principal may see objects of this project. */
export function canSee(p: Principal, projectId: string): boolean {
  return p.projectIds === undefined || p.projectIds.includes(projectId);
}

/** The project a create request without project_id lands in: a project key's own, else the deployment's default. */
export function defaultProjectOf(ctx: ApiContext, p: Principal): string {
  return p.projectIds?.length === 1 ? p.projectIds[0] : ctx.defaultProjectId;
}

export async function loadLb(ctx: ApiContext, p: Principal, zone: string, id: string): Promise<Lb> {
  const lb = await ctx.store.getLb(id);
  if (!lb || lb.zone !== zone || !canSee(p, lb.projectId)) throw notFound('lb', id);
  return lb;
}

/** Loads an LB whose children are about to change; refused while the LB itself is being created or deleted. */
export async function loadLbForChange(ctx: ApiContext, p: Principal, zone: string, id: string): Promise<Lb> {
  const lb = await loadLb(ctx, p, zone, id);
  if (isBeingDeleted(lb.status)) throw transientState('lb', lb.id, lb.status);
  return lb;
}

export async function loadBackend(ctx: ApiContext, p: Principal, zone: string, id: string): Promise<{ backend: Backend; lb: Lb }> {
  const backend = await ctx.store.getBackend(id);
  const lb = backend ? await ctx.store.getLb(backend.lbId) : null;
  if (!backend || !lb || lb.zone !== zone || !canSee(p, lb.projectId)) throw notFound('backend', id);
  return { backend, lb };
}

export async function loadFrontend(ctx: ApiContext, p: Principal, zone: string, id: string): Promise<{ frontend: Frontend; lb: Lb }> {
  const frontend = await ctx.store.getFrontend(id);
  const lb = frontend ? await ctx.store.getLb(frontend.lbId) : null;
  if (!frontend || !lb || lb.zone !== zone || !canSee(p, lb.projectId)) throw notFound('frontend', id);
  return { frontend, lb };
}

/** Backend stats of the LB: live from its HAProxy, or in agents mode as its nodes published them (one set per instance). */
export async function liveStats(ctx: ApiContext, lbId: string): Promise<ServerStat[]> {
  return (await (ctx.instances ? ctx.instances.stats(lbId) : ctx.reconciler.stats(lbId))) ?? [];
}

/** The LB as the wire shows it, re-read so that status and version are current after a write in this request. */
export async function lbJson(ctx: ApiContext, lb: Lb): Promise<Record<string, unknown>> {
  return lbJsonAsLoaded(ctx, (await ctx.store.getLb(lb.id)) ?? lb);
}

/** The LB as the wire shows it, for answers that read `lb` in this request and wrote nothing (one read fewer). */
export async function lbJsonAsLoaded(ctx: ApiContext, lb: Lb): Promise<Record<string, unknown>> {
  return lbToWire({
    lb,
    ips: await ctx.store.ipsOfLb(lb.id),
    instance: ctx.reconciler.instanceState(lb.id),
    nodeInstances: await ctx.instances?.of(lb.id),
    counts: await lbCounts(ctx, lb.id),
    subscriber: lb.subscriberId ? await ctx.store.getSubscriber(lb.subscriberId) : null,
  });
}

/**
 * The LB's children, counted from the store when the answer is built: an answer to a create or delete already counts
 * the change (as Scaleway's do), and every embedded copy of the LB in one answer shows the same numbers.
 */
export async function lbCounts(ctx: ApiContext, lbId: string): Promise<LbCounts> {
  return {
    backends: await ctx.store.countBackends(lbId),
    frontends: await ctx.store.countFrontends(lbId),
    routes: await ctx.store.countRoutes(lbId),
  };
}

export function now(): string {
  return new Date().toISOString();
}
