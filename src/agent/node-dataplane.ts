// The data plane of one agent's node: the HAProxy data plane for the LBs placed here, with their HAProxy peers, plus
// keepalived holding the LBs' addresses by VRRP. Order matters both ways: an LB's HAProxy is running (bound to its
// addresses through ip_nonlocal_bind) before keepalived may take the addresses here, and keepalived lets them go
// before its HAProxy stops.
import type { ApplyResult, DataPlanePort } from '../control/port.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import type { ServerStat } from '../domain/stats.js';
import type { HaproxyDataPlane } from '../dataplane/dataplane.js';
import { renderKeepalived, type KeepalivedNode, type VrrpLb } from './keepalived-config.js';
import type { Keepalived } from './keepalived.js';

export class NodeDataPlane implements DataPlanePort {
  /** LB id → its addresses, for the LBs whose HAProxy runs here. */
  private readonly addresses = new Map<string, string[]>();

  constructor(private readonly haproxy: HaproxyDataPlane, private readonly keepalived: Keepalived,
    private readonly node: KeepalivedNode, private readonly vrrpOf: (lbId: string, addresses: string[]) => VrrpLb | null) {}

  /**
   * Counts an LB whose HAProxy already runs (adopted after an agent restart) before its first apply: without it, the
   * first apply would render keepalived.conf without the other LBs and drop their addresses until they are applied.
   */
  adopted(lbId: string, addresses: string[]): void {
    this.addresses.set(lbId, addresses);
  }

  async apply(snapshot: LbSnapshot): Promise<ApplyResult> {
    const result = await this.haproxy.apply(snapshot);
    if (result.ok) {
      this.addresses.set(snapshot.lb.id, snapshot.addresses);
      await this.syncKeepalived();
    }
    return result;
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
