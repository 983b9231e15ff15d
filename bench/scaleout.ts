// Change propagation to HA pairs (`node dist/bench/scaleout.js [changes]`, root only: network namespaces): the API
// (`serve --dataplane agents`) and PostgreSQL in the host namespace, two agents in node namespaces, one LB placed on
// both. Each change is a PUT answered by the API; measured: API answer → both nodes report the new config version
// applied and ready (through the store's change feed, the agents' apply and their report to the cluster tables).
// Changes alternate between a pool change (runtime API, no reload) and a timeout_server change (seamless reload), one
// every SPACING_MS. Writes bench/results/scaleout-<sticky>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createNetLab } from '../test/fixtures/netns.js';
import { startPostgres } from '../test/fixtures/postgres.js';
import { startHttpServer, type HttpTestServer } from '../test/fixtures/servers.js';
import { Fulcrum, ROOT } from '../test/helpers/fulcrum.js';
import { destroyAgent, startAgent, type Agent } from '../test/scaleout/support/cluster.js';
import { dist, log, sleep, until } from './lib/util.js';

const SPACING_MS = 150;
const APPLY_BOUND_MS = 10_000;
/** BENCH_STICKY=none measures an LB without a stick table (no table copy, no peers). */
const STICKY = process.env.BENCH_STICKY ?? 'table';

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
    api = await Fulcrum.start({ dataplane: 'agents', ipPool: `${lab.prefix}.100`, env: { FULCRUM_STORE: url } });
    for (const n of lab.nodes) agents.push(startAgent(lab, n, url));
    db = new pg.Client({ connectionString: url });
    await db.connect();
    const lb = (await api.http('POST', '/lbs', { name: 'bench', description: '', assign_flexible_ip: true })).json;
    const be = (await api.http('POST', `/lbs/${lb.id}/backends`, { name: 'app', forward_protocol: 'http', forward_port: servers[0].port,
      forward_port_algorithm: 'roundrobin', sticky_sessions: STICKY, server_ip: [servers[0].host],
      health_check: { port: servers[0].port, check_delay: 2000, check_max_retries: 2, tcp_config: {} } })).json;
    await api.http('POST', `/lbs/${lb.id}/frontends`, { name: 'www', inbound_port: 8080, backend_id: be.id });

    const version = async () => Number((await db!.query<{ v: string }>(`SELECT doc::json->>'configVersion' AS v FROM lbs WHERE id = $1`, [lb.id])).rows[0].v);
    const appliedOnBoth = async (v: number) => Number((await db!.query<{ n: string }>(
      `SELECT count(*) AS n FROM cluster_reports WHERE lb_id = $1 AND applied_version >= $2 AND status = 'ready'`, [lb.id, v])).rows[0].n) === 2;
    // A node that heard of the change reports its instance pending (or, if already done, the new version).
    const noticedOnBoth = async (v: number) => Number((await db!.query<{ n: string }>(
      `SELECT count(*) AS n FROM cluster_reports WHERE lb_id = $1 AND (applied_version >= $2 OR status = 'pending')`, [lb.id, v])).rows[0].n) === 2;
    if (!(await until(async () => appliedOnBoth(await version()), 60_000, 50))) throw new Error('the LB never got ready on both nodes');
    log('LB ready on both nodes; measuring');

    const pool: number[] = [];
    const reload: number[] = [];
    const noticed: number[] = [];
    for (let i = 0; i < changes; i++) {
      const poolChange = i % 2 === 0;
      const req = poolChange
        ? api.http('PUT', `/backends/${be.id}/servers`, { server_ip: i % 4 === 0 ? servers.map((s) => s.host) : [servers[0].host] })
        : api.http('PUT', `/backends/${be.id}`, { ...be, timeout_server: 30_000 + i });
      const r = await req;
      const answered = performance.now();
      if (r.status !== 200) throw new Error(`change ${i}: ${r.status} ${r.text}`);
      const v = await version();
      if (await until(() => noticedOnBoth(v), APPLY_BOUND_MS, 1)) noticed.push(performance.now() - answered);
      if (!(await until(() => appliedOnBoth(v), APPLY_BOUND_MS, 1))) throw new Error(`change ${i} (version ${v}) not applied on both nodes`);
      (poolChange ? pool : reload).push(performance.now() - answered);
      await sleep(SPACING_MS);
    }
    const all = [...pool, ...reload];
    const result = { changes, sticky: STICKY, spacingMs: SPACING_MS, all: dist(all), pool: dist(pool), reload: dist(reload),
      noticed: dist(noticed), at: new Date().toISOString() };
    log(`API answer → applied on both nodes: p50 ${result.all.p50} ms, p99 ${result.all.p99} ms (pool p50 ${result.pool.p50}, `
      + `reload p50 ${result.reload.p50}); heard of on both nodes: p50 ${result.noticed.p50} ms, p99 ${result.noticed.p99} ms`);
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, `bench/results/scaleout-${STICKY}.json`), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await db?.end();
    for (const a of agents) destroyAgent(a);
    await api?.stop();
    for (const s of servers) await s.close();
    await pgServer.stop();
    lab.cleanup();
  }
}

await main(Number(process.argv[2] ?? 50));
