// Load balancer routes (and the offers listed under lb-types).
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SSL_COMPATIBILITY_LEVELS, regionOfZone, type Lb } from '../domain/lbs.js';
import { DEFAULT_LB_TYPE, LB_TYPES, findLbType } from '../domain/lb-types.js';
import { defaultReverse, type Ip } from '../domain/ips.js';
import { LIMITS, isUuid } from '../domain/validation.js';
import { Problems } from '../wire/common.js';
import { invalidArgument, notFound, permissionsDenied } from '../wire/errors.js';
import { LbCreateBody, LbDeleteQuery, LbUpdateBody, lbTypeToWire } from '../wire/lbs.js';
import { PagingQuery, listBody } from '../wire/paging.js';
import { canSee, defaultProjectOf, lbJson, lbJsonAsLoaded, loadLb, now, type ApiContext } from './context.js';
import { Ids, readListPage, Tags, toList, type ZoneParams } from './routing.js';

const LbParams = Type.Object({ zone: Type.String(), lb_id: Type.String() });

const ListLbsQuery = Type.Object({
  ...PagingQuery,
  name: Type.Optional(Type.String({ maxLength: 255 })),
  organization_id: Type.Optional(Type.String({ maxLength: 64 })),
  project_id: Type.Optional(Type.String({ maxLength: 64 })),
  tags: Tags,
  /** Only these LBs (a filter of the Go SDK). */
  lb_ids: Ids,
});

export const LB_TYPE_HELP = `must be one of: ${LB_TYPES.map((t) => t.name).join(', ')}`;

export function lbRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: ZoneParams; Querystring: typeof ListLbsQuery.static }>('/lbs', { schema: { querystring: ListLbsQuery } }, async (req) => {
    const q = req.query;
    const page = readListPage(q);
    const res = await ctx.store.listLbs({
      zone: req.params.zone, projectIds: req.principal.projectIds, name: q.name, projectId: q.project_id,
      organizationId: q.organization_id, tags: toList(q.tags), ids: toList(q.lb_ids),
    }, page);
    return listBody('lbs', await Promise.all(res.items.map((lb) => lbJsonAsLoaded(ctx, lb))), res.total);
  });

  app.post<{ Params: ZoneParams; Body: LbCreateBody }>('/lbs', { schema: { body: LbCreateBody } }, async (req) => {
    const b = req.body;
    const zone = req.params.zone;
    const p = new Problems();
    const projectId = b.project_id ?? b.organization_id ?? defaultProjectOf(ctx, req.principal);
    if (!isUuid(projectId)) p.add(b.project_id ? 'project_id' : 'organization_id', 'format', 'must be a UUID');
    // A project key creates only in its own project (docs/security.md: 403 here, 404 for others' objects).
    else if (!canSee(req.principal, projectId)) throw permissionsDenied('write', 'lb');
    const type = (b.type || DEFAULT_LB_TYPE).toLowerCase();
    if (!findLbType(type)) p.add('type', 'constraint', LB_TYPE_HELP);
    const lb: Lb = {
      id: randomUUID(), zone, projectId, organizationId: b.organization_id ?? projectId,
      name: p.text('name', b.name, LIMITS.nameLength, true),
      description: p.text('description', b.description ?? '', LIMITS.descriptionLength, false),
      status: 'to_create', tags: p.tags('tags', b.tags), type,
      sslCompatibilityLevel: p.oneOf('ssl_compatibility_level', b.ssl_compatibility_level, SSL_COMPATIBILITY_LEVELS, 'ssl_compatibility_level_intermediate'),
      instanceId: randomUUID(), configVersion: 1, releaseIpsOnDelete: false, createdAt: now(), updatedAt: now(),
    };
    const attach = [...new Set([...(b.ip_ids ?? []), ...(b.ip_id ? [b.ip_id] : [])])];
    const families = new Set<string>();
    for (const id of attach) {
      const ip = isUuid(id) ? await ctx.store.getIp(id) : null;
      if (!ip || ip.zone !== zone || !canSee(req.principal, ip.projectId)) throw notFound('ip', id);
      if (ip.lbId) p.add('ip_ids', 'constraint', `flexible IP ${ip.address} is already attached to load balancer ${ip.lbId}`);
      const fam = ip.address.includes(':') ? 'v6' : 'v4';
      if (families.has(fam)) p.add('ip_ids', 'constraint', 'a load balancer has at most one IPv4 and one IPv6 address');
      families.add(fam);
    }
    const wanted: ('v4' | 'v6')[] = [];
    if (attach.length === 0 && b.assign_flexible_ip !== false) wanted.push('v4');
    if (b.assign_flexible_ipv6 === true && !families.has('v6')) wanted.push('v6');
    if (attach.length === 0 && wanted.length === 0) p.add('assign_flexible_ip', 'constraint', 'a load balancer needs at least one IP: give ip_ids or assign one');
    p.throwIfAny();
    await ctx.pool.allocate(ctx.store, wanted, (addresses) => {
      const newIps: Ip[] = addresses.map((address) => ({
        id: randomUUID(), zone, address, projectId, organizationId: lb.organizationId, lbId: lb.id,
        reverse: defaultReverse(address, regionOfZone(zone)), tags: [], createdAt: lb.createdAt, updatedAt: lb.createdAt,
      }));
      return ctx.store.createLb(lb, attach, newIps);
    });
    return lbJson(ctx, lb);
  });

  app.get<{ Params: typeof LbParams.static }>('/lbs/:lb_id', async (req) => {
    return lbJsonAsLoaded(ctx, await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id));
  });

  app.put<{ Params: typeof LbParams.static; Body: LbUpdateBody }>('/lbs/:lb_id', { schema: { body: LbUpdateBody } }, async (req) => {
    const lb = await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id);
    const b = req.body;
    const p = new Problems();
    const fields: Partial<Lb> = {
      name: p.text('name', b.name, LIMITS.nameLength, true),
      description: p.text('description', b.description ?? '', LIMITS.descriptionLength, false),
      tags: p.tags('tags', b.tags),
      sslCompatibilityLevel: p.oneOf('ssl_compatibility_level', b.ssl_compatibility_level, SSL_COMPATIBILITY_LEVELS, lb.sslCompatibilityLevel),
      updatedAt: now(),
    };
    p.throwIfAny();
    // Applied to the LB as stored: a private network, subscriber or migration set meanwhile is kept.
    const next = await ctx.store.changeLb(lb.id, (current) => ({ ...current, ...fields }));
    if (!next) throw notFound('lb', lb.id);
    return lbJson(ctx, next);
  });

  app.delete<{ Params: typeof LbParams.static; Querystring: typeof LbDeleteQuery.static; Body: unknown }>(
    '/lbs/:lb_id', { schema: { querystring: LbDeleteQuery } }, async (req, reply) => {
      const lb = await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id);
      // SDKs send `release_ip` in the query; the API's own curl example sends it as a JSON body.
      const bodyFlag = (req.body as { release_ip?: unknown } | null | undefined)?.release_ip;
      if (bodyFlag !== undefined && bodyFlag !== null && typeof bodyFlag !== 'boolean') throw invalidArgument('release_ip', 'format', 'must be a boolean');
      const release = req.query.release_ip !== undefined ? req.query.release_ip === 'true' : bodyFlag === true;
      await ctx.store.requestLbDeletion(lb.id, release);
      return reply.code(204).send();
    });

  app.get<{ Params: ZoneParams; Querystring: { page?: string; page_size?: string } }>('/lb-types', {
    schema: { querystring: Type.Object({ page: PagingQuery.page, page_size: PagingQuery.page_size }) },
  }, async (req) => {
    const page = readListPage(req.query);
    const items = LB_TYPES.slice((page.page - 1) * page.pageSize, page.page * page.pageSize);
    return listBody('lb_types', items.map((t) => lbTypeToWire(t, req.params.zone)), LB_TYPES.length);
  });
}
