// Domain snapshot → haproxy.cfg text. Pure: same input, same text (sections sorted by id, servers by server id), so the
// instance can compare rendered configs to decide between "nothing to do", "runtime API" and "reload".
// Field mapping and the reasons behind each line: shared spec/haproxy-2.6.md §1, §2 and §10.
import { ALGORITHMS, BACKEND_DEFAULTS, FORWARD_PROTOCOLS, type Backend, type ProxyProtocol } from '../domain/backends.js';
import { DEFAULT_TIMEOUT_CLIENT_MS, type Frontend } from '../domain/frontends.js';
import type { Lb } from '../domain/lbs.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import { parseFailoverTarget, type FailoverTarget } from '../domain/validation.js';
import {
  RESOLVERS_SECTION, backendName, dynamicCookieKey, failoverBackendName, frontendName, serverName,
} from './names.js';
import { accessLogLines } from './render-logs.js';
import { metricsSection } from './render-metrics.js';
import { profileLines } from './render-profile.js';
import { pnBindAddresses, pnSourceArgs, pnSourceLb } from './render-pn.js';
export { DEFAULT_MAXCONN } from './render-profile.js';
import { http3Lines, quicTls } from './render-http3.js';
import { acmeListener, frontendTls, type FrontendTls, type TlsPaths } from './render-tls.js';
import { frontendRules, hasFailover } from './render-rules.js';
import { PEERS_SECTION, localPeerLines, peersLines, type PeerSet } from './render-peers.js';
import { uniquePool, type ServerIds } from './server-ids.js';
import { hostPort, ms, parseHostPort, safeCount, safeIp, safePort, safeToken } from './tokens.js';

export interface RenderOptions {
  /** Absolute directory of the admin socket and the server-state file. */
  runDir: string;
  /** Stable server ids; every pool address must have one (see server-ids.ts). */
  serverIds: ServerIds;
  /** Global connection limit instead of the LB type's. HAProxy needs about 2×maxconn file descriptors (pitfall 20). */
  maxconn?: number;
  /** The open-file limit HAProxy runs under; caps maxconn (render-profile.ts). */
  fdLimit?: number;
  /** The HAProxy binary serves QUIC (capabilities.ts): `enable_http3` frontends with TLS also listen on UDP. */
  quic?: boolean;
  /** Directory of the certificates' PEM files; required when a frontend terminates TLS (render-tls.ts). */
  certDir?: string;
  /** The LB's HAProxy peers on the nodes of an HA pair (render-peers.ts); none on a single node. */
  peers?: PeerSet | null;
  /**
   * Servers inside the LB's private networks connect from its address there (`source`, the default). Off on agents:
   * only the VRRP master holds that address, and the backup's checks must still reach the servers.
   */
  pnSource?: boolean;
}

/** `retries` when max_retries is null (HAProxy's own default). */
export const DEFAULT_RETRIES = 3;
/** Passing checks needed to come UP; Scaleway has no field for it. */
export const CHECK_RISE = 2;
/** Port of the failover host when it names none. */
export const FAILOVER_DEFAULT_PORT = 80;

const SEND_PROXY: Partial<Record<ProxyProtocol, string>> = {
  proxy_protocol_v1: 'send-proxy',
  proxy_protocol_v2: 'send-proxy-v2',
  proxy_protocol_v2_ssl: 'send-proxy-v2-ssl',
  proxy_protocol_v2_ssl_cn: 'send-proxy-v2-ssl-cn',
};

/** The backend's `host`, checked again as one safe word (`;` refused: server options are also a runtime command). */
const backendHost = (b: Backend) => parseHostPort('host', b.host);

/** The Host header value of the backend's `host`: an IPv6 literal goes in brackets. */
function hostHeader(b: Backend): string {
  const h = backendHost(b);
  if (h.port !== null) return hostPort(h.host, h.port);
  return h.host.includes(':') ? `[${h.host}]` : h.host;
}

/** The backend's `host` as TLS SNI, for traffic and checks; none for an IP address (RFC 6066 allows names only). */
function backendSni(b: Backend): string | null {
  if (!b.host) return null;
  const h = backendHost(b);
  return h.isIp ? null : h.host;
}

/**
 * `host` as the SNI of traffic and of TLS checks. Both are set: a check's TLS session reused by traffic would
 * otherwise carry the check's SNI (pitfall 18). An https check sets its own check-sni.
 */
function backendSniArgs(b: Backend): string[] {
  const sni = backendSni(b);
  if (!sni) return [];
  return ['sni', `str(${sni})`, ...(b.healthCheck.config.kind === 'https' ? [] : ['check-sni', sni])];
}

/** The backend's servers verify their TLS certificates against the system CAs (verifyArgs). */
const verifiesWithSystemCa = (b: Backend): boolean =>
  (b.sslBridging || b.healthCheck.config.kind === 'https') && !b.ignoreSslServerVerify;

/**
 * HAProxy 2.6's internal HTTP client (Lua and the expert CLI only; Fulcrum uses neither) loads the system CA bundle at
 * every start, reload and `haproxy -c`: about 60 ms of CPU each, most of the time of a reload of a small LB. Verify
 * none skips that load. An LB whose servers verify against `@system-ca` keeps it: `add server … ca-file @system-ca`
 * works only once that bundle is loaded (pitfall 7), also when the backend's pool is empty.
 */
function httpClientLines(s: LbSnapshot): string[] {
  return s.backends.some(verifiesWithSystemCa) ? [] : ['  httpclient.ssl.verify none'];
}

function verifyArgs(b: Backend): string[] {
  // ignore_ssl_server_verify null reads as false: verify. `@system-ca` because `add server` cannot load a CA file
  // the config did not already load (pitfall 7).
  return b.ignoreSslServerVerify ? ['verify', 'none'] : ['verify', 'required', 'ca-file', '@system-ca'];
}

/**
 * The server keywords after `<address> id <n>`: the same for every server of a backend, so a backend computes them once
 * (at 30,000 servers this is most of the render time).
 */
function serverOptions(b: Backend): string {
  const hc = b.healthCheck;
  const a: (string | number)[] = [];
  // max_connections null: no per-server limit.
  if (b.maxConnections !== null) a.push('maxconn', safeCount('max_connections', b.maxConnections));
  if (b.onMarkedDownAction === 'shutdown_sessions') a.push('on-marked-down', 'shutdown-sessions');
  const sendProxy = SEND_PROXY[b.proxyProtocol];
  if (sendProxy) a.push(sendProxy);
  if (b.sslBridging) a.push('ssl', ...verifyArgs(b), ...backendSniArgs(b));
  // HAProxy refuses `inter 0` and `fall 0`: 0 is read as the smallest accepted value.
  a.push('check', 'inter', ms('check_delay', hc.checkDelayMs, 1),
    'fastinter', ms('transient_check_delay', hc.transientCheckDelayMs, 1),
    'fall', Math.max(1, safeCount('check_max_retries', hc.checkMaxRetries)), 'rise', CHECK_RISE);
  // A health-check port of 0 or equal to forward_port means "the traffic port".
  if (hc.port > 0 && hc.port !== b.forwardPort) a.push('port', safePort('health_check.port', hc.port));
  if (hc.checkSendProxy) a.push('check-send-proxy');
  if (hc.config.kind === 'https') {
    a.push('check-ssl');
    // `;` would split the runtime command this string is also sent in.
    if (hc.config.sni) a.push('check-sni', safeToken('health_check.https_config.sni', hc.config.sni, ';'));
    else if (backendSni(b)) a.push('check-sni', backendSni(b)!);
    if (!b.sslBridging) a.push(...verifyArgs(b));
  }
  return a.join(' ');
}

const serverLineArgs = (b: Backend, ip: string, id: number, options: string, lb: Lb | null): string =>
  `${hostPort(safeIp('pool', ip), safePort('forward_port', b.forwardPort))} id ${safeCount('server id', id, 1)} ${options}`
  + slowStartArg(b, ip) + (lb ? pnSourceArgs(lb, ip) : '');

/** Fulcrum's per-server slow start (server-admin.ts); the only server setting that is config, not runtime. */
function slowStartArg(b: Backend, ip: string): string {
  const slow = b.serverAdmin?.[ip]?.slowStartMs;
  return slow ? ` slowstart ${ms('slow_start', slow, 1)}` : '';
}

/**
 * Everything after the server name, for the `server` line AND for runtime `add server`: dynamic servers do not
 * inherit `default-server` (pitfall 2), so both must get the complete same string.
 */
export function serverArgs(b: Backend, ip: string, id: number, lb: Lb | null = null): string {
  return serverLineArgs(b, ip, id, serverOptions(b), lb);
}

function healthCheckLines(b: Backend): string[] {
  const hc = b.healthCheck;
  const c = hc.config;
  const L = [`timeout check ${ms('check_timeout', hc.checkTimeoutMs)}`];
  switch (c.kind) {
    case 'tcp':
      break; // `check` on the server alone is an L4 connect check
    case 'http':
    case 'https': {
      const f = `health_check.${c.kind}_config`;
      L.push('option httpchk');
      let send = `http-check send meth ${safeToken(`${f}.method`, c.method || 'GET', '%')} uri ${safeToken(`${f}.uri`, c.uri || '/')}`;
      // HTTP/1.1 without Host gets 400 from common servers (pitfall 15): HTTP/1.0 unless a host header is given.
      // `hdr` values are log-format: `%` would start an expression.
      if (c.hostHeader) send += ` ver HTTP/1.1 hdr Host ${safeToken(`${f}.host_header`, c.hostHeader, '%')}`;
      L.push(send);
      // code null: HAProxy's default, any 2xx or 3xx passes.
      if (c.code !== null) L.push(`http-check expect status ${safeCount(`${f}.code`, c.code, 100)}`);
      break;
    }
    case 'mysql':
      // Without a user the check passes but MariaDB logs an aborted connection every time (pitfall 17).
      L.push(c.user ? `option mysql-check user ${safeToken('health_check.mysql_config.user', c.user)} post-41`
        : 'option mysql-check');
      break;
    case 'pgsql':
      L.push(`option pgsql-check user ${safeToken('health_check.pgsql_config.user', c.user)}`);
      break;
    case 'ldap':
      L.push('option ldap-check');
      break;
    case 'redis':
      L.push('option redis-check');
      break;
    default:
      throw new Error(`health check kind ${JSON.stringify((c as { kind: string }).kind)} is not supported`);
  }
  return L;
}

function checkEnums(b: Backend): void {
  if (!FORWARD_PROTOCOLS.includes(b.forwardProtocol)) throw new Error(`forward_protocol ${b.forwardProtocol} unknown`);
  if (!ALGORITHMS.includes(b.algorithm)) throw new Error(`forward_port_algorithm ${b.algorithm} unknown`);
}

/**
 * A timeout that is null takes the Scaleway default. 0 does too: HAProxy reads 0 as "never", which would let idle
 * connections pile up forever (and `haproxy -c` warns about it).
 */
const orDefault = (v: number | null, d: number): number => v || d;

/** connect and server timeouts, shared by a backend and its failover backend. */
function backendTimeouts(b: Backend): string[] {
  return [`timeout connect ${ms('timeout_connect', orDefault(b.timeoutConnectMs, BACKEND_DEFAULTS.timeoutConnectMs))}`,
    `timeout server ${ms('timeout_server', orDefault(b.timeoutServerMs, BACKEND_DEFAULTS.timeoutServerMs))}`];
}

/** `sourceLb`: the LB whose private addresses servers connect from (render-pn.ts), or null for the node's own. */
function backendSection(b: Backend, ids: Record<string, number>, sourceLb: Lb | null, peers: boolean): string[] {
  checkEnums(b);
  const http = b.forwardProtocol === 'http';
  const L = [`mode ${b.forwardProtocol}`, `balance ${b.algorithm}`,
    ...backendTimeouts(b), `timeout tunnel ${ms('timeout_tunnel', orDefault(b.timeoutTunnelMs, BACKEND_DEFAULTS.timeoutTunnelMs))}`];
  // timeout_queue null (or 0): no line, and HAProxy then bounds the queue wait by `timeout connect`.
  if (b.timeoutQueueMs) L.push(`timeout queue ${ms('timeout_queue', b.timeoutQueueMs)}`);
  L.push(`retries ${safeCount('max_retries', b.maxRetries ?? DEFAULT_RETRIES)}`);
  // redispatch_attempt_count null or 0: never move a retried request to another server.
  L.push(b.redispatchAttemptCount ? `option redispatch ${safeCount('redispatch_attempt_count', b.redispatchAttemptCount)}`
    : 'no option redispatch');
  // Cookie stickiness is HTTP-only (a tcp backend would ignore it with a warning), so it is not rendered for tcp.
  if (b.stickySessions === 'cookie' && http) {
    L.push(`cookie ${safeToken('sticky_sessions_cookie_name', b.cookieName, ';,=%')} insert indirect nocache dynamic`,
      `dynamic-cookie-key ${dynamicCookieKey(b.id)}`);
  } else if (b.stickySessions === 'table') {
    // Across reloads the instance carries the entries itself (stick-tables.ts); `peers` only replicates them to the
    // LB's other node, so that its clients keep their server when that node takes the addresses over.
    L.push(`stick-table type ipv6 size 100k expire 30m${peers ? ` peers ${PEERS_SECTION}` : ''}`, 'stick on src');
  }
  if (http) L.push('option forwardfor');
  // set-header takes a log-format string: parseHostPort refused `%`.
  if (http && b.host) L.push(`http-request set-header Host ${hostHeader(b)}`);
  L.push(...healthCheckLines(b));
  const servers = uniquePool(b.pool).map((ip) => {
    const id = ids[ip];
    if (id === undefined) throw new Error(`no server id for ${ip} in backend ${b.id}`);
    return { ip, id };
  }).sort((x, y) => x.id - y.id);
  const out = [`backend ${backendName(b.id)}`, ...L.map((l) => `  ${l}`)];
  const options = serverOptions(b);
  // Up to 100 servers per backend, 300 backends: one string per line, indentation included.
  for (const s of servers) out.push(`  server ${serverName(s.ip)} ${serverLineArgs(b, s.ip, s.id, options, sourceLb)}`);
  return out;
}

/** The backend serving requests when the pool has no usable server; HTTP only. */
function failoverSection(b: Backend): string[] {
  const t = failoverTarget(b);
  const h = parseHostPort('failover_host', t.authority);
  const port = h.port ?? (t.tls ? 443 : FAILOVER_DEFAULT_PORT);
  let server = `server failover ${hostPort(h.host, port)}`;
  // A DNS name is resolved at start (libc) and then by the resolvers; `last` reuses the address from the state file.
  // `none` lets HAProxy start when the name does not resolve (the server stays in MAINT until it does).
  if (!h.isIp) server += ` init-addr last,libc,none resolvers ${RESOLVERS_SECTION}`;
  if (t.tls ?? port === 443) server += ` ssl verify required ca-file @system-ca${h.isIp ? '' : ` sni str(${h.host})`}`;
  return [`backend ${failoverBackendName(b.id)}`, '  mode http',
    ...backendTimeouts(b).map((l) => `  ${l}`),
    // set-header and set-path take log-format strings: `%` was refused by safeToken.
    `  http-request set-header Host ${t.authority}`, ...(t.path ? [`  http-request set-path ${t.path}`] : []), `  ${server}`];
}

/** The failover host as a target, checked again as one safe word. */
function failoverTarget(b: Backend): FailoverTarget {
  const t = parseFailoverTarget(safeToken('failover_host', b.failoverHost!, ';%'));
  if (!t) throw new Error(`failover_host: ${JSON.stringify(b.failoverHost)} is not a host or URL`);
  return t;
}

function frontendSection(f: Frontend, b: Backend, addresses: string[], tls: FrontendTls, rules: string[],
  quic: boolean): string[] {
  const port = safePort('inbound_port', f.inboundPort);
  const http = b.forwardProtocol === 'http';
  // The frontend takes its backend's mode: an http frontend in front of a tcp backend is fatal (pitfall 14).
  const L = [`mode ${b.forwardProtocol}`, ...addresses.map((a) => `bind ${hostPort(a, port)}${tls.bind}`),
    `timeout client ${ms('timeout_client', orDefault(f.timeoutClientMs, DEFAULT_TIMEOUT_CLIENT_MS))}`,
    ...http3Lines(f, addresses, { quic, http, tls: quicTls(tls) })];
  // Without it, idle keep-alive clients get read errors at every reload (pitfall 11); it warns in tcp mode.
  if (http) L.push('option idle-close-on-response');
  if (f.connectionRateLimit !== null) {
    L.push(`rate-limit sessions ${safeCount('connection_rate_limit', f.connectionRateLimit, 1)}`);
  }
  L.push(...accessLogLines(f.enableAccessLogs, http));
  L.push(...rules); // ACME, ACLs, routes, default backend: render-rules.ts
  return [`frontend ${frontendName(f.id)}`, ...L.map((l) => `  ${l}`)];
}

function globalSection(s: LbSnapshot, o: RenderOptions): string[] {
  const run = safeToken('runDir', o.runDir);
  if (!run.startsWith('/')) throw new Error(`runDir ${run} must be absolute`);
  const L = ['global', '  master-worker',
    // expose-fd listeners: a reload hands the listening sockets to the new worker (seamless reload).
    `  stats socket ${run}/admin.sock mode 600 level admin expose-fd listeners`, '  stats timeout 2m',
    `  server-state-file ${run}/server-state`, ...profileLines(s.lb, o.maxconn, o.fdLimit),
    // Old workers holding tcp connections would otherwise live as long as their clients (pitfall 22).
    '  hard-stop-after 30s',
    // stderr is the instance's log file; only frontends with access logs log traffic.
    '  log stderr format short local0 info', ...httpClientLines(s), ...localPeerLines(s, o.peers ?? null)];
  const out = [`# Generated by Fulcrum for load balancer ${safeToken('lb id', s.lb.id)}. Do not edit.`, ...L, ''];
  if (s.backends.some((b) => hasFailover(b) && !parseHostPort('failover_host', failoverTarget(b).authority).isIp)) {
    out.push(`resolvers ${RESOLVERS_SECTION}`, '  parse-resolv-conf', '  hold valid 10s', '');
  }
  out.push('defaults', '  log global', '  option dontlognull', '  timeout connect 5s', '  timeout client 30s',
    '  timeout server 30s',
    // Answers' payloads move from server to client socket in the kernel (splice) when HAProxy can: measured on every
    // workload of bench section `variants` (1.23× on 64 KiB HTTP answers, a fifth less CPU; small answers not slower).
    '  option splice-response',
    // Keeps DOWN/MAINT/DRAIN across reloads; without it a dead server gets traffic after every reload (pitfall 4).
    '  load-server-state-from-file global', '');
  return out;
}

const tlsPaths = (o: RenderOptions): TlsPaths | null => (o.certDir ? { certDir: o.certDir, runDir: o.runDir } : null);

const byId = <T extends { id: string }>(xs: T[]): T[] => [...xs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

export function renderConfig(snapshot: LbSnapshot, opts: RenderOptions): string {
  const addresses = [...new Set([...snapshot.addresses.map((a) => safeIp('address', a)), ...pnBindAddresses(snapshot.lb)])].sort();
  const backends = new Map(snapshot.backends.map((b) => [b.id, b]));
  const bound = new Set<number>();
  const out = globalSection(snapshot, opts);
  for (const f of byId(snapshot.frontends)) {
    const b = backends.get(f.backendId);
    if (!b) throw new Error(`frontend ${f.id} uses backend ${f.backendId}, which is not in the snapshot`);
    // HAProxy binds with SO_REUSEPORT: two frontends on one port would both start and split the traffic.
    if (bound.has(f.inboundPort)) throw new Error(`two frontends bind port ${f.inboundPort}`);
    bound.add(f.inboundPort);
    const tls = frontendTls(f, b, snapshot, tlsPaths(opts));
    out.push(...frontendSection(f, b, addresses, tls, frontendRules(f, b, snapshot, backends, opts.runDir, tls.firstRules),
      opts.quic ?? false), '');
  }
  out.push(...metricsSection(opts.runDir));
  out.push(...acmeListener(snapshot, addresses, tlsPaths(opts)));
  const peers = peersLines(snapshot, opts.peers ?? null);
  if (peers.length) out.push(...peers, '');
  for (const b of byId(snapshot.backends)) {
    out.push(...backendSection(b, opts.serverIds[b.id] ?? {}, pnSourceLb(snapshot.lb, opts.pnSource), peers.length > 0), '');
    if (hasFailover(b)) out.push(...failoverSection(b), '');
  }
  return out.join('\n');
}
