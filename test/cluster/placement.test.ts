import assert from 'node:assert/strict';
import { test } from 'node:test';
import { place } from '../../src/cluster/placement.js';
import type { ClusterNode, Placement } from '../../src/cluster/types.js';

const node = (name: string, ageMs = 0): ClusterNode => ({ name, address: '198.18.0.1', ageMs });
let ids = 0;
const base = { moveAfterMs: 5000, newInstanceId: () => `i${++ids}` };
const flat = (m: Map<string, Placement[]>) => Object.fromEntries([...m].map(([lb, ps]) => [lb, ps.map((p) => `${p.slot}:${p.node}:${p.vrid}`)]));

test('each LB goes to the two least-loaded healthy nodes, with the smallest free VRID', () => {
  const held: Placement[] = [{ lbId: 'a', node: 'n1', slot: 0, vrid: 1, instanceId: 'x' }, { lbId: 'a', node: 'n2', slot: 1, vrid: 1, instanceId: 'y' }];
  const out = place({ ...base, lbIds: ['a', 'b'], nodes: [node('n1'), node('n2'), node('n3'), node('n4', 9000)], placements: held });
  assert.deepEqual(flat(out), { b: ['0:n3:2', '1:n1:2'] });
});

test('an instance on a silent node moves to a healthy node that lacks the LB, keeping its slot; none free: it stays', () => {
  const held: Placement[] = [{ lbId: 'a', node: 'n1', slot: 0, vrid: 4, instanceId: 'x' }, { lbId: 'a', node: 'n2', slot: 1, vrid: 4, instanceId: 'y' }];
  const moved = place({ ...base, lbIds: ['a'], nodes: [node('n1', 6000), node('n2'), node('n3')], placements: held });
  assert.deepEqual(flat(moved), { a: ['0:n3:4', '1:n2:4'] });
  assert.equal(moved.get('a')!.find((p) => p.node === 'n2')!.instanceId, 'y');
  assert.deepEqual(flat(place({ ...base, lbIds: ['a'], nodes: [node('n1', 6000), node('n2')], placements: held })), {});
});

test('a deleted LB is forgotten; a single healthy node takes one instance; no node: nothing placed', () => {
  const held: Placement[] = [{ lbId: 'gone', node: 'n1', slot: 0, vrid: 1, instanceId: 'x' }];
  assert.deepEqual(flat(place({ ...base, lbIds: ['a'], nodes: [node('n1')], placements: held })), { gone: [], a: ['0:n1:1'] });
  assert.deepEqual(flat(place({ ...base, lbIds: ['a'], nodes: [], placements: [] })), {});
});

test('VRIDs run out at 255 LBs: the next one stays unplaced', () => {
  const held: Placement[] = Array.from({ length: 255 }, (_, i) => ({ lbId: `lb${i}`, node: 'n1', slot: 0, vrid: i + 1, instanceId: `i${i}` }));
  const out = place({ ...base, lbIds: [...held.map((p) => p.lbId), 'last'], nodes: [node('n1')], placements: held });
  assert.equal(out.has('last'), false);
});
