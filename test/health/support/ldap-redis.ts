// Throwaway OpenLDAP (slapd, minimal slapd.conf with an mdb database) and Redis servers on loopback addresses. Both
// can be stopped and started again on the same address, port and data (a server going away and coming back).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports.js';
import { run, spawnDaemon, tempDir, type Daemon } from './daemon.js';

/** A server that can go down and come back on the same address; stop() ends it for good and removes its dir. */
export interface Restartable {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** The running process, or null while down. */
  current: Daemon | null;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

function restartable(host: string, port: number, dir: string, start: () => Promise<Daemon>): Restartable {
  const r: Restartable = {
    host, port, dir, current: null,
    async down() {
      await r.current?.stop();
      r.current = null;
    },
    async up() {
      if (!r.current) r.current = await start();
    },
    async stop() {
      await r.down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return r;
}

export const LDAP_SUFFIX = 'dc=fulcrum,dc=test';

/**
 * slapd serving ldap://host:port/. `anonymous: false` refuses anonymous binds (`disallow bind_anon`): what HAProxy's
 * ldap-check sends, so such a server fails the check although it is up.
 */
export async function startSlapd(host: string, opts: { port?: number; anonymous?: boolean } = {}): Promise<Restartable> {
  const dir = tempDir('slapd');
  mkdirSync(join(dir, 'db'));
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, [
    'include /etc/ldap/schema/core.schema',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    ...(opts.anonymous === false ? ['disallow bind_anon'] : []),
    'database mdb',
    `suffix "${LDAP_SUFFIX}"`,
    `rootdn "cn=admin,${LDAP_SUFFIX}"`,
    `directory ${join(dir, 'db')}`,
    'maxsize 10485760',
    '',
  ].join('\n'));
  const port = opts.port ?? await freePort(host);
  const r = restartable(host, port, dir, () => spawnDaemon({
    name: 'slapd', cmd: 'slapd', host, port, dir, keepDir: true,
    // -d keeps slapd in the foreground (its PID is the child's); level 0 logs almost nothing.
    args: ['-f', conf, '-h', `ldap://${host}:${port}/`, '-d', '0'],
  }));
  try {
    await r.up();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return r;
}

export interface Redis extends Restartable {
  /** redis-cli against this server (`password` when it requires one). */
  cli(args: string[], password?: string): Promise<string>;
}

/** redis-server on host:port; `password` makes it require AUTH (it then answers a bare PING with -NOAUTH). */
export async function startRedis(host: string, opts: { port?: number; password?: string } = {}): Promise<Redis> {
  const dir = tempDir('redis');
  const p = opts.port ?? await freePort(host);
  const r = restartable(host, p, dir, () => spawnDaemon({
    name: 'redis-server', cmd: 'redis-server', host, port: p, dir, keepDir: true,
    args: ['--port', String(p), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no',
      '--protected-mode', 'no', '--databases', '1', '--loglevel', 'warning',
      ...(opts.password ? ['--requirepass', opts.password] : [])],
  }));
  try {
    await r.up();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return Object.assign(r, {
    cli: (args: string[], password?: string) => run('redis-cli', ['-h', host, '-p', String(p),
      ...(password ? ['--no-auth-warning', '-a', password] : []), ...args], { timeoutMs: 5000 }),
  });
}
