// Backend server statistics on the wire.
import type { ServerStat } from '../domain/stats.js';

export function serverStatToWire(s: ServerStat): Record<string, unknown> {
  return {
    instance_id: s.instanceId,
    backend_id: s.backendId,
    ip: s.ip,
    server_state: s.serverState,
    server_state_changed_at: s.serverStateChangedAt,
    last_health_check_status: s.lastHealthCheckStatus,
  };
}
