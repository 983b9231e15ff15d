// GET /metrics of an agent (`--metrics-listen`): the traffic metrics of every LB whose HAProxy runs on this node, as the
// API's /metrics gives them on a single machine (lb-metrics.ts: Scaleway ids as labels). In agents mode the API servers
// run no HAProxy, so each node is scraped on its own; Prometheus's `instance` label tells the two nodes of a pair
// apart. No key: like a node exporter, it is reachable only where the operator binds it.
import Fastify from 'fastify';
import type { Logger } from 'pino';
import { Exposition } from '../ops/exposition.js';
import { addLbMetrics } from '../ops/lb-metrics.js';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface NodeMetrics {
  url: string;
  close(): Promise<void>;
}

/** `haproxyDir` is the data dir of the node's HAProxy data plane; `lbIds` the LBs placed here now. */
export async function startNodeMetrics(listen: { host: string; port: number }, haproxyDir: string, lbIds: () => string[],
  log: Logger): Promise<NodeMetrics> {
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_req, reply) => {
    const out = new Exposition();
    await addLbMetrics(out, haproxyDir, lbIds());
    return reply.header('content-type', CONTENT_TYPE).send(out.toString());
  });
  const url = await app.listen({ host: listen.host, port: listen.port });
  log.info({ url: `${url}/metrics` }, 'node metrics listening');
  return { url, close: () => app.close() };
}
