// Certificate routes. A custom certificate is checked and stored at once (ready); a Let's Encrypt one is stored
// pending and issued by the ACME job (control/acme.ts), never inside the request.
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { CERT_LIMITS, ChainError, isCertName, parseCustomChain, sha256, type Certificate } from '../domain/certificates.js';
import type { Lb } from '../domain/lbs.js';
import { LIMITS, isUuid } from '../domain/validation.js';
import { CertificateCreateBody, CertificateUpdateBody, certificateToWire } from '../wire/certificates.js';
import { Problems } from '../wire/common.js';
import { notFound, resourceStillInUse } from '../wire/errors.js';
import { PagingQuery, listBody } from '../wire/paging.js';
import type { Principal } from './auth.js';
import { canSee, lbJson, lbJsonAsLoaded, loadLb, loadLbForChange, now, type ApiContext } from './context.js';
import { readListPage } from './routing.js';

const LbParams = Type.Object({ zone: Type.String(), lb_id: Type.String() });
const CertParams = Type.Object({ zone: Type.String(), certificate_id: Type.String() });
type CertParams = typeof CertParams.static;
const ListQuery = Type.Object({ ...PagingQuery, name: Type.Optional(Type.String({ maxLength: 255 })) });

/** The certificate and its LB, or 404 when the key may not see it. */
export async function loadCertificate(ctx: ApiContext, p: Principal, zone: string, id: string): Promise<{ certificate: Certificate; lb: Lb }> {
  const certificate = await ctx.store.getCertificate(id);
  const lb = certificate ? await ctx.store.getLb(certificate.lbId) : null;
  if (!certificate || !lb || lb.zone !== zone || !canSee(p, lb.projectId)) throw notFound('certificate', id);
  return { certificate, lb };
}

/**
 * The certificate as the wire shows it. The embedded LB lists its instance only in create answers (`[]` in reads, as
 * recorded on the real API).
 */
export async function certificateJson(ctx: ApiContext, c: Certificate, lb: Lb, withInstances = false): Promise<Record<string, unknown>> {
  return certificateWire(c, await lbJson(ctx, lb), withInstances);
}

function certificateWire(c: Certificate, lbWire: Record<string, unknown>, withInstances = false): Record<string, unknown> {
  return certificateToWire(c, withInstances ? lbWire : { ...lbWire, instances: [] });
}

export function certificateRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: typeof LbParams.static; Querystring: typeof ListQuery.static }>('/lbs/:lb_id/certificates', {
    schema: { querystring: ListQuery },
  }, async (req) => {
    const lb = await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id);
    const res = await ctx.store.listCertificates({ lbId: lb.id, name: req.query.name }, readListPage(req.query));
    const lbWire = await lbJsonAsLoaded(ctx, lb);
    return listBody('certificates', res.items.map((c) => certificateWire(c, lbWire)), res.total);
  });

  app.post<{ Params: typeof LbParams.static; Body: CertificateCreateBody }>('/lbs/:lb_id/certificates', {
    schema: { body: CertificateCreateBody },
  }, async (req) => {
    const lb = await loadLbForChange(ctx, req.principal, req.params.zone, req.params.lb_id);
    const body = req.body;
    const p = new Problems();
    const name = p.text('name', body.name, LIMITS.nameLength, true);
    if (!body.letsencrypt === !body.custom_certificate) {
      p.add('letsencrypt', 'required', 'give exactly one of letsencrypt and custom_certificate');
    }
    const base = {
      id: randomUUID(), lbId: lb.id, name, fingerprint: '', statusDetails: null, orderActive: false, nextOrderAt: null,
      createdAt: now(), updatedAt: now(),
    };
    let cert: Certificate | null = null;
    let pem: string | null = null;
    if (body.custom_certificate) {
      try {
        const chain = parseCustomChain(body.custom_certificate.certificate_chain);
        pem = chain.pem;
        cert = { ...base, type: 'custom', commonName: chain.commonName, subjectAlternativeName: chain.subjectAlternativeName,
          notValidBefore: chain.notValidBefore, notValidAfter: chain.notValidAfter, status: 'ready', pemSha256: sha256(pem) };
      } catch (e) {
        if (!(e instanceof ChainError)) throw e;
        p.add('custom_certificate.certificate_chain', 'constraint', e.message);
      }
    } else if (body.letsencrypt) {
      const le = body.letsencrypt;
      const sans = le.subject_alternative_name ?? [];
      const names = [le.common_name, ...sans];
      names.forEach((n, i) => {
        const arg = i === 0 ? 'letsencrypt.common_name' : `letsencrypt.subject_alternative_name.${i - 1}`;
        // HTTP-01, the only challenge Fulcrum answers, cannot prove a wildcard.
        if (n.startsWith('*.')) p.add(arg, 'constraint', 'wildcard names need DNS-01; Fulcrum answers HTTP-01 only');
        else if (!isCertName(n)) p.add(arg, 'format', 'must be a DNS name');
      });
      if (sans.length > CERT_LIMITS.sans) p.add('letsencrypt.subject_alternative_name', 'constraint', `at most ${CERT_LIMITS.sans} names`);
      cert = { ...base, type: 'letsencrypt', commonName: le.common_name, subjectAlternativeName: sans, notValidBefore: null,
        notValidAfter: null, status: 'pending', pemSha256: null };
    }
    p.throwIfAny();
    if (pem !== null) await ctx.certificatePems.write(cert!.id, pem);
    await ctx.store.createCertificate(cert!);
    if (cert!.type === 'letsencrypt') ctx.acme?.poke();
    return certificateJson(ctx, cert!, lb, true);
  });

  app.get<{ Params: CertParams }>('/certificates/:certificate_id', async (req) => {
    const { certificate, lb } = await loadCertificate(ctx, req.principal, req.params.zone, req.params.certificate_id);
    return certificateJson(ctx, certificate, lb);
  });

  app.put<{ Params: CertParams; Body: CertificateUpdateBody }>('/certificates/:certificate_id', {
    schema: { body: CertificateUpdateBody },
  }, async (req) => {
    const { certificate } = await loadCertificate(ctx, req.principal, req.params.zone, req.params.certificate_id);
    const lb = await loadLbForChange(ctx, req.principal, req.params.zone, certificate.lbId);
    const p = new Problems();
    const name = p.text('name', req.body.name, LIMITS.nameLength, true);
    p.throwIfAny();
    // Only the name changes here, on the certificate as stored: the ACME job may have issued it meanwhile.
    const next = await ctx.store.changeCertificate(certificate.id, (current) => ({ ...current, name, updatedAt: now() }));
    if (!next) throw notFound('certificate', certificate.id);
    return certificateJson(ctx, next, lb);
  });

  app.delete<{ Params: CertParams }>('/certificates/:certificate_id', async (req, reply) => {
    const { certificate } = await loadCertificate(ctx, req.principal, req.params.zone, req.params.certificate_id);
    await loadLbForChange(ctx, req.principal, req.params.zone, certificate.lbId);
    const users = await ctx.store.frontendsOfCertificate(certificate.id);
    if (users.length) {
      throw resourceStillInUse(`certificate is used by frontend(s) ${users.map((f) => f.id).join(', ')}; remove it from them first`);
    }
    await ctx.store.deleteCertificate(certificate.id);
    await ctx.certificatePems.remove(certificate.id);
    return reply.code(204).send();
  });
}

/**
 * Checks a frontend's `certificate_ids` and deprecated `certificate_id` (appended): each a ready certificate of the
 * frontend's LB. A certificate the key cannot see is answered like one that does not exist.
 */
export async function frontendCertificateIds(ctx: ApiContext, principal: Principal, lb: Lb,
  body: { certificate_ids?: string[] | null; certificate_id?: string | null }, p: Problems): Promise<string[]> {
  const given: [string, string][] = (body.certificate_ids ?? []).map((id, i) => [`certificate_ids.${i}`, id]);
  if (body.certificate_id) given.push(['certificate_id', body.certificate_id]);
  for (const [arg, id] of given) {
    if (!isUuid(id)) {
      p.add(arg, 'format', 'must be a UUID');
      continue;
    }
    const c = await ctx.store.getCertificate(id);
    if (!c) throw notFound('certificate', id);
    if (c.lbId !== lb.id) {
      const other = await ctx.store.getLb(c.lbId);
      if (!other || !canSee(principal, other.projectId)) throw notFound('certificate', id);
      p.add(arg, 'constraint', 'the certificate belongs to another load balancer');
    } else if (c.status !== 'ready') {
      p.add(arg, 'constraint', `the certificate is ${c.status}${c.statusDetails ? ` (${c.statusDetails})` : ''}; attach it once it is ready`);
    }
  }
  return [...new Set(given.map(([, id]) => id))];
}

/** A frontend naming certificates moves their `updated_at` (as recorded on the real API); HAProxy sees no change. */
export async function touchCertificates(ctx: ApiContext, ids: string[]): Promise<void> {
  for (const id of ids) {
    await ctx.store.changeCertificate(id, (c) => ({ ...c, updatedAt: now() }));
  }
}
