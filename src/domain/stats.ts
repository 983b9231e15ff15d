// Per-server statistics as the data plane reports them (HAProxy's own enums, spec §6 / haproxy §4b).
import type { LbSnapshot } from './snapshot.js';

export type ServerState = 'stopped' | 'starting' | 'running' | 'stopping';
export type CheckResult = 'unknown' | 'neutral' | 'failed' | 'passed' | 'condpass';

export interface ServerStat {
  instanceId: string;
  backendId: string;
  ip: string;
  serverState: ServerState;
  serverStateChangedAt: string | null;
  lastHealthCheckStatus: CheckResult;
}

/** What is known of every pool server while no HAProxy reports on it: stopped, never checked. */
export function unknownServerStats(snap: LbSnapshot): ServerStat[] {
  return snap.backends.flatMap((b) => b.pool.map((ip) => ({
    instanceId: snap.lb.instanceId,
    backendId: b.id,
    ip,
    serverState: 'stopped' as const,
    serverStateChangedAt: null,
    lastHealthCheckStatus: 'unknown' as const,
  })));
}
