// Routes on the wire: ids only, nothing embedded; `match` holds only the member that is set, plus match_subdomains.
import { Type, type Static } from '@sinclair/typebox';
import type { Route } from '../domain/routes.js';
import { Nullable } from './common.js';

const Id = Type.String({ maxLength: 64 });

export const RouteMatchBody = Type.Object({
  sni: Nullable(Type.String({ maxLength: 1024 })),
  host_header: Nullable(Type.String({ maxLength: 1024 })),
  path_begin: Nullable(Type.String({ maxLength: 1024 })),
  match_subdomains: Nullable(Type.Boolean()),
});

export const RouteCreateBody = Type.Object({ frontend_id: Id, backend_id: Id, match: Nullable(RouteMatchBody) });
export type RouteCreateBody = Static<typeof RouteCreateBody>;
export const RouteUpdateBody = Type.Object({ backend_id: Id, match: Nullable(RouteMatchBody) });
export type RouteUpdateBody = Static<typeof RouteUpdateBody>;

export function routeToWire(r: Route): Record<string, unknown> {
  return {
    id: r.id,
    frontend_id: r.frontendId,
    backend_id: r.backendId,
    match: { [r.match.kind]: r.match.value, match_subdomains: r.match.matchSubdomains },
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}
