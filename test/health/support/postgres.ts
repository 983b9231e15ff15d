// A throwaway PostgreSQL server (Debian's postgresql): initdb into a temp dir and one postgres process listening on a
// loopback address, both run as the `postgres` system user (the server refuses root). Its pg_hba.conf trusts the
// check user, asks a password of MD5_USER and rejects REJECTED_USER; setHba() changes that at run time.
import { chownSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';
import { retry, run, spawnDaemon, systemUser, tempDir, type Daemon } from './daemon.js';

export const PG_CHECK_USER = 'haproxy_check';
/** A user with a password: HAProxy's pgsql-check sends none, and still passes (spec pitfall 16). */
export const PG_MD5_USER = 'md5_user';
/** A user pg_hba.conf rejects: the only way a pgsql-check fails on a live server. */
export const PG_REJECTED_USER = 'rejected_user';

export interface Postgres extends Daemon {
  /** Runs SQL as the postgres superuser over the unix socket; returns unaligned rows. */
  sql(query: string): Promise<string>;
  /** Rewrites pg_hba.conf (the `local` superuser line stays first) and reloads the server configuration. */
  setHba(hostLines: string[]): Promise<void>;
}

export const DEFAULT_HBA = [
  `host all ${PG_REJECTED_USER} all reject`,
  `host all ${PG_MD5_USER} all md5`,
  'host all all all trust',
];

/** The newest PostgreSQL server installed by Debian (/usr/lib/postgresql/<version>/bin). */
function pgBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error('PostgreSQL is not installed (scripts/install.sh --test)');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

export async function startPostgres(host: string, port?: number): Promise<Postgres> {
  const bin = pgBin();
  const { uid, gid } = systemUser('postgres');
  // Under /tmp, not $TMPDIR: the postgres user must be able to reach the dir (a root-only TMPDIR would not do).
  const dir = tempDir('pgsql', '/tmp');
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C' };
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'],
      { uid, gid, cwd: dir, env, timeoutMs: 60_000 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const hbaFile = join(data, 'pg_hba.conf');
  const writeHba = (lines: string[]) => {
    writeFileSync(hbaFile, ['local all postgres trust', ...lines, ''].join('\n'));
    chownSync(hbaFile, uid, gid);
  };
  writeHba(DEFAULT_HBA);
  const p = port ?? await freePort(host);
  const d = await spawnDaemon({
    name: 'postgres', cmd: join(bin, 'postgres'), host, port: p, dir, uid, gid, stopSignal: 'SIGINT',
    args: ['-D', data, '-c', `listen_addresses=${host}`, '-p', String(p), '-c', `unix_socket_directories=${dir}`,
      '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off', '-c', 'shared_buffers=16MB',
      '-c', 'max_connections=40', '-c', 'logging_collector=off', '-c', 'log_connections=off'],
  });
  const sql = (query: string) => run('psql', ['-h', dir, '-p', String(p), '-U', 'postgres', '-d', 'postgres', '-X', '-A', '-t',
    '-v', 'ON_ERROR_STOP=1', '-c', query], { timeoutMs: 10_000, env });
  try {
    await retry('postgres answers on its socket', () => sql('SELECT 1'));
    await sql(`CREATE ROLE ${PG_CHECK_USER} LOGIN; CREATE ROLE ${PG_MD5_USER} LOGIN PASSWORD 'not-sent-by-haproxy';`
      + ` CREATE ROLE ${PG_REJECTED_USER} LOGIN;`);
  } catch (e) {
    await d.stop();
    throw e;
  }
  return {
    ...d, sql,
    async setHba(lines) {
      writeHba(lines);
      const ok = (await sql('SELECT pg_reload_conf()')).trim();
      if (ok !== 't') throw new Error(`pg_reload_conf: ${ok}`);
    },
  };
}
