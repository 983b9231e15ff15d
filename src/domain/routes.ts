// Route domain model: a frontend's requests (HTTP) or connections (TCP) that match are sent to another backend of the
// same LB. What matches no route goes to the frontend's own backend.
import ipaddr from 'ipaddr.js';
import { isHostname } from './validation.js';

export const ROUTE_MATCH_KINDS = ['host_header', 'sni', 'path_begin'] as const;
export type RouteMatchKind = (typeof ROUTE_MATCH_KINDS)[number];

export interface RouteMatch {
  kind: RouteMatchKind;
  value: string;
  /** Also match every subdomain of the host / SNI name (ignored for path_begin). */
  matchSubdomains: boolean;
}

export interface Route {
  id: string;
  lbId: string;
  frontendId: string;
  backendId: string;
  match: RouteMatch;
  createdAt: string;
  updatedAt: string;
}

export const ROUTES_PER_FRONTEND = 1000;

/** A host_header or sni value: a DNS name (or, for host_header, an IPv4 literal); compared case-insensitively. */
export function isRouteHost(kind: 'host_header' | 'sni', s: string): boolean {
  return isHostname(s) || (kind === 'host_header' && ipaddr.IPv4.isValidFourPartDecimal(s));
}

/** A path prefix: URI path characters only (no spaces, quotes, `#` or backslash). */
export function isPathPrefix(s: string): boolean {
  return s.length >= 1 && s.length <= 1024 && /^[A-Za-z0-9\-._~!$&()*+,;=:@%/]+$/.test(s);
}

const isHostKind = (m: RouteMatch): boolean => m.kind !== 'path_begin';

/**
 * The order in which a frontend's routes are tried; the first that matches wins. Scaleway documents none, so the most
 * specific route wins: host / SNI routes before path routes; an exact name before names matched with their
 * subdomains, and among those the longer (deeper) name first; the longer path prefix first. Equal ones (same match)
 * keep creation order, then id, so the order never depends on storage.
 */
export function routePrecedence(routes: Route[]): Route[] {
  const rank = (r: Route): number => (isHostKind(r.match) ? (r.match.matchSubdomains ? 1 : 0) : 2);
  return [...routes].sort((a, b) => rank(a) - rank(b)
    || b.match.value.length - a.match.value.length
    || (a.match.value < b.match.value ? -1 : a.match.value > b.match.value ? 1 : 0)
    || (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0)
    || (a.id < b.id ? -1 : 1));
}
