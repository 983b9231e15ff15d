// The throwaway PostgreSQL server (test/fixtures/postgres.ts) as the health checks need it: its pg_hba.conf trusts the
// check user, asks a password of MD5_USER and rejects REJECTED_USER; setHba() changes that at run time.
import { startPostgres as startServer, type Postgres } from '../../fixtures/postgres.js';

export type { Postgres };

export const PG_CHECK_USER = 'haproxy_check';
/** A user with a password: HAProxy's pgsql-check sends none, and still passes (spec pitfall 16). */
export const PG_MD5_USER = 'md5_user';
/** A user pg_hba.conf rejects: the only way a pgsql-check fails on a live server. */
export const PG_REJECTED_USER = 'rejected_user';

export const DEFAULT_HBA = [
  `host all ${PG_REJECTED_USER} all reject`,
  `host all ${PG_MD5_USER} all md5`,
  'host all all all trust',
];

export async function startPostgres(host: string, port?: number): Promise<Postgres> {
  const pg = await startServer(host, { port, hba: DEFAULT_HBA });
  try {
    await pg.sql(`CREATE ROLE ${PG_CHECK_USER} LOGIN; CREATE ROLE ${PG_MD5_USER} LOGIN PASSWORD 'not-sent-by-haproxy';`
      + ` CREATE ROLE ${PG_REJECTED_USER} LOGIN;`);
  } catch (e) {
    await pg.stop();
    throw e;
  }
  return pg;
}
