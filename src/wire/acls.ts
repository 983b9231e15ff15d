// ACLs on the wire. Answers embed the full frontend, as the real API's do.
import { Type, type Static } from '@sinclair/typebox';
import { ACL_LIMITS, type Acl } from '../domain/acls.js';
import { Nullable } from './common.js';

const Value = Type.String({ maxLength: ACL_LIMITS.valueLength });

export const AclBody = Type.Object({
  name: Nullable(Type.String({ maxLength: 1024 })),
  action: Nullable(Type.Object({
    type: Nullable(Type.String({ maxLength: 64 })),
    redirect: Nullable(Type.Object({
      type: Nullable(Type.String({ maxLength: 64 })),
      target: Nullable(Type.String({ maxLength: 2048 })),
      code: Nullable(Type.Integer()),
    })),
  })),
  match: Nullable(Type.Object({
    ip_subnet: Nullable(Type.Array(Type.String({ maxLength: 64 }), { maxItems: ACL_LIMITS.subnets })),
    ips_edge_services: Nullable(Type.Boolean()),
    http_filter: Nullable(Type.String({ maxLength: 64 })),
    http_filter_value: Nullable(Type.Array(Value, { maxItems: ACL_LIMITS.filterValues })),
    http_filter_option: Nullable(Type.String({ maxLength: 256 })),
    invert: Nullable(Type.Boolean()),
  })),
  index: Type.Integer(),
  description: Nullable(Type.String({ maxLength: 4096 })),
});
export type AclBody = Static<typeof AclBody>;

export const AclSetBody = Type.Object({ acls: Type.Array(AclBody, { maxItems: ACL_LIMITS.perFrontend }) });
export type AclSetBody = Static<typeof AclSetBody>;

export function aclToWire(a: Acl, frontend: Record<string, unknown>): Record<string, unknown> {
  const r = a.action.redirect;
  return {
    id: a.id,
    name: a.name,
    match: {
      ip_subnet: a.match.ipSubnet,
      ips_edge_services: a.match.ipsEdgeServices,
      http_filter: a.match.httpFilter,
      http_filter_value: a.match.httpFilterValue,
      http_filter_option: a.match.httpFilterOption,
      invert: a.match.invert,
    },
    action: { type: a.action.type, redirect: r ? { type: r.type, target: r.target, code: r.code } : null },
    frontend,
    index: a.index,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
    description: a.description,
  };
}
