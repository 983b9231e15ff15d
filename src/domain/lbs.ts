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
  /** The type a migration in progress moves the LB to (lower case); absent otherwise (lb-types.ts). */
  migratingTo?: string | null;
  /** The subscriber alerted about this LB (subscribers.ts); absent or null when none. */
  subscriberId?: string | null;
  /** The LB's addresses on the deployment's private networks (private-networks.ts). */
  privateNetworks?: PnAttachment[];
}

/** An LB's attachment to a declared private network, with the address it has there. */
export interface PnAttachment {
  privateNetworkId: string;
  /** The network's range as the operator declared it (`--private-network ID=CIDR`). */
  cidr: string;
  address: string;
  /** How the address was asked for: given (`static_config`) or chosen from the range (`dhcp_config`, IPAM). */
  mode: 'static' | 'dhcp';
  /** The IPAM ids the client sent, or the id standing for the chosen address. */
  ipamIds: string[];
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
