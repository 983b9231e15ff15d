// render-peers.ts: the peers section of an LB on an HA pair, accepted by `haproxy -c`; absent on a single node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderConfig } from '../../src/dataplane/render.js';
import type { PeerSet } from '../../src/dataplane/render-peers.js';
import { assignServerIds } from '../../src/dataplane/server-ids.js';
import { check } from '../fixtures/haproxy-check.js';
import { makeBackend, makeFrontend, makeSnapshot } from '../fixtures/snapshots.js';

const LB = '11111111-1111-4111-8111-111111111111';
const snapshot = (sticky: 'table' | 'none') => makeSnapshot(LB, ['127.0.0.80'], [makeFrontend('f1', LB, 'b1', 8080)],
  [makeBackend('b1', LB, { stickySessions: sticky, pool: ['127.0.0.11'] })]);
const pair: PeerSet = { local: 'node-a', peers: [{ name: 'node-a', address: '127.0.0.21', port: 41007 },
  { name: 'node-b', address: '127.0.0.22', port: 41007 }] };
const render = (s: ReturnType<typeof snapshot>, peers: PeerSet | null) =>
  renderConfig(s, { runDir: '/@RUN@', serverIds: assignServerIds({}, s), peers });

test('a table-sticky LB on a pair replicates its tables to the other node, and haproxy -c accepts it', () => {
  const cfg = render(snapshot('table'), pair);
  assert.match(cfg, /\n {2}localpeer node-a\n/);
  assert.match(cfg, /\npeers fulcrum_pair\n {2}peer node-a 127\.0\.0\.21:41007\n {2}peer node-b 127\.0\.0\.22:41007\n/);
  assert.match(cfg, /stick-table type ipv6 size 100k expire 30m peers fulcrum_pair\n/);
  const r = check(cfg);
  assert.equal(r.status, 0, r.out);
  assert.deepEqual([...r.alerts, ...r.warnings], []);
});

test('no peers section on a single node or without table stickiness', () => {
  for (const cfg of [render(snapshot('table'), null), render(snapshot('none'), pair)]) {
    assert.doesNotMatch(cfg, /peers|localpeer/);
  }
});

test('peer names and addresses are checked before they reach haproxy.cfg', () => {
  assert.throws(() => render(snapshot('table'), { ...pair, peers: [pair.peers[0], { ...pair.peers[1], name: 'b\n  x' }] }), /peer name/);
  assert.throws(() => render(snapshot('table'), { ...pair, peers: [pair.peers[0], { ...pair.peers[1], address: 'x y' }] }), /peer address/);
  assert.throws(() => render(snapshot('table'), { ...pair, local: 'node-c' }), /local peer/);
});
