// The agents data plane against a PostgreSQL server this file starts: its applies wait for what nodes report in the
// cluster tables, written here through a second PostgresCluster handle as an agent writes them (heartbeat, report).
// Ready once a live placed node ran the version; refused with the nodes' reasons when every live one failed on it; an
// error naming what it waited for past the bound, and a later report then asks for another apply; removal does not
// wait for a node that is gone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AgentsDataPlane } from '../../src/cluster/agents-dataplane.js';
import { PostgresCluster } from '../../src/cluster/postgres-cluster.js';
import type { InstanceReport } from '../../src/cluster/types.js';
import type { InstanceStatus } from '../../src/domain/lbs.js';
import { makeLb, makeSnapshot } from '../fixtures/snapshots.js';
import { startPostgres, type Postgres } from '../fixtures/postgres.js';

let server: Postgres;
before(async () => { server = await startPostgres('127.0.0.1'); });
after(async () => { await server?.stop(); });

const LB = '31111111-2222-4333-8444-555555555555';
const snapshot = (version: number) => ({ ...makeSnapshot(LB, ['198.18.0.100'], [], []), lb: makeLb(LB, { configVersion: version }) });

function report(node: string, status: InstanceStatus, applied: number, tried: number, reason: string | null = null): InstanceReport {
  return { lbId: LB, node, state: { status, reason, updatedAt: new Date().toISOString() }, appliedVersion: applied, triedVersion: tried, stats: [] };
}

/** A fresh database, the data plane under test (bound `waitMs`) and a node-side handle. */
async function setup(waitMs: number) {
  const url = await server.database();
  const serve = await PostgresCluster.open(url);
  const nodes = await PostgresCluster.open(url);
  const reapplied: string[] = [];
  const dp = new AgentsDataPlane(serve, (id) => reapplied.push(id), waitMs);
  await dp.start();
  // Live nodes beat as agents do (a node silent for NODE_DOWN_MS reads as gone, however slow the machine is).
  const live = new Set<string>();
  const beat = async () => { for (const n of live) await nodes.heartbeat(n, '198.18.0.11'); };
  const beating = setInterval(() => { void beat().catch(() => undefined); }, 200);
  const place = async (...names: string[]) => {
    for (const n of names) live.add(n);
    await beat();
    await nodes.setPlacements(LB, names.map((node, slot) => ({ lbId: LB, node, slot, vrid: 7, instanceId: `${node}-i` })));
  };
  return { dp, nodes, place, live, reapplied, database: url.split('/').pop()!,
    async close() { clearInterval(beating); await dp.close(); await serve.close(); await nodes.close(); } };
}

test('an apply resolves when a node reports the version applied, in the order of the reports', async () => {
  const s = await setup(20_000);
  try {
    await s.place('node-a', 'node-b');
    const events: string[] = [];
    const applying = s.dp.apply(snapshot(3)).then((r) => { events.push(`applied ${JSON.stringify(r)}`); });
    await s.nodes.report(report('node-a', 'pending', 2, 2));
    await s.nodes.report(report('node-b', 'ready', 2, 2)); // an older version: not yet
    await new Promise((r) => setTimeout(r, 300));
    events.push('node-b runs 3');
    await s.nodes.report(report('node-b', 'ready', 3, 3));
    await applying;
    assert.deepEqual(events, ['node-b runs 3', 'applied {"ok":true}']);
    // A version already in force resolves at once; so does one a node runs while it hears of the next.
    assert.deepEqual(await s.dp.apply(snapshot(2)), { ok: true });
  } finally {
    await s.close();
  }
});

test('refused when every live placed node reports an error about the version, with their reasons', async () => {
  const s = await setup(20_000);
  try {
    await s.place('node-a', 'node-b');
    const applying = s.dp.apply(snapshot(5));
    await s.nodes.report(report('node-a', 'error', 4, 5, 'bind 198.18.0.100:80: address in use'));
    await s.nodes.report(report('node-b', 'error', 4, 4, 'an older refusal')); // about version 4: not this one
    await new Promise((r) => setTimeout(r, 300));
    await s.nodes.report(report('node-b', 'error', 4, 5, 'bind 198.18.0.100:80: address in use'));
    assert.deepEqual(await applying, { ok: false,
      reason: 'node node-a: bind 198.18.0.100:80: address in use; node node-b: bind 198.18.0.100:80: address in use' });
  } finally {
    await s.close();
  }
});

test('past the bound: an error saying what it waited for; a later report asks for another apply', async () => {
  const s = await setup(1500);
  try {
    const unplaced = await s.dp.apply(snapshot(1));
    assert.deepEqual(unplaced, { ok: false,
      reason: 'no node applied config version 1 within 1.5 s: no live node holds it (not placed yet, or every placed node is silent)' });
    await s.place('node-a');
    await s.nodes.report(report('node-a', 'pending', 0, 0));
    const pending = await s.dp.apply(snapshot(1));
    assert.deepEqual(pending, { ok: false, reason: 'no node applied config version 1 within 1.5 s: node node-a: pending, runs version 0' });
    s.reapplied.length = 0; // the placement above was news too
    await s.nodes.report(report('node-a', 'ready', 1, 1));
    const deadline = Date.now() + 5000;
    while (!s.reapplied.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(s.reapplied, [LB], 'the report that settles it asks for an apply');
    assert.deepEqual(await s.dp.apply(snapshot(1)), { ok: true });
  } finally {
    await s.close();
  }
});

test('remove waits for the live nodes that run the LB, not for nodes that are gone', async () => {
  const s = await setup(20_000);
  try {
    await s.place('node-a', 'node-b');
    await s.nodes.report(report('node-a', 'ready', 2, 2));
    await s.nodes.report(report('node-b', 'ready', 2, 2));
    // node-b goes silent: only node-a is waited for.
    s.live.delete('node-b');
    await server.sql(`UPDATE cluster_nodes SET heartbeat_at = now() - interval '1 minute' WHERE name = 'node-b'`, s.database);
    const events: string[] = [];
    const removing = s.dp.remove(LB).then(() => { events.push('removed'); });
    await new Promise((r) => setTimeout(r, 300));
    events.push('node-a stopped it');
    await s.nodes.report(report('node-a', 'pending', 0, 0));
    await removing;
    assert.deepEqual(events, ['node-a stopped it', 'removed']);
  } finally {
    await s.close();
  }
});
