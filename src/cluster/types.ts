// The cluster as the agents and `serve --dataplane agents` see it: nodes with heartbeats, each LB placed on two nodes,
// and what each node reports about its instance of an LB.
import type { InstanceState } from '../domain/lbs.js';
import type { ServerStat } from '../domain/stats.js';

export interface ClusterNode {
  name: string;
  /** Its address on the LBs' segment: VRRP adverts and HAProxy peers go there. */
  address: string;
  heartbeatAt: Date;
}

/** One LB's instance on one node. */
export interface Placement {
  lbId: string;
  node: string;
  /** The instance id of this node's HAProxy (what backend-stats' instance_id names). */
  instanceId: string;
  /** 0 for the node placed first (higher VRRP priority), 1 for the other. */
  slot: number;
  /** The LB's VRRP router id, shared by its two instances (unique among LBs). */
  vrid: number;
}

/** What a node last published about its instance of an LB. */
export interface InstanceReport {
  lbId: string;
  node: string;
  state: InstanceState;
  stats: ServerStat[];
}
