// Backend routes: CRUD, the server pool (add / set / remove) and the health check.
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Backend } from '../domain/backends.js';
import type { Lb } from '../domain/lbs.js';
import { keepPool } from '../domain/server-admin.js';
import { LIMITS } from '../domain/validation.js';
import {
  BackendCreateBody, BackendUpdateBody, HealthCheckBody, ServersBody, backendToWire, healthCheckToWire, parseBackendSettings,
  parseHealthCheck, parseServerIps,
} from '../wire/backends.js';
import { Problems } from '../wire/common.js';
import { invalidArgument, notFound, resourceStillInUse } from '../wire/errors.js';
import { PagingQuery, listBody } from '../wire/paging.js';
import { VersionedLists } from '../wire/versioned-lists.js';
import { checkLimit } from './limits.js';
import { lbJson, lbJsonAsLoaded, loadBackend, loadLb, loadLbForChange, now, type ApiContext } from './context.js';
import { readListPage } from './routing.js';
import { checkBackendProtocolChange } from './rules-fit.js';

const LbParams = Type.Object({ zone: Type.String(), lb_id: Type.String() });
const BackendParams = Type.Object({ zone: Type.String(), backend_id: Type.String() });
type BackendParams = typeof BackendParams.static;
const ListQuery = Type.Object({ ...PagingQuery, name: Type.Optional(Type.String({ maxLength: 255 })) });

export function backendRoutes(app: FastifyInstance, ctx: ApiContext): void {
  /** Lists of backends per LB config version (per API: one store's versions). */
  const listedBackends = new VersionedLists();
  const json = async (b: Backend, lb: Lb) => backendToWire(b, await lbJson(ctx, lb));

  /** Loads a backend for a change (404, or 409 while its LB is being deleted). */
  const forChange = async (req: { principal: import('./auth.js').Principal; params: BackendParams }) => {
    const { backend } = await loadBackend(ctx, req.principal, req.params.zone, req.params.backend_id);
    const lb = await loadLbForChange(ctx, req.principal, req.params.zone, backend.lbId);
    return { backend, lb };
  };
  /** Changes the backend as stored when the write runs (store.changeBackend); a 404 if it was deleted meanwhile. */
  const changed = async (id: string, change: (current: Backend) => Backend): Promise<Backend> => {
    const next = await ctx.store.changeBackend(id, change);
    if (!next) throw notFound('backend', id);
    return next;
  };

  app.get<{ Params: typeof LbParams.static; Querystring: typeof ListQuery.static }>('/lbs/:lb_id/backends', {
    schema: { querystring: ListQuery },
  }, async (req) => {
    const lb = await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id);
    const page = readListPage(req.query);
    const filter = { lbId: lb.id, name: req.query.name };
    return listedBackends.answer({ lbId: lb.id, configVersion: lb.configVersion, query: [filter.name ?? null, page] }, async (lbStandIn) => {
      const res = await ctx.store.listBackends(filter, page);
      return listBody('backends', res.items.map((b) => backendToWire(b, lbStandIn as Record<string, unknown>)), res.total);
    }, JSON.stringify(await lbJsonAsLoaded(ctx, lb)));
  });

  app.post<{ Params: typeof LbParams.static; Body: BackendCreateBody }>('/lbs/:lb_id/backends', {
    schema: { body: BackendCreateBody },
  }, async (req) => {
    const lb = await loadLbForChange(ctx, req.principal, req.params.zone, req.params.lb_id);
    const p = new Problems();
    const settings = parseBackendSettings(req.body, p);
    const healthCheck = parseHealthCheck(req.body.health_check, req.body.forward_port, p, 'health_check');
    const pool = parseServerIps(req.body.server_ip, p, 'server_ip');
    checkLimit(p, 'backends', await ctx.store.countBackends(lb.id));
    p.throwIfAny();
    const b: Backend = { id: randomUUID(), lbId: lb.id, ...settings, healthCheck, pool, createdAt: now(), updatedAt: now() };
    await ctx.store.createBackend(b);
    return json(b, lb);
  });

  app.get<{ Params: BackendParams }>('/backends/:backend_id', async (req) => {
    const { backend, lb } = await loadBackend(ctx, req.principal, req.params.zone, req.params.backend_id);
    return backendToWire(backend, await lbJsonAsLoaded(ctx, lb));
  });

  app.put<{ Params: BackendParams; Body: BackendUpdateBody }>('/backends/:backend_id', { schema: { body: BackendUpdateBody } }, async (req) => {
    const { backend, lb } = await forChange(req);
    const p = new Problems();
    const settings = parseBackendSettings(req.body, p);
    if (settings.forwardProtocol !== backend.forwardProtocol) await checkBackendProtocolChange(ctx, p, backend.id, settings.forwardProtocol);
    p.throwIfAny();
    // Applied to the backend as stored: a pool or health-check change committed meanwhile (Terraform sends them back to
    // back; another process may serve one of them) is kept.
    const next = await changed(backend.id, (current) => ({ ...current, ...settings, updatedAt: now() }));
    return json(next, lb);
  });

  app.delete<{ Params: BackendParams }>('/backends/:backend_id', async (req, reply) => {
    const { backend } = await forChange(req);
    const users = await ctx.store.frontendsOfBackend(backend.id);
    if (users.length) throw resourceStillInUse(`backend is used by frontend(s) ${users.map((f) => f.id).join(', ')}; delete or repoint them first`);
    const routes = await ctx.store.routesOfBackend(backend.id);
    if (routes.length) throw resourceStillInUse(`backend is the target of route(s) ${routes.map((r) => r.id).join(', ')}; delete or repoint them first`);
    await ctx.store.deleteBackend(backend.id);
    return reply.code(204).send();
  });

  const poolRoute = (change: (pool: string[], given: string[]) => string[]) =>
    async (req: { principal: import('./auth.js').Principal; params: BackendParams; body: ServersBody }) => {
      const { backend, lb } = await forChange(req);
      const p = new Problems();
      const given = parseServerIps(req.body.server_ip, p, 'server_ip');
      const tooMany = () => `a backend holds at most ${LIMITS.poolSize} servers`;
      if (change(backend.pool, given).length > LIMITS.poolSize) p.add('server_ip', 'constraint', tooMany());
      p.throwIfAny();
      // Applied to the pool as stored when the write runs: a change committed meanwhile (another request, another
      // process) is kept, and the size limit holds for the result.
      const next = await changed(backend.id, (current) => {
        const pool = change(current.pool, given);
        if (pool.length > LIMITS.poolSize) throw invalidArgument('server_ip', 'constraint', tooMany());
        return { ...current, pool, serverAdmin: keepPool(current.serverAdmin, pool), updatedAt: now() };
      });
      return json(next, lb);
    };
  const schema = { body: ServersBody };
  // Adding an address already in the pool, or removing one not in it, is a no-op (the pool is a set).
  app.post<{ Params: BackendParams; Body: ServersBody }>('/backends/:backend_id/servers', { schema },
    poolRoute((pool, given) => [...pool, ...given.filter((ip) => !pool.includes(ip))]));
  app.put<{ Params: BackendParams; Body: ServersBody }>('/backends/:backend_id/servers', { schema }, poolRoute((_pool, given) => given));
  app.delete<{ Params: BackendParams; Body: ServersBody }>('/backends/:backend_id/servers', { schema },
    poolRoute((pool, given) => pool.filter((ip) => !given.includes(ip))));

  app.put<{ Params: BackendParams; Body: HealthCheckBody }>('/backends/:backend_id/healthcheck', {
    schema: { body: HealthCheckBody },
  }, async (req) => {
    const { backend } = await forChange(req);
    const p = new Problems();
    const healthCheck = parseHealthCheck(req.body, backend.forwardPort, p, '');
    p.throwIfAny();
    await changed(backend.id, (current) => ({ ...current, healthCheck, updatedAt: now() }));
    return healthCheckToWire(healthCheck);
  });
}
