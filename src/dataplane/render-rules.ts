// A frontend's rules, in the one order every frontend uses (DESIGN.md "One frontend rule order"):
//   1. ACME HTTP-01 answers (slot: acmeRules),
//   2. ACLs in ascending index, the first that matches decides (allow / deny / redirect),
//   3. routes, most specific first (domain/routes.ts routePrecedence),
//   4. the frontend's default backend.
// HAProxy runs rules by keyword (tcp-request session, tcp-request content, http-request, use_backend, default_backend)
// whatever their place in the section; the lines are written in that same order so the file reads as it runs.
// ACL subnet lists live in map files beside the config (ruleLists) that the runtime API can replace without a reload
// (rule-lists.ts); the config only references them. Every user value passes a validator of its field in the API and is
// written single-quoted (HAProxy takes everything between single quotes literally) after quotedWord's check.
import { join } from 'node:path';
import { aclOrder, normalizeSubnet, type Acl } from '../domain/acls.js';
import type { Backend } from '../domain/backends.js';
import type { Frontend } from '../domain/frontends.js';
import { routePrecedence, type Route } from '../domain/routes.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import { backendName, checkId, failoverBackendName } from './names.js';
import { safeToken } from './tokens.js';

/** How long a TCP frontend with SNI routes waits for the TLS ClientHello before using its default backend. */
export const SNI_INSPECT_DELAY = '5s';
/** Set once an `allow` ACL matched: later ACLs no longer apply (without ending the other http-request rules). */
const ALLOWED = 'fulcrum_allowed';
/** The request's host for host_header routes. */
const HOST_VAR = 'fulcrum_host';

export const hasFailover = (b: Backend): boolean => b.forwardProtocol === 'http' && !!b.failoverHost;

/** The directory of an LB's map files, beside its config. */
export const rulesDir = (runDir: string): string => join(runDir, 'rules');
/** The map file holding an ACL's source addresses (its ip_subnet, plus the edge-services list when asked for). */
export const subnetMapPath = (runDir: string, aclId: string): string => join(rulesDir(runDir), `acl-${checkId('acl', aclId)}.map`);

/** A user value as one single-quoted config word: printable ASCII, inner spaces, no quote. */
export function quotedWord(field: string, value: string): string {
  if (!/^[\x21-\x26\x28-\x7e](?:[\x20-\x26\x28-\x7e]*[\x21-\x26\x28-\x7e])?$/.test(value)) {
    throw new Error(`${field}: ${JSON.stringify(value)} cannot be written into the HAProxy config`);
  }
  return `'${value}'`;
}

const needsSourceMap = (a: Acl): boolean => a.match.ipSubnet.length > 0 || a.match.ipsEdgeServices;

/** Path → content of every map file the snapshot's config references (one `<address or CIDR> 1` line per entry). */
export function ruleLists(s: LbSnapshot, runDir: string, edgeServicesIps: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of s.acls ?? []) {
    if (!needsSourceMap(a)) continue;
    const entries = new Set<string>();
    for (const raw of [...a.match.ipSubnet, ...(a.match.ipsEdgeServices ? edgeServicesIps : [])]) {
      const n = normalizeSubnet(raw);
      if (n === null) throw new Error(`ip_subnet: ${JSON.stringify(raw)} is not an address or CIDR`);
      entries.add(n);
    }
    out.set(subnetMapPath(runDir, a.id), [...entries].map((e) => `${e} 1\n`).join(''));
  }
  return out;
}

interface RuleInput {
  f: Frontend;
  /** The frontend's default backend. */
  b: Backend;
  backends: Map<string, Backend>;
  acls: Acl[];
  routes: Route[];
  runDir: string;
  /** ACME HTTP-01 answers (render-tls.ts), for slot 1. */
  acme: string[];
}

/** Slot 1, ACME HTTP-01 answers: they must come before any ACL so that a deny-all ACL cannot block a renewal. */
function acmeRules(r: RuleInput): string[] {
  return r.acme;
}

const HTTP_FILTER_FETCH: Record<string, string> = { path_begin: 'path_beg', path_end: 'path_end', regex: 'path_reg' };

/** Named ACL lines for one Scaleway ACL, and the names whose conjunction is its match (empty: matches everything). */
function aclMatch(a: Acl, k: number, r: RuleInput): { lines: string[]; parts: string[] } {
  const lines: string[] = [];
  const parts: string[] = [];
  const m = a.match;
  if (needsSourceMap(a)) {
    lines.push(`acl acl${k}_src src,map_ip(${safeToken('runDir', subnetMapPath(r.runDir, a.id))}) -m found`);
    parts.push(`acl${k}_src`);
  }
  if (m.httpFilter !== 'acl_http_filter_none') {
    const values = m.httpFilterValue.map((v) => quotedWord('http_filter_value', v)).join(' ');
    const fetch = m.httpFilter === 'http_header_match'
      ? `req.hdr(${safeToken('http_filter_option', m.httpFilterOption ?? '', '(),')}) -m str`
      : HTTP_FILTER_FETCH[m.httpFilter];
    if (!fetch) throw new Error(`http_filter ${m.httpFilter} unknown`);
    lines.push(`acl acl${k}_http ${fetch} ${values}`);
    parts.push(`acl${k}_http`);
  }
  return { lines, parts };
}

/** ` if …` for an ACL's action, or null when it can never match (an inverted match of everything). */
function aclCondition(parts: string[], invert: boolean, guard: string[]): string | null {
  if (!invert) {
    const all = [...guard, ...parts];
    return all.length ? ` if ${all.join(' ')}` : '';
  }
  if (parts.length === 0) return null;
  // not (a and b) = (not a) or (not b)
  return ` if ${parts.map((p) => [...guard, `!${p}`].join(' ')).join(' || ')}`;
}

/** Slot 2: the ACLs in index order; the first that matches decides. */
function aclRules(r: RuleInput, http: boolean): string[] {
  if (r.acls.length === 0) return [];
  const scope = http ? 'txn' : 'sess';
  const verb = http ? 'http-request' : 'tcp-request session';
  const out = [`acl ${ALLOWED} var(${scope}.${ALLOWED}) -m found`];
  const guard = [`!${ALLOWED}`];
  aclOrder(r.acls).forEach((a, k) => {
    const { lines, parts } = aclMatch(a, k, r);
    const cond = aclCondition(parts, a.match.invert, guard);
    if (cond === null) return;
    out.push(...lines);
    const act = a.action;
    if (act.type === 'allow') out.push(`${verb} set-var(${scope}.${ALLOWED}) bool(true)${cond}`);
    else if (act.type === 'deny') out.push(http ? `http-request deny deny_status 403${cond}` : `tcp-request session reject${cond}`);
    else {
      if (!http || !act.redirect) throw new Error(`ACL ${a.id}: redirect needs an HTTP frontend`);
      const to = act.redirect.type === 'scheme'
        ? `scheme ${safeToken('action.redirect.target', act.redirect.target)}`
        : `location ${quotedWord('action.redirect.target', act.redirect.target)}`;
      out.push(`http-request redirect ${to} code ${act.redirect.code}${cond}`);
    }
  });
  return out;
}

/** use_backend lines for a backend under a condition, with its failover backend first when it has one. */
function useBackend(b: Backend, cond: string): string[] {
  const be = backendName(b.id);
  const out = hasFailover(b) ? [`use_backend ${failoverBackendName(b.id)} if ${cond} { nbsrv(${be}) lt 1 }`] : [];
  return [...out, `use_backend ${be} if ${cond}`];
}

/** Slot 3: routes, most specific first. */
function routeRules(r: RuleInput, http: boolean): string[] {
  if (r.routes.length === 0) return [];
  const tls = r.f.certificateIds.length > 0;
  const out: string[] = [];
  const passthrough = !http && !tls && r.routes.some((x) => x.match.kind === 'sni');
  // The Host without its port, lower-cased, read once per request rather than once per route.
  if (http && r.routes.some((x) => x.match.kind === 'host_header')) out.push(`http-request set-var(txn.${HOST_VAR}) req.hdr(host),field(1,:),lower`);
  if (passthrough) {
    // TLS passthrough: wait for the ClientHello (not for clients that sent something else) and read its SNI.
    out.push(`tcp-request inspect-delay ${SNI_INSPECT_DELAY}`, 'tcp-request content accept if { req.ssl_hello_type 1 }',
      'tcp-request content accept if { req.len gt 0 } !{ req.ssl_hello_type 1 }');
  }
  routePrecedence(r.routes).forEach((route, k) => {
    const target = r.backends.get(route.backendId);
    if (!target) throw new Error(`route ${route.id} uses backend ${route.backendId}, which is not in the snapshot`);
    if (target.forwardProtocol !== r.b.forwardProtocol) throw new Error(`route ${route.id}: backend protocol differs from the frontend's`);
    const m = route.match;
    const name = `route${k}`;
    if (m.kind === 'path_begin') {
      if (!http) throw new Error(`route ${route.id}: path_begin needs an HTTP frontend`);
      out.push(`acl ${name} path_beg ${quotedWord('match.path_begin', m.value)}`);
    } else {
      if ((m.kind === 'host_header') !== http) throw new Error(`route ${route.id}: ${m.kind} does not fit a ${r.b.forwardProtocol} frontend`);
      const host = safeToken(`match.${m.kind}`, m.value).toLowerCase();
      if (m.kind === 'host_header') {
        out.push(`acl ${name} var(txn.${HOST_VAR}) -m str ${host}`);
        if (m.matchSubdomains) out.push(`acl ${name} var(txn.${HOST_VAR}) -m end .${host}`);
      } else {
        const sni = tls ? 'ssl_fc_sni' : 'req.ssl_sni';
        out.push(`acl ${name} ${sni} -i ${host}`);
        if (m.matchSubdomains) out.push(`acl ${name} ${sni} -m end -i .${host}`);
      }
    }
    out.push(...useBackend(target, name));
  });
  return out;
}

/** Every rule line of the frontend, after its bind/timeout/log lines, in the one order. */
export function frontendRules(f: Frontend, b: Backend, s: LbSnapshot, backends: Map<string, Backend>, runDir: string,
  acme: string[] = []): string[] {
  const r: RuleInput = {
    f, b, backends, runDir, acme,
    acls: (s.acls ?? []).filter((a) => a.frontendId === f.id),
    routes: (s.routes ?? []).filter((x) => x.frontendId === f.id),
  };
  const http = b.forwardProtocol === 'http';
  const be = backendName(b.id);
  return [
    ...acmeRules(r),
    ...aclRules(r, http),
    ...routeRules(r, http),
    ...(hasFailover(b) ? [`use_backend ${failoverBackendName(b.id)} if { nbsrv(${be}) lt 1 }`] : []),
    `default_backend ${be}`,
  ];
}
