// Load balancer domain model and its lifecycle states.

export const LB_STATUSES = ['unknown', 'ready', 'pending', 'stopped', 'error', 'locked', 'migrating', 'to_create',
  'creating', 'to_delete', 'deleting'] as const;
export type LbStatus = (typeof LB_STATUSES)[number];

export const INSTANCE_STATUSES = ['unknown', 'ready', 'pending', 'stopped', 'error', 'locked', 'migrating'] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export const SSL_COMPATIBILITY_LEVELS = ['ssl_compatibility_level_unknown', 'ssl_compatibility_level_intermediate',
  'ssl_compatibility_level_modern', 'ssl_compatibility_level_old'] as const;
export type SslCompatibilityLevel = (typeof SSL_COMPATIBILITY_LEVELS)[number];

export interface Lb {
  id: string;
  zone: string;
  projectId: string;
  organizationId: string;
  name: string;
  description: string;
  status: LbStatus;
  tags: string[];
  /** Lower-case offer name, e.g. `lb-s`. */
  type: string;
  sslCompatibilityLevel: SslCompatibilityLevel;
  /** The LB's single instance (its HAProxy process). */
  instanceId: string;
  /** Bumped by every write to the LB or its children; the data plane applies versions. */
  configVersion: number;
  /** Set by a delete: whether the LB's flexible IPs go with it (`release_ip`). */
  releaseIpsOnDelete: boolean;
  createdAt: string;
  updatedAt: string;
}

/** What the data plane reports about an LB's instance. */
export interface InstanceState {
  status: InstanceStatus;
  /** Why the instance is in `error`, when it is. */
  reason: string | null;
  updatedAt: string;
}

export interface LbType {
  name: string;
  description: string;
}

/** The offers of this deployment; they differ only in name (all run the same HAProxy). */
export const LB_TYPES: LbType[] = [
  { name: 'LB-S', description: 'Fulcrum load balancer, small' },
  { name: 'LB-GP-M', description: 'Fulcrum load balancer, general purpose medium' },
  { name: 'LB-GP-L', description: 'Fulcrum load balancer, general purpose large' },
];
export const DEFAULT_LB_TYPE = 'lb-s';

/** The children an LB counts in its answers (`<kind>_count`); every count of the wire LB comes from here. */
export interface LbCounts {
  backends: number;
  frontends: number;
  routes: number;
}

/** A deletion in progress is never undone: after `to_delete` only `deleting` (then removal) may follow. */
export function isBeingDeleted(status: LbStatus): boolean {
  return status === 'to_delete' || status === 'deleting';
}

export function regionOfZone(zone: string): string {
  return zone.replace(/-\d+$/, '');
}
