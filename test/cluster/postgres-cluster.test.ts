// PostgresCluster against a PostgreSQL server this file starts: migrations shared with the store's runner (twice is
// once), heartbeats aged by the database's clock, placements replaced as a whole, and reports kept only for the nodes
// that hold the LB.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PostgresCluster } from '../../src/cluster/postgres-cluster.js';
import type { InstanceReport, Placement } from '../../src/cluster/types.js';
import { startPostgres, type Postgres } from '../fixtures/postgres.js';

let server: Postgres;
before(async () => { server = await startPostgres('127.0.0.1'); });
after(async () => { await server?.stop(); });

const LB = '11111111-2222-4333-8444-555555555555';
const at = (node: string, slot: number, vrid = 3): Placement => ({ lbId: LB, node, slot, vrid, instanceId: `${node}-instance` });
const reportOf = (node: string, version: number): InstanceReport => ({ lbId: LB, node, appliedVersion: version, triedVersion: version,
  state: { status: 'ready', reason: null, updatedAt: '2026-12-07T00:00:00.000Z' },
  stats: [{ instanceId: `${node}-instance`, backendId: 'b', ip: '10.0.0.1', serverState: 'running', serverStateChangedAt: null,
    lastHealthCheckStatus: 'passed' }] });

test('nodes, placements and reports round-trip; two processes opening one database migrate it once', async () => {
  const url = await server.database();
  const [a, b] = await Promise.all([PostgresCluster.open(url), PostgresCluster.open(url)]);
  try {
    await a.heartbeat('node-a', '198.18.0.11');
    await b.heartbeat('node-b', '198.18.0.12');
    await b.heartbeat('node-a', '198.18.0.21'); // a node's address may change
    const nodes = await a.nodes();
    assert.deepEqual(nodes.map((n) => [n.name, n.address]), [['node-a', '198.18.0.21'], ['node-b', '198.18.0.12']]);
    assert.ok(nodes.every((n) => n.ageMs >= 0 && n.ageMs < 5000), 'aged by the database clock');

    await a.setPlacements(LB, [at('node-a', 0), at('node-b', 1)]);
    assert.deepEqual(await b.placementsOf(LB), [at('node-a', 0), at('node-b', 1)]);
    await b.report(reportOf('node-a', 4));
    await b.report(reportOf('node-b', 5));
    await b.report(reportOf('node-c', 6)); // not placed there: dropped
    assert.deepEqual((await a.reports(LB)).map((r) => [r.node, r.appliedVersion]), [['node-a', 4], ['node-b', 5]]);
    assert.deepEqual((await a.reports(LB))[0], reportOf('node-a', 4));

    // Moving the instance off node-a forgets node-a's report; an empty placement forgets the LB.
    await a.heartbeat('node-c', '198.18.0.13');
    await a.setPlacements(LB, [at('node-c', 0), at('node-b', 1)]);
    assert.deepEqual((await a.reports(LB)).map((r) => r.node), ['node-b']);
    await a.setPlacements(LB, []);
    assert.deepEqual(await a.placements(), []);
    assert.deepEqual(await a.reports(LB), []);
  } finally {
    await a.close();
    await b.close();
  }
});

test('bad values never reach the tables: node names, addresses, VRIDs, a VRID taken by another LB', async () => {
  const c = await PostgresCluster.open(await server.database());
  try {
    await assert.rejects(c.heartbeat('Node A', '198.18.0.11'), /node name/);
    await assert.rejects(c.heartbeat('node-a', '198.18.0.11\n'), /node address/);
    await c.heartbeat('node-a', '198.18.0.11');
    await assert.rejects(c.setPlacements(LB, [at('node-a', 0, 256)]), /VRID/);
    await c.setPlacements(LB, [at('node-a', 0, 9)]);
    const other = '21111111-2222-4333-8444-555555555555';
    await assert.rejects(c.setPlacements(other, [{ ...at('node-a', 0, 9), lbId: other }]), /unique|duplicate/);
    assert.deepEqual((await c.placements()).map((p) => p.lbId), [LB]);
  } finally {
    await c.close();
  }
});

test('placement rounds of several processes never interleave', async () => {
  const url = await server.database();
  const [a, b] = await Promise.all([PostgresCluster.open(url), PostgresCluster.open(url)]);
  try {
    const log: string[] = [];
    const round = (c: PostgresCluster, name: string) => c.exclusively(async () => {
      log.push(`${name} in`);
      await new Promise((r) => setTimeout(r, 100));
      log.push(`${name} out`);
    });
    await Promise.all([round(a, 'a'), round(b, 'b')]);
    assert.ok(log.join() === 'a in,a out,b in,b out' || log.join() === 'b in,b out,a in,a out', log.join());
  } finally {
    await a.close();
    await b.close();
  }
});
