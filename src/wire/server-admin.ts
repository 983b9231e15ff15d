// Server administration on the wire (Fulcrum extension, /fulcrum/v1/…): snake_case like the Scaleway API, durations as
// protobuf duration strings ("30s") like Scaleway's timeout_queue.
import { Type, type Static } from '@sinclair/typebox';
import { ADMIN_STATES, MAX_WEIGHT, type ServerAdmin } from '../domain/server-admin.js';
import type { ServerStat } from '../domain/stats.js';
import { DurationInput, Nullable, Problems } from './common.js';
import { formatProtoDuration } from './durations.js';
import { StringEnum } from './schema.js';

export const ServerAdminPatch = Type.Object({
  weight: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WEIGHT, description: 'share of new sessions, 0–256 (HAProxy weight)' })),
  admin_state: Type.Optional(StringEnum(ADMIN_STATES)),
  slow_start: Nullable(DurationInput),
}, { description: 'Fields left out keep their value; slow_start null turns slow start off.' });
export type ServerAdminPatch = Static<typeof ServerAdminPatch>;

export const ServerAdminAnswer = Type.Object({
  backend_id: Type.String(),
  ip: Type.String(),
  weight: Type.Integer(),
  admin_state: StringEnum(ADMIN_STATES),
  slow_start: Type.Union([Type.String(), Type.Null()]),
  server_state: Type.String({ description: 'as in Scaleway backend-stats: drain reads stopping, maintenance stopped' }),
  server_state_changed_at: Type.Union([Type.String(), Type.Null()]),
  last_health_check_status: Type.String(),
});

/** The settings after `patch`; bad values are added to `p`. */
export function applyPatch(current: ServerAdmin, patch: ServerAdminPatch, p: Problems): ServerAdmin {
  const slowStartMs = patch.slow_start === undefined ? current.slowStartMs
    : (p.duration('slow_start', patch.slow_start, 's', 0, null) || null);
  return {
    weight: patch.weight ?? current.weight,
    adminState: patch.admin_state ?? current.adminState,
    slowStartMs,
  };
}

export function serverAdminToWire(backendId: string, ip: string, a: ServerAdmin, stat: ServerStat | undefined): Static<typeof ServerAdminAnswer> {
  return {
    backend_id: backendId,
    ip,
    weight: a.weight,
    admin_state: a.adminState,
    slow_start: a.slowStartMs === null ? null : formatProtoDuration(a.slowStartMs),
    server_state: stat?.serverState ?? 'stopped',
    server_state_changed_at: stat?.serverStateChangedAt ?? null,
    last_health_check_status: stat?.lastHealthCheckStatus ?? 'unknown',
  };
}
