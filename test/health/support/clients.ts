// Clients that prove traffic reached a real server through the load balancer: each speaks the server's protocol (or
// runs its Debian client program) and returns what the server answered. All bounded in time.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createConnection } from 'node:net';
import { run } from './daemon.js';
import { TRAFFIC_HEADER } from './web.js';

/** Everything the server sends after `send` (if any), until it closes or `timeoutMs` passes. */
export function exchange(host: string, port: number, send: string | Buffer | null, timeoutMs = 2000,
  enough: (b: Buffer) => boolean = () => false): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('connect', () => { if (send !== null) s.write(send); });
    s.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      if (enough(data)) finish(false);
    });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
  });
}

/** GET / marked as traffic (not a health check); `tls` for HTTPS (any certificate). */
export function trafficGet(host: string, port: number, opts: { tls?: boolean; servername?: string; timeoutMs?: number } = {}):
  Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (opts.tls ? httpsRequest : httpRequest)({
      host, port, path: '/', agent: false, timeout: opts.timeoutMs ?? 3000, headers: { [TRAFFIC_HEADER]: '1' },
      ...(opts.tls ? { rejectUnauthorized: false, servername: opts.servername } : {}),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Redis PING → the first reply line (`+PONG` from a Redis server). */
export async function redisPing(host: string, port: number): Promise<string> {
  const r = await exchange(host, port, 'PING\r\n', 2000, (b) => b.includes('\r\n'));
  return r.data.toString('latin1').split('\r\n')[0];
}

/** The server version from a MySQL/MariaDB handshake (the server speaks first); '' when no handshake came. */
export async function mysqlGreeting(host: string, port: number): Promise<string> {
  const r = await exchange(host, port, null, 2000, (b) => b.length >= 4 && b.length >= 4 + b.readUIntLE(0, 3));
  const d = r.data;
  // 3-byte length, sequence id, then protocol version 10 and the NUL-terminated version string.
  if (d.length < 6 || d[4] !== 10) return '';
  const end = d.indexOf(0, 5);
  return end < 0 ? '' : d.subarray(5, end).toString('latin1');
}

/** A query through the Debian `mariadb` client; returns its output. */
export function mariadbQuery(host: string, port: number, user: string, query: string): Promise<string> {
  return run('mariadb', ['--no-defaults', '-h', host, '-P', String(port), '-u', user, '--connect-timeout=3', '-N', '-B',
    '-e', query], { timeoutMs: 8000 });
}

/** A query through `psql`; returns its output. */
export function psqlQuery(host: string, port: number, user: string, query: string): Promise<string> {
  return run('psql', ['-h', host, '-p', String(port), '-U', user, '-d', 'postgres', '-X', '-A', '-t', '-w', '-c', query],
    { timeoutMs: 8000, env: { ...process.env, PGCONNECT_TIMEOUT: '3' } as Record<string, string> });
}

/** `ldapwhoami -x` (an anonymous simple bind, then the Who Am I? operation); `anonymous` from slapd. */
export async function ldapWhoami(host: string, port: number): Promise<string> {
  return (await run('ldapwhoami', ['-x', '-H', `ldap://${host}:${port}`, '-o', 'nettimeout=3'], { timeoutMs: 8000 })).trim();
}

/** True when a connection through the LB gets nothing back and is closed (no server took it). */
export async function refused(host: string, port: number, send: string | null = null): Promise<boolean> {
  const r = await exchange(host, port, send, 3000);
  return r.closed && r.data.length === 0;
}

/** In HTTP mode, "nothing served" is HAProxy's own 503: no server is usable. */
export async function noServer(host: string, port: number): Promise<boolean> {
  const r = await trafficGet(host, port);
  return r.status === 503 && /No server is available/.test(r.body);
}
