// fast-check generators of backend and frontend requests: each text field mixes valid values of its own kind (edges
// included) with syntax HAProxy would read (line breaks, `#`, quotes, spaces, `%[`, `${`, `;`, control and non-ASCII
// characters), and one or two fields of a mostly valid request get a hostile value, so that a good share is accepted.
import fc from 'fast-check';

export interface ArbitraryOptions {
  /**
   * Whether failover hosts may be DNS names. Only where nothing resolves them for real (`haproxy -c` in a network
   * namespace of its own): a running HAProxy would send DNS queries for them.
   */
  dnsNames: boolean;
}

export function requestArbitraries(o: ArbitraryOptions) {
  const INJECT = ['\n', '\r\n', '\t', ' ', '#', '"', "'", '\\', '%[src]', '%', '${HOME}', '"${HOME}"', '$', ';', '`', '\u0000',
    '\u007f', 'é', '\u2028', '\u00a0', '\ufeff', '{', '}', '(', ')', ',', '=', '[', ']', '\n  server evil 127.0.0.1:1'];

  const chars = (s: string) => fc.constantFrom(...s.split(''));
  const injected = (valid: fc.Arbitrary<string>) => fc.tuple(valid, fc.constantFrom(...INJECT), fc.nat())
    .map(([v, inj, n]) => { const i = n % (v.length + 1); return v.slice(0, i) + inj + v.slice(i); });

  function text(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
    return fc.oneof(
      { weight: 6, arbitrary: valid },
      { weight: 4, arbitrary: injected(valid) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
      { weight: 1, arbitrary: fc.string({ unit: chars('aZ09-._~!$&()*+,;=:@%/?#[]\'" \t\\'), maxLength: 30 }) },
    );
  }

  const label = fc.string({ unit: chars('abcxyzABC019-_'), minLength: 1, maxLength: 12 }).filter((l) => !l.startsWith('-') && !l.endsWith('-'));
  const hostname = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
  const port = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(0, 443, 65536, 99999));
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  const v6 = fc.constantFrom('2001:db8::1', '::1', 'fe80::1', '2001:db8:0:0:0:0:0:7', '::ffff:192.0.2.1', 'fe80::1%eth0', '2001:DB8::A');
  const hostPort = fc.oneof(
    hostname, fc.tuple(hostname, port).map(([h, p]) => `${h}:${p}`), v4, fc.tuple(v4, port).map(([h, p]) => `${h}:${p}`),
    v6, fc.tuple(v6, port).map(([h, p]) => `[${h}]:${p}`),
  );
  const failoverAuthority = o.dnsNames ? hostPort : fc.oneof(v4, fc.tuple(v4, port).map(([h, p]) => `${h}:${p}`), fc.tuple(v6, port).map(([h, p]) => `[${h}]:${p}`));
  // Also as a URL (scheme, optional page), as in Scaleway's S3 failover guide.
  const failoverHost = fc.oneof(failoverAuthority, fc.tuple(fc.constantFrom('http://', 'https://', 'HTTPS://'), failoverAuthority,
    fc.constantFrom('', '/', '/error.html', '/a/b-c_d.html')).map(([s, a, p]) => `${s}${a}${p}`));

  const cookieName = fc.string({ unit: chars('ABCabc019!&*+-.^_|~'), minLength: 1, maxLength: 20 });
  const path = fc.string({ unit: chars('abcAB019-._~!$&()*+,;=:@%/?'), maxLength: 30 }).map((s) => `/${s}`);
  // A path, or a full URL (absolute-form request target).
  const uri = fc.oneof({ weight: 3, arbitrary: path },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('http://', 'https://'), hostPort, path).map(([s, h, p]) => `${s}${h}${p}`) });
  const method = fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'OPTIONS'), fc.string({ unit: chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ'), minLength: 1, maxLength: 16 }));
  const dbUser = fc.string({ unit: chars('abcABC019_.-'), minLength: 1, maxLength: 63 });
  const serverIp = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 1, max: 254 })).map(([a, b]) => `127.200.${a}.${b}`) },
    { weight: 2, arbitrary: fc.constantFrom('::1', '2001:db8::10', '2001:DB8:0::11', 'fe80::1%lo', '::ffff:127.0.0.1', '0.0.0.0', '224.0.0.1',
      '255.255.255.255', '127.1', '0127.0.0.1', '1.2.3.4 ', '1.2.3.4\n', '1.2.3.4#', '[::1]', '::1:80') },
    { weight: 1, arbitrary: text(v4) },
  );

  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 3 });

  // Valid values of each field (edges included), so that most requests are accepted…
  const range = (min: number, max: number) => fc.oneof({ weight: 3, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constantFrom(min, max) });
  const validPort = range(1, 65535);
  const ms = (min: number) => fc.oneof(range(min, 2 ** 31 - 1), fc.constantFrom(`${min}ms`, '0.5s', '1.5s', '1m', '24h', '2147483647ms', '2147483.647s'));
  const validCheck = fc.oneof(
    fc.constant({ tcp_config: {} }), fc.constant({ ldap_config: {} }), fc.constant({ redis_config: {} }), fc.constant({}),
    fc.record({ mysql_config: fc.record({ user: dbUser }) }),
    fc.record({ pgsql_config: fc.record({ user: dbUser }) }),
    fc.record({ http_config: fc.record({ uri, method, code: opt(range(100, 599)), host_header: fc.oneof(fc.constant(''), hostPort) }, { requiredKeys: [] }) }),
    fc.record({ https_config: fc.record({ uri, method, code: opt(range(100, 599)), host_header: fc.oneof(fc.constant(''), hostPort),
      sni: fc.oneof(fc.constant(''), hostname) }, { requiredKeys: [] }) }),
  );
  const validHealthCheck = fc.tuple(fc.record({
    port: opt(validPort), check_delay: opt(ms(100)), check_timeout: opt(ms(100)), check_max_retries: opt(range(1, 9999)),
    check_send_proxy: opt(fc.boolean()),
    transient_check_delay: opt(fc.oneof(fc.constantFrom('0.1s', '0.5s', '2147483.647s'), range(1, 2_147_483))),
  }, { requiredKeys: [] }), validCheck).map(([a, b]) => ({ ...a, ...b }));

  /** A user name with a marker, to show that names never reach the config. */
  const userName = fc.tuple(fc.nat(), fc.oneof(fc.constant(''), fc.constantFrom(...INJECT), fc.string({ unit: 'grapheme', maxLength: 10 })))
    .map(([n, tail]) => `NAME${n.toString(36)}Q${tail}`);

  const validBackend = fc.record({
    name: userName,
    forward_protocol: fc.constantFrom('tcp', 'http', 'http'),
    forward_port: validPort,
    forward_port_algorithm: opt(fc.constantFrom('roundrobin', 'leastconn', 'first')),
    sticky_sessions: opt(fc.constantFrom('none', 'cookie', 'table')),
    sticky_sessions_cookie_name: opt(cookieName),
    send_proxy_v2: opt(fc.boolean()),
    timeout_server: opt(ms(1)), timeout_connect: opt(ms(1)), timeout_tunnel: opt(ms(1)),
    on_marked_down_action: opt(fc.constantFrom('on_marked_down_action_none', 'shutdown_sessions')),
    proxy_protocol: opt(fc.constantFrom('proxy_protocol_none', 'proxy_protocol_v1', 'proxy_protocol_v2', 'proxy_protocol_v2_ssl',
      'proxy_protocol_v2_ssl_cn')),
    failover_host: opt(failoverHost),
    host: opt(hostPort),
    ssl_bridging: opt(fc.boolean()), ignore_ssl_server_verify: opt(fc.boolean()),
    redispatch_attempt_count: opt(range(0, 32)), max_retries: opt(range(0, 32)), max_connections: opt(range(0, 100_000)),
    timeout_queue: opt(fc.oneof(fc.constantFrom('0s', '4s', '0.5s', '2147483.647s'), range(0, 2_147_483))),
    health_check: opt(validHealthCheck),
    server_ip: fc.uniqueArray(serverIp, { maxLength: 4 }),
  }, { requiredKeys: ['name', 'forward_protocol', 'forward_port'] });

  // …and hostile values for one or two of the fields.
  const int = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -2, max: 70_000 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 9999, 10_000, 100_000, 100_001, 1_000_000, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, -1) },
  );
  const duration = fc.oneof(
    int,
    fc.constantFrom(0.4, 1.5, 1e-3, 2 ** 31 - 1, 2 ** 31),
    fc.constantFrom('0s', '0.5s', '1.5s', '500ms', '1m', '24h', '2147483647ms', '2147483648ms', '2147483.647s', '1e3', '.5s', '5 s',
      '5s\n', '-1s', 'NaN', '0.0001s', '3000', '100ms', '99ms', ' 1s'),
  );
  const HOSTILE: Record<string, fc.Arbitrary<unknown>> = {
    sticky_sessions_cookie_name: text(cookieName),
    failover_host: text(failoverHost),
    host: text(hostPort),
    'health_check.http_config.uri': text(uri),
    'health_check.http_config.method': text(method),
    'health_check.http_config.host_header': text(hostPort),
    'health_check.https_config.sni': text(hostname),
    'health_check.https_config.host_header': text(hostPort),
    'health_check.mysql_config.user': text(dbUser),
    'health_check.pgsql_config.user': text(dbUser),
    'server_ip.0': serverIp,
    forward_protocol: text(fc.constantFrom('tcp', 'http')),
    forward_port_algorithm: text(fc.constantFrom('roundrobin', 'leastconn', 'first')),
    sticky_sessions: text(fc.constantFrom('none', 'cookie', 'table')),
    proxy_protocol: text(fc.constantFrom('proxy_protocol_v1', 'proxy_protocol_v2')),
    forward_port: int, max_connections: int, max_retries: int, redispatch_attempt_count: int,
    'health_check.port': int, 'health_check.check_max_retries': int, 'health_check.http_config.code': int,
    timeout_server: duration, timeout_connect: duration, timeout_tunnel: duration, timeout_queue: duration,
    'health_check.check_delay': duration, 'health_check.check_timeout': duration, 'health_check.transient_check_delay': duration,
  };
  const hostileEdit = fc.oneof(...Object.entries(HOSTILE).map(([path, a]) => a.map((v) => [path, v] as const)));

  /** Sets a dotted path (`health_check.http_config.uri`, `server_ip.0`), creating what is missing on the way. */
  function setPath(obj: Record<string, any>, path: string, value: unknown): void {
    const keys = path.split('.');
    let o = obj;
    keys.slice(0, -1).forEach((k, i) => {
      if (o[k] === null || typeof o[k] !== 'object') o[k] = /^\d+$/.test(keys[i + 1]) ? [] : {};
      o = o[k];
    });
    o[keys[keys.length - 1]] = value;
  }

  const backendRequest = fc.tuple(validBackend, fc.array(hostileEdit, { maxLength: 2 })).map(([b, edits]) => {
    const body = structuredClone(b) as Record<string, any>;
    for (const [path, v] of edits) setPath(body, path, v);
    return body as typeof b;
  });

  const frontendRequest = fc.record({
    name: userName,
    inbound_port: fc.oneof({ weight: 5, arbitrary: validPort }, { weight: 1, arbitrary: int }),
    timeout_client: opt(fc.oneof({ weight: 5, arbitrary: ms(1) }, { weight: 1, arbitrary: duration })),
    connection_rate_limit: opt(fc.oneof({ weight: 5, arbitrary: range(0, 1_000_000) }, { weight: 1, arbitrary: int })),
    enable_access_logs: opt(fc.boolean()),
  }, { requiredKeys: ['name', 'inbound_port'] });

  // Routes and ACLs: valid values of each field, the same injections mixed in.
  const pathValue = fc.string({ unit: chars('abcAB019-._~!$&()*+,;=:@%/'), minLength: 1, maxLength: 20 });
  const regexValue = fc.constantFrom('^/a\\.b$', '^/v[0-9]+/', '(foo|bar)$', '\\d{2,3}', '^/x(?:y|z)*$', '[a-z]+\\/', '^/(?!admin)',
    '^/a{1,3}b?$', '.*\\.(png|jpe?g)$', '\\w+\\s*');
  const headerValue = fc.string({ unit: chars('abcAB019 -._~!$&()*+,;=:@%/[]{}<>|'), minLength: 1, maxLength: 20 });
  const headerName = fc.string({ unit: chars('abcXYZ019-_.'), minLength: 1, maxLength: 20 });
  const subnet = fc.oneof(v4, fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([a, n]) => `${a}/${n}`),
    fc.constantFrom('2001:db8::/32', '::1', '::/0', 'fe80::/10', '2001:db8::1/128', '::ffff:192.0.2.0/120'));
  const location = fc.oneof(pathValue.map((p) => `/${p}`), hostname.map((h) => `https://${h}/moved?a=1`));
  const redirect = fc.record({
    type: fc.constantFrom('location', 'scheme'), target: fc.oneof(text(location), text(fc.constantFrom('https', 'http', 'ws'))),
    code: opt(fc.oneof(fc.constantFrom(301, 302, 303, 307, 308), int)),
  }, { requiredKeys: ['type'] });
  const action = fc.oneof(fc.constant({ type: 'allow' }), fc.constant({ type: 'deny' }),
    redirect.map((r) => ({ type: 'redirect', redirect: r })));
  const aclRequest = fc.record({
    name: userName, index: fc.oneof(range(0, 1000), int), description: opt(userName), action,
    match: fc.record({
      ip_subnet: opt(fc.array(fc.oneof({ weight: 5, arbitrary: subnet }, { weight: 1, arbitrary: text(subnet) }), { maxLength: 4 })),
      ips_edge_services: opt(fc.boolean()),
      http_filter: opt(fc.constantFrom('acl_http_filter_none', 'path_begin', 'path_end', 'regex', 'http_header_match')),
      http_filter_value: opt(fc.array(fc.oneof(text(pathValue), text(regexValue), text(headerValue)), { minLength: 1, maxLength: 3 })),
      http_filter_option: opt(text(headerName)),
      invert: opt(fc.boolean()),
    }, { requiredKeys: [] }),
  }, { requiredKeys: ['index', 'action'] });
  const routeMatch = fc.tuple(fc.oneof(
    text(hostname).map((h) => ({ host_header: h })), text(hostname).map((h) => ({ sni: h })), text(pathValue.map((p) => `/${p}`)).map((p) => ({ path_begin: p })),
  ), opt(fc.boolean())).map(([m, sub]) => ({ ...m, match_subdomains: sub }));

  return { INJECT, aclRequest, routeMatch, backendRequest, frontendRequest, validBackend, validHealthCheck, text, hostPort, cookieName, uri, method, dbUser, serverIp, int, duration, ms, range };
}
