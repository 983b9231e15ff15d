// What coordination between processes costs (`node dist/bench/coordination.js [reports] [handovers]`), on a PostgreSQL
// server of its own (test/fixtures/postgres.ts: loopback, free port, fsync off):
// - agents mode: from a node's report of a config version (the write's call) to the agents data plane's apply of that
//   version resolving, one at a time (NOTIFY, then a re-read of the cluster tables);
// - leadership: from the leader's close to another process leading (default round of 1 s).
// Prints and writes bench/results/coordination.json; every loop is bounded.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentsDataPlane } from '../src/cluster/agents-dataplane.js';
import { PostgresCluster } from '../src/cluster/postgres-cluster.js';
import { coordinate, type Coordination } from '../src/store/leader.js';
import { makeLb, makeSnapshot } from '../test/fixtures/snapshots.js';
import { startPostgres } from '../test/fixtures/postgres.js';
import { dist, type Dist } from './lib/util.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const LB = '41111111-2222-4333-8444-555555555555';
const BOUND_MS = 10_000;

async function reportToApply(url: string, reports: number): Promise<number[]> {
  const serve = await PostgresCluster.open(url);
  const node = await PostgresCluster.open(url);
  const dp = new AgentsDataPlane(serve, () => undefined, BOUND_MS);
  try {
    await dp.start();
    await node.heartbeat('node-a', '198.18.0.11');
    await node.setPlacements(LB, [{ lbId: LB, node: 'node-a', slot: 0, vrid: 1, instanceId: 'i' }]);
    const out: number[] = [];
    for (let v = 1; v <= reports; v++) {
      if (v % 50 === 0) await node.heartbeat('node-a', '198.18.0.11'); // stays live (NODE_DOWN_MS)
      const applied = dp.apply({ ...makeSnapshot(LB, [], [], []), lb: makeLb(LB, { configVersion: v }) });
      await new Promise((r) => setTimeout(r, 5)); // the apply is waiting
      const t0 = performance.now();
      await node.report({ lbId: LB, node: 'node-a', appliedVersion: v, triedVersion: v, stats: [],
        state: { status: 'ready', reason: null, updatedAt: new Date().toISOString() } });
      const r = await applied;
      if (!r.ok) throw new Error(`version ${v}: ${r.reason}`);
      out.push(performance.now() - t0);
    }
    return out;
  } finally {
    await dp.close();
    await serve.close();
    await node.close();
  }
}

async function handovers(url: string, count: number): Promise<number[]> {
  const out: number[] = [];
  const member = () => coordinate(url, { dataPlane: true, async onLeading() {} });
  let leader: Coordination = await member();
  for (let i = 0; i < count; i++) {
    const next = await member();
    const t0 = performance.now();
    await leader.close();
    const deadline = t0 + BOUND_MS;
    while (!next.leading && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (!next.leading) throw new Error('no takeover');
    out.push(performance.now() - t0);
    leader = next;
  }
  await leader.close();
  return out;
}

async function main(): Promise<void> {
  const reports = Number(process.argv[2] ?? 200);
  const count = Number(process.argv[3] ?? 10);
  const pg = await startPostgres('127.0.0.1');
  try {
    const result: { reportToApplyMs: Dist; handoverMs: Dist } = {
      reportToApplyMs: dist(await reportToApply(await pg.database(), reports)),
      handoverMs: dist(await handovers(await pg.database(), count)),
    };
    process.stdout.write(`node report -> agents apply resolved (${reports}): median ${result.reportToApplyMs.p50} ms, p99 ${result.reportToApplyMs.p99} ms\n` +
      `leader closed -> another leads (${count}): median ${result.handoverMs.p50} ms, max ${result.handoverMs.max} ms\n`);
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/coordination.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await pg.stop();
  }
}

await main();
