// The data plane of one agent's node: the HAProxy data plane for the LBs placed here, with their HAProxy peers, plus
// keepalived holding the LBs' addresses by VRRP. Order matters both ways: an LB's HAProxy is running (bound to its
// addresses through ip_nonlocal_bind) before keepalived may take the addresses here, and keepalived lets them go
// before its HAProxy stops. An LB's addresses on private networks move the same way, on this node's interface to each
// network (`--private-network ID=IFACE`); an LB attached to a network the node has no interface to is refused here.
import type { ApplyResult, DataPlanePort } from '../control/port.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import type { Lb } from '../domain/lbs.js';
import type { ServerStat } from '../domain/stats.js';
import type { HaproxyDataPlane } from '../dataplane/dataplane.js';
import { renderKeepalived, type KeepalivedNode, type VrrpLb } from './keepalived-config.js';
import type { Keepalived } from './keepalived.js';

type LbAddresses = Pick<VrrpLb, 'addresses' | 'privateAddresses'>;

export class NodeDataPlane implements DataPlanePort {
  /** LB id → its addresses, for the LBs whose HAProxy runs here. */
  private readonly addresses = new Map<string, LbAddresses>();

  /** `pnInterfaces`: private network id → this node's interface on it. */
  constructor(private readonly haproxy: HaproxyDataPlane, private readonly keepalived: Keepalived,
    private readonly node: KeepalivedNode, private readonly vrrpOf: (lbId: string, addresses: LbAddresses) => VrrpLb | null,
    private readonly pnInterfaces: ReadonlyMap<string, string> = new Map()) {}

  /**
   * Counts an LB whose HAProxy already runs (adopted after an agent restart) before its first apply: without it, the
   * first apply would render keepalived.conf without the other LBs and drop their addresses until they are applied.
   */
  adopted(snapshot: LbSnapshot): void {
    this.addresses.set(snapshot.lb.id, { addresses: snapshot.addresses, privateAddresses: this.privateAddresses(snapshot.lb) });
  }

  async apply(snapshot: LbSnapshot): Promise<ApplyResult> {
    const missing = (snapshot.lb.privateNetworks ?? []).find((a) => !this.pnInterfaces.has(a.privateNetworkId));
    if (missing) {
      return { ok: false, reason: `node ${this.node.name} has no interface on private network ${missing.privateNetworkId}`
        + ` (start its agent with --private-network ${missing.privateNetworkId}=INTERFACE)` };
    }
    const result = await this.haproxy.apply(snapshot);
    if (result.ok) {
      this.adopted(snapshot);
      await this.syncKeepalived();
    }
    return result;
  }

  /** The LB's private-network addresses on this node's interfaces (attachments without one are left out). */
  private privateAddresses(lb: Lb): LbAddresses['privateAddresses'] {
    return (lb.privateNetworks ?? []).flatMap((a) => {
      const iface = this.pnInterfaces.get(a.privateNetworkId);
      return iface ? [{ address: a.address, iface }] : [];
    });
  }

  async remove(lbId: string): Promise<void> {
    if (this.addresses.delete(lbId)) await this.syncKeepalived();
    await this.haproxy.remove(lbId);
  }

  stats(snapshot: LbSnapshot): Promise<ServerStat[] | null> {
    return this.haproxy.stats(snapshot);
  }

  onInstanceDown(listener: (lbId: string, reason: string) => void): void {
    this.haproxy.onInstanceDown(listener);
  }

  setChallenge(lbId: string, token: string, keyAuthorization: string | null): Promise<void> {
    return this.haproxy.setChallenge(lbId, token, keyAuthorization);
  }

  /** Renders keepalived.conf from the LBs running here and their placements; keepalived reloads when it changed. */
  async syncKeepalived(): Promise<void> {
    const lbs = [...this.addresses].map(([id, a]) => this.vrrpOf(id, a)).filter((v): v is VrrpLb => v !== null);
    if (lbs.length) await this.keepalived.update(renderKeepalived(this.node, lbs));
    else await this.keepalived.stop();
  }

  /** Keeps keepalived running; HAProxy and keepalived themselves outlive the agent, like HAProxy outlives `serve`. */
  async close(): Promise<void> {
    await this.haproxy.close();
  }

  keepRunning(): Promise<void> {
    return this.keepalived.keepRunning();
  }
}
