// Frontend routes. A frontend listens on every address of its LB at `inbound_port`, in its backend's protocol.
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Frontend } from '../domain/frontends.js';
import type { Lb } from '../domain/lbs.js';
import { LIMITS, isPort, isUuid } from '../domain/validation.js';
import { Problems } from '../wire/common.js';
import { alreadyExists, notFound } from '../wire/errors.js';
import { backendToWire } from '../wire/backends.js';
import { certificateToWire } from '../wire/certificates.js';
import { FrontendBody, frontendToWire } from '../wire/frontends.js';
import { PagingQuery, listBody } from '../wire/paging.js';
import { serializeOnce } from '../wire/shared-json.js';
import { ConflictError } from '../store/store.js';
import type { Principal } from './auth.js';
import { frontendCertificateIds, touchCertificates } from './certificates.js';
import { checkLimit } from './limits.js';
import { canSee, lbJson, lbJsonAsLoaded, loadFrontend, loadLb, loadLbForChange, now, type ApiContext } from './context.js';
import { readListPage } from './routing.js';
import { checkRulesFit } from './rules-fit.js';

const LbParams = Type.Object({ zone: Type.String(), lb_id: Type.String() });
const FrontendParams = Type.Object({ zone: Type.String(), frontend_id: Type.String() });
type FrontendParams = typeof FrontendParams.static;
const ListQuery = Type.Object({ ...PagingQuery, name: Type.Optional(Type.String({ maxLength: 255 })) });

/** The frontend as the wire shows it, with its backend and LB embedded (ACL answers embed it too). */
export async function frontendJson(ctx: ApiContext, f: Frontend, lb: Lb): Promise<Record<string, unknown>> {
  return frontendWire(ctx, f, await lbJson(ctx, lb));
}

/** The same, around an LB already rendered for this answer (a list renders its LB once). */
async function frontendWire(ctx: ApiContext, f: Frontend, lbWire: Record<string, unknown>): Promise<Record<string, unknown>> {
  const backend = await ctx.store.getBackend(f.backendId);
  // `certificate` (deprecated) is the first of certificate_ids, in full.
  const cert = f.certificateIds.length ? await ctx.store.getCertificate(f.certificateIds[0]) : null;
  return frontendToWire(f, backend ? backendToWire(backend, lbWire) : {}, lbWire, cert && certificateToWire(cert, lbWire));
}

export function frontendRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const json = (f: Frontend, lb: Lb) => frontendJson(ctx, f, lb);

  /** Reads and checks a create/update body; `self` is the frontend being updated. */
  const parse = async (principal: Principal, lb: Lb, body: FrontendBody, self: string | null): Promise<Omit<Frontend, 'id' | 'createdAt' | 'updatedAt'>> => {
    const p = new Problems();
    if (!isPort(body.inbound_port)) p.add('inbound_port', 'constraint', 'must be a port between 1 and 65535');
    if (!isUuid(body.backend_id)) p.add('backend_id', 'format', 'must be a UUID');
    const rate = body.connection_rate_limit ?? 0;
    p.intRange('connection_rate_limit', rate, 0, LIMITS.maxConnectionRate);
    const name = p.text('name', body.name, LIMITS.nameLength, true);
    // 0, as for the backend timeouts, is accepted (Scaleway's range starts at 0) and rendered as the default.
    const timeoutClientMs = p.duration('timeout_client', body.timeout_client, 'ms', 0, null);
    p.throwIfAny();
    const backend = await ctx.store.getBackend(body.backend_id);
    if (!backend || backend.lbId !== lb.id) {
      // A backend of an LB the key cannot see is answered like one that does not exist.
      const owner = backend ? await ctx.store.getLb(backend.lbId) : null;
      if (!owner || !canSee(principal, owner.projectId)) throw notFound('backend', body.backend_id);
      p.add('backend_id', 'constraint', 'the backend belongs to another load balancer');
    }
    if (!self) checkLimit(p, 'frontends', await ctx.store.countFrontends(lb.id));
    const certificateIds = await frontendCertificateIds(ctx, principal, lb, body, p);
    p.throwIfAny();
    return {
      lbId: lb.id, backendId: body.backend_id, name, inboundPort: body.inbound_port, timeoutClientMs, certificateIds,
      enableHttp3: body.enable_http3 ?? false, connectionRateLimit: rate === 0 ? null : rate, enableAccessLogs: body.enable_access_logs ?? false,
    };
  };

  /** Writes, turning the store's port uniqueness into a 409 that names the frontend holding the port. */
  const save = async (f: Frontend, write: (f: Frontend) => Promise<void>) => {
    try {
      await write(f);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      const holder = (await ctx.store.listFrontends({ lbId: f.lbId }, { page: 1, pageSize: LIMITS.frontendsPerLb, orderBy: 'created_at_asc' }))
        .items.find((o) => o.inboundPort === f.inboundPort && o.id !== f.id);
      throw alreadyExists('frontend', holder?.id ?? f.id,
        `inbound_port ${f.inboundPort} is already used on this load balancer's IP by frontend ${holder?.id ?? 'another frontend'}`);
    }
  };

  app.get<{ Params: typeof LbParams.static; Querystring: typeof ListQuery.static }>('/lbs/:lb_id/frontends', {
    schema: { querystring: ListQuery },
  }, async (req) => {
    const lb = await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id);
    const res = await ctx.store.listFrontends({ lbId: lb.id, name: req.query.name }, readListPage(req.query));
    const lbWire = serializeOnce(await lbJsonAsLoaded(ctx, lb));
    return lbWire.stringify(listBody('frontends', await Promise.all(res.items.map((f) => frontendWire(ctx, f, lbWire.embed))), res.total));
  });

  app.post<{ Params: typeof LbParams.static; Body: FrontendBody }>('/lbs/:lb_id/frontends', { schema: { body: FrontendBody } }, async (req) => {
    const lb = await loadLbForChange(ctx, req.principal, req.params.zone, req.params.lb_id);
    const f: Frontend = { id: randomUUID(), ...(await parse(req.principal, lb, req.body, null)), createdAt: now(), updatedAt: now() };
    await save(f, (x) => ctx.store.createFrontend(x));
    await touchCertificates(ctx, f.certificateIds);
    return json(f, lb);
  });

  app.get<{ Params: FrontendParams }>('/frontends/:frontend_id', async (req) => {
    const { frontend, lb } = await loadFrontend(ctx, req.principal, req.params.zone, req.params.frontend_id);
    return frontendWire(ctx, frontend, await lbJsonAsLoaded(ctx, lb));
  });

  app.put<{ Params: FrontendParams; Body: FrontendBody }>('/frontends/:frontend_id', { schema: { body: FrontendBody } }, async (req) => {
    const { frontend } = await loadFrontend(ctx, req.principal, req.params.zone, req.params.frontend_id);
    const lb = await loadLbForChange(ctx, req.principal, req.params.zone, frontend.lbId);
    const next: Frontend = { ...frontend, ...(await parse(req.principal, lb, req.body, frontend.id)), updatedAt: now() };
    const p = new Problems();
    await checkRulesFit(ctx, p, 'backend_id', next, (await ctx.store.getBackend(next.backendId))!.forwardProtocol);
    p.throwIfAny();
    await save(next, (x) => ctx.store.updateFrontend(x));
    await touchCertificates(ctx, next.certificateIds);
    return json(next, lb);
  });

  app.delete<{ Params: FrontendParams }>('/frontends/:frontend_id', async (req, reply) => {
    const { frontend } = await loadFrontend(ctx, req.principal, req.params.zone, req.params.frontend_id);
    await loadLbForChange(ctx, req.principal, req.params.zone, frontend.lbId);
    await ctx.store.deleteFrontend(frontend.id);
    return reply.code(204).send();
  });
}
