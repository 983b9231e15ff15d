// Change propagation to HA pairs (`node dist/bench/scaleout.js [changes]`, root only: network namespaces): the API
// (`serve --dataplane agents`) and PostgreSQL in the host namespace, two agents in node namespaces, one LB placed on
// both. Each change is a PUT answered by the API; measured: API answer → both nodes report the new config version
// applied and ready (through the store's change feed, the agents' apply and their report to the cluster tables).
// Changes alternate between a pool change (runtime API, no reload) and a timeout_server change (seamless reload), one
// every SPACING_MS. The same changes on one `fulcrum serve` with its own HAProxy (the LB's instance reads ready) are the
// reference. Writes bench/results/scaleout-<sticky>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createNetLab } from '../test/fixtures/netns.js';
import { startPostgres } from '../test/fixtures/postgres.js';
import { startHttpServer, type HttpTestServer } from '../test/fixtures/servers.js';
import { Fulcrum, ROOT } from '../test/helpers/fulcrum.js';
import { TEST_PEM_KEY, destroyAgent, startAgent, type Agent } from '../test/scaleout/support/cluster.js';
import { dist, log, sleep, until } from './lib/util.js';

const SPACING_MS = 150;
const APPLY_BOUND_MS = 10_000;
/** BENCH_STICKY=none measures an LB without a stick table (no table copy, no peers). */
const STICKY = process.env.BENCH_STICKY ?? 'table';

interface Lab {
  api: Fulcrum;
  servers: HttpTestServer[];
}

interface Measured {
  pool: number[];
  reload: number[];
}

/** After a write: when it is applied (and, on a pair, when both nodes heard of it). */
interface Watch {
  ready(): Promise<boolean>;
  heard?(): Promise<boolean>;
}

/** Creates the LB, waits for `ready`, then makes `changes` changes, each waited for (bounded) before the next. */
async function measure(lab: Lab, changes: number, watch: (lbId: string) => Promise<Watch>, noticed: number[] = []): Promise<Measured> {
  const { api, servers } = lab;
  const lb = (await api.http('POST', '/lbs', { name: 'bench', description: '', assign_flexible_ip: true })).json;
  const be = (await api.http('POST', `/lbs/${lb.id}/backends`, { name: 'app', forward_protocol: 'http', forward_port: servers[0].port,
    forward_port_algorithm: 'roundrobin', sticky_sessions: STICKY, server_ip: [servers[0].host],
    health_check: { port: servers[0].port, check_delay: 2000, check_max_retries: 2, tcp_config: {} } })).json;
  await api.http('POST', `/lbs/${lb.id}/frontends`, { name: 'www', inbound_port: 8080, backend_id: be.id });
  if (!(await until((await watch(lb.id)).ready, 60_000, 50))) throw new Error('the LB never got ready');
  const out: Measured = { pool: [], reload: [] };
  for (let i = 0; i < changes; i++) {
    const poolChange = i % 2 === 0;
    const r = await (poolChange
      ? api.http('PUT', `/backends/${be.id}/servers`, { server_ip: i % 4 === 0 ? servers.map((x) => x.host) : [servers[0].host] })
      : api.http('PUT', `/backends/${be.id}`, { ...be, timeout_server: 30_000 + i }));
    const answered = performance.now();
    if (r.status !== 200) throw new Error(`change ${i}: ${r.status} ${r.text}`);
    const w = await watch(lb.id);
    if (w.heard && await until(w.heard, APPLY_BOUND_MS, 1)) noticed.push(performance.now() - answered);
    if (!(await until(w.ready, APPLY_BOUND_MS, 1))) throw new Error(`change ${i} not applied`);
    (poolChange ? out.pool : out.reload).push(performance.now() - answered);
    await sleep(SPACING_MS);
  }
  return out;
}

/** The same changes on one `fulcrum serve` with its own HAProxy and SQLite: the single-node reference. */
async function singleNode(changes: number, servers: HttpTestServer[]): Promise<Measured> {
  const api = await Fulcrum.start({ dataplane: 'haproxy' });
  try {
    // In one process the write marks the instance pending before the API answers.
    return await measure({ api, servers }, changes, async (lbId) => ({
      async ready() {
        const lb = (await api.http('GET', `/lbs/${lbId}`)).json;
        return lb.status === 'ready' && lb.instances.length === 1 && lb.instances[0].status === 'ready';
      },
    }));
  } finally {
    await api.destroy();
  }
}

async function main(changes: number): Promise<void> {
  const lab = createNetLab(2);
  const agents: Agent[] = [];
  const servers: HttpTestServer[] = [];
  const pgServer = await startPostgres(lab.hostAddress);
  let api: Fulcrum | null = null;
  let db: pg.Client | null = null;
  try {
    const url = await pgServer.database();
    servers.push(await startHttpServer(lab.addHostAddress(201), 's1'));
    servers.push(await startHttpServer(lab.addHostAddress(202), 's2', servers[0].port));
    api = await Fulcrum.start({ dataplane: 'agents', ipPool: `${lab.prefix}.100`, env: { FULCRUM_STORE: url, FULCRUM_PEM_KEY: TEST_PEM_KEY } });
    for (const n of lab.nodes) agents.push(startAgent(lab, n, url));
    db = new pg.Client({ connectionString: url });
    await db.connect();
    const count = async (lbId: string, cond: string, v: number) => Number((await db!.query<{ n: string }>(
      `SELECT count(*) AS n FROM cluster_reports WHERE lb_id = $1 AND ${cond}`, [lbId, v])).rows[0].n);
    const version = async (lbId: string) => Number((await db!.query<{ v: string }>(
      `SELECT doc::json->>'configVersion' AS v FROM lbs WHERE id = $1`, [lbId])).rows[0].v);
    const noticed: number[] = [];
    const pair = await measure({ api, servers }, changes, async (lbId) => {
      const v = await version(lbId);
      return {
        ready: async () => (await count(lbId, `applied_version >= $2 AND status = 'ready'`, v)) === 2,
        // A node that heard of the change reports its instance pending (or, if already done, the new version).
        heard: async () => (await count(lbId, `(applied_version >= $2 OR status = 'pending')`, v)) === 2,
      };
    }, noticed);
    log('pair measured; the single-node reference next');
    const single = await singleNode(changes, servers);
    const result = { changes, sticky: STICKY, spacingMs: SPACING_MS, at: new Date().toISOString(), loadavg: loadavg(),
      pair: { all: dist([...pair.pool, ...pair.reload]), pool: dist(pair.pool), reload: dist(pair.reload), noticed: dist(noticed) },
      single: { all: dist([...single.pool, ...single.reload]), pool: dist(single.pool), reload: dist(single.reload) } };
    log(`API answer → applied on both nodes: p50 ${result.pair.all.p50} ms, p99 ${result.pair.all.p99} ms (pool p50 `
      + `${result.pair.pool.p50}, reload p50 ${result.pair.reload.p50}); heard of on both nodes: p50 ${result.pair.noticed.p50} ms, `
      + `p99 ${result.pair.noticed.p99} ms; single node: p50 ${result.single.all.p50} ms, p99 ${result.single.all.p99} ms `
      + `(pool p50 ${result.single.pool.p50}, reload p50 ${result.single.reload.p50})`);
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, `bench/results/scaleout-${STICKY}.json`), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await db?.end();
    await api?.destroy().catch(() => api?.kill());
    for (const a of agents) destroyAgent(a);
    for (const s of servers) await s.close();
    await pgServer.stop();
    lab.cleanup();
  }
}

await main(Number(process.argv[2] ?? 50));
