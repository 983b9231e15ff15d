// ACL domain model: a frontend's ordered access rules. Evaluated per request (HTTP) or per connection (TCP) in
// ascending index; the first ACL that matches decides (allow: on to routing, deny, redirect).
import ipaddr from 'ipaddr.js';

export const ACL_ACTIONS = ['allow', 'deny', 'redirect'] as const;
export type AclActionType = (typeof ACL_ACTIONS)[number];
export const REDIRECT_TYPES = ['location', 'scheme'] as const;
export type RedirectType = (typeof REDIRECT_TYPES)[number];
export const REDIRECT_CODES = [301, 302, 303, 307, 308] as const;
export const DEFAULT_REDIRECT_CODE = 302;
export const HTTP_FILTERS = ['acl_http_filter_none', 'path_begin', 'path_end', 'regex', 'http_header_match'] as const;
export type HttpFilter = (typeof HTTP_FILTERS)[number];

export interface AclRedirect {
  type: RedirectType;
  /** A URL or path (location), or a scheme such as `https` (scheme). */
  target: string;
  code: number;
}

export interface AclAction {
  type: AclActionType;
  /** Set for redirect only. */
  redirect: AclRedirect | null;
}

export interface AclMatch {
  /** Addresses and CIDRs as sent (order kept); empty means any source. */
  ipSubnet: string[];
  /** Also match the operator's edge-services addresses (empty by default). */
  ipsEdgeServices: boolean;
  httpFilter: HttpFilter;
  /** Any value matches. */
  httpFilterValue: string[];
  /** The header name of http_header_match. */
  httpFilterOption: string | null;
  invert: boolean;
}

export interface Acl {
  id: string;
  lbId: string;
  frontendId: string;
  name: string;
  description: string;
  index: number;
  action: AclAction;
  match: AclMatch;
  createdAt: string;
  updatedAt: string;
}

export const ACL_LIMITS = { perFrontend: 1000, subnets: 65_536, filterValues: 100, valueLength: 1024, maxIndex: 2_147_483_647 } as const;

/** Evaluation order: ascending index; equal indexes (possible through single creates) in creation order, then id. */
export function aclOrder(acls: Acl[]): Acl[] {
  return [...acls].sort((a, b) => a.index - b.index
    || (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0) || (a.id < b.id ? -1 : 1));
}

/** An address or CIDR in canonical form (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.1`), or null. No zone ids. */
export function normalizeSubnet(s: string): string | null {
  if (!/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(s)) return null;
  const [addr, len] = s.split('/');
  if (!ipaddr.isValid(addr) || (!addr.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(addr))) return null;
  const ip = ipaddr.parse(addr);
  if (len === undefined) return ip.toString();
  const bits = Number(len);
  if (bits > (ip.kind() === 'ipv4' ? 32 : 128)) return null;
  return `${ip.toString()}/${bits}`;
}

/** path_begin / path_end values: URI path characters only. */
export function isPathValue(s: string): boolean {
  return s.length >= 1 && s.length <= ACL_LIMITS.valueLength && /^[A-Za-z0-9\-._~!$&()*+,;=:@%/]+$/.test(s);
}

// Characters of a regex, and the escapes that mean the same in JavaScript and in PCRE (HAProxy's engine): the
// validator compiles with JavaScript, so anything the two could read differently is refused.
const REGEX_CHARS = /^[A-Za-z0-9/._~\-^$*+?()[\]{}|\\,:=@!&%<>]+$/;
const REGEX_ESCAPES = /\\(?![.^$*+?()[\]{}|\\/\-dDwWsSbB])/;

export function isRegexValue(s: string): boolean {
  if (s.length > ACL_LIMITS.valueLength || !REGEX_CHARS.test(s) || REGEX_ESCAPES.test(s)) return false;
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

/** A header name usable in `req.hdr(<name>)`: letters, digits, `-`, `_` and `.` (a strict subset of RFC 7230 tokens). */
export function isHeaderName(s: string): boolean {
  return /^[A-Za-z0-9._-]{1,128}$/.test(s);
}

/** A header value to compare: visible ASCII and inner spaces; no single quote (it is written single-quoted). */
export function isHeaderValue(s: string): boolean {
  return s.length <= ACL_LIMITS.valueLength && /^[\x21-\x26\x28-\x7e](?:[\x20-\x26\x28-\x7e]*[\x21-\x26\x28-\x7e])?$/.test(s);
}

/** A redirect scheme such as `https`. */
export function isScheme(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]{0,31}$/.test(s);
}

/**
 * A redirect location: an absolute URL or a path, URI characters only. No `%` (the location is a log-format string
 * in HAProxy, where `%` starts an expression) and no `#` or quotes.
 */
export function isRedirectLocation(s: string): boolean {
  return s.length <= 2048 && /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/[A-Za-z0-9\-._~:[\]@]+)?\/?[A-Za-z0-9\-._~!$&()*+,;=:@/?]*$/.test(s) && s.length > 0;
}
