// What one agent knows of the cluster: the LBs with an instance on its node, their placements, and the nodes'
// addresses. Refreshed at each heartbeat; tells which LBs must be applied again because their pair changed.
import { peerPort } from '../cluster/names.js';
import type { ClusterNode, Placement } from '../cluster/types.js';
import type { PeerSet } from '../dataplane/render-peers.js';
import type { VrrpLb } from './keepalived-config.js';

export class NodePlacements {
  /** LB id → all its placements, for the LBs placed on this node. */
  private mine = new Map<string, Placement[]>();
  private addresses = new Map<string, string>();

  constructor(readonly node: string) {}

  has(lbId: string): boolean {
    return this.mine.has(lbId);
  }

  ids(): string[] {
    return [...this.mine.keys()];
  }

  /** This node's placement of the LB. */
  own(lbId: string): Placement | undefined {
    return this.mine.get(lbId)?.find((p) => p.node === this.node);
  }

  /** Takes the cluster's new state; returns the LBs placed or unplaced here, or whose pair changed. */
  update(nodes: ClusterNode[], all: Placement[]): string[] {
    const addresses = new Map(nodes.map((n) => [n.name, n.address]));
    const byLb = new Map<string, Placement[]>();
    for (const p of all) byLb.set(p.lbId, [...(byLb.get(p.lbId) ?? []), p]);
    const mine = new Map([...byLb].filter(([, ps]) => ps.some((p) => p.node === this.node)));
    const key = (ps: Placement[] | undefined, addr: Map<string, string>) =>
      JSON.stringify(ps?.map((p) => [p.node, p.slot, p.vrid, addr.get(p.node)]) ?? null);
    const changed = [...new Set([...this.mine.keys(), ...mine.keys()])]
      .filter((id) => key(this.mine.get(id), this.addresses) !== key(mine.get(id), addresses));
    this.mine = mine;
    this.addresses = addresses;
    return changed;
  }

  /** The LB's HAProxy peers: both nodes of its pair (null while it has one node, or an address is unknown). */
  peers(lbId: string): PeerSet | null {
    const ps = this.mine.get(lbId) ?? [];
    if (ps.length < 2 || ps.some((p) => !this.addresses.has(p.node))) return null;
    return { local: this.node, peers: ps.map((p) => ({ name: p.node, address: this.addresses.get(p.node)!, port: peerPort(p.vrid) })) };
  }

  /** The LB's VRRP instance on this node. */
  vrrp(lbId: string, addresses: Pick<VrrpLb, 'addresses' | 'privateAddresses'>): VrrpLb | null {
    const own = this.own(lbId);
    if (!own) return null;
    const other = this.mine.get(lbId)!.find((p) => p.node !== this.node);
    return { lbId, vrid: own.vrid, slot: own.slot, ...addresses, peerAddress: other ? this.addresses.get(other.node) ?? null : null };
  }
}
