// What routes and ACLs need from their frontend, checked wherever one side changes: a route's backend has the same
// protocol as the frontend (HAProxy cannot switch a connection between tcp and http mode), host_header / path_begin
// routes and HTTP filters or redirects need an HTTP frontend, SNI routes a TCP one.
import type { Acl } from '../domain/acls.js';
import type { ForwardProtocol } from '../domain/backends.js';
import type { Frontend } from '../domain/frontends.js';
import type { RouteMatchKind } from '../domain/routes.js';
import type { Problems } from '../wire/common.js';
import type { ApiContext } from './context.js';

/** Why a route match cannot work on a frontend of this protocol; null when it can. */
export function routeMatchMisfit(kind: RouteMatchKind, protocol: ForwardProtocol): string | null {
  if (kind === 'sni' && protocol === 'http') {
    return 'SNI routes need a TCP frontend (Scaleway removed SNI routes to HTTP backends in 2023); use host_header';
  }
  if (kind !== 'sni' && protocol === 'tcp') return `${kind} routes need an HTTP frontend; use sni on a TCP frontend`;
  return null;
}

/** Why an ACL cannot work on a TCP frontend (it reads HTTP); null when it can, or when the frontend is HTTP. */
export function aclMisfit(a: Pick<Acl, 'action' | 'match'>, protocol: ForwardProtocol): { arg: string; help: string } | null {
  if (protocol === 'http') return null;
  if (a.match.httpFilter !== 'acl_http_filter_none') {
    return { arg: 'match.http_filter', help: 'HTTP filters need an HTTP frontend; a TCP frontend can match ip_subnet only' };
  }
  if (a.action.type === 'redirect') return { arg: 'action.type', help: 'redirect needs an HTTP frontend; a TCP frontend can allow or deny' };
  return null;
}

/**
 * Checks that the frontend's routes and ACLs still fit when its default backend becomes `protocol` (a frontend
 * update, or an update of that backend), and that backends its routes point to keep the frontend's protocol.
 */
export async function checkRulesFit(ctx: ApiContext, p: Problems, arg: string, f: Frontend, protocol: ForwardProtocol): Promise<void> {
  for (const r of await ctx.store.routesOfFrontend(f.id)) {
    const target = r.backendId === f.backendId ? null : await ctx.store.getBackend(r.backendId);
    const misfit = routeMatchMisfit(r.match.kind, protocol)
      ?? (target && target.forwardProtocol !== protocol ? `it sends to backend ${target.id}, whose protocol is ${target.forwardProtocol}` : null);
    if (misfit) p.add(arg, 'constraint', `frontend ${f.id} has route ${r.id} that would not work with a ${protocol} frontend: ${misfit}`);
  }
  for (const a of await ctx.store.aclsOfFrontend(f.id)) {
    const misfit = aclMisfit(a, protocol);
    if (misfit) p.add(arg, 'constraint', `frontend ${f.id} has ACL ${a.id} that would not work with a ${protocol} frontend: ${misfit.help}`);
  }
}

/** For a backend whose protocol changes: every frontend using it by default or through a route must still fit. */
export async function checkBackendProtocolChange(ctx: ApiContext, p: Problems, backendId: string, protocol: ForwardProtocol): Promise<void> {
  for (const f of await ctx.store.frontendsOfBackend(backendId)) await checkRulesFit(ctx, p, 'forward_protocol', f, protocol);
  for (const r of await ctx.store.routesOfBackend(backendId)) {
    const f = await ctx.store.getFrontend(r.frontendId);
    const own = f ? await ctx.store.getBackend(f.backendId) : null;
    if (own && own.id !== backendId && own.forwardProtocol !== protocol) {
      p.add('forward_protocol', 'constraint', `route ${r.id} sends frontend ${r.frontendId} (${own.forwardProtocol}) to this backend`);
    }
  }
}
