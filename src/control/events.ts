// The one event feed of the process (DESIGN.md "One event feed"): server state changes, detected once where backend
// stats are read (Reconciler.stats), and instance status changes, detected where the reconciler sets them. Alerts
// consume it; a background poller keeps the stats of LBs with a subscriber read while no client asks for them.
import type { InstanceStatus } from '../domain/lbs.js';
import type { CheckResult, ServerStat, ServerState } from '../domain/stats.js';
import type { Store } from '../store/store.js';

export interface ServerEvent {
  kind: 'server';
  lbId: string;
  backendId: string;
  serverIp: string;
  /** Backend-stats vocabulary (`server_state`). */
  state: ServerState;
  previousState: ServerState;
  lastHealthCheckStatus: CheckResult;
  at: string;
}

export interface InstanceEvent {
  kind: 'instance';
  lbId: string;
  state: InstanceStatus;
  previousState: InstanceStatus;
  reason: string | null;
  at: string;
}

export type FeedEvent = ServerEvent | InstanceEvent;
export type FeedListener = (e: FeedEvent) => void;

export class EventFeed {
  private readonly listeners = new Set<FeedListener>();
  /** Per LB, per `<backend id> <ip>`: the server state read last. */
  private readonly servers = new Map<string, Map<string, ServerState>>();

  /** Registers a listener; returns the function that removes it. Listeners must not throw nor block. */
  subscribe(l: FeedListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  publish(e: FeedEvent): void {
    for (const l of this.listeners) l(e);
  }

  /**
   * Live stats of an LB's servers: a server whose state differs from the previous read is a change. A server read for
   * the first time, or gone from the pool, is none.
   */
  observeServers(lbId: string, stats: ServerStat[]): void {
    const before = this.servers.get(lbId);
    const now = new Map<string, ServerState>();
    for (const s of stats) {
      const key = `${s.backendId} ${s.ip}`;
      now.set(key, s.serverState);
      const prev = before?.get(key);
      if (prev !== undefined && prev !== s.serverState) {
        this.publish({ kind: 'server', lbId, backendId: s.backendId, serverIp: s.ip, state: s.serverState, previousState: prev,
          lastHealthCheckStatus: s.lastHealthCheckStatus, at: s.serverStateChangedAt ?? new Date().toISOString() });
      }
    }
    this.servers.set(lbId, now);
  }

  instanceChanged(lbId: string, previousState: InstanceStatus, state: InstanceStatus, reason: string | null, at: string): void {
    if (previousState !== state) this.publish({ kind: 'instance', lbId, state, previousState, reason, at });
  }

  /** Forgets a deleted LB. */
  forget(lbId: string): void {
    this.servers.delete(lbId);
  }
}

/** The LBs somebody is alerted about: the ones the poller reads. */
export async function subscribedLbIds(store: Store): Promise<string[]> {
  const out: string[] = [];
  for (const id of await store.allLbIds()) if ((await store.getLb(id))?.subscriberId) out.push(id);
  return out;
}

/** What the poller reads through: the reconciler's stats, which feed the EventFeed. */
export interface StatsSource {
  stats(lbId: string): Promise<unknown>;
}

/**
 * Reads every LB's stats every `intervalMs`, one LB after the other, never two rounds at once: server changes are
 * then seen within about one interval even when nobody reads backend-stats.
 */
export class StatsPoller {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;

  constructor(private readonly lbIds: () => Promise<string[]>, private readonly source: StatsSource,
    private readonly intervalMs = 1000) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.round) return;
      this.round = this.poll().finally(() => { this.round = null; });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.round;
  }

  private async poll(): Promise<void> {
    for (const id of await this.lbIds().catch(() => [])) {
      if (!this.timer) return;
      await this.source.stats(id).catch(() => undefined); // an LB deleted meanwhile, a socket that does not answer
    }
  }
}
