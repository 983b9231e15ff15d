import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderKeepalived, type VrrpLb } from '../../src/agent/keepalived-config.js';

const node = { name: 'node-a', address: '198.18.0.11', iface: 'eth0' };
const lb = (over: Partial<VrrpLb> = {}): VrrpLb => ({
  lbId: '11111111-2222-4333-8444-555555555555', vrid: 7, slot: 0, addresses: ['198.18.0.100'], privateAddresses: [],
  peerAddress: '198.18.0.12', ...over,
});

test('one VRRPv3 instance per LB: its VRID, priority by slot, unicast peer, addresses on the node interface', () => {
  const text = renderKeepalived(node, [lb(), lb({ lbId: '21111111-2222-4333-8444-555555555555', vrid: 3, slot: 1,
    addresses: ['198.18.0.101', '2001:db8::1'] })]);
  assert.match(text, /router_id fulcrum_node-a\n\s+vrrp_version 3/);
  const blocks = text.split('vrrp_instance ').slice(1);
  assert.equal(blocks.length, 2);
  // Sorted by VRID: the same LBs always render the same text.
  assert.match(blocks[0], /^lb_21111111-[^{]*\{[^]*virtual_router_id 3\n\s+priority 100\n/);
  assert.match(blocks[0], /virtual_ipaddress \{\n\s+198\.18\.0\.101\/32 dev eth0\n\s+\}\n\s+virtual_ipaddress_excluded \{\n\s+2001:db8::1\/128 dev eth0/);
  assert.match(blocks[1], /virtual_router_id 7\n\s+priority 150\n\s+advert_int 0\.3\n\s+unicast_src_ip 198\.18\.0\.11\n\s+unicast_peer \{\n\s+198\.18\.0\.12\n/);
  assert.match(blocks[1], /state BACKUP\n\s+nopreempt/);
});

test('an LB without a peer node has no unicast_peer; one without IPv4 address has no instance', () => {
  const text = renderKeepalived(node, [lb({ peerAddress: null }), lb({ lbId: '31111111-2222-4333-8444-555555555555', vrid: 9, addresses: ['2001:db8::2'] })]);
  assert.doesNotMatch(text, /unicast_peer/);
  assert.equal(text.split('vrrp_instance ').length, 2);
});

test('private-network addresses move with the LB\'s instance, each on the node\'s interface to its network', () => {
  const text = renderKeepalived(node, [lb({ privateAddresses: [{ address: '10.9.0.5', iface: 'eth1' }, { address: 'fd00::5', iface: 'eth2' }] })]);
  assert.match(text, /virtual_ipaddress \{\n\s+198\.18\.0\.100\/32 dev eth0\n\s+10\.9\.0\.5\/32 dev eth1\n\s+\}/);
  assert.match(text, /virtual_ipaddress_excluded \{\n\s+fd00::5\/128 dev eth2\n\s+\}/);
  // An LB reachable only on a private network still gets its instance (it has an IPv4 address to advertise for).
  assert.match(renderKeepalived(node, [lb({ addresses: [], privateAddresses: [{ address: '10.9.0.5', iface: 'eth1' }] })]),
    /virtual_ipaddress \{\n\s+10\.9\.0\.5\/32 dev eth1\n/);
});

test('values that could change keepalived.conf syntax are refused', () => {
  const bad: [string, () => string][] = [
    ['address', () => renderKeepalived(node, [lb({ addresses: ['198.18.0.100 }\nvrrp_script x {'] })])],
    ['node address', () => renderKeepalived(node, [lb({ peerAddress: '198.18.0.12\n}' })])],
    ['LB id', () => renderKeepalived(node, [lb({ lbId: 'x { }' })])],
    ['VRID', () => renderKeepalived(node, [lb({ vrid: 256 })])],
    ['VRID', () => renderKeepalived(node, [lb(), lb({ lbId: '41111111-2222-4333-8444-555555555555' })])],
    ['interface', () => renderKeepalived({ ...node, iface: 'eth0 }' }, [lb()])],
    ['interface', () => renderKeepalived(node, [lb({ privateAddresses: [{ address: '10.9.0.5', iface: 'eth1\n}' }] })])],
    ['address', () => renderKeepalived(node, [lb({ privateAddresses: [{ address: '10.9.0.5/8', iface: 'eth1' }] })])],
    ['node name', () => renderKeepalived({ ...node, name: 'A B' }, [lb()])],
    ['node address', () => renderKeepalived({ ...node, address: '::1' }, [lb()])],
    ['slot', () => renderKeepalived(node, [lb({ slot: 2 })])],
  ];
  for (const [what, render] of bad) assert.throws(render, new RegExp(what, 'i'), what);
});
