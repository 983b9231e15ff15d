// Load balancers (and their instance and LB types) on the wire.
import { Type, type Static } from '@sinclair/typebox';
import { regionOfZone, type InstanceState, type Lb, type LbCounts, type LbType } from '../domain/lbs.js';
import type { Ip } from '../domain/ips.js';
import { LIMITS } from '../domain/validation.js';
import { Nullable, Tags } from './common.js';
import { ipToWire } from './ips.js';
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
}

export function lbToWire(v: LbView): Record<string, unknown> {
  const { lb } = v;
  const region = regionOfZone(lb.zone);
  // An LB being created has no instance yet (spec §11.7).
  const instances = lb.status === 'to_create' ? [] : [{
    id: lb.instanceId,
    status: lb.status === 'creating' ? 'unknown' : v.instance.status,
    ip_address: '',
    created_at: lb.createdAt,
    updated_at: v.instance.updatedAt,
    region,
    zone: lb.zone,
  }];
  return {
    id: lb.id,
    name: lb.name,
    description: lb.description,
    // A ready LB whose HAProxy refused its config or died says so until the data plane recovers it.
    status: lb.status === 'ready' && v.instance.status === 'error' ? 'error' : lb.status,
    instances,
    organization_id: lb.organizationId,
    project_id: lb.projectId,
    ip: v.ips.map(ipToWire),
    tags: lb.tags,
    frontend_count: v.counts.frontends,
    backend_count: v.counts.backends,
    type: lb.type,
    subscriber: null,
    ssl_compatibility_level: lb.sslCompatibilityLevel,
    created_at: lb.createdAt,
    updated_at: lb.updatedAt,
    private_network_count: 0,
    route_count: v.counts.routes,
    region,
    zone: lb.zone,
  };
}

export function lbTypeToWire(t: LbType, zone: string): Record<string, unknown> {
  return { name: t.name, stock_status: 'available', description: t.description, region: regionOfZone(zone), zone };
}

export const lbLimits = { name: LIMITS.nameLength, description: LIMITS.descriptionLength };
