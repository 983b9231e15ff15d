// Servers and clients the e2e tests need beyond test/fixtures/servers.ts: a raw TCP recorder (what exactly arrives at
// a backend server), a port whose accept queue is full (connects never complete), a WebSocket endpoint, a held-open
// TCP client, and a raw exchange that can choose its source address. Loopback only; every wait is bounded.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { freePort, waitFor } from '../../fixtures/servers.js';

const HTTP_END = '\r\n\r\n';

/** Connections accepted on a server; closing destroys them. */
function trackSockets(srv: Server): () => Promise<void> {
  const sockets = new Set<Socket>();
  srv.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  });
  return () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    srv.close(() => resolve());
  });
}

async function listenOn(srv: Server, host: string, port: number, backlog?: number): Promise<number> {
  srv.listen({ host, port, backlog });
  await once(srv, 'listening');
  return (srv.address() as AddressInfo).port;
}

export interface Recorder {
  host: string;
  port: number;
  /** Bytes received, one buffer per connection, in accept order (checks included). */
  connections: Buffer[];
  /** The first connection whose bytes contain `marker`. */
  find(marker: string): Buffer | undefined;
  close(): Promise<void>;
}

/**
 * Raw TCP server that keeps every byte it receives. When a connection's bytes end an HTTP request head (they contain
 * `HTTP/1.` and end with a blank line), it answers `200` with body `<id>` and closes, so it also works behind an HTTP
 * backend. (The PROXY v2 signature contains a blank line too, hence the `HTTP/1.` condition.)
 */
export async function startRecorder(host: string, id = host, port = 0): Promise<Recorder> {
  const srv = createServer();
  const r: Recorder = {
    host, port: 0, connections: [],
    find: (marker) => r.connections.find((c) => c.includes(marker)),
    close: trackSockets(srv),
  };
  srv.on('connection', (s: Socket) => {
    const i = r.connections.push(Buffer.alloc(0)) - 1;
    s.on('data', (d: Buffer) => {
      r.connections[i] = Buffer.concat([r.connections[i], d]);
      const text = r.connections[i].toString('latin1');
      if (text.includes('HTTP/1.') && text.endsWith(HTTP_END)) {
        s.end(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(id)}\r\nconnection: close\r\n\r\n${id}`);
      }
    });
  });
  r.port = await listenOn(srv, host, port);
  return r;
}

export interface Exchange {
  /** Everything the peer sent until it closed. */
  data: Buffer;
  /** HTTP status and body when `data` is an HTTP answer. */
  status: number;
  body: string;
  /** When the peer closed, in ms after the connection was opened. */
  closedAfterMs: number;
}

/**
 * Opens a connection (optionally from `localAddress`), sends `payload`, and collects what comes back until the peer
 * closes; bounded by `timeoutMs`.
 */
export function exchange(host: string, port: number, payload: string | Buffer,
  opts: { localAddress?: string; timeoutMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = createConnection({ host, port, localAddress: opts.localAddress });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(new Error(`${host}:${port} did not close within ${opts.timeoutMs ?? 5000} ms`)),
      opts.timeoutMs ?? 5000);
    s.on('connect', () => s.write(payload));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('end', () => s.end());
    s.on('close', () => {
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      const text = data.toString('utf8');
      const head = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const cut = text.indexOf(HTTP_END);
      resolve({ data, status: head ? Number(head[1]) : 0, body: cut >= 0 ? text.slice(cut + 4) : '',
        closedAfterMs: performance.now() - t0 });
    });
  });
}

/** An HTTP/1.0 GET from a chosen source address, through `exchange`. */
export function getFrom(localAddress: string, host: string, port: number, path = '/'): Promise<Exchange> {
  return exchange(host, port, `GET ${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n`, { localAddress });
}

export interface Held {
  socket: Socket;
  /** The first line the server sent (the fixtures' TCP server sends its id). */
  firstLine: string;
  /** performance.now() when the connection closed, or null while it is open. */
  closedAt: number | null;
  /** Resolves when the connection closes. */
  closed: Promise<void>;
  /** Sends a line and waits for the echo (the fixtures' TCP server echoes); false when none comes in `timeoutMs`. */
  echoes(line: string, timeoutMs?: number): Promise<boolean>;
}

/** Connects, reads the first line, and keeps the connection open and idle. */
export async function hold(host: string, port: number, timeoutMs = 3000): Promise<Held> {
  const socket = createConnection({ host, port });
  socket.setEncoding('utf8');
  let buf = '';
  socket.on('data', (d: string) => { buf += d; });
  const h: Held = {
    socket, firstLine: '', closedAt: null,
    closed: once(socket, 'close').then(() => { h.closedAt = performance.now(); }),
    echoes: async (line, ms = 1000) => {
      const before = buf.length;
      socket.write(`${line}\n`);
      return waitFor('echo', () => buf.slice(before).includes(line), ms, 10).then(() => true, () => false);
    },
  };
  socket.on('error', () => undefined);
  await waitFor(`first line from ${host}:${port}`, () => buf.includes('\n'), timeoutMs, 5);
  h.firstLine = buf.slice(0, buf.indexOf('\n'));
  return h;
}

export interface Blackhole {
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * A port whose connects never complete: a child process listens with a backlog of 1 and then blocks (without CPU)
 * instead of accepting, and the accept queue is filled, so Linux drops further SYNs — the loopback stand-in for an
 * unroutable server. The child blocks at most 120 s and is killed by `close()`.
 */
export async function startBlackhole(host: string): Promise<Blackhole> {
  const script = `const s=require('net').createServer();s.listen({host:${JSON.stringify(host)},port:0,backlog:1},()=>{`
    + `console.log(s.address().port);setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,120000),50)})`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    for (const s of fillers) s.destroy();
  };
  const fillers: Socket[] = [];
  const [line] = await once(createInterface({ input: child.stdout! }), 'line') as [string];
  const port = Number(line);
  await new Promise((r) => setTimeout(r, 200)); // the child is blocked by now
  // Fill the accept queue (backlog + 1 on Linux): stop at the first connect that does not complete.
  for (let i = 0; i < 8; i++) {
    const s = createConnection({ host, port });
    s.on('error', () => undefined);
    fillers.push(s);
    const connected = await Promise.race([once(s, 'connect').then(() => true), new Promise((r) => setTimeout(() => r(false), 300))]);
    if (!connected) return { host, port, close };
  }
  await close();
  throw new Error('could not fill the accept queue of the blackhole port');
}

/**
 * One server per address, all on one port (a backend has one forward port, and one health-check port): the port is
 * free on the first address; another is tried (at most 5 times) when a later address has it taken.
 */
export async function onSamePort<T extends { close(): Promise<void> }>(ips: string[],
  start: (ip: string, port: number) => Promise<T>): Promise<T[]> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort(ips[0]);
    const started: T[] = [];
    try {
      for (const ip of ips) started.push(await start(ip, port));
      return started;
    } catch (e) {
      last = e;
      await Promise.all(started.map((s) => s.close()));
    }
  }
  throw last;
}

export interface WsServer {
  host: string;
  port: number;
  /** Upgrades completed. */
  upgrades: number;
  close(): Promise<void>;
}

/** A WebSocket endpoint: answers any upgrade with a valid 101 handshake, then echoes raw bytes. */
export async function startWsServer(host: string): Promise<WsServer> {
  const srv = createHttpServer((_req, res) => res.writeHead(426).end());
  const close = trackSockets(srv);
  const w: WsServer = { host, port: 0, upgrades: 0, close };
  srv.on('upgrade', (req, socket: Socket) => {
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`);
    w.upgrades++;
    socket.pipe(socket);
  });
  w.port = await listenOn(srv, host, 0);
  return w;
}

/** The client side of a WebSocket opening handshake, as raw bytes for `exchange`. */
export function wsUpgradeRequest(host: string): string {
  return `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

/**
 * The first line a peer sends on `sock` (a TCP test server sends its id), then the socket is closed; '' when the peer
 * (or the LB in between) closes or resets the connection first. Bounded by the socket's own timeout.
 */
export function firstLine(sock: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      data += d;
      if (data.includes('\n')) { sock.destroy(); resolve(data.split('\n')[0]); }
    });
    sock.on('timeout', () => sock.destroy(new Error('timeout')));
    sock.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(data) : reject(err)));
    sock.on('close', () => resolve(data));
  });
}
