// The event feed's detection (control/events.ts) and the private-network address rules (domain/private-networks.ts):
// pure parts, without HAProxy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventFeed, type FeedEvent } from '../../src/control/events.js';
import { freeAddress, isHostAddress, parsePrivateNetworks } from '../../src/domain/private-networks.js';
import type { ServerStat, ServerState } from '../../src/domain/stats.js';

const stat = (ip: string, serverState: ServerState): ServerStat => ({
  instanceId: 'i', backendId: 'b', ip, serverState, serverStateChangedAt: '2026-12-07T10:00:00.000Z', lastHealthCheckStatus: 'failed',
});

test('server changes: none on the first read nor for new or removed servers; one per transition', () => {
  const feed = new EventFeed();
  const seen: FeedEvent[] = [];
  const stop = feed.subscribe((e) => seen.push(e));
  feed.observeServers('lb', [stat('10.0.0.1', 'running'), stat('10.0.0.2', 'running')]);
  assert.equal(seen.length, 0);
  feed.observeServers('lb', [stat('10.0.0.1', 'stopped'), stat('10.0.0.2', 'running'), stat('10.0.0.3', 'stopped')]);
  assert.deepEqual(seen.map((e) => e.kind === 'server' && [e.serverIp, e.previousState, e.state]), [['10.0.0.1', 'running', 'stopped']]);
  feed.observeServers('lb', [stat('10.0.0.1', 'stopped')]);
  assert.equal(seen.length, 1, 'unchanged and removed servers are no change');
  feed.forget('lb');
  feed.observeServers('lb', [stat('10.0.0.1', 'running')]);
  assert.equal(seen.length, 1, 'a forgotten LB starts over');
  stop();
  feed.observeServers('lb', [stat('10.0.0.1', 'stopped')]);
  assert.equal(seen.length, 1, 'an unsubscribed listener hears nothing');
});

test('instance changes are published only when the status moves', () => {
  const feed = new EventFeed();
  const seen: FeedEvent[] = [];
  feed.subscribe((e) => seen.push(e));
  feed.instanceChanged('lb', 'ready', 'ready', null, 't');
  feed.instanceChanged('lb', 'ready', 'error', 'died', 't');
  assert.deepEqual(seen, [{ kind: 'instance', lbId: 'lb', previousState: 'ready', state: 'error', reason: 'died', at: 't' }]);
});

test('declared networks: ID=CIDR with a UUID, normalized to the network address; bad entries refused', () => {
  const id = '0B6D5C3E-1B2A-4C5D-8E9F-0A1B2C3D4E5F';
  assert.deepEqual(parsePrivateNetworks([`${id}=10.20.0.7/24`, ' ', `${id.toLowerCase().replace('0b', '1b')}=fd00:1::/64`]), [
    { id: id.toLowerCase(), cidr: '10.20.0.0/24' }, { id: '1b6d5c3e-1b2a-4c5d-8e9f-0a1b2c3d4e5f', cidr: 'fd00:1::/64' },
  ]);
  for (const bad of ['x=10.0.0.0/24', `${id}=10.0.0.0`, `${id}=10.0.0.0/33`, `${id}`, `${id}=10.0.0.0/24,`]) {
    assert.throws(() => parsePrivateNetworks([bad]), /--private-network/, bad);
  }
  assert.throws(() => parsePrivateNetworks([`${id}=10.0.0.0/24`, `${id}=10.1.0.0/24`]), /twice/);
});

test('host addresses and the first free one', () => {
  assert.equal(isHostAddress('10.0.0.0', '10.0.0.0/24'), false);
  assert.equal(isHostAddress('10.0.0.255', '10.0.0.0/24'), false);
  assert.equal(isHostAddress('10.0.1.1', '10.0.0.0/24'), false);
  assert.equal(isHostAddress('fd00::1', '10.0.0.0/24'), false);
  assert.equal(isHostAddress('10.0.0.1', '10.0.0.0/24'), true);
  assert.equal(freeAddress('10.0.0.0/24', new Set(['10.0.0.1', '10.0.0.2'])), '10.0.0.3');
  assert.equal(freeAddress('10.0.0.0/30', new Set(['10.0.0.1', '10.0.0.2'])), null, 'a full range');
  assert.equal(freeAddress('fd00:1::/64', new Set()), 'fd00:1::1');
  assert.equal(freeAddress('10.0.0.254/31', new Set()), '10.0.0.254', 'both addresses of a /31 are hosts');
  assert.equal(freeAddress('10.0.0.7/32', new Set()), '10.0.0.7');
});
