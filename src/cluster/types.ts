// The cluster as the agents and `serve --dataplane agents` see it: nodes with heartbeats, each LB placed on two nodes,
// and what each node reports about its instance of an LB.
import type { InstanceState } from '../domain/lbs.js';
import type { ServerStat } from '../domain/stats.js';

export interface ClusterNode {
  name: string;
  /** Its address on the LBs' segment: VRRP adverts and HAProxy peers go there. */
  address: string;
  /** Time since its last heartbeat, by the database's clock (node clocks may differ). */
  ageMs: number;
}

/** One LB's instance on one node. */
export interface Placement {
  lbId: string;
  node: string;
  /** The instance id of this node's HAProxy (what backend-stats' instance_id names). */
  instanceId: string;
  /** 0 for the first-placed node (higher VRRP priority), 1 for the other. */
  slot: number;
  /** The LB's VRRP router id, shared by its two instances (unique among LBs). */
  vrid: number;
}

/** What a node last published about its instance of an LB. */
export interface InstanceReport {
  lbId: string;
  node: string;
  state: InstanceState;
  /** The LB config version the instance runs (0: none yet). */
  appliedVersion: number;
  /** The config version its status is about: the last one the node tried to apply (0: none yet). */
  triedVersion: number;
  stats: ServerStat[];
}

/** The cluster tables (PostgreSQL only: SQLite's single-machine mode has no nodes). */
export interface ClusterStore {
  /** Registers the node (or updates its address) and records a heartbeat. */
  heartbeat(name: string, address: string): Promise<void>;
  nodes(): Promise<ClusterNode[]>;
  placements(): Promise<Placement[]>;
  placementsOf(lbId: string): Promise<Placement[]>;
  /** Replaces the LB's placements (all share one VRID); an empty list forgets the LB and its reports. */
  setPlacements(lbId: string, placements: Placement[]): Promise<void>;
  report(r: InstanceReport): Promise<void>;
  reports(lbId: string): Promise<InstanceReport[]>;
  /**
   * Adds `listener`, called with the LB's id when a node reports on it or its placement changes (any process's
   * writes). Without a listener: listens again if the connection dropped.
   */
  watch(listener?: (lbId: string) => void): Promise<void>;
  /** Runs `fn` while no other process runs one (placement rounds of several API servers). */
  exclusively(fn: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}
