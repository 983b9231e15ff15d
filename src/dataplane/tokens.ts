// Defence in depth for values that end up in haproxy.cfg or in runtime commands. The API layer validates each field
// strictly; these checks only make sure that whatever slips through cannot change the config's syntax.
import { isIP } from 'node:net';
import { isPort, splitHostPort } from '../domain/validation.js';

/** Printable ASCII without quotes, `#` and backslash: HAProxy reads those (and whitespace) as syntax. */
const SAFE = /^[\x21-\x7e]+$/;
const SYNTAX = /["'#\\]/;

/**
 * Returns `value` if it is one safe config word; throws otherwise. `extra` lists characters that are also syntax in
 * the place the value goes (`;` separates runtime commands, `%` starts a log-format expression).
 */
export function safeToken(field: string, value: string, extra = ''): string {
  const bad = !SAFE.test(value) || SYNTAX.test(value) || [...extra].some((c) => value.includes(c));
  if (bad) throw new Error(`${field}: ${JSON.stringify(value)} cannot be written into the HAProxy config`);
  return value;
}

export function safeIp(field: string, value: string): string {
  if (isIP(value) === 0) throw new Error(`${field}: ${JSON.stringify(value)} is not an IP address`);
  return value;
}

export function safePort(field: string, value: number): number {
  if (!isPort(value)) throw new Error(`${field}: ${value} is not a port`);
  return value;
}

export function safeCount(field: string, value: number, min = 0): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`${field}: ${value} is not an integer >= ${min}`);
  return value;
}

/** Milliseconds as an HAProxy time; `min` because some keywords (inter, fastinter) refuse 0. */
export function ms(field: string, value: number, min = 0): string {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${field}: ${value} is not a duration in ms`);
  return `${Math.max(min, Math.round(value))}ms`;
}

/** `ip:port`, with IPv6 in brackets so the port is unambiguous. */
export function hostPort(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export interface HostAndPort {
  host: string;
  port: number | null;
  isIp: boolean;
}

/** `host[:port]` (DNS name, IPv4, bracketed or bare IPv6), by the same rule as the API's validation. */
export function parseHostPort(field: string, value: string): HostAndPort {
  safeToken(field, value, ';%');
  const hp = splitHostPort(value);
  if (!hp) throw new Error(`${field}: ${JSON.stringify(value)} is not a host`);
  if (hp.port !== null) safePort(field, hp.port);
  return { ...hp, isIp: isIP(hp.host) !== 0 };
}
