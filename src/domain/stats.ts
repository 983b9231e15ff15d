// Per-server statistics as the data plane reports them (HAProxy's own enums, spec §6 / haproxy §4b).

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
