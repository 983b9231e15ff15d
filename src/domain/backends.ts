// Backend and health-check domain model: milliseconds and plain enums, no wire encodings.

export const FORWARD_PROTOCOLS = ['tcp', 'http'] as const;
export type ForwardProtocol = (typeof FORWARD_PROTOCOLS)[number];

export const ALGORITHMS = ['roundrobin', 'leastconn', 'first'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export const STICKY_SESSIONS = ['none', 'cookie', 'table'] as const;
export type StickySessions = (typeof STICKY_SESSIONS)[number];

export const PROXY_PROTOCOLS = ['proxy_protocol_unknown', 'proxy_protocol_none', 'proxy_protocol_v1', 'proxy_protocol_v2',
  'proxy_protocol_v2_ssl', 'proxy_protocol_v2_ssl_cn'] as const;
export type ProxyProtocol = (typeof PROXY_PROTOCOLS)[number];

export const ON_MARKED_DOWN_ACTIONS = ['on_marked_down_action_none', 'shutdown_sessions'] as const;
export type OnMarkedDownAction = (typeof ON_MARKED_DOWN_ACTIONS)[number];

export type HealthCheckConfig =
  | { kind: 'tcp' }
  | { kind: 'mysql'; user: string }
  | { kind: 'pgsql'; user: string }
  | { kind: 'ldap' }
  | { kind: 'redis' }
  | { kind: 'http'; uri: string; method: string; code: number | null; hostHeader: string }
  | { kind: 'https'; uri: string; method: string; code: number | null; hostHeader: string; sni: string };

export type HealthCheckKind = HealthCheckConfig['kind'];

export interface HealthCheck {
  port: number;
  checkDelayMs: number;
  checkTimeoutMs: number;
  checkMaxRetries: number;
  checkSendProxy: boolean;
  transientCheckDelayMs: number;
  config: HealthCheckConfig;
}

export interface Backend {
  id: string;
  lbId: string;
  name: string;
  forwardProtocol: ForwardProtocol;
  forwardPort: number;
  algorithm: Algorithm;
  stickySessions: StickySessions;
  cookieName: string;
  healthCheck: HealthCheck;
  /** Normalized server addresses, in the order given. */
  pool: string[];
  timeoutServerMs: number | null;
  timeoutConnectMs: number | null;
  timeoutTunnelMs: number | null;
  onMarkedDownAction: OnMarkedDownAction;
  proxyProtocol: ProxyProtocol;
  failoverHost: string | null;
  sslBridging: boolean;
  ignoreSslServerVerify: boolean | null;
  redispatchAttemptCount: number | null;
  maxRetries: number | null;
  maxConnections: number | null;
  timeoutQueueMs: number | null;
  /** Host header (HTTP) and TLS SNI (ssl_bridging) sent to the servers; '' keeps the client's Host and sends no SNI. */
  host: string;
  createdAt: string;
  updatedAt: string;
}

/** Defaults from Scaleway's OpenAPI, applied where a client leaves a field out. */
export const HEALTH_CHECK_DEFAULTS = {
  checkDelayMs: 3000,
  checkTimeoutMs: 1000,
  transientCheckDelayMs: 500,
} as const;

export const BACKEND_DEFAULTS = {
  timeoutServerMs: 300_000,
  timeoutConnectMs: 5_000,
  timeoutTunnelMs: 900_000,
} as const;

/** The deprecated `send_proxy_v2` flag mirrors `proxy_protocol` v2 (Terraform issue #2000). */
export function sendProxyV2(b: Pick<Backend, 'proxyProtocol'>): boolean {
  return b.proxyProtocol === 'proxy_protocol_v2';
}
