// A throwaway MariaDB server (Debian's mariadb-server): a fresh data dir made by mariadb-install-db, one mariadbd
// listening on a loopback address, administered as root through its own unix socket. Takes 2-4 s to start: share one
// per test file.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';
import { retry, run, spawnDaemon, tempDir, type Daemon } from './daemon.js';

export interface MariaDb extends Daemon {
  /** Runs SQL as root over the unix socket; returns the tab-separated rows. */
  sql(query: string): Promise<string>;
}

/** The user HAProxy's mysql-check logs in as: no password (the check cannot send one), any host. */
export const MYSQL_CHECK_USER = 'haproxy_check';

export async function startMariaDb(host: string, port?: number): Promise<MariaDb> {
  const dir = tempDir('mariadb');
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  mkdirSync(data);
  try {
    await run('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal',
      '--skip-test-db', '--skip-name-resolve'], { timeoutMs: 60_000, cwd: dir });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const p = port ?? await freePort(host);
  const d = await spawnDaemon({
    name: 'mariadbd', cmd: 'mariadbd', host, port: p, dir, logFile: join(dir, 'error.log'),
    args: ['--no-defaults', `--datadir=${data}`, `--socket=${socket}`, `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--bind-address=${host}`, `--port=${p}`, '--user=root', '--skip-name-resolve', '--skip-log-bin',
      `--log-error=${join(dir, 'error.log')}`, '--innodb-buffer-pool-size=16M', '--innodb-log-file-size=8M',
      '--performance-schema=OFF', '--max-connections=50',
      // Every check is a connection; a wrong-protocol prober must not get 127.0.0.1 blocked.
      '--max-connect-errors=1000000'],
  });
  const sql = (query: string) => run('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B', '-e', query], { timeoutMs: 10_000 });
  try {
    await retry('mariadb answers on its socket', () => sql('SELECT 1'));
    await sql(`CREATE USER '${MYSQL_CHECK_USER}'@'%'; CREATE DATABASE app; GRANT SELECT ON app.* TO '${MYSQL_CHECK_USER}'@'%';`);
  } catch (e) {
    await d.stop();
    throw e;
  }
  return { ...d, sql };
}
