// A continuous, bounded request loop against a load balancer: a few keep-alive clients that count every failure.
import { Agent, request } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';

export interface LoadResult {
  ok: number;
  failed: number;
  /** The first few failures, to explain a red test. */
  errors: string[];
  byServer: Map<string, number>;
}

export interface LoadLoop {
  result: LoadResult;
  /** Stops the loop and waits for in-flight requests. */
  stop(): Promise<LoadResult>;
  /** Waits until the loop ends by its own bounds (`maxMs`, `maxRequests`). */
  finished(): Promise<LoadResult>;
}

/**
 * Starts `concurrency` clients sending GETs to host:port until stopped, or until `maxMs` or `maxRequests` is reached.
 * Every answer that is not a 200 and every transport error counts as failed.
 */
export function startLoad(host: string, port: number, opts: { concurrency?: number; maxMs?: number; maxRequests?: number; path?: string;
  /** HTTPS with this SNI name and CA; `newConnections` opens a TLS connection (a handshake) per request. */
  tls?: { servername: string; ca: string; newConnections?: boolean } } = {}): LoadLoop {
  const agentOpts = { keepAlive: !opts.tls?.newConnections, maxSockets: opts.concurrency ?? 4 };
  const agent = opts.tls ? new TlsAgent({ ...agentOpts, servername: opts.tls.servername, ca: opts.tls.ca }) : new Agent(agentOpts);
  const send = opts.tls ? tlsRequest : request;
  const result: LoadResult = { ok: 0, failed: 0, errors: [], byServer: new Map() };
  const deadline = Date.now() + (opts.maxMs ?? 120_000);
  const max = opts.maxRequests ?? 500_000;
  let stopped = false;
  const fail = (why: string) => {
    result.failed++;
    if (result.errors.length < 10) result.errors.push(why);
  };
  const one = () => new Promise<void>((resolve) => {
    const req = send({ host, port, path: opts.path ?? '/', agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => {
        if (res.statusCode === 200) {
          result.ok++;
          result.byServer.set(body, (result.byServer.get(body) ?? 0) + 1);
        } else fail(`status ${res.statusCode}: ${body.slice(0, 80)}`);
        resolve();
      });
      res.on('error', (e) => { fail(`response: ${e.message}`); resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => { fail(`request: ${e.message}`); resolve(); });
    req.end();
  });
  const worker = async () => {
    while (!stopped && Date.now() < deadline && result.ok + result.failed < max) await one();
  };
  const workers = Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  return {
    result,
    async stop() {
      stopped = true;
      return this.finished();
    },
    async finished() {
      await workers;
      agent.destroy();
      return result;
    },
  };
}
