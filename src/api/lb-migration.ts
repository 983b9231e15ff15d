// `POST /lbs/{lb_id}/migrate`: moves an LB to another offer, i.e. another HAProxy profile (domain/lb-types.ts).
// The answer shows `migrating` with the old type (as recorded on Scaleway); the reconciler applies the new profile
// with one seamless reload, then the LB reads `ready` with its new type (control/migration.ts).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { findLbType } from '../domain/lb-types.js';
import { invalidArgument, transientState } from '../wire/errors.js';
import { lbJson, loadLb, type ApiContext } from './context.js';
import { LB_TYPE_HELP } from './lbs.js';

const LbParams = Type.Object({ zone: Type.String(), lb_id: Type.String() });
const MigrateBody = Type.Object({ type: Type.String({ maxLength: 64 }) });

export function lbMigrationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: typeof LbParams.static; Body: typeof MigrateBody.static }>('/lbs/:lb_id/migrate',
    { schema: { body: MigrateBody } }, async (req) => {
      const lb = await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id);
      const type = findLbType(req.body.type);
      if (!type) throw invalidArgument('type', 'constraint', LB_TYPE_HELP);
      // Only a settled LB moves: one being created, deleted or already migrating answers 409 (spec §5).
      if (lb.status !== 'ready' && lb.status !== 'error') throw transientState('lb', lb.id, lb.status);
      // Status first (no notification), then the target type (a change the reconciler picks up).
      await ctx.store.setLbStatus(lb.id, 'migrating');
      await ctx.store.changeLb(lb.id, (current) => ({ ...current, migratingTo: type.name.toLowerCase() }));
      return lbJson(ctx, lb);
    });
}
