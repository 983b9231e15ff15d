// Private networks: an LB attached to one of the networks the operator declared (`--private-network ID=CIDR`) gets an
// address there; its frontends also listen on it and its connections to servers in that range leave from it
// (dataplane/render-pn.ts). Unknown networks are 404s: there is no VPC API behind this one.
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PnAttachment } from '../domain/lbs.js';
import { freeAddress, isHostAddress, type PrivateNetwork } from '../domain/private-networks.js';
import { alreadyExists, invalidArgument, notFound, outOfStock } from '../wire/errors.js';
import { PagingQuery, listBody } from '../wire/paging.js';
import { AttachPnBody, DetachPnBody, pnToWire, type PnStatus } from '../wire/private-networks.js';
import { StringEnum } from '../wire/schema.js';
import { lbJson, loadLb, loadLbForChange, now, type ApiContext } from './context.js';
import { readListPage } from './routing.js';

const LbParams = Type.Object({ zone: Type.String(), lb_id: Type.String() });
const ListQuery = Type.Object({
  page: PagingQuery.page,
  page_size: PagingQuery.page_size,
  order_by: Type.Optional(StringEnum(['created_at_asc', 'created_at_desc'] as const)),
});

/** The attachment's state follows the LB's instance: applied when the instance is ready. */
function statusOf(ctx: ApiContext, lbId: string): PnStatus {
  const s = ctx.reconciler.instanceState(lbId).status;
  return s === 'ready' ? 'ready' : s === 'error' ? 'error' : 'pending';
}

function declared(ctx: ApiContext, id: string): PrivateNetwork {
  const pn = (ctx.privateNetworks ?? []).find((n) => n.id === id.toLowerCase());
  if (!pn) throw notFound('private_network', id);
  return pn;
}

export function privateNetworkRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: typeof LbParams.static; Querystring: typeof ListQuery.static }>('/lbs/:lb_id/private-networks',
    { schema: { querystring: ListQuery } }, async (req) => {
      const lb = await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id);
      const page = readListPage(req.query);
      const all = [...(lb.privateNetworks ?? [])];
      if (page.orderBy === 'created_at_desc') all.reverse();
      const items = all.slice((page.page - 1) * page.pageSize, page.page * page.pageSize);
      const lbWire = await lbJson(ctx, lb);
      const status = statusOf(ctx, lb.id);
      return listBody('private_network', items.map((a) => pnToWire(a, lbWire, status)), all.length);
    });

  app.post<{ Params: typeof LbParams.static; Body: AttachPnBody }>('/lbs/:lb_id/attach-private-network',
    { schema: { body: AttachPnBody } }, async (req) => {
      const lb = await loadLbForChange(ctx, req.principal, req.params.zone, req.params.lb_id);
      const b = req.body;
      const pn = declared(ctx, b.private_network_id);
      const wanted = b.static_config?.ip_address?.[0];
      if (wanted && !isHostAddress(wanted, pn.cidr)) {
        throw invalidArgument('static_config.ip_address', 'constraint', `must be a host address of the private network's range ${pn.cidr}`);
      }
      const given = b.ipam_ids?.length ? b.ipam_ids : b.dhcp_config?.ip_id ? [b.dhcp_config.ip_id] : [];
      let attachment: PnAttachment | undefined;
      // The address is chosen in the write's transaction, under the network's lock: a racing attach sees this one's.
      const next = await ctx.store.changeLbOnNetwork(lb.id, pn.id, (current, used) => {
        if ((current.privateNetworks ?? []).some((a) => a.privateNetworkId === pn.id)) {
          throw alreadyExists('private_network', pn.id, 'the load balancer is already attached to this private network');
        }
        const holder = wanted ? used.get(wanted) : undefined;
        if (holder) throw invalidArgument('static_config.ip_address', 'constraint', `${wanted} is used by load balancer ${holder}`);
        const address = wanted ?? freeAddress(pn.cidr, new Set(used.keys()));
        if (!address) throw outOfStock('private_network', `the private network ${pn.id} (${pn.cidr}) has no free address`);
        const at = now();
        attachment = {
          privateNetworkId: pn.id, cidr: pn.cidr, address, mode: wanted ? 'static' : 'dhcp',
          ipamIds: wanted ? given : given.length ? given : [randomUUID()], createdAt: at, updatedAt: at,
        };
        return { ...current, privateNetworks: [...(current.privateNetworks ?? []), attachment] };
      });
      if (!next || !attachment) throw notFound('lb', lb.id);
      return pnToWire(attachment, await lbJson(ctx, next), 'pending');
    });

  app.post<{ Params: typeof LbParams.static; Body: typeof DetachPnBody.static }>('/lbs/:lb_id/detach-private-network',
    { schema: { body: DetachPnBody } }, async (req, reply) => {
      const lb = await loadLbForChange(ctx, req.principal, req.params.zone, req.params.lb_id);
      const id = req.body.private_network_id.toLowerCase();
      const rest = (lb.privateNetworks ?? []).filter((a) => a.privateNetworkId !== id);
      if (rest.length === (lb.privateNetworks ?? []).length) throw notFound('private_network', req.body.private_network_id);
      await ctx.store.changeLb(lb.id, (current) => ({ ...current,
        privateNetworks: (current.privateNetworks ?? []).filter((a) => a.privateNetworkId !== id) }));
      return reply.code(204).send();
    });
}
