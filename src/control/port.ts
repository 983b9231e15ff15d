// What the reconciler needs from a data plane. The HAProxy data plane implements it; so does the in-process one
// used when Fulcrum runs without HAProxy (`--no-dataplane`), which applies every change at once and carries no traffic.
import type { LbSnapshot } from '../domain/snapshot.js';
import type { ServerStat } from '../domain/stats.js';

export type ApplyResult = { ok: true } | { ok: false; reason: string };

export interface DataPlanePort {
  /** Makes the LB's running instance match the snapshot (starting it when needed). */
  apply(snapshot: LbSnapshot): Promise<ApplyResult>;
  /** Stops the LB's instance and removes its files. */
  remove(lbId: string): Promise<void>;
  /** Live per-server statistics, or null when the instance is not running. */
  stats(snapshot: LbSnapshot): Promise<ServerStat[] | null>;
  /** Registers a callback for an instance that died on its own. */
  onInstanceDown(listener: (lbId: string, reason: string) => void): void;
  close(): Promise<void>;
  /**
   * Serves (or, with null, stops serving) the HTTP-01 answer for an ACME token on the LB's port 80. Absent when the
   * data plane carries no traffic.
   */
  setChallenge?(lbId: string, token: string, keyAuthorization: string | null): Promise<void>;
}
