// Reload-class changes on a table-sticky LB next to the same changes on an LB without a table: 10 changes one per
// second (a timeout_server PUT each), clients pinned beforehand and sending requests all along. Measured per change:
// API answer → the new HAProxy worker runs, and API answer → the instance reads ready (the table copied).
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { backendName } from '../src/dataplane/names.js';
import { MasterCli, parseShowProc } from '../src/dataplane/runtime.js';
import { freePort } from '../test/helpers/ports.js';
import { updateBody, type Api } from './lib/fulcrum.js';
import { dist, log, sleep, until, type Dist } from './lib/util.js';

export interface TableChangesOptions {
  changes: number;
}

export interface TableChangesResult {
  setup: string;
  /** Per kind of LB: API answer → new worker, API answer → ready, ms. */
  lbs: Record<string, { newWorker: Dist; ready: Dist; entries: number }>;
}

/** GET from a given source address; resolves with the body (the server's address) or '' on failure. */
function getFrom(localAddress: string, host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', localAddress, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('error', () => resolve(''));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function serversOn(ips: string[], port: number): Promise<Server[]> {
  return Promise.all(ips.map((ip) => new Promise<Server>((resolve, reject) => {
    const s = createServer((_req, res) => res.end(ip));
    s.once('error', reject);
    s.listen(port, ip, () => resolve(s));
  })));
}

export async function tableChanges(api: Api, o: TableChangesOptions): Promise<TableChangesResult> {
  const ips = ['127.240.0.11', '127.240.0.12', '127.240.0.13'];
  const clients = Array.from({ length: 30 }, (_, i) => `127.240.1.${i + 10}`);
  const port = await freePort(ips[0]);
  const servers = await serversOn(ips, port);
  const out: TableChangesResult['lbs'] = {};
  try {
    for (const sticky of ['table', 'none'] as const) {
      const lb = await api.createLb(`bench-table-${sticky}`);
      const hc = { port, check_delay: 1000, check_max_retries: 3, check_send_proxy: false, tcp_config: {} };
      const beId = await api.createBackend(lb.id, { name: 'app', forward_protocol: 'http', forward_port: port, server_ip: ips,
        sticky_sessions: sticky, health_check: hc });
      const inbound = await freePort(lb.ip);
      await api.createFrontend(lb.id, beId, inbound);
      await api.waitReady(lb.id);
      await until(async () => (await getFrom(clients[0], lb.ip, inbound)) !== '', 10_000, 50);
      for (const c of clients) await getFrom(c, lb.ip, inbound); // the pins
      const cli = new MasterCli(join(api.lbDir(lb.id), 'master.sock'));
      const entries = (/used:(\d+)/.exec(await cli.worker(`show table ${backendName(beId)}`))?.[1]) ?? '0';
      let stop = false;
      const traffic = (async () => {
        for (let i = 0; !stop && i < 100_000; i++) await getFrom(clients[i % clients.length], lb.ip, inbound);
      })();
      const newWorker: number[] = [];
      const ready: number[] = [];
      let be = (await api.call('GET', `/backends/${beId}`)).json;
      try {
        for (let i = 0; i < o.changes; i++) {
          const started = performance.now();
          const before = parseShowProc(await cli.master('show proc')).workers.join();
          const a = await api.call('PUT', `/backends/${beId}`, updateBody(be, { timeout_server: 30_000 + i * 1000 }));
          be = a.json;
          // The master does not answer while it re-executes: that reads as "not yet".
          const workers = () => cli.master('show proc', 250).then(parseShowProc).then((p) => p.workers.join(), () => before);
          const seen = until(async () => (await workers()) !== before, 20_000, 5).then(() => performance.now());
          ready.push((await api.waitReady(lb.id, 30_000, 5)) - a.at);
          newWorker.push((await seen) - a.at);
          await sleep(Math.max(0, 1000 - (performance.now() - started)));
        }
      } finally {
        stop = true;
        await traffic;
      }
      out[sticky === 'table' ? 'sticky_sessions table' : 'no stickiness'] = { newWorker: dist(newWorker), ready: dist(ready), entries: Number(entries) };
      log(`table changes (${sticky}): new worker p50 ${dist(newWorker).p50} p99 ${dist(newWorker).p99} ms, ready p99 ${dist(ready).p99} ms`);
      await api.call('DELETE', `/lbs/${lb.id}?release_ip=true`);
    }
  } finally {
    for (const s of servers) s.close();
  }
  return { setup: `${o.changes} timeout_server changes one per second, 3 servers, ${clients.length} pinned clients sending requests all along`, lbs: out };
}
