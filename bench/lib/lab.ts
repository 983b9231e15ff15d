// The contenders of the data-path comparison, all on loopback: nginx backends returning a fixed body, nginx as a
// proxy, a hand-written minimal HAProxy config on the same HAProxy binary, and a Node.js proxy.
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errText, start, stop, tree } from './procs.js';
import { freePort } from '../../test/helpers/ports.js';
import { sleep } from './util.js';

/** dist/bench/ */
export const BENCH_DIST = resolve(fileURLToPath(import.meta.url), '../..');
export const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
export const BIG_BYTES = 64 * 1024;

export interface Proc {
  name: string;
  child: ChildProcess;
  /** The processes whose CPU counts for this contender (read when measuring: workers may be re-forked). */
  pids(): number[];
}

const workDirs = new Set<string>();

export function workDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  workDirs.add(d);
  // nginx workers run as `nobody` when the harness runs as root: they must read the body files.
  chmodSync(d, 0o755);
  return d;
}

export function removeDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  workDirs.delete(d);
}

/** Removes every work dir still there (after an interruption). */
export function removeWorkDirs(): void {
  for (const d of [...workDirs]) removeDir(d);
}

/** Processes and temp dirs of one bench section, ended and removed together by `close` (also after a failure). */
export class Stage {
  private readonly procs: Proc[] = [];
  private readonly dirs: string[] = [];

  dir(prefix: string): string {
    const d = workDir(prefix);
    this.dirs.push(d);
    return d;
  }

  own<P extends Proc>(p: P): P {
    this.procs.push(p);
    return p;
  }

  async close(): Promise<void> {
    for (const p of this.procs) await stop(p.child);
    for (const d of this.dirs) removeDir(d);
  }
}

/** Resolves once host:port accepts a connection (bounded). */
export async function waitListening(host: string, port: number, what: string, child?: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection(port, host);
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (child && child.exitCode !== null) throw new Error(`${what} exited: ${errText(child)}`);
    if (Date.now() > deadline) throw new Error(`${what} does not listen on ${host}:${port}${child ? `: ${errText(child)}` : ''}`);
    await sleep(20);
  }
}

function nginxHead(dir: string, modules: string[] = []): string {
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  return [...modules.map((m) => `load_module ${m};`),
    'daemon off;', 'worker_processes 1;', `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log warn;`,
    'events { worker_connections 4096; }', ''].join('\n') + '\n';
}

const tempPaths = (dir: string) => ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
  .map((k) => `  ${k}_temp_path ${dir}/tmp/${k};`).join('\n');

/**
 * Every proxy runs in a session of its own, as Fulcrum's HAProxy does (it is started detached). With the kernel's
 * autogroup scheduling a session is a scheduling group: a proxy left in the harness's session would share one group's
 * CPU with wrk and the backends while Fulcrum's HAProxy had a group to itself, and the comparison would be unfair
 * (measured on the 64 KiB TCP run: the same config served about 20 % more requests/s from the harness's session than
 * from a session of its own).
 */
const PROXY = { detached: true } as const;

async function runNginx(name: string, dir: string, conf: string, listens: [string, number][], proxy = false): Promise<Proc> {
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, conf);
  const child = start('nginx', ['-p', dir, '-c', file], proxy ? PROXY : {});
  for (const [h, p] of listens) await waitListening(h, p, name, child);
  return { name, child, pids: () => tree(child.pid!) };
}

/** The backends: one nginx (one worker) serving `ok\n` at / and 64 KiB at /big on each ip:port. */
export async function startBackends(dir: string, ips: string[], port: number): Promise<Proc> {
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  chmodSync(www, 0o755);
  writeFileSync(join(www, 'big'), Buffer.alloc(BIG_BYTES, 'x'), { mode: 0o644 });
  const conf = `${nginxHead(dir)}http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  sendfile on;
  tcp_nopush on;
${tempPaths(dir)}
  server {
${ips.map((ip) => `    listen ${ip}:${port};`).join('\n')}
    root ${www};
    location = / { return 200 "ok\\n"; }
    location = /health { return 200 "ok\\n"; }
    location = /big { default_type application/octet-stream; }
  }
}
`;
  return runNginx('nginx backends', dir, conf, ips.map((ip) => [ip, port]));
}

/** The data path's backends (startBackends) on `<net>.11` and `<net>.12`, at a free port. */
export async function dataPathBackends(stage: Stage, net: string): Promise<{ ips: string[]; port: number; targets: string[]; proc: Proc }> {
  const ips = [`${net}.11`, `${net}.12`];
  const port = await freePort(ips[0]);
  const proc = stage.own(await startBackends(stage.dir('bench-nginx-be-'), ips, port));
  return { ips, port, targets: ips.map((ip) => `${ip}:${port}`), proc };
}

/** The start of an nginx proxy's http block: no access log, long keep-alive, the upstream `be` over `targets`. */
const proxyHttpHead = (dir: string, targets: string[]): string => `  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
${tempPaths(dir)}
  upstream be {
${targets.map((t) => `    server ${t};`).join('\n')}
    keepalive 64;
    keepalive_requests 10000000;
  }`;

/** nginx as a reverse proxy (http, with upstream keep-alive) and as a TCP proxy (stream module) when installed. */
export async function startNginxProxy(dir: string, targets: string[], httpPort: number, tcpPort: number | null): Promise<Proc> {
  const stream = tcpPort !== null && existsSync(STREAM_MODULE);
  const conf = `${nginxHead(dir, stream ? [STREAM_MODULE] : [])}http {
${proxyHttpHead(dir, targets)}
  server {
    listen 127.0.0.1:${httpPort};
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffer_size 16k;
      proxy_buffers 8 16k;
    }
  }
}
${stream ? `stream {
  upstream tbe {
${targets.map((t) => `    server ${t};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${tcpPort};
    proxy_pass tbe;
  }
}
` : ''}`;
  const listens: [string, number][] = [['127.0.0.1', httpPort]];
  if (stream) listens.push(['127.0.0.1', tcpPort!]);
  return runNginx('nginx proxy', dir, conf, listens, true);
}

/** Global and defaults sections of the hand-written configs. */
const HAND_HEAD = `global
  nbthread 1
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
`;

/**
 * The hand-written minimal HAProxy config someone would write for this job (shared spec §7): nbthread 1, no logging,
 * round robin, HAProxy's defaults otherwise (http-reuse safe, keep-alive on both sides).
 */
export function handHaproxyConfig(targets: string[], httpPort: number, tcpPort: number): string {
  const servers = targets.map((t, i) => `  server s${i + 1} ${t}`).join('\n');
  return `${HAND_HEAD}
frontend fe_http
  bind 127.0.0.1:${httpPort}
  default_backend be_http

backend be_http
  balance roundrobin
${servers}

frontend fe_tcp
  mode tcp
  bind 127.0.0.1:${tcpPort}
  default_backend be_tcp

backend be_tcp
  mode tcp
  balance roundrobin
${servers}
`;
}

/**
 * HAProxy on a config of ours, listening on 127.0.0.1 at `ports`. Its CPU is the whole process tree's: a config of
 * Fulcrum's runs master-worker.
 */
export async function startHandHaproxy(dir: string, config: string, ...ports: number[]): Promise<Proc> {
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  // Fulcrum's configs load server states from this file (`load-server-state-from-file`); version line only: none.
  writeFileSync(join(dir, 'server-state'), '1\n');
  const child = start('haproxy', ['-f', file], PROXY);
  for (const port of ports) await waitListening('127.0.0.1', port, 'HAProxy started by hand', child);
  return { name: 'haproxy (started by hand)', child, pids: () => tree(child.pid!) };
}

/** nginx terminating TLS (HTTP/1.1 and HTTP/2, TLS 1.2 and 1.3) in front of the backends, with upstream keep-alive. */
export async function startNginxTlsProxy(dir: string, targets: string[], port: number, certFile: string, keyFile: string): Promise<Proc> {
  const conf = `${nginxHead(dir)}http {
${proxyHttpHead(dir, targets)}
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
  return runNginx('nginx TLS proxy', dir, conf, [['127.0.0.1', port]], true);
}

/** The hand-written minimal HAProxy config terminating TLS with one certificate (same shape as handHaproxyConfig). */
export function handHaproxyTlsConfig(targets: string[], port: number, pemFile: string): string {
  return `${HAND_HEAD}
frontend fe_https
  bind 127.0.0.1:${port} ssl crt ${pemFile} alpn h2,http/1.1
  default_backend be_http

backend be_http
  balance roundrobin
${targets.map((t, i) => `  server s${i + 1} ${t}`).join('\n')}
`;
}

/** The Node.js proxy (http-proxy for HTTP, a socket pipe for TCP): one process per mode. */
export async function startNodeProxy(mode: 'http' | 'tcp', port: number, targets: string[]): Promise<Proc> {
  const child = start(process.execPath, [join(BENCH_DIST, 'node-proxy.js'), mode, `127.0.0.1:${port}`, targets.join(',')], PROXY);
  await waitListening('127.0.0.1', port, `node proxy (${mode})`, child);
  return { name: `node proxy (${mode})`, child, pids: () => [child.pid!] };
}
