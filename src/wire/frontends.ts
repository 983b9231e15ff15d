// Frontends on the wire.
import { Type, type Static } from '@sinclair/typebox';
import type { Frontend } from '../domain/frontends.js';
import { DurationInput, Nullable } from './common.js';

export const FrontendBody = Type.Object({
  name: Type.String({ maxLength: 1024 }),
  inbound_port: Type.Integer(),
  backend_id: Type.String({ maxLength: 64 }),
  timeout_client: Nullable(DurationInput),
  certificate_id: Nullable(Type.String({ maxLength: 64 })),
  certificate_ids: Nullable(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 })),
  enable_http3: Nullable(Type.Boolean()),
  connection_rate_limit: Nullable(Type.Integer()),
  enable_access_logs: Nullable(Type.Boolean()),
});
export type FrontendBody = Static<typeof FrontendBody>;

export function frontendToWire(f: Frontend, backend: Record<string, unknown>, lb: Record<string, unknown>,
  certificate: Record<string, unknown> | null = null): Record<string, unknown> {
  return {
    id: f.id,
    name: f.name,
    inbound_port: f.inboundPort,
    backend,
    lb,
    timeout_client: f.timeoutClientMs,
    certificate,
    certificate_ids: f.certificateIds,
    created_at: f.createdAt,
    updated_at: f.updatedAt,
    enable_http3: f.enableHttp3,
    connection_rate_limit: f.connectionRateLimit,
    enable_access_logs: f.enableAccessLogs,
  };
}
