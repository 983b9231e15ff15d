// The API's routes, kept by hand with what a valid request to each looks like, so that the fuzz and access suites
// cover every one. routes.test.ts checks this list against the routes the Fastify app really registers: a new route
// fails that test until it is added here (and so fuzzed and access-checked).

export const ID_KINDS = ['lb_id', 'backend_id', 'frontend_id', 'ip_id', 'route_id', 'acl_id'] as const;
export type IdKind = (typeof ID_KINDS)[number];

/** The objects the suites create before fuzzing; valid bodies refer to them. */
export interface Fixture {
  projectId: string;
  lbId: string;
  backendId: string;
  frontendId: string;
  /** A flexible IP attached to no LB. */
  ipId: string;
  /** A route and an ACL of the fixture frontend. */
  routeId: string;
  aclId: string;
  /** Addresses for server pools (loopback, unused). */
  serverIps: string[];
  /** A port no frontend of the fixture LB uses. */
  freePort: number;
}

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path after /lb/v1/zones/:zone, with Fastify's :params. */
  path: string;
  /** A valid body (also the base the fuzzer mutates); absent for routes that read none. */
  body?: (fx: Fixture) => Record<string, unknown>;
  /** Query parameters a valid request may carry, with a valid value each. */
  query?: Record<string, string>;
}

const PAGING = { page: '1', page_size: '20', order_by: 'created_at_asc' };

export function backendBody(fx: Fixture): Record<string, unknown> {
  return {
    name: 'fuzz-backend', forward_protocol: 'http', forward_port: 8080, forward_port_algorithm: 'roundrobin',
    sticky_sessions: 'cookie', sticky_sessions_cookie_name: 'SRVID', send_proxy_v2: false, timeout_server: 30_000,
    timeout_connect: 5000, timeout_tunnel: 900_000, on_marked_down_action: 'on_marked_down_action_none',
    proxy_protocol: 'proxy_protocol_none', failover_host: 'maintenance.example.com', ssl_bridging: false,
    ignore_ssl_server_verify: false, redispatch_attempt_count: 1, max_retries: 3, max_connections: 100, timeout_queue: '4s',
    health_check: healthCheckBody(), server_ip: fx.serverIps.slice(0, 2),
  };
}

export function healthCheckBody(): Record<string, unknown> {
  return {
    port: 8080, check_delay: 3000, check_timeout: 1000, check_max_retries: 3, check_send_proxy: false,
    transient_check_delay: '0.5s', http_config: { uri: '/health?full=1', method: 'GET', code: 200, host_header: 'app.example.com' },
  };
}

export function backendUpdateBody(fx: Fixture): Record<string, unknown> {
  const { health_check: _h, server_ip: _s, ...rest } = backendBody(fx);
  return rest;
}

export function frontendBody(fx: Fixture): Record<string, unknown> {
  return {
    name: 'fuzz-frontend', inbound_port: fx.freePort, backend_id: fx.backendId, timeout_client: 30_000,
    enable_http3: false, connection_rate_limit: 100, enable_access_logs: false,
  };
}

export function routeBody(fx: Fixture): Record<string, unknown> {
  return { frontend_id: fx.frontendId, backend_id: fx.backendId, match: { host_header: 'fuzz.example.com', match_subdomains: true } };
}

export function aclBody(): Record<string, unknown> {
  return {
    name: 'fuzz-acl', index: 1, description: 'd',
    action: { type: 'redirect', redirect: { type: 'location', target: 'https://example.com/moved?a=1', code: 301 } },
    match: { ip_subnet: ['10.0.0.0/8', '192.0.2.1', '2001:db8::/32'], ips_edge_services: false, http_filter: 'http_header_match',
      http_filter_value: ['staging env', 'dev'], http_filter_option: 'x-env', invert: true },
  };
}

export const ROUTES: RouteSpec[] = [
  { method: 'GET', path: '/lbs', query: { ...PAGING, name: 'lb', project_id: '', tags: 'a' } },
  {
    method: 'POST', path: '/lbs',
    body: (fx) => ({ project_id: fx.projectId, name: 'fuzz-lb', description: 'd', type: 'LB-S', tags: ['t'],
      assign_flexible_ip: true, ssl_compatibility_level: 'ssl_compatibility_level_intermediate' }),
  },
  { method: 'GET', path: '/lbs/:lb_id' },
  { method: 'PUT', path: '/lbs/:lb_id', body: () => ({ name: 'renamed', description: 'd', tags: ['t'], ssl_compatibility_level: 'ssl_compatibility_level_modern' }) },
  { method: 'DELETE', path: '/lbs/:lb_id', query: { release_ip: 'true' } },
  { method: 'GET', path: '/lb-types', query: { page: '1', page_size: '20' } },
  { method: 'GET', path: '/ips', query: { ...PAGING, ip_type: 'ipv4', ip_address: '127.0.0.1' } },
  { method: 'POST', path: '/ips', body: (fx) => ({ project_id: fx.projectId, reverse: 'fuzz.example.com', is_ipv6: false, tags: ['t'] }) },
  { method: 'GET', path: '/ips/:ip_id' },
  { method: 'PATCH', path: '/ips/:ip_id', body: () => ({ reverse: 'patched.example.com', tags: ['u'] }) },
  { method: 'DELETE', path: '/ips/:ip_id' },
  { method: 'GET', path: '/lbs/:lb_id/backends', query: { ...PAGING, name: 'b' } },
  { method: 'POST', path: '/lbs/:lb_id/backends', body: backendBody },
  { method: 'GET', path: '/backends/:backend_id' },
  { method: 'PUT', path: '/backends/:backend_id', body: backendUpdateBody },
  { method: 'DELETE', path: '/backends/:backend_id' },
  { method: 'POST', path: '/backends/:backend_id/servers', body: (fx) => ({ server_ip: fx.serverIps.slice(2, 3) }) },
  { method: 'PUT', path: '/backends/:backend_id/servers', body: (fx) => ({ server_ip: fx.serverIps.slice(0, 3) }) },
  { method: 'DELETE', path: '/backends/:backend_id/servers', body: (fx) => ({ server_ip: fx.serverIps.slice(0, 1) }) },
  { method: 'PUT', path: '/backends/:backend_id/healthcheck', body: healthCheckBody },
  { method: 'GET', path: '/lbs/:lb_id/frontends', query: { ...PAGING, name: 'f' } },
  { method: 'POST', path: '/lbs/:lb_id/frontends', body: frontendBody },
  { method: 'GET', path: '/frontends/:frontend_id' },
  { method: 'PUT', path: '/frontends/:frontend_id', body: frontendBody },
  { method: 'DELETE', path: '/frontends/:frontend_id' },
  { method: 'GET', path: '/routes', query: PAGING },
  { method: 'POST', path: '/routes', body: routeBody },
  { method: 'GET', path: '/routes/:route_id' },
  { method: 'PUT', path: '/routes/:route_id', body: (fx) => ({ backend_id: fx.backendId, match: { path_begin: '/fuzz', match_subdomains: false } }) },
  { method: 'DELETE', path: '/routes/:route_id' },
  { method: 'GET', path: '/frontends/:frontend_id/acls', query: { ...PAGING, name: 'a' } },
  { method: 'POST', path: '/frontends/:frontend_id/acls', body: aclBody },
  {
    method: 'PUT', path: '/frontends/:frontend_id/acls',
    body: () => ({ acls: [aclBody(), { ...aclBody(), index: 2, action: { type: 'deny' }, match: { http_filter: 'regex', http_filter_value: ['^/a\\.b$'] } }] }),
  },
  { method: 'GET', path: '/acls/:acl_id' },
  { method: 'PUT', path: '/acls/:acl_id', body: aclBody },
  { method: 'DELETE', path: '/acls/:acl_id' },
  { method: 'GET', path: '/lbs/:lb_id/backend-stats', query: { page: '1', page_size: '20' } },
  { method: 'GET', path: '/lbs/:lb_id/stats' },
];

/** `METHOD /path` of every route, HEAD included: Fastify answers HEAD for every GET route. */
export function routeKeys(): string[] {
  return ROUTES.flatMap((r) => (r.method === 'GET' ? [`GET ${r.path}`, `HEAD ${r.path}`] : [`${r.method} ${r.path}`])).sort();
}

export function paramsOf(path: string): IdKind[] {
  return [...path.matchAll(/:([a-z_]+)/g)].map((m) => m[1] as IdKind);
}

/** The fixture's object of each kind. */
export function realIds(fx: Fixture): Record<IdKind, string> {
  return { lb_id: fx.lbId, backend_id: fx.backendId, frontend_id: fx.frontendId, ip_id: fx.ipId, route_id: fx.routeId, acl_id: fx.aclId };
}

/** The path with each :param replaced by the fixture object of that kind, or by `pick(kind)` when given. */
export function fillPath(path: string, fx: Fixture, pick?: (kind: IdKind) => string, zone = 'fr-par-1'): string {
  const real = realIds(fx);
  const filled = path.replace(/:([a-z_]+)/g, (_m, k: IdKind) => encodeURIComponent(pick ? pick(k) : real[k]));
  return `/lb/v1/zones/${zone}${filled}`;
}

export function withQuery(path: string, query: Record<string, string | string[]> | undefined): string {
  if (!query || Object.keys(query).length === 0) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const x of [v].flat()) q.append(k, x);
  return `${path}?${q}`;
}
