// Flexible IPs on the wire.
import { Type, type Static } from '@sinclair/typebox';
import { regionOfZone } from '../domain/lbs.js';
import type { Ip } from '../domain/ips.js';
import { Nullable, Tags } from './common.js';

export const IpCreateBody = Type.Object({
  project_id: Nullable(Type.String({ maxLength: 64 })),
  organization_id: Nullable(Type.String({ maxLength: 64 })),
  reverse: Nullable(Type.String({ maxLength: 1024 })),
  is_ipv6: Nullable(Type.Boolean()),
  tags: Tags,
});
export type IpCreateBody = Static<typeof IpCreateBody>;

/** A true PATCH: only the fields sent change. `lb_id: null` is "not sent" (proto3 cannot tell them apart). */
export const IpUpdateBody = Type.Object({
  reverse: Nullable(Type.String({ maxLength: 1024 })),
  lb_id: Nullable(Type.String({ maxLength: 64 })),
  tags: Tags,
});
export type IpUpdateBody = Static<typeof IpUpdateBody>;

export function ipToWire(ip: Ip): Record<string, unknown> {
  return {
    id: ip.id,
    ip_address: ip.address,
    organization_id: ip.organizationId,
    project_id: ip.projectId,
    lb_id: ip.lbId,
    reverse: ip.reverse,
    tags: ip.tags,
    region: regionOfZone(ip.zone),
    zone: ip.zone,
  };
}
