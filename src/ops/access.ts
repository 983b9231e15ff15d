// Per-route access rules of the operations surfaces, read by the API's hooks (api/server.ts):
// - `public`: no key (the dashboard's files, the OpenAPI document, /metrics with --metrics-public);
// - `bearer`: the key may also come as `Authorization: Bearer <key>`, which Prometheus and browsers send more easily;
// - `ownContentType`: the route sets its content type (text, HTML, JS); every other answer is `application/json`.
import type { FastifyRequest } from 'fastify';

export interface OpsRouteConfig {
  public?: boolean;
  bearer?: boolean;
  ownContentType?: boolean;
}

export function opsConfig(req: FastifyRequest): OpsRouteConfig {
  return (req.routeOptions?.config ?? {}) as OpsRouteConfig;
}

/** The key of a request: X-Auth-Token, or a bearer token where the route allows it. */
export function tokenOf(req: FastifyRequest): string | string[] | undefined {
  const token = req.headers['x-auth-token'];
  if (token !== undefined || !opsConfig(req).bearer) return token;
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : undefined;
}

declare module 'fastify' {
  // Route options may carry these (`config: { public: true }`).
  interface FastifyContextConfig extends OpsRouteConfig {}
}
