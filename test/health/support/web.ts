// Servers that record what they receive, for proving what a health check sends: an HTTP or HTTPS server (self-signed
// certificate made with openssl), a "blackhole" that accepts connections and never answers, and a server that requires
// a PROXY protocol header on every connection. Traffic and checks are told apart by headers checks never carry.
import { readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { run, tempDir } from './daemon.js';

/** Test clients mark their requests with it; everything else a server receives is a health check. */
export const TRAFFIC_HEADER = 'x-fulcrum-traffic';
/** Bound on what a recorder keeps. */
const KEEP = 500;

export interface Cert {
  key: Buffer;
  cert: Buffer;
}

/** A self-signed certificate for `cn` (EC P-256: fast to make). */
export async function selfSignedCert(cn: string): Promise<Cert> {
  const dir = tempDir('cert');
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', `/CN=${cn}`,
      '-addext', `subjectAltName=DNS:${cn}`], { timeoutMs: 20_000 });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SeenRequest {
  method: string;
  url: string;
  httpVersion: string;
  host: string | undefined;
  /** TLS SNI of the connection (HTTPS only; '' when the client sent none). */
  servername: string | null;
  at: number;
}

export interface WebServer {
  id: string;
  host: string;
  port: number;
  /** Status for health checks (requests without the traffic header). */
  checkStatus: number;
  checks: SeenRequest[];
  traffic: SeenRequest[];
  /** SNI of every TLS connection, in order. */
  tlsServernames: string[];
  close(): Promise<void>;
}

function track(srv: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  srv.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  });
  return sockets;
}

function listen(srv: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve((srv.address() as AddressInfo).port));
  });
}

const closer = (srv: Server, sockets: Set<Socket>) => () => new Promise<void>((resolve) => {
  for (const s of sockets) s.destroy();
  srv.close(() => resolve());
});

const push = <T>(list: T[], x: T) => {
  list.push(x);
  if (list.length > KEEP) list.splice(0, list.length - KEEP);
};

/** HTTP server (HTTPS with `tls`): traffic gets 200 with the id as body; checks get `checkStatus`. */
export async function startWebServer(host: string, id: string, opts: { port?: number; tls?: Cert } = {}): Promise<WebServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const sock = req.socket as TLSSocket;
    const seen: SeenRequest = {
      method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, host: req.headers.host,
      servername: opts.tls ? (sock.servername || '') : null, at: performance.now(),
    };
    // Traffic: from a test client (its header), or through an HTTP-mode backend (`option forwardfor`; checks have none).
    if (req.headers[TRAFFIC_HEADER] || req.headers['x-forwarded-for']) {
      push(w.traffic, seen);
      res.writeHead(200, { 'content-type': 'text/plain', 'x-server': id }).end(id);
    } else {
      push(w.checks, seen);
      res.writeHead(w.checkStatus, { 'content-type': 'text/plain' }).end(`check ${w.checkStatus}`);
    }
  };
  const srv: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler)
    : createHttpServer(handler);
  const sockets = track(srv);
  const w: WebServer = { id, host, port: 0, checkStatus: 200, checks: [], traffic: [], tlsServernames: [], close: closer(srv, sockets) };
  if (opts.tls) srv.on('secureConnection', (s: TLSSocket) => push(w.tlsServernames, s.servername || ''));
  w.port = await listen(srv, host, opts.port ?? 0);
  return w;
}

export interface ConnectionLog {
  acceptedAt: number;
  closedAt: number | null;
}

export interface Blackhole {
  host: string;
  port: number;
  connections: ConnectionLog[];
  close(): Promise<void>;
}

/** Accepts every connection, reads and never writes: a hung server. Records when each connection opened and closed. */
export async function startBlackhole(host: string, port = 0): Promise<Blackhole> {
  const srv = createServer();
  const sockets = track(srv);
  const b: Blackhole = { host, port: 0, connections: [], close: closer(srv, sockets) };
  srv.on('connection', (s: Socket) => {
    const c: ConnectionLog = { acceptedAt: performance.now(), closedAt: null };
    push(b.connections, c);
    s.resume();
    s.on('close', () => { c.closedAt = performance.now(); });
  });
  b.port = await listen(srv, host, port);
  return b;
}

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

export interface ProxyHeader {
  version: 1 | 2;
  /** v1: the line without CRLF; v2: `LOCAL` or `PROXY` with the family byte. */
  text: string;
  at: number;
}

export interface ProxyServer {
  host: string;
  port: number;
  /** Answer to HTTP requests that came with a PROXY header. */
  status: number;
  /** Headers of the accepted connections. */
  accepted: ProxyHeader[];
  /** Connections dropped because they did not start with a PROXY header. */
  refused: number;
  close(): Promise<void>;
}

/**
 * Requires a PROXY protocol header (v1 or v2) first on every connection and drops connections without one; after the
 * header, answers an HTTP request with `status` and the body `proxied`. A TCP check (connect, close) is accepted too.
 */
export async function startProxyServer(host: string, port = 0): Promise<ProxyServer> {
  const srv = createServer();
  const sockets = track(srv);
  const p: ProxyServer = { host, port: 0, status: 200, accepted: [], refused: 0, close: closer(srv, sockets) };
  srv.on('connection', (s: Socket) => {
    let buf = Buffer.alloc(0);
    let header: ProxyHeader | null = null;
    const timer = setTimeout(() => s.destroy(), 5000);
    s.on('close', () => clearTimeout(timer));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!header) {
        const v1 = buf.subarray(0, 6).toString('latin1');
        const isV1 = 'PROXY '.startsWith(v1.slice(0, Math.min(6, buf.length)));
        const isV2 = V2_SIGNATURE.subarray(0, Math.min(12, buf.length)).equals(buf.subarray(0, Math.min(12, buf.length)));
        if (!isV1 && !isV2) {
          p.refused++;
          s.destroy();
          return;
        }
        if (isV1 && buf.length >= 6) {
          const end = buf.indexOf('\r\n');
          if (end < 0) {
            if (buf.length > 107) s.destroy();
            return;
          }
          header = { version: 1, text: buf.subarray(0, end).toString('latin1'), at: performance.now() };
          buf = buf.subarray(end + 2);
        } else if (isV2 && buf.length >= 16) {
          const len = buf.readUInt16BE(14);
          if (buf.length < 16 + len) return;
          const cmd = buf[12] & 0x0f ? 'PROXY' : 'LOCAL';
          header = { version: 2, text: `${cmd} family=0x${buf[13].toString(16).padStart(2, '0')}`, at: performance.now() };
          buf = buf.subarray(16 + len);
        } else {
          return;
        }
        push(p.accepted, header);
      }
      if (buf.includes('\r\n\r\n')) {
        const body = 'proxied';
        s.end(`HTTP/1.1 ${p.status} X\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      }
    });
  });
  p.port = await listen(srv, host, port);
  return p;
}
