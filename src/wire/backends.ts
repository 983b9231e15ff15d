// Backends and health checks on the wire: request schemas, request → domain (with every field rule), domain → JSON.
import { Type, type Static } from '@sinclair/typebox';
import {
  ALGORITHMS, BACKEND_DEFAULTS, FORWARD_PROTOCOLS, HEALTH_CHECK_DEFAULTS, ON_MARKED_DOWN_ACTIONS, PROXY_PROTOCOLS,
  STICKY_SESSIONS, sendProxyV2, type Backend, type HealthCheck, type HealthCheckConfig,
} from '../domain/backends.js';
import {
  LIMITS, clip, isCookieName, isDbUser, isHostHeader, isHostname, isHttpMethod, isPort, isCheckUri, normalizeServerIp,
  parseFailoverTarget,
} from '../domain/validation.js';
import { DurationInput, Nullable, Problems } from './common.js';
import { formatProtoDuration } from './durations.js';

const Str = (max = 1024) => Type.String({ maxLength: max });
const HttpConfig = Type.Object({
  uri: Nullable(Str(2048)), method: Nullable(Str(64)), code: Nullable(Type.Integer()), host_header: Nullable(Str(255)),
});
const HttpsConfig = Type.Object({
  uri: Nullable(Str(2048)), method: Nullable(Str(64)), code: Nullable(Type.Integer()), host_header: Nullable(Str(255)),
  sni: Nullable(Str(255)),
});
const UserConfig = Type.Object({ user: Nullable(Str(255)) });
const EmptyConfig = Type.Object({});

export const HealthCheckBody = Type.Object({
  port: Nullable(Type.Integer()),
  check_delay: Nullable(DurationInput),
  check_timeout: Nullable(DurationInput),
  check_max_retries: Nullable(Type.Integer()),
  check_send_proxy: Nullable(Type.Boolean()),
  transient_check_delay: Nullable(DurationInput),
  tcp_config: Nullable(EmptyConfig),
  mysql_config: Nullable(UserConfig),
  pgsql_config: Nullable(UserConfig),
  ldap_config: Nullable(EmptyConfig),
  redis_config: Nullable(EmptyConfig),
  http_config: Nullable(HttpConfig),
  https_config: Nullable(HttpsConfig),
});
export type HealthCheckBody = Static<typeof HealthCheckBody>;

const settingsFields = {
  name: Str(1024),
  forward_protocol: Str(64),
  forward_port: Type.Integer(),
  forward_port_algorithm: Nullable(Str(64)),
  sticky_sessions: Nullable(Str(64)),
  sticky_sessions_cookie_name: Nullable(Str(255)),
  send_proxy_v2: Nullable(Type.Boolean()),
  timeout_server: Nullable(DurationInput),
  timeout_connect: Nullable(DurationInput),
  timeout_tunnel: Nullable(DurationInput),
  on_marked_down_action: Nullable(Str(64)),
  proxy_protocol: Nullable(Str(64)),
  failover_host: Nullable(Str(512)),
  ssl_bridging: Nullable(Type.Boolean()),
  ignore_ssl_server_verify: Nullable(Type.Boolean()),
  redispatch_attempt_count: Nullable(Type.Integer()),
  max_retries: Nullable(Type.Integer()),
  max_connections: Nullable(Type.Integer()),
  timeout_queue: Nullable(DurationInput),
  host: Nullable(Str(255)),
};

const ServerIpList = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 });

export const BackendCreateBody = Type.Object({
  ...settingsFields,
  health_check: Nullable(HealthCheckBody),
  server_ip: Nullable(ServerIpList),
});
export type BackendCreateBody = Static<typeof BackendCreateBody>;

export const BackendUpdateBody = Type.Object(settingsFields);
export type BackendUpdateBody = Static<typeof BackendUpdateBody>;

/** `server_ip` is required, but null means an empty list: the Go SDK marshals an empty slice as null. */
export const ServersBody = Type.Object({ server_ip: Type.Union([ServerIpList, Type.Null()]) });
export type ServersBody = Static<typeof ServersBody>;

export type BackendSettings = Omit<Backend, 'id' | 'lbId' | 'healthCheck' | 'pool' | 'createdAt' | 'updatedAt'>;

/** Reads the fields shared by create and update. PUT replaces everything: an omitted optional field gets its default. */
export function parseBackendSettings(body: BackendUpdateBody, p: Problems): BackendSettings {
  const protocol = p.oneOf('forward_protocol', body.forward_protocol, FORWARD_PROTOCOLS, 'tcp');
  if (!isPort(body.forward_port)) p.add('forward_port', 'constraint', 'must be a port between 1 and 65535');
  const sticky = p.oneOf('sticky_sessions', body.sticky_sessions, STICKY_SESSIONS, 'none');
  const cookieName = body.sticky_sessions_cookie_name ?? '';
  // Cookie stickiness on a tcp backend is accepted, stored and echoed like Scaleway does; it has no effect there
  // (render-notes.ts logs it at each apply).
  if (sticky === 'cookie') {
    if (!cookieName) p.add('sticky_sessions_cookie_name', 'required', 'a cookie name is required with cookie stickiness');
    else if (!isCookieName(cookieName)) p.add('sticky_sessions_cookie_name', 'format', 'must be an RFC 6265 token of at most 64 characters (letters, digits and !&*+-.^_|~)');
  } else if (cookieName && !isCookieName(cookieName)) {
    p.add('sticky_sessions_cookie_name', 'format', 'must be an RFC 6265 token of at most 64 characters (letters, digits and !&*+-.^_|~)');
  }
  let proxyProtocol = p.oneOf('proxy_protocol', body.proxy_protocol, PROXY_PROTOCOLS, 'proxy_protocol_unknown');
  if (body.send_proxy_v2 === true && (proxyProtocol === 'proxy_protocol_unknown' || proxyProtocol === 'proxy_protocol_none')) {
    proxyProtocol = 'proxy_protocol_v2';
  }
  let failoverHost = body.failover_host ?? null;
  if (failoverHost === '') failoverHost = null;
  // On a tcp backend it is accepted and stored, without effect (inert-settings.ts), like cookie stickiness.
  if (failoverHost !== null && !parseFailoverTarget(failoverHost)) {
    p.add('failover_host', 'format', `'${clip(failoverHost)}' is not host[:port] or http(s)://host[:port][/path] (path without % or ?)`);
  }
  const host = body.host ?? '';
  if (host && !isHostHeader(host)) p.add('host', 'format', 'must be a host name or IP address, with an optional port');
  return {
    name: p.text('name', body.name, LIMITS.nameLength, true),
    forwardProtocol: protocol,
    forwardPort: body.forward_port,
    algorithm: p.oneOf('forward_port_algorithm', body.forward_port_algorithm, ALGORITHMS, 'roundrobin'),
    stickySessions: sticky,
    cookieName,
    timeoutServerMs: p.duration('timeout_server', body.timeout_server, 'ms', 0, BACKEND_DEFAULTS.timeoutServerMs),
    timeoutConnectMs: p.duration('timeout_connect', body.timeout_connect, 'ms', 0, BACKEND_DEFAULTS.timeoutConnectMs),
    timeoutTunnelMs: p.duration('timeout_tunnel', body.timeout_tunnel, 'ms', 0, BACKEND_DEFAULTS.timeoutTunnelMs),
    onMarkedDownAction: p.oneOf('on_marked_down_action', body.on_marked_down_action, ON_MARKED_DOWN_ACTIONS, 'on_marked_down_action_none'),
    proxyProtocol,
    failoverHost,
    sslBridging: body.ssl_bridging ?? false,
    ignoreSslServerVerify: body.ignore_ssl_server_verify ?? null,
    redispatchAttemptCount: optInt(p, 'redispatch_attempt_count', body.redispatch_attempt_count, 0, LIMITS.maxRetries),
    maxRetries: optInt(p, 'max_retries', body.max_retries, 0, LIMITS.maxRetries),
    maxConnections: optInt(p, 'max_connections', body.max_connections, 0, LIMITS.maxConnections),
    timeoutQueueMs: p.duration('timeout_queue', body.timeout_queue, 's', 0, null),
    host,
  };
}

function optInt(p: Problems, arg: string, v: number | null | undefined, min: number, max: number): number | null {
  if (v === null || v === undefined) return null;
  return p.intRange(arg, v, min, max);
}

/**
 * Reads a health check. With no kind given it is a TCP check; a missing port defaults to the backend's forward port
 * and a missing retry count to 3 (the real API refuses both; Fulcrum is lenient, see docs/api.md).
 */
export function parseHealthCheck(body: HealthCheckBody | null | undefined, forwardPort: number, p: Problems, prefix: string): HealthCheck {
  const hc = body ?? {};
  const arg = (name: string) => (prefix ? `${prefix}.${name}` : name);
  const port = hc.port ?? forwardPort;
  if (!isPort(port)) p.add(arg('port'), 'constraint', 'must be a port between 1 and 65535');
  return {
    port,
    checkDelayMs: p.duration(arg('check_delay'), hc.check_delay, 'ms', LIMITS.minCheckIntervalMs, HEALTH_CHECK_DEFAULTS.checkDelayMs)!,
    checkTimeoutMs: p.duration(arg('check_timeout'), hc.check_timeout, 'ms', LIMITS.minCheckIntervalMs, HEALTH_CHECK_DEFAULTS.checkTimeoutMs)!,
    checkMaxRetries: p.intRange(arg('check_max_retries'), hc.check_max_retries ?? 3, 1, LIMITS.maxCheckRetries),
    checkSendProxy: hc.check_send_proxy ?? false,
    transientCheckDelayMs: p.duration(arg('transient_check_delay'), hc.transient_check_delay, 's', LIMITS.minCheckIntervalMs,
      HEALTH_CHECK_DEFAULTS.transientCheckDelayMs)!,
    config: parseCheckConfig(hc, p, arg),
  };
}

const KINDS = ['tcp_config', 'mysql_config', 'pgsql_config', 'ldap_config', 'redis_config', 'http_config', 'https_config'] as const;

function parseCheckConfig(hc: HealthCheckBody, p: Problems, arg: (n: string) => string): HealthCheckConfig {
  const given = KINDS.filter((k) => hc[k] !== null && hc[k] !== undefined);
  if (given.length > 1) {
    for (const k of given) p.add(arg(k), 'constraint', `exactly one health-check kind may be set; got ${given.join(', ')}`);
    return { kind: 'tcp' };
  }
  switch (given[0]) {
    case undefined: case 'tcp_config': return { kind: 'tcp' };
    case 'ldap_config': return { kind: 'ldap' };
    case 'redis_config': return { kind: 'redis' };
    case 'mysql_config': case 'pgsql_config': {
      const user = hc[given[0]]!.user ?? '';
      if (!isDbUser(user)) p.add(arg(`${given[0]}.user`), user ? 'format' : 'required', 'a user name of 1-63 letters, digits, _ . or - is required');
      return { kind: given[0] === 'mysql_config' ? 'mysql' : 'pgsql', user };
    }
    case 'http_config': case 'https_config': {
      const c = hc[given[0]]!;
      const a = (n: string) => arg(`${given[0]}.${n}`);
      const uri = c.uri || '/';
      if (!isCheckUri(uri)) p.add(a('uri'), 'format', 'must be a path starting with / or a full http(s)://host/path URL (no spaces, quotes or #)');
      const method = c.method || 'GET';
      if (!isHttpMethod(method)) p.add(a('method'), 'format', 'must be an HTTP method in capitals, e.g. GET, HEAD or POST');
      const code = c.code ? c.code : null;
      if (code !== null && (code < 100 || code > 599)) p.add(a('code'), 'constraint', 'must be an HTTP status code between 100 and 599');
      const hostHeader = c.host_header ?? '';
      if (hostHeader && !isHostHeader(hostHeader)) p.add(a('host_header'), 'format', 'must be a host name or IP address, with an optional port');
      if (given[0] === 'http_config') return { kind: 'http', uri, method, code, hostHeader };
      const sni = (c as { sni?: string | null }).sni ?? '';
      if (sni && !isHostname(sni)) p.add(a('sni'), 'format', 'must be a host name');
      return { kind: 'https', uri, method, code, hostHeader, sni };
    }
  }
}

/** Normalizes a server list; a duplicate within one request is refused. */
export function parseServerIps(list: string[] | null | undefined, p: Problems, arg: string): string[] {
  const out: string[] = [];
  (list ?? []).forEach((raw, i) => {
    const r = normalizeServerIp(raw);
    if ('error' in r) p.add(`${arg}.${i}`, 'format', r.error);
    else if (out.includes(r.ip)) p.add(`${arg}.${i}`, 'constraint', `${r.ip} is listed twice`);
    else out.push(r.ip);
  });
  if (out.length > LIMITS.poolSize) p.add(arg, 'constraint', `a backend holds at most ${LIMITS.poolSize} servers`);
  return out;
}

export function healthCheckToWire(hc: HealthCheck): Record<string, unknown> {
  const out: Record<string, unknown> = {
    port: hc.port,
    check_delay: hc.checkDelayMs,
    check_timeout: hc.checkTimeoutMs,
    check_max_retries: hc.checkMaxRetries,
    check_send_proxy: hc.checkSendProxy,
    transient_check_delay: formatProtoDuration(hc.transientCheckDelayMs),
  };
  const c = hc.config;
  switch (c.kind) {
    case 'tcp': case 'ldap': case 'redis': out[`${c.kind}_config`] = {}; break;
    case 'mysql': case 'pgsql': out[`${c.kind}_config`] = { user: c.user }; break;
    case 'http': out.http_config = { uri: c.uri, method: c.method, code: c.code, host_header: c.hostHeader }; break;
    case 'https': out.https_config = { uri: c.uri, method: c.method, code: c.code, host_header: c.hostHeader, sni: c.sni }; break;
  }
  return out;
}

export function backendToWire(b: Backend, lb: Record<string, unknown>): Record<string, unknown> {
  return {
    id: b.id,
    name: b.name,
    forward_protocol: b.forwardProtocol,
    forward_port: b.forwardPort,
    forward_port_algorithm: b.algorithm,
    sticky_sessions: b.stickySessions,
    sticky_sessions_cookie_name: b.cookieName,
    health_check: healthCheckToWire(b.healthCheck),
    pool: b.pool,
    lb,
    send_proxy_v2: sendProxyV2(b),
    timeout_server: b.timeoutServerMs,
    timeout_connect: b.timeoutConnectMs,
    timeout_tunnel: b.timeoutTunnelMs,
    on_marked_down_action: b.onMarkedDownAction,
    proxy_protocol: b.proxyProtocol,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    failover_host: b.failoverHost,
    ssl_bridging: b.sslBridging,
    ignore_ssl_server_verify: b.ignoreSslServerVerify,
    redispatch_attempt_count: b.redispatchAttemptCount,
    max_retries: b.maxRetries,
    max_connections: b.maxConnections,
    timeout_queue: b.timeoutQueueMs === null ? null : formatProtoDuration(b.timeoutQueueMs),
    // Backends stored before the field existed have none.
    host: b.host ?? '',
  };
}
