import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodePlacements } from '../../src/agent/placements.js';
import type { ClusterNode, Placement } from '../../src/cluster/types.js';

const LB = '11111111-2222-4333-8444-555555555555';
const nodes: ClusterNode[] = [{ name: 'a', address: '198.18.0.11', ageMs: 0 }, { name: 'b', address: '198.18.0.12', ageMs: 0 },
  { name: 'c', address: '198.18.0.13', ageMs: 0 }];
const at = (node: string, slot: number, lbId = LB): Placement => ({ lbId, node, slot, vrid: 7, instanceId: `${node}1` });

test('an agent sees its LBs, their peers and VRRP instance, and which LBs to apply again', () => {
  const p = new NodePlacements('a');
  assert.deepEqual(p.update(nodes, [at('a', 0), at('b', 1), at('b', 0, 'other'), at('c', 1, 'other')]), [LB]);
  assert.deepEqual(p.ids(), [LB]);
  assert.deepEqual(p.peers(LB), { local: 'a', peers: [{ name: 'a', address: '198.18.0.11', port: 41007 },
    { name: 'b', address: '198.18.0.12', port: 41007 }] });
  const pn = [{ address: '10.9.0.5', iface: 'eth1' }];
  assert.deepEqual(p.vrrp(LB, { addresses: ['198.18.0.100'], privateAddresses: pn }),
    { lbId: LB, vrid: 7, slot: 0, addresses: ['198.18.0.100'], privateAddresses: pn, peerAddress: '198.18.0.12' });
  assert.equal(p.vrrp('other', { addresses: [], privateAddresses: [] }), null);

  // Nothing changed: nothing to apply. The peer's address changed, or the peer moved: apply again.
  assert.deepEqual(p.update(nodes, [at('a', 0), at('b', 1)]), []);
  assert.deepEqual(p.update([nodes[0], { ...nodes[1], address: '198.18.0.22' }, nodes[2]], [at('a', 0), at('b', 1)]), [LB]);
  assert.deepEqual(p.update(nodes, [at('a', 0), at('c', 1)]), [LB]);
  assert.equal(p.peers(LB)!.peers[1].name, 'c');
  // Moved off this node: apply again (the reconciler then removes it here).
  assert.deepEqual(p.update(nodes, [at('b', 0), at('c', 1)]), [LB]);
  assert.equal(p.has(LB), false);
});

test('an LB alone on this node has no peers and a VRRP instance without a unicast peer', () => {
  const p = new NodePlacements('a');
  p.update(nodes, [at('a', 0)]);
  assert.equal(p.peers(LB), null);
  assert.equal(p.vrrp(LB, { addresses: ['198.18.0.100'], privateAddresses: [] })!.peerAddress, null);
});
