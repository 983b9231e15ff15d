// GET /metrics: one Prometheus exposition of the control plane and of every LB's HAProxy, for the admin key (as
// X-Auth-Token or Authorization: Bearer), or for anyone with --metrics-public. It spans every project, so project keys
// get 403 permissions_denied.
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api/context.js';
import { permissionsDenied } from '../wire/errors.js';
import type { OpsRouteConfig } from './access.js';
import { Exposition } from './exposition.js';
import { addLbMetrics } from './lb-metrics.js';
import type { ControlMetrics } from './metrics.js';

export interface MetricsOptions {
  control: ControlMetrics;
  /** Where the LBs' HAProxy files are; null when no HAProxy runs (--dataplane none). */
  dataDir: string | null;
  public: boolean;
}

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function metricsRoute(app: FastifyInstance, ctx: ApiContext, opts: MetricsOptions): void {
  const config: OpsRouteConfig = { public: opts.public, bearer: true, ownContentType: true };
  app.get('/metrics', {
    config,
    schema: { summary: 'Prometheus metrics of the control plane and of every LB (admin key, or --metrics-public)', tags: ['fulcrum'] },
  }, async (req, reply) => {
    if (!opts.public && req.principal.projectIds !== undefined) throw permissionsDenied('read', 'metrics');
    const out = new Exposition();
    // In agents mode an LB has one instance per node, as the nodes report them.
    const lbIds = await opts.control.addTo(out, ctx.store, async (id) => (ctx.instances
      ? (await ctx.instances.of(id)).map((i) => i.state.status) : [ctx.reconciler.instanceState(id).status]));
    if (opts.dataDir !== null) await addLbMetrics(out, opts.dataDir, lbIds);
    return reply.header('content-type', CONTENT_TYPE).send(out.toString());
  });
}
