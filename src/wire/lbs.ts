// Load balancers (and their instance and LB types) on the wire.
import { Type, type Static } from '@sinclair/typebox';
import { regionOfZone, type InstanceState, type Lb, type LbCounts } from '../domain/lbs.js';
import type { LbType } from '../domain/lb-types.js';
import type { Ip } from '../domain/ips.js';
import { LIMITS } from '../domain/validation.js';
import { Nullable, Tags } from './common.js';
import { ipToWire } from './ips.js';
import { subscriberToWire } from './subscribers.js';
import type { Subscriber } from '../domain/subscribers.js';
import { StringEnum } from './schema.js';

const Uuidish = Type.String({ maxLength: 64 });

export const LbCreateBody = Type.Object({
  project_id: Nullable(Uuidish),
  organization_id: Nullable(Uuidish),
  name: Type.String({ maxLength: 1024 }),
  description: Nullable(Type.String({ maxLength: 4096 })),
  ip_id: Nullable(Uuidish),
  assign_flexible_ip: Nullable(Type.Boolean()),
  assign_flexible_ipv6: Nullable(Type.Boolean()),
  ip_ids: Nullable(Type.Array(Uuidish, { maxItems: 2 })),
  tags: Tags,
  type: Nullable(Type.String({ maxLength: 64 })),
  ssl_compatibility_level: Nullable(Type.String({ maxLength: 64 })),
});
export type LbCreateBody = Static<typeof LbCreateBody>;

export const LbUpdateBody = Type.Object({
  name: Type.String({ maxLength: 1024 }),
  description: Nullable(Type.String({ maxLength: 4096 })),
  tags: Tags,
  ssl_compatibility_level: Nullable(Type.String({ maxLength: 64 })),
});
export type LbUpdateBody = Static<typeof LbUpdateBody>;

export const LbDeleteQuery = Type.Object({ release_ip: Type.Optional(StringEnum(['true', 'false'] as const)) });
export const LbDeleteBody = Nullable(Type.Object({ release_ip: Nullable(Type.Boolean()) }));

/** Everything a wire LB shows beyond the stored object. */
export interface LbView {
  lb: Lb;
  ips: Ip[];
  instance: InstanceState;
  counts: LbCounts;
  subscriber?: Subscriber | null;
  /** In agents mode, the LB's instances, one per node (cluster/instances.ts); `instance` is then not shown. */
  nodeInstances?: { id: string; address: string; state: InstanceState }[];
}

export function lbToWire(v: LbView): Record<string, unknown> {
  const { lb } = v;
  const region = regionOfZone(lb.zone);
  const shown = v.nodeInstances ?? [{ id: lb.instanceId, address: '', state: v.instance }];
  // An LB being created has no instance yet (spec §11.7).
  const instances = lb.status === 'to_create' ? [] : shown.map((i) => ({
    id: i.id,
    status: lb.status === 'creating' ? 'unknown' : i.state.status,
    ip_address: i.address,
    created_at: lb.createdAt,
    updated_at: i.state.updatedAt,
    region,
    zone: lb.zone,
  }));
  // A ready LB whose instances all failed (HAProxy refused its config or died, or their nodes are gone) says so until
  // the data plane recovers it; one instance left serving keeps it ready.
  const failed = shown.length > 0 && shown.every((i) => i.state.status === 'error');
  return {
    id: lb.id,
    name: lb.name,
    description: lb.description,
    status: lb.status === 'ready' && failed ? 'error' : lb.status,
    instances,
    organization_id: lb.organizationId,
    project_id: lb.projectId,
    ip: v.ips.map(ipToWire),
    tags: lb.tags,
    frontend_count: v.counts.frontends,
    backend_count: v.counts.backends,
    type: lb.type,
    subscriber: v.subscriber ? subscriberToWire(v.subscriber) : null,
    ssl_compatibility_level: lb.sslCompatibilityLevel,
    created_at: lb.createdAt,
    updated_at: lb.updatedAt,
    private_network_count: lb.privateNetworks?.length ?? 0,
    route_count: v.counts.routes,
    region,
    zone: lb.zone,
  };
}

export function lbTypeToWire(t: LbType, zone: string): Record<string, unknown> {
  return { name: t.name, stock_status: 'available', description: t.description, region: regionOfZone(zone), zone };
}

export const lbLimits = { name: LIMITS.nameLength, description: LIMITS.descriptionLength };
