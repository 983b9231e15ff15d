// Alert subscribers and LB subscriptions, with Scaleway's paths (spec §2.8): `DELETE /lb/subscription/{id}` deletes a
// subscriber, `POST /lb/{lb_id}/subscribe` and `DELETE /lb/{lb_id}/unsubscribe` (singular `lb`) set an LB's one
// subscriber. Deliveries are control/alerts.ts's.
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { isEmail, isWebhookUri, type Subscriber } from '../domain/subscribers.js';
import { LIMITS, isUuid } from '../domain/validation.js';
import { Problems } from '../wire/common.js';
import { notFound, permissionsDenied } from '../wire/errors.js';
import { PagingQuery, listBody } from '../wire/paging.js';
import {
  SubscribeBody, SubscriberCreateBody, SubscriberUpdateBody, subscriberToWire, type SubscriberUpdateBody as UpdateBody,
} from '../wire/subscribers.js';
import type { Principal } from './auth.js';
import { canSee, defaultProjectOf, lbJson, loadLb, now, type ApiContext } from './context.js';
import { readListPage, type ZoneParams } from './routing.js';

const SubscriberParams = Type.Object({ zone: Type.String(), subscriber_id: Type.String() });
const LbParams = Type.Object({ zone: Type.String(), lb_id: Type.String() });
const ListQuery = Type.Object({
  ...PagingQuery,
  name: Type.Optional(Type.String({ maxLength: 255 })),
  organization_id: Type.Optional(Type.String({ maxLength: 64 })),
  project_id: Type.Optional(Type.String({ maxLength: 64 })),
});

async function loadSubscriber(ctx: ApiContext, p: Principal, zone: string, id: string): Promise<Subscriber> {
  const s = isUuid(id) ? await ctx.store.getSubscriber(id) : null;
  if (!s || s.zone !== zone || !canSee(p, s.projectId)) throw notFound('subscriber', id);
  return s;
}

/** Name and the one-of config, shared by create and update. */
function readConfig(ctx: ApiContext, p: Problems, b: UpdateBody): Pick<Subscriber, 'name' | 'email' | 'webhookUri'> {
  const name = p.text('name', b.name, LIMITS.nameLength, true);
  const email = b.email_config?.email ?? null;
  const webhookUri = b.webhook_config?.uri ?? null;
  if ((email === null) === (webhookUri === null)) {
    p.add('email_config', 'required', 'give exactly one of email_config.email and webhook_config.uri');
  } else if (email !== null) {
    if (!isEmail(email)) p.add('email_config.email', 'format', 'must be an email address');
    else if (!ctx.mailRelay) {
      p.add('email_config', 'constraint', 'this deployment has no SMTP relay for email alerts (fulcrum serve --smtp-url and --smtp-from); use webhook_config');
    }
  } else if (!isWebhookUri(webhookUri!)) {
    p.add('webhook_config.uri', 'format', 'must be an absolute http:// or https:// URI without credentials');
  }
  return { name, email, webhookUri };
}

export function subscriberRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: ZoneParams; Querystring: typeof ListQuery.static }>('/subscribers', { schema: { querystring: ListQuery } }, async (req) => {
    const q = req.query;
    const res = await ctx.store.listSubscribers({
      zone: req.params.zone, projectIds: req.principal.projectIds, name: q.name, projectId: q.project_id, organizationId: q.organization_id,
    }, readListPage(q));
    return listBody('subscribers', res.items.map(subscriberToWire), res.total);
  });

  app.post<{ Params: ZoneParams; Body: SubscriberCreateBody }>('/subscribers', { schema: { body: SubscriberCreateBody } }, async (req) => {
    const b = req.body;
    const p = new Problems();
    const projectId = b.project_id ?? b.organization_id ?? defaultProjectOf(ctx, req.principal);
    if (!isUuid(projectId)) p.add(b.project_id ? 'project_id' : 'organization_id', 'format', 'must be a UUID');
    else if (!canSee(req.principal, projectId)) throw permissionsDenied('write', 'subscriber');
    const config = readConfig(ctx, p, b);
    p.throwIfAny();
    const at = now();
    const s: Subscriber = {
      id: randomUUID(), zone: req.params.zone, projectId, organizationId: b.organization_id ?? projectId, ...config, createdAt: at, updatedAt: at,
    };
    await ctx.store.createSubscriber(s);
    return subscriberToWire(s);
  });

  app.get<{ Params: typeof SubscriberParams.static }>('/subscribers/:subscriber_id', async (req) => {
    return subscriberToWire(await loadSubscriber(ctx, req.principal, req.params.zone, req.params.subscriber_id));
  });

  app.put<{ Params: typeof SubscriberParams.static; Body: UpdateBody }>('/subscribers/:subscriber_id',
    { schema: { body: SubscriberUpdateBody } }, async (req) => {
      const s = await loadSubscriber(ctx, req.principal, req.params.zone, req.params.subscriber_id);
      const p = new Problems();
      const next: Subscriber = { ...s, ...readConfig(ctx, p, req.body), updatedAt: now() };
      p.throwIfAny();
      await ctx.store.updateSubscriber(next);
      return subscriberToWire(next);
    });

  app.delete<{ Params: typeof SubscriberParams.static }>('/lb/subscription/:subscriber_id', async (req, reply) => {
    const s = await loadSubscriber(ctx, req.principal, req.params.zone, req.params.subscriber_id);
    await ctx.store.deleteSubscriber(s.id);
    return reply.code(204).send();
  });

  app.post<{ Params: typeof LbParams.static; Body: typeof SubscribeBody.static }>('/lb/:lb_id/subscribe',
    { schema: { body: SubscribeBody } }, async (req) => {
      const lb = await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id);
      const s = await loadSubscriber(ctx, req.principal, req.params.zone, req.body.subscriber_id);
      await ctx.store.changeLb(lb.id, (current) => ({ ...current, subscriberId: s.id }));
      // The servers' states now are what later changes are told against (the poller reads only subscribed LBs): a
      // state read before, while nobody was subscribed, is forgotten, so that what changed since is no alert.
      ctx.reconciler.events.forget(lb.id);
      await ctx.reconciler.stats(lb.id).catch(() => undefined);
      return lbJson(ctx, lb);
    });

  // Scaleway answers 200 with the LB here, not 204 (spec §1.5).
  app.delete<{ Params: typeof LbParams.static }>('/lb/:lb_id/unsubscribe', async (req) => {
    const lb = await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id);
    await ctx.store.changeLb(lb.id, (current) => ({ ...current, subscriberId: null }));
    return lbJson(ctx, lb);
  });
}
