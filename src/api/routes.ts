// Route resource (`/routes`, `/routes/{route_id}`): a frontend's requests or connections that match go to another
// backend of the same LB. Answers carry ids only (spec §4, recorded answers).
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Frontend } from '../domain/frontends.js';
import type { Lb } from '../domain/lbs.js';
import { ROUTES_PER_FRONTEND, isPathPrefix, isRouteHost, type Route, type RouteMatch } from '../domain/routes.js';
import { isUuid } from '../domain/validation.js';
import { Problems } from '../wire/common.js';
import { invalidArgument, notFound } from '../wire/errors.js';
import { PagingQuery, listBody } from '../wire/paging.js';
import { RouteCreateBody, RouteUpdateBody, routeToWire, type RouteMatchBody } from '../wire/routes.js';
import type { Principal } from './auth.js';
import { canSee, loadFrontend, loadLbForChange, now, type ApiContext } from './context.js';
import { readListPage } from './routing.js';
import { routeMatchMisfit } from './rules-fit.js';

const RouteParams = Type.Object({ zone: Type.String(), route_id: Type.String() });
type RouteParams = typeof RouteParams.static;
const ListQuery = Type.Object({ ...PagingQuery, frontend_id: Type.Optional(Type.String({ maxLength: 64 })) });

/** Reads `match`: exactly one of sni / host_header / path_begin, with a value of its kind. */
function parseMatch(p: Problems, m: typeof RouteMatchBody.static | null | undefined): RouteMatch | null {
  const set = (['sni', 'host_header', 'path_begin'] as const).filter((k) => m?.[k] !== null && m?.[k] !== undefined);
  if (set.length !== 1) {
    p.add('match', set.length ? 'constraint' : 'required', 'exactly one of match.sni, match.host_header, match.path_begin must be set');
    return null;
  }
  const kind = set[0];
  const value = m![kind]!;
  const ok = kind === 'path_begin' ? isPathPrefix(value) : isRouteHost(kind, value);
  if (!ok) {
    p.add(`match.${kind}`, 'format', kind === 'path_begin'
      ? 'must be a path prefix of URI path characters (no spaces, quotes, # or backslash)'
      : kind === 'sni' ? 'must be a DNS name' : 'must be a DNS name or an IPv4 address, without port');
    return null;
  }
  return { kind, value, matchSubdomains: m?.match_subdomains ?? false };
}

export function routeResource(app: FastifyInstance, ctx: ApiContext): void {
  const loadRoute = async (principal: Principal, zone: string, id: string): Promise<{ route: Route; lb: Lb }> => {
    const route = await ctx.store.getRoute(id);
    const lb = route ? await ctx.store.getLb(route.lbId) : null;
    if (!route || !lb || lb.zone !== zone || !canSee(principal, lb.projectId)) throw notFound('route', id);
    return { route, lb };
  };

  /** Checks a backend and match against the frontend; `self` is the route being updated. */
  const parse = async (principal: Principal, f: Frontend, backendId: string, body: { match?: typeof RouteMatchBody.static | null },
    self: string | null): Promise<Pick<Route, 'backendId' | 'match'>> => {
    const p = new Problems();
    if (!isUuid(backendId)) p.add('backend_id', 'format', 'must be a UUID');
    const match = parseMatch(p, body.match);
    p.throwIfAny();
    const backend = await ctx.store.getBackend(backendId);
    if (!backend || backend.lbId !== f.lbId) {
      const owner = backend ? await ctx.store.getLb(backend.lbId) : null;
      if (!owner || !canSee(principal, owner.projectId)) throw notFound('backend', backendId);
      p.add('backend_id', 'constraint', 'the backend belongs to another load balancer than the frontend');
    } else {
      const own = (await ctx.store.getBackend(f.backendId))!;
      if (backend.forwardProtocol !== own.forwardProtocol) {
        p.add('backend_id', 'constraint', `the backend's protocol (${backend.forwardProtocol}) differs from the frontend's (${own.forwardProtocol})`);
      }
      const misfit = routeMatchMisfit(match!.kind, own.forwardProtocol);
      if (misfit) p.add(`match.${match!.kind}`, 'constraint', misfit);
    }
    if (!self && (await ctx.store.routesOfFrontend(f.id)).length >= ROUTES_PER_FRONTEND) {
      p.add('frontend_id', 'constraint', `a frontend holds at most ${ROUTES_PER_FRONTEND} routes`);
    }
    p.throwIfAny();
    return { backendId, match: match! };
  };

  app.get<{ Params: { zone: string }; Querystring: typeof ListQuery.static }>('/routes', { schema: { querystring: ListQuery } }, async (req) => {
    const page = readListPage(req.query);
    const res = await ctx.store.listRoutes({
      zone: req.params.zone, projectIds: req.principal.projectIds, frontendId: req.query.frontend_id || undefined,
    }, { ...page, orderBy: page.orderBy === 'created_at_desc' ? 'created_at_desc' : 'created_at_asc' });
    return listBody('routes', res.items.map(routeToWire), res.total);
  });

  app.post<{ Params: { zone: string }; Body: RouteCreateBody }>('/routes', { schema: { body: RouteCreateBody } }, async (req) => {
    if (!isUuid(req.body.frontend_id)) throw invalidArgument('frontend_id', 'format', 'must be a UUID');
    const { frontend } = await loadFrontend(ctx, req.principal, req.params.zone, req.body.frontend_id);
    await loadLbForChange(ctx, req.principal, req.params.zone, frontend.lbId);
    const r: Route = {
      id: randomUUID(), lbId: frontend.lbId, frontendId: frontend.id,
      ...(await parse(req.principal, frontend, req.body.backend_id, req.body, null)), createdAt: now(), updatedAt: now(),
    };
    await ctx.store.createRoute(r);
    return routeToWire(r);
  });

  app.get<{ Params: RouteParams }>('/routes/:route_id', async (req) => {
    return routeToWire((await loadRoute(req.principal, req.params.zone, req.params.route_id)).route);
  });

  app.put<{ Params: RouteParams; Body: RouteUpdateBody }>('/routes/:route_id', { schema: { body: RouteUpdateBody } }, async (req) => {
    const { route } = await loadRoute(req.principal, req.params.zone, req.params.route_id);
    await loadLbForChange(ctx, req.principal, req.params.zone, route.lbId);
    const { frontend } = await loadFrontend(ctx, req.principal, req.params.zone, route.frontendId);
    const next: Route = { ...route, ...(await parse(req.principal, frontend, req.body.backend_id, req.body, route.id)), updatedAt: now() };
    await ctx.store.updateRoute(next);
    return routeToWire(next);
  });

  app.delete<{ Params: RouteParams }>('/routes/:route_id', async (req, reply) => {
    const { route } = await loadRoute(req.principal, req.params.zone, req.params.route_id);
    await loadLbForChange(ctx, req.principal, req.params.zone, route.lbId);
    await ctx.store.deleteRoute(route.id);
    return reply.code(204).send();
  });
}
