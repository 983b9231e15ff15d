// A self-signed certificate made with openssl at test start, and an HTTPS identity server using it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
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
  close(): Promise<void>;
}

/** HTTPS server answering every request with its id as body; `/health` is the check path. */
export async function startHttpsServer(host: string, id: string, tls: SelfSigned, port = 0): Promise<HttpsTestServer> {
  const srv: Server = createServer({ key: tls.key, cert: tls.cert });
  const t: HttpsTestServer = {
    host, id, port: 0, hits: 0, healthy: true,
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
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve());
  });
  t.port = (srv.address() as AddressInfo).port;
  return t;
}
