// Field rules shared by every resource. Anything that may end up in haproxy.cfg passes one of these first, so the
// character classes below are deliberately narrower than what HTTP allows: no whitespace, control characters,
// quotes, backslashes or `#`, which HAProxy's config parser reads as syntax.
import ipaddr from 'ipaddr.js';

export const LIMITS = {
  nameLength: 255,
  descriptionLength: 1024,
  tagCount: 50,
  tagLength: 128,
  poolSize: 100,
  backendsPerLb: 300,
  frontendsPerLb: 300,
  maxDurationMs: 2_147_483_647,
  minCheckIntervalMs: 100,
  maxRetries: 32,
  maxConnections: 100_000,
  maxCheckRetries: 9999,
  maxConnectionRate: 1_000_000,
} as const;

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Names and descriptions are free text, but single-line. */
export function isText(value: string, max: number): boolean {
  return value.length <= max && !CONTROL.test(value);
}

export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/**
 * RFC 6265 cookie-name token, less the characters HAProxy's config parser treats as syntax (#, ', `, $) and `%`, which
 * the renderer refuses in the `cookie` line (render.ts).
 */
export function isCookieName(s: string): boolean {
  return /^[A-Za-z0-9!&*+\-.^_|~]{1,64}$/.test(s);
}

/** A DNS name (labels of letters, digits, hyphens and underscores). */
export function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  return s.replace(/\.$/, '').split('.').every((l) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l));
}

/** A Host header value: a hostname or IP literal with an optional port. */
export function isHostHeader(s: string): boolean {
  const hp = splitHostPort(s);
  return hp !== null && (hp.port === null || isPort(hp.port));
}

/** `host[:port]`, `[v6]:port` or a bare IPv6 literal; null when it is none of these. */
export function splitHostPort(s: string): { host: string; port: number | null } | null {
  let host = s;
  let port: string | null = null;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(s);
  if (bracketed) {
    if (!ipaddr.IPv6.isValid(bracketed[1])) return null;
    return { host: bracketed[1], port: bracketed[2] ? Number(bracketed[2]) : null };
  }
  // Plain hex digits, colons and dots only: ipaddr.js also takes zone ids (`fe80::1%eth0`), and `%` starts a
  // log-format expression where the failover host is written (http-request set-header).
  if (/^[0-9A-Fa-f:.]+$/.test(s) && ipaddr.IPv6.isValid(s) && s.includes(':')) return { host: s, port: null };
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  host = m[1];
  port = m[2] ?? null;
  if (!isHostname(host) && !ipaddr.IPv4.isValidFourPartDecimal(host)) return null;
  return { host, port: port === null ? null : Number(port) };
}

/** Where a backend fails over to: `host[:port]`, optionally as a URL `http(s)://host[:port][/path]`. */
export interface FailoverTarget {
  host: string;
  port: number | null;
  /** The authority as written, for the Host header. */
  authority: string;
  /** From the scheme; null without one (then port 443 means TLS). */
  tls: boolean | null;
  /** The page every failed-over request gets; null keeps the request's own path. */
  path: string | null;
}

/**
 * Reads a failover host: a host name or IP with an optional port, also written as a URL as in Scaleway's S3 failover
 * guide. The path allows no `%` or `?`: it is written where HAProxy reads a log-format string (set-path).
 */
export function parseFailoverTarget(s: string): FailoverTarget | null {
  const m = /^(?:(https?):\/\/)?([^/]+)(\/[A-Za-z0-9\-._~!$&()*+,;=:@/]*)?$/i.exec(s);
  const hp = m ? splitHostPort(m[2]) : null;
  if (!m || !hp || (hp.port !== null && !isPort(hp.port))) return null;
  const path = m[3] && m[3] !== '/' ? m[3] : null;
  return { host: hp.host, port: hp.port, authority: m[2], tls: m[1] ? m[1].toLowerCase() === 'https' : null, path };
}

/** An HTTP health-check path: starts with `/`, visible ASCII only, no `#` or quotes. */
export function isUriPath(s: string): boolean {
  return s.length <= 2048 && /^\/[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*$/.test(s);
}

/**
 * A health-check request target: a path (origin form) or a full `http(s)://host[:port][/path]` URL (absolute form,
 * which RFC 9112 §3.2.2 requires servers to accept, and which Scaleway accepts too). Same characters as a path.
 */
export function isCheckUri(s: string): boolean {
  if (isUriPath(s)) return true;
  const m = /^https?:\/\/([^/?]+)(.*)$/i.exec(s);
  return m !== null && s.length <= 2048 && isHostHeader(m[1]) && (m[2] === '' || isUriPath(m[2].startsWith('/') ? m[2] : `/${m[2]}`));
}

export function isHttpMethod(s: string): boolean {
  return /^[A-Z]{1,16}$/.test(s);
}

/** A database user name for MySQL and PostgreSQL checks. */
export function isDbUser(s: string): boolean {
  return /^[A-Za-z0-9_.\-]{1,63}$/.test(s);
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

/**
 * Normalizes a backend server address: IPv4 dotted quad or IPv6 in its canonical compressed form.
 * Returns an error text for what cannot be a unicast server address.
 */
export function normalizeServerIp(s: string): { ip: string } | { error: string } {
  if (typeof s !== 'string' || !ipaddr.isValid(s) || /[^0-9A-Fa-f:.]/.test(s)) return { error: `'${clip(s)}' is not an IPv4 or IPv6 address` };
  if (!s.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(s)) return { error: `'${clip(s)}' is not a dotted-quad IPv4 address` };
  const addr = ipaddr.parse(s);
  const range = addr.range();
  if (['unspecified', 'multicast', 'broadcast'].includes(range)) {
    return { error: `'${clip(s)}' is a ${range} address, not a server address` };
  }
  return { ip: addr.toString() };
}

/** Shortens user text quoted in error messages. */
export function clip(s: unknown): string {
  const t = String(s);
  return t.length > 64 ? `${t.slice(0, 61)}...` : t;
}
