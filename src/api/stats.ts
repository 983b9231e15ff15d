// Backend server statistics, live from the LB's HAProxy (or stopped/unknown while it is not running).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ServerStat } from '../domain/stats.js';
import { notFound } from '../wire/errors.js';
import { PagingQuery, listBody } from '../wire/paging.js';
import { serverStatToWire } from '../wire/stats.js';
import { liveStats, loadLb, type ApiContext } from './context.js';
import { readListPage } from './routing.js';

const LbParams = Type.Object({ zone: Type.String(), lb_id: Type.String() });
const StatsQuery = Type.Object({
  page: PagingQuery.page,
  page_size: PagingQuery.page_size,
  backend_id: Type.Optional(Type.String({ maxLength: 64 })),
});
type StatsQuery = typeof StatsQuery.static;

export function statsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const read = async (zone: string, lbId: string, principal: import('./auth.js').Principal, backendId?: string): Promise<ServerStat[]> => {
    const lb = await loadLb(ctx, principal, zone, lbId);
    if (backendId) {
      const b = await ctx.store.getBackend(backendId);
      if (!b || b.lbId !== lb.id) throw notFound('backend', backendId);
    }
    const all = await liveStats(ctx, lb.id);
    return backendId ? all.filter((s) => s.backendId === backendId) : all;
  };

  app.get<{ Params: typeof LbParams.static; Querystring: StatsQuery }>('/lbs/:lb_id/backend-stats', { schema: { querystring: StatsQuery } }, async (req) => {
    const page = readListPage(req.query);
    const all = await read(req.params.zone, req.params.lb_id, req.principal, req.query.backend_id);
    const items = all.slice((page.page - 1) * page.pageSize, page.page * page.pageSize);
    return listBody('backend_servers_stats', items.map(serverStatToWire), all.length);
  });

  // Deprecated twin of backend-stats: everything in one answer, without total_count.
  app.get<{ Params: typeof LbParams.static; Querystring: { backend_id?: string } }>('/lbs/:lb_id/stats', {
    schema: { querystring: Type.Object({ backend_id: StatsQuery.properties.backend_id }) },
  }, async (req) => {
    const all = await read(req.params.zone, req.params.lb_id, req.principal, req.query.backend_id);
    return { backend_servers_stats: all.map(serverStatToWire) };
  });
}
