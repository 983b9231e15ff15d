// GET/PATCH /fulcrum/v1/zones/{zone}/backends/{backend_id}/servers/{ip}: weight, admin state and slow start of one pool
// server. Same key, project scoping and error shapes as the Scaleway routes. A PATCH is stored like any change and
// reaches HAProxy through the reconciler: weight and admin state by runtime commands (dataplane/server-admin.ts),
// slow start by a seamless reload.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { serverAdminOf } from '../domain/server-admin.js';
import { normalizeServerIp } from '../domain/validation.js';
import { uniquePool } from '../dataplane/server-ids.js';
import { liveStats, loadBackend, loadLbForChange, type ApiContext } from '../api/context.js';
import type { Principal } from '../api/auth.js';
import { Problems } from '../wire/common.js';
import { invalidArgument, notFound } from '../wire/errors.js';
import { ServerAdminAnswer, ServerAdminPatch, applyPatch, serverAdminToWire } from '../wire/server-admin.js';

const ServerParams = Type.Object({ zone: Type.String(), backend_id: Type.String(), ip: Type.String({ maxLength: 64 }) });
type ServerParams = typeof ServerParams.static;

export function serverAdminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  /** The backend and the normalized address; 400 for what is not an address, 404 for one not in the pool. */
  const load = async (principal: Principal, params: ServerParams) => {
    const { backend, lb } = await loadBackend(ctx, principal, params.zone, params.backend_id);
    const parsed = normalizeServerIp(params.ip);
    if ('error' in parsed) throw invalidArgument('ip', 'format', parsed.error);
    if (!uniquePool(backend.pool).includes(parsed.ip)) throw notFound('server', parsed.ip);
    return { backend, lb, ip: parsed.ip };
  };
  const answer = async (lbId: string, backendId: string, ip: string, admin: Parameters<typeof serverAdminToWire>[2]) => {
    const stat = (await liveStats(ctx, lbId)).find((s) => s.backendId === backendId && s.ip === ip);
    return serverAdminToWire(backendId, ip, admin, stat);
  };
  const schema = { params: ServerParams, response: { 200: ServerAdminAnswer }, tags: ['fulcrum'] };

  app.get<{ Params: ServerParams }>('/backends/:backend_id/servers/:ip', {
    schema: { ...schema, summary: 'A pool server\'s weight, admin state and slow start, with its live state' },
  }, async (req) => {
    const { backend, lb, ip } = await load(req.principal, req.params);
    return answer(lb.id, backend.id, ip, serverAdminOf(backend.serverAdmin, ip));
  });

  app.patch<{ Params: ServerParams; Body: ServerAdminPatch }>('/backends/:backend_id/servers/:ip', {
    schema: { ...schema, body: ServerAdminPatch, summary: 'Change a pool server\'s weight, admin state or slow start (weight and state without a reload)' },
  }, async (req) => {
    const { backend, ip } = await load(req.principal, req.params);
    const lb = await loadLbForChange(ctx, req.principal, req.params.zone, backend.lbId);
    const p = new Problems();
    const next = applyPatch(serverAdminOf(backend.serverAdmin, ip), req.body ?? {}, p);
    p.throwIfAny();
    // Applied to the backend as stored (a pool or another server's change committed meanwhile is kept); updated_at
    // stays: the Scaleway fields of the backend did not change.
    let applied = next;
    const written = await ctx.store.changeBackend(backend.id, (current) => {
      const again = new Problems();
      applied = applyPatch(serverAdminOf(current.serverAdmin, ip), req.body ?? {}, again);
      again.throwIfAny();
      return { ...current, serverAdmin: { ...current.serverAdmin, [ip]: applied } };
    });
    if (!written) throw notFound('backend', backend.id);
    return answer(lb.id, backend.id, ip, applied);
  });
}
