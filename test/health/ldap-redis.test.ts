// LDAP and Redis health checks against real slapd and redis-server processes, through `fulcrum serve` and real
// HAProxy, driven by the official SDK. Traffic is proven with ldapwhoami and a Redis PING through the LB.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTcpServer, type TestServer } from '../fixtures/servers.js';
import { ldapWhoami, redisPing, refused } from './support/clients.js';
import { Addresses, healthCheck, Lab } from './support/lab.js';
import { startRedis, startSlapd, type Redis, type Restartable } from './support/ldap-redis.js';
import { proveKind } from './support/scenario.js';
import { startWebServer, type WebServer } from './support/web.js';

const addr = new Addresses();
let lab: Lab;
let slapd: Restartable;
let noAnonymous: Restartable;
let notLdap: TestServer;
let redis: Redis;
let locked: Redis;
let web: WebServer;

before(async () => {
  [lab, slapd, redis] = await Promise.all([Lab.start('health-ldap-redis'), startSlapd(addr.next()), startRedis(addr.next())]);
  // On the same ports, other addresses: a slapd that refuses anonymous binds, a server of another protocol, and an
  // HTTP server and a password-protected Redis where a Redis server is expected.
  noAnonymous = await startSlapd(addr.next(), { port: slapd.port, anonymous: false });
  notLdap = await startTcpServer(addr.next(), 'not-ldap', slapd.port);
  web = await startWebServer(addr.next(), 'web', { port: redis.port });
  locked = await startRedis(addr.next(), { port: redis.port, password: 'not-sent-by-haproxy' });
});

after(async () => {
  await lab?.close();
  await Promise.all([slapd?.stop(), noAnonymous?.stop(), notLdap?.close(), redis?.stop(), locked?.stop(), web?.close()]);
});

test('ldap: slapd passes and takes the traffic; anonymous bind refused and wrong protocol fail; slapd going away is detected, recovery too', async () => {
  const be = await lab.backend({ name: 'ldap', protocol: 'tcp', forwardPort: slapd.port,
    pool: [slapd.host, noAnonymous.host, notLdap.host], check: healthCheck(slapd.port, { ldapConfig: {} }) });
  await proveKind({
    kind: 'ldap', lab, backend: be, healthy: slapd.host,
    failing: [{ ip: noAnonymous.host, why: 'slapd refusing anonymous binds' }, { ip: notLdap.host, why: 'a server of another protocol' }],
    traffic: () => ldapWhoami(lab.lbIp, be.inbound),
    answer: 'anonymous',
    nothingServed: () => refused(lab.lbIp, be.inbound),
    fault: { why: 'slapd stopped (closed port)', start: () => slapd.down(), end: () => slapd.up() },
  });
});

test('redis: redis-server passes and takes the traffic; an HTTP server and a Redis requiring a password fail; the server going away is detected, recovery too', async () => {
  const be = await lab.backend({ name: 'redis', protocol: 'tcp', forwardPort: redis.port, pool: [redis.host, web.host, locked.host],
    check: healthCheck(redis.port, { redisConfig: {} }) });
  await proveKind({
    kind: 'redis', lab, backend: be, healthy: redis.host,
    failing: [{ ip: web.host, why: 'an HTTP server' }, { ip: locked.host, why: 'a Redis server requiring a password (PING → -NOAUTH)' }],
    traffic: () => redisPing(lab.lbIp, be.inbound),
    answer: '+PONG',
    nothingServed: () => refused(lab.lbIp, be.inbound, 'PING\r\n'),
    fault: { why: 'redis-server stopped (closed port)', start: () => redis.down(), end: () => redis.up() },
  });
  // The Redis check's PING is no HTTP request: the HTTP server answered 400 and never saw a request.
  assert.equal(web.checks.length, 0);
  assert.match(await redisPing(locked.host, locked.port), /^-NOAUTH/);
});
