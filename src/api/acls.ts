// ACL resource (`/frontends/{id}/acls`, `/acls/{acl_id}`): a frontend's access rules, evaluated in ascending index.
// PUT /frontends/{id}/acls replaces the whole list in one transaction.
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  ACL_ACTIONS, ACL_LIMITS, DEFAULT_REDIRECT_CODE, HTTP_FILTERS, REDIRECT_CODES, REDIRECT_TYPES, isHeaderName, isHeaderValue,
  isPathValue, isRedirectLocation, isRegexValue, isScheme, normalizeSubnet, type Acl, type AclAction, type AclMatch,
} from '../domain/acls.js';
import type { ForwardProtocol } from '../domain/backends.js';
import type { Frontend } from '../domain/frontends.js';
import type { Lb } from '../domain/lbs.js';
import { LIMITS, clip } from '../domain/validation.js';
import { AclBody, AclSetBody, aclToWire } from '../wire/acls.js';
import { Problems } from '../wire/common.js';
import { notFound } from '../wire/errors.js';
import { PagingQuery, listBody } from '../wire/paging.js';
import type { Principal } from './auth.js';
import { canSee, loadFrontend, loadLbForChange, now, type ApiContext } from './context.js';
import { frontendJson } from './frontends.js';
import { checkLimit } from './limits.js';
import { readListPage } from './routing.js';
import { aclMisfit } from './rules-fit.js';

const FrontendParams = Type.Object({ zone: Type.String(), frontend_id: Type.String() });
type FrontendParams = typeof FrontendParams.static;
const AclParams = Type.Object({ zone: Type.String(), acl_id: Type.String() });
type AclParams = typeof AclParams.static;
const ListQuery = Type.Object({ ...PagingQuery, name: Type.Optional(Type.String({ maxLength: 255 })) });

type AclFields = Pick<Acl, 'name' | 'description' | 'index' | 'action' | 'match'>;

function parseAction(p: Problems, at: string, body: AclBody['action']): AclAction {
  const type = p.oneOf(`${at}action.type`, body?.type, ACL_ACTIONS, 'allow');
  if (type !== 'redirect') return { type, redirect: null };
  const r = body?.redirect;
  const rtype = p.oneOf(`${at}action.redirect.type`, r?.type, REDIRECT_TYPES, 'location');
  const target = r?.target ?? '';
  if (rtype === 'scheme' ? !isScheme(target) : !isRedirectLocation(target)) {
    p.add(`${at}action.redirect.target`, target ? 'format' : 'required', rtype === 'scheme'
      ? 'must be a URI scheme such as https'
      : 'must be a URL or a path of URI characters, without spaces, quotes, # or % (percent-encoding is not supported)');
  }
  const code = r?.code ?? DEFAULT_REDIRECT_CODE;
  if (!(REDIRECT_CODES as readonly number[]).includes(code)) p.add(`${at}action.redirect.code`, 'constraint', `must be one of ${REDIRECT_CODES.join(', ')}`);
  return { type, redirect: { type: rtype, target, code } };
}

function parseMatch(p: Problems, at: string, m: AclBody['match']): AclMatch {
  const ipSubnet = m?.ip_subnet ?? [];
  ipSubnet.forEach((s, i) => {
    if (normalizeSubnet(s) === null) p.add(`${at}match.ip_subnet.${i}`, 'format', `'${clip(s)}' is not an IPv4 or IPv6 address or CIDR`);
  });
  const httpFilter = p.oneOf(`${at}match.http_filter`, m?.http_filter, HTTP_FILTERS, 'acl_http_filter_none');
  const values = m?.http_filter_value ?? [];
  const option = m?.http_filter_option ?? null;
  if (httpFilter !== 'acl_http_filter_none') {
    if (values.length === 0) p.add(`${at}match.http_filter_value`, 'required', `${httpFilter} needs at least one value`);
    const valid = httpFilter === 'regex' ? isRegexValue : httpFilter === 'http_header_match' ? isHeaderValue : isPathValue;
    const help = httpFilter === 'regex'
      ? 'must be a regular expression of URI path characters and regex syntax (no spaces or quotes; escapes \\. \\d \\w \\s \\b and of syntax characters only)'
      : httpFilter === 'http_header_match' ? 'must be visible ASCII (inner spaces allowed), without single quotes'
        : 'must be URI path characters (no spaces, quotes, # or backslash)';
    values.forEach((v, i) => { if (!valid(v)) p.add(`${at}match.http_filter_value.${i}`, 'format', help); });
    if (httpFilter === 'http_header_match' && (option === null || !isHeaderName(option))) {
      p.add(`${at}match.http_filter_option`, option === null ? 'required' : 'format', 'must name the header to match (letters, digits, -, _ and .)');
    }
  }
  return { ipSubnet, ipsEdgeServices: m?.ips_edge_services ?? false, httpFilter, httpFilterValue: values, httpFilterOption: option, invert: m?.invert ?? false };
}

/** Reads one ACL body (`at` prefixes argument names inside a set: `acls.3.`). */
function parseAcl(p: Problems, at: string, body: AclBody, protocol: ForwardProtocol): AclFields {
  const fields: AclFields = {
    name: p.text(`${at}name`, body.name ?? '', LIMITS.nameLength, false),
    description: p.text(`${at}description`, body.description ?? '', LIMITS.descriptionLength, false),
    index: p.intRange(`${at}index`, body.index, 0, ACL_LIMITS.maxIndex),
    action: parseAction(p, at, body.action),
    match: parseMatch(p, at, body.match),
  };
  const misfit = aclMisfit(fields, protocol);
  if (misfit) p.add(`${at}${misfit.arg}`, 'constraint', misfit.help);
  return fields;
}

export function aclResource(app: FastifyInstance, ctx: ApiContext): void {
  const json = async (a: Acl, f: Frontend, lb: Lb) => aclToWire(a, await frontendJson(ctx, f, lb));
  const protocolOf = async (f: Frontend) => (await ctx.store.getBackend(f.backendId))!.forwardProtocol;

  const loadAcl = async (principal: Principal, zone: string, id: string) => {
    const acl = await ctx.store.getAcl(id);
    const frontend = acl ? await ctx.store.getFrontend(acl.frontendId) : null;
    const lb = frontend ? await ctx.store.getLb(frontend.lbId) : null;
    if (!acl || !frontend || !lb || lb.zone !== zone || !canSee(principal, lb.projectId)) throw notFound('acl', id);
    return { acl, frontend, lb };
  };

  /** The frontend for a change of its ACLs (404, or 409 while its LB is being deleted). */
  const frontendForChange = async (principal: Principal, params: FrontendParams) => {
    const { frontend } = await loadFrontend(ctx, principal, params.zone, params.frontend_id);
    return { frontend, lb: await loadLbForChange(ctx, principal, params.zone, frontend.lbId) };
  };

  app.get<{ Params: FrontendParams; Querystring: typeof ListQuery.static }>('/frontends/:frontend_id/acls', {
    schema: { querystring: ListQuery },
  }, async (req) => {
    const { frontend, lb } = await loadFrontend(ctx, req.principal, req.params.zone, req.params.frontend_id);
    const res = await ctx.store.listAcls({ frontendId: frontend.id, name: req.query.name }, readListPage(req.query));
    const fe = await frontendJson(ctx, frontend, lb);
    return listBody('acls', res.items.map((a) => aclToWire(a, fe)), res.total);
  });

  app.post<{ Params: FrontendParams; Body: AclBody }>('/frontends/:frontend_id/acls', { schema: { body: AclBody } }, async (req) => {
    const { frontend, lb } = await frontendForChange(req.principal, req.params);
    const p = new Problems();
    const fields = parseAcl(p, '', req.body, await protocolOf(frontend));
    checkLimit(p, 'acls', (await ctx.store.aclsOfFrontend(frontend.id)).length);
    p.throwIfAny();
    const a: Acl = { id: randomUUID(), lbId: lb.id, frontendId: frontend.id, ...fields, createdAt: now(), updatedAt: now() };
    await ctx.store.createAcl(a);
    return json(a, frontend, lb);
  });

  app.put<{ Params: FrontendParams; Body: AclSetBody }>('/frontends/:frontend_id/acls', { schema: { body: AclSetBody } }, async (req) => {
    const { frontend, lb } = await frontendForChange(req.principal, req.params);
    const p = new Problems();
    const protocol = await protocolOf(frontend);
    const seen = new Map<number, number>();
    const at = now();
    const acls: Acl[] = req.body.acls.map((body, i) => {
      const fields = parseAcl(p, `acls.${i}.`, body, protocol);
      const first = seen.get(body.index);
      if (first !== undefined) p.add(`acls.${i}.index`, 'constraint', `index ${body.index} is already used by acls.${first}`);
      else seen.set(body.index, i);
      return { id: randomUUID(), lbId: lb.id, frontendId: frontend.id, ...fields, createdAt: at, updatedAt: at };
    });
    p.throwIfAny();
    await ctx.store.setAcls(frontend.id, lb.id, acls);
    const fe = await frontendJson(ctx, frontend, lb);
    return listBody('acls', acls.map((a) => aclToWire(a, fe)), acls.length);
  });

  app.get<{ Params: AclParams }>('/acls/:acl_id', async (req) => {
    const { acl, frontend, lb } = await loadAcl(req.principal, req.params.zone, req.params.acl_id);
    return json(acl, frontend, lb);
  });

  app.put<{ Params: AclParams; Body: AclBody }>('/acls/:acl_id', { schema: { body: AclBody } }, async (req) => {
    const { acl, frontend } = await loadAcl(req.principal, req.params.zone, req.params.acl_id);
    const lb = await loadLbForChange(ctx, req.principal, req.params.zone, frontend.lbId);
    const p = new Problems();
    const fields = parseAcl(p, '', req.body, await protocolOf(frontend));
    p.throwIfAny();
    const next: Acl = { ...acl, ...fields, updatedAt: now() };
    await ctx.store.updateAcl(next);
    return json(next, frontend, lb);
  });

  app.delete<{ Params: AclParams }>('/acls/:acl_id', async (req, reply) => {
    const { acl, frontend } = await loadAcl(req.principal, req.params.zone, req.params.acl_id);
    await loadLbForChange(ctx, req.principal, req.params.zone, frontend.lbId);
    await ctx.store.deleteAcl(acl.id);
    return reply.code(204).send();
  });
}
