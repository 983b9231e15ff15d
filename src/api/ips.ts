// Flexible IP routes: addresses come from the deployment's pool.
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { defaultReverse, type Ip } from '../domain/ips.js';
import { regionOfZone } from '../domain/lbs.js';
import { isHostname, isUuid } from '../domain/validation.js';
import { Problems } from '../wire/common.js';
import { notFound, permissionsDenied, resourceStillInUse } from '../wire/errors.js';
import { IpCreateBody, IpUpdateBody, ipToWire } from '../wire/ips.js';
import { PagingQuery, listBody } from '../wire/paging.js';
import { canSee, defaultProjectOf, loadLb, now, type ApiContext } from './context.js';
import type { Principal } from './auth.js';
import { readListPage, Tags, toList, type ZoneParams } from './routing.js';
import { StringEnum } from '../wire/schema.js';

const IpParams = Type.Object({ zone: Type.String(), ip_id: Type.String() });

const ListIpsQuery = Type.Object({
  page: PagingQuery.page,
  page_size: PagingQuery.page_size,
  order_by: PagingQuery.order_by,
  ip_address: Type.Optional(Type.String({ maxLength: 64 })),
  organization_id: Type.Optional(Type.String({ maxLength: 64 })),
  project_id: Type.Optional(Type.String({ maxLength: 64 })),
  ip_type: Type.Optional(StringEnum(['all', 'ipv4', 'ipv6'] as const)),
  tags: Tags,
});

async function loadIp(ctx: ApiContext, p: Principal, zone: string, id: string): Promise<Ip> {
  const ip = await ctx.store.getIp(id);
  if (!ip || ip.zone !== zone || !canSee(p, ip.projectId)) throw notFound('ip', id);
  return ip;
}

function checkReverse(p: Problems, reverse: string): void {
  if (reverse.endsWith('.') || !isHostname(reverse)) p.add('reverse', 'format', 'must be a DNS name, without a trailing dot');
}

export function ipRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: ZoneParams; Querystring: typeof ListIpsQuery.static }>('/ips', { schema: { querystring: ListIpsQuery } }, async (req) => {
    const q = req.query;
    const res = await ctx.store.listIps({
      zone: req.params.zone, projectIds: req.principal.projectIds, ipAddress: q.ip_address, projectId: q.project_id,
      organizationId: q.organization_id, ipType: q.ip_type, tags: toList(q.tags),
    }, readListPage(q));
    return listBody('ips', res.items.map(ipToWire), res.total);
  });

  app.post<{ Params: ZoneParams; Body: IpCreateBody }>('/ips', { schema: { body: IpCreateBody } }, async (req) => {
    const b = req.body;
    const zone = req.params.zone;
    const p = new Problems();
    const projectId = b.project_id ?? b.organization_id ?? defaultProjectOf(ctx, req.principal);
    if (!isUuid(projectId)) p.add(b.project_id ? 'project_id' : 'organization_id', 'format', 'must be a UUID');
    // A project key creates only in its own project (docs/security.md: 403 here, 404 for others' objects).
    else if (!canSee(req.principal, projectId)) throw permissionsDenied('write', 'ip');
    if (b.reverse) checkReverse(p, b.reverse);
    const tags = p.tags('tags', b.tags);
    p.throwIfAny();
    const family = b.is_ipv6 ? 'v6' : 'v4';
    const ip = await ctx.pool.allocate(ctx.store, [family], async ([address]) => {
      const created: Ip = {
        id: randomUUID(), zone, address, projectId, organizationId: b.organization_id ?? projectId, lbId: null,
        reverse: b.reverse || defaultReverse(address, regionOfZone(zone)), tags, createdAt: now(), updatedAt: now(),
      };
      await ctx.store.createIp(created);
      return created;
    });
    return ipToWire(ip);
  });

  app.get<{ Params: typeof IpParams.static }>('/ips/:ip_id', async (req) => {
    return ipToWire(await loadIp(ctx, req.principal, req.params.zone, req.params.ip_id));
  });

  app.patch<{ Params: typeof IpParams.static; Body: IpUpdateBody }>('/ips/:ip_id', { schema: { body: IpUpdateBody } }, async (req) => {
    const ip = await loadIp(ctx, req.principal, req.params.zone, req.params.ip_id);
    const b = req.body ?? {};
    const p = new Problems();
    if (b.reverse) checkReverse(p, b.reverse);
    const next: Ip = { ...ip, updatedAt: now() };
    if (b.reverse) next.reverse = b.reverse;
    if (b.tags !== undefined && b.tags !== null) next.tags = p.tags('tags', b.tags);
    if (b.lb_id && b.lb_id !== ip.lbId) {
      const lb = await loadLb(ctx, req.principal, req.params.zone, b.lb_id);
      if (ip.lbId) p.add('lb_id', 'constraint', `the IP is attached to load balancer ${ip.lbId}; detach it first`);
      const fam = ip.address.includes(':');
      if ((await ctx.store.ipsOfLb(lb.id)).some((o) => o.address.includes(':') === fam)) {
        p.add('lb_id', 'constraint', `load balancer ${lb.id} already has an ${fam ? 'IPv6' : 'IPv4'} address`);
      }
      next.lbId = lb.id;
    }
    p.throwIfAny();
    await ctx.store.updateIp(next, ip.lbId);
    return ipToWire(next);
  });

  app.delete<{ Params: typeof IpParams.static }>('/ips/:ip_id', async (req, reply) => {
    const ip = await loadIp(ctx, req.principal, req.params.zone, req.params.ip_id);
    if (ip.lbId) throw resourceStillInUse(`the IP is attached to load balancer ${ip.lbId}; delete the load balancer (release_ip=true) first`);
    await ctx.store.deleteIp(ip.id);
    return reply.code(204).send();
  });
}
