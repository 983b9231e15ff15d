// MySQL and PostgreSQL health checks against real MariaDB and PostgreSQL servers (one of each for the file), through
// `fulcrum serve` and real HAProxy, driven by the official SDK. Traffic is proven with the Debian clients through the LB.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTcpServer, type TestServer } from '../fixtures/servers.js';
import { mariadbQuery, mysqlGreeting, psqlQuery, refused } from './support/clients.js';
import { Addresses, healthCheck, Lab } from './support/lab.js';
import { MYSQL_CHECK_USER, startMariaDb, type MariaDb } from './support/mariadb.js';
import { DEFAULT_HBA, PG_CHECK_USER, PG_MD5_USER, PG_REJECTED_USER, startPostgres, type Postgres } from './support/postgres.js';
import { proveKind, settleBound, TEST_TIMING } from './support/scenario.js';

const addr = new Addresses();
let lab: Lab;
let maria: MariaDb;
let pg: Postgres;
/** Servers of another protocol on the database ports of other addresses: "wrong protocol" pool members. */
let notMysql: TestServer;
let notPg: TestServer;

before(async () => {
  [lab, maria, pg] = await Promise.all([Lab.start('health-sql'), startMariaDb(addr.next()), startPostgres(addr.next())]);
  notMysql = await startTcpServer(addr.next(), 'not-a-database', maria.port);
  notPg = await startTcpServer(addr.next(), 'not-a-database', pg.port);
});

after(async () => {
  await lab?.close();
  await Promise.all([maria?.stop(), pg?.stop(), notMysql?.close(), notPg?.close()]);
});

test('mysql: MariaDB passes and takes the traffic; wrong protocol and unknown user fail; a dropped user is detected, recovery too', async () => {
  const mysql = (user: string) => healthCheck(maria.port, { mysqlConfig: { user } });
  const be = await lab.backend({ name: 'mysql', protocol: 'tcp', forwardPort: maria.port, pool: [maria.host, notMysql.host],
    check: mysql(MYSQL_CHECK_USER) });
  // The same server, checked with a user it does not know.
  const unknown = await lab.backend({ name: 'mysql-unknown-user', protocol: 'tcp', forwardPort: maria.port, pool: [maria.host],
    check: mysql('nosuchuser') });

  const { detectMs } = await proveKind({
    kind: 'mysql', lab, backend: be, healthy: maria.host,
    failing: [{ ip: notMysql.host, why: 'a server of another protocol' }],
    traffic: async () => {
      // The handshake says who answered; a query proves a real session through the LB.
      const version = await mysqlGreeting(lab.lbIp, be.inbound);
      if (!/MariaDB/.test(version)) return `greeting ${version}`;
      return (await mariadbQuery(lab.lbIp, be.inbound, MYSQL_CHECK_USER, 'SELECT 42')).trim();
    },
    answer: '42',
    nothingServed: () => refused(lab.lbIp, be.inbound),
    fault: {
      why: 'check user dropped (unknown user)',
      start: async () => { await maria.sql(`DROP USER '${MYSQL_CHECK_USER}'@'%'`); },
      end: async () => { await maria.sql(`CREATE USER '${MYSQL_CHECK_USER}'@'%'; GRANT SELECT ON app.* TO '${MYSQL_CHECK_USER}'@'%'`); },
    },
  });
  assert.ok(detectMs > 0);
  const s = await lab.waitState(unknown.id, maria.host, 'stopped', 'failed', settleBound(TEST_TIMING));
  assert.ok(s, 'a check with an unknown user fails although the server is up');
  assert.ok(await refused(lab.lbIp, unknown.inbound), 'and its frontend serves nothing');
});

test('pgsql: PostgreSQL passes and takes the traffic; wrong protocol and a rejected user fail; pg_hba reject is detected, recovery too', async () => {
  const pgsql = (user: string) => healthCheck(pg.port, { pgsqlConfig: { user } });
  const be = await lab.backend({ name: 'pgsql', protocol: 'tcp', forwardPort: pg.port, pool: [pg.host, notPg.host],
    check: pgsql(PG_CHECK_USER) });
  const rejected = await lab.backend({ name: 'pgsql-rejected', protocol: 'tcp', forwardPort: pg.port, pool: [pg.host],
    check: pgsql(PG_REJECTED_USER) });

  await proveKind({
    kind: 'pgsql', lab, backend: be, healthy: pg.host,
    failing: [{ ip: notPg.host, why: 'a server of another protocol' }],
    traffic: async () => (await psqlQuery(lab.lbIp, be.inbound, PG_CHECK_USER, 'SELECT 42')).trim(),
    answer: '42',
    nothingServed: () => refused(lab.lbIp, be.inbound),
    fault: {
      why: 'pg_hba.conf rejects the check user',
      start: () => pg.setHba([`host all ${PG_CHECK_USER} all reject`, ...DEFAULT_HBA]),
      end: () => pg.setHba(DEFAULT_HBA),
    },
  });
  await lab.waitState(rejected.id, pg.host, 'stopped', 'failed', settleBound(TEST_TIMING));
  assert.ok(await refused(lab.lbIp, rejected.inbound), 'a backend whose check user is rejected serves nothing');
});

test('pgsql limit: a user the server asks a password from passes the check, though HAProxy sends no password', async () => {
  const be = await lab.backend({ name: 'pgsql-md5', protocol: 'tcp', forwardPort: pg.port, pool: [pg.host],
    check: healthCheck(pg.port, { pgsqlConfig: { user: PG_MD5_USER } }) });
  await lab.waitState(be.id, pg.host, 'running', 'passed', settleBound(TEST_TIMING));
  // Stays up over several checks: it is not a first-check artefact.
  await new Promise((r) => setTimeout(r, 2500));
  assert.deepEqual(Object.values(await lab.stat(be.id, pg.host)).slice(1, 3), ['running', 'passed']);
  // The same user cannot log in without its password: the check proves the server answers, not the credentials.
  await assert.rejects(psqlQuery(lab.lbIp, be.inbound, PG_MD5_USER, 'SELECT 1'), /password/);
});
