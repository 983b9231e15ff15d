// A self-signed certificate made with openssl at test start, and an HTTPS identity server using it.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { connect as tlsConnect, type SecureVersion } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface SelfSigned {
  key: Buffer;
  cert: Buffer;
}

/** A fresh RSA key and self-signed certificate for CN=localhost (the files are removed once read). */
export async function selfSigned(): Promise<SelfSigned> {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-e2e-tls-'));
  try {
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
      '-days', '1', '-keyout', key, '-out', cert], { timeout: 30_000 });
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface HttpsTestServer {
  host: string;
  port: number;
  id: string;
  /** Requests answered, /health excepted (TLS handshakes that failed never get here). */
  hits: number;
  /** When false, `/health` answers 503. */
  healthy: boolean;
  /** The SNI of each TLS connection accepted ('' when the client sent none). */
  snis: string[];
  close(): Promise<void>;
}

/** HTTPS server answering every request with its id as body; `/health` is the check path. */
export async function startHttpsServer(host: string, id: string, tls: SelfSigned, port = 0): Promise<HttpsTestServer> {
  const srv: Server = createServer({ key: tls.key, cert: tls.cert });
  const t: HttpsTestServer = {
    host, id, port: 0, hits: 0, healthy: true, snis: [],
    close: () => new Promise((resolve) => { srv.closeAllConnections(); srv.close(() => resolve()); }),
  };
  srv.on('request', (req, res) => {
    if (req.url === '/health') {
      res.writeHead(t.healthy ? 200 : 503).end();
      return;
    }
    t.hits++;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(id);
  });
  srv.on('tlsClientError', () => undefined);
  srv.on('secureConnection', (s) => { t.snis.push(typeof s.servername === 'string' ? s.servername : ''); });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve());
  });
  t.port = (srv.address() as AddressInfo).port;
  return t;
}

export interface Handshake {
  /** Subject CN of the certificate the server presented. */
  cn: string;
  /** DNS names of that certificate. */
  names: string;
  alpn: string | false | null;
  protocol: string | null;
}

/** One TLS handshake (then closed): what the server chose for this SNI name (none when undefined) and TLS versions. */
export function handshake(host: string, port: number, opts: { servername?: string; ca: string; alpn?: string[];
  minVersion?: SecureVersion; maxVersion?: SecureVersion; ciphers?: string }): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host, port, ca: opts.ca, servername: opts.servername, ALPNProtocols: opts.alpn, minVersion: opts.minVersion,
      maxVersion: opts.maxVersion, ciphers: opts.ciphers, checkServerIdentity: () => undefined, timeout: 5000 });
    sock.once('secureConnect', () => {
      const cert = sock.getPeerCertificate();
      const out = { cn: String(cert.subject?.CN ?? ''), names: cert.subjectaltname ?? '', alpn: sock.alpnProtocol, protocol: sock.getProtocol() };
      sock.destroy();
      resolve(out);
    });
    sock.once('timeout', () => sock.destroy(new Error('TLS handshake timed out')));
    sock.once('error', reject);
  });
}

/**
 * One HTTP/1.0 request over TLS: the SHA-1 fingerprint of the served leaf (hex, lowercase, as the API shows it) and the
 * answer's body.
 */
export function httpsFingerprintGet(host: string, port: number, servername: string, ca: string): Promise<{ fingerprint: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host, port, servername, ca, timeout: 3000 }, () => {
      const fingerprint = new X509Certificate(sock.getPeerCertificate().raw).fingerprint.replaceAll(':', '').toLowerCase();
      let text = '';
      sock.on('data', (d: Buffer) => { text += d.toString('utf8'); });
      sock.on('end', () => resolve({ fingerprint, body: text.split('\r\n\r\n').slice(1).join('\r\n\r\n') }));
      sock.end(`GET / HTTP/1.0\r\nHost: ${servername}\r\n\r\n`);
    });
    sock.once('timeout', () => sock.destroy(new Error('HTTPS request timed out')));
    sock.once('error', reject);
  });
}
