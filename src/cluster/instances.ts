// The API's view of an LB's instances in agents mode: one per placement, with the status its node last published, or
// `error` when the node has been silent for NODE_DOWN_MS (its agent, or the node, is gone: its published status would
// be stale). Backend stats are those the live nodes published, each under its instance's id.
import type { InstanceState } from '../domain/lbs.js';
import type { ServerStat } from '../domain/stats.js';
import type { ClusterStore } from './types.js';

/** Four missed heartbeats (agent.ts HEARTBEAT_MS). */
export const NODE_DOWN_MS = 2000;

export interface NodeInstance {
  id: string;
  node: string;
  address: string;
  state: InstanceState;
}

/** Where the API reads instances and backend stats when data planes run elsewhere (ApiContext.instances). */
export interface InstanceSource {
  of(lbId: string): Promise<NodeInstance[]>;
  stats(lbId: string): Promise<ServerStat[]>;
}

export class ClusterInstances implements InstanceSource {
  constructor(private readonly cluster: ClusterStore) {}

  async of(lbId: string): Promise<NodeInstance[]> {
    const [placements, reports, nodes] = await Promise.all([this.cluster.placementsOf(lbId), this.cluster.reports(lbId),
      this.cluster.nodes()]);
    return placements.map((p) => {
      const n = nodes.find((x) => x.name === p.node);
      const base = { id: p.instanceId, node: p.node, address: n?.address ?? '' };
      if (!n || n.ageMs >= NODE_DOWN_MS) {
        const silentMs = n?.ageMs ?? 0;
        return { ...base, state: { status: 'error', reason: `node ${p.node} not heard from for ${(silentMs / 1000).toFixed(1)} s`,
          updatedAt: new Date(Date.now() - silentMs + NODE_DOWN_MS).toISOString() } };
      }
      const r = reports.find((x) => x.node === p.node);
      return { ...base, state: r?.state ?? { status: 'pending', reason: null, updatedAt: new Date().toISOString() } };
    });
  }

  async stats(lbId: string): Promise<ServerStat[]> {
    const [reports, nodes] = await Promise.all([this.cluster.reports(lbId), this.cluster.nodes()]);
    const live = new Set(nodes.filter((n) => n.ageMs < NODE_DOWN_MS).map((n) => n.name));
    return reports.filter((r) => live.has(r.node)).flatMap((r) => r.stats);
  }
}
