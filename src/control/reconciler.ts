// The reconciler drives each LB from its stored state to its running state:
// - every committed write bumps the LB's config version; the LB's instance is `pending` until that version is applied;
// - work is serialized per LB and bursts are coalesced (Terraform sends three PUTs back to back): while an apply runs,
//   later writes only mark the LB dirty, and one more apply reads the newest snapshot;
// - LB lifecycle: to_create → creating → ready (or error); to_delete → instance removed → rows deleted (404). A
//   reconciler whose data plane does not carry the traffic while another process's does (`--dataplane none` beside a
//   HAProxy or agents process on PostgreSQL) leaves the lifecycle to that one: `ready` and a finished deletion mean
//   that a real data plane applied it (docs/scale-out.md).
import type { Logger } from 'pino';
import type { InstanceState } from '../domain/lbs.js';
import { unknownServerStats, type ServerStat } from '../domain/stats.js';
import type { Store } from '../store/store.js';
import { EventFeed } from './events.js';
import { finishMigration } from './migration.js';
import type { ApplyResult, DataPlanePort } from './port.js';

/** A new LB is first applied once its writes paused this long, or after NEW_LB_WAIT_MS. */
const NEW_LB_QUIET_MS = 50;
const NEW_LB_WAIT_MS = 1000;

interface LbWork {
  lbId: string;
  running: Promise<void> | null;
  dirty: boolean;
  state: InstanceState;
  appliedVersion: number;
  /** The config version last handed to the data plane: the one `state` is about. */
  triedVersion: number;
}

export class Reconciler {
  private readonly work = new Map<string, LbWork>();
  private closed = false;

  constructor(private readonly store: Store, private readonly dataPlane: DataPlanePort, private readonly log: Logger,
    readonly events: EventFeed = new EventFeed(),
    /** Whether this reconciler writes lifecycle statuses and finishes deletions now. */
    private readonly finishesLifecycles: () => Promise<boolean> = async () => true) {
    store.onChange((lbId) => this.changed(lbId));
    dataPlane.onInstanceDown((lbId, reason) => {
      const w = this.entry(lbId);
      this.setState(w, 'error', `instance down: ${reason}; restarting`);
      w.appliedVersion = -1;
      this.schedule(lbId);
    });
  }

  /** Brings every stored LB up to date (adopting running instances): at start, and when this process takes over lifecycles. */
  async start(): Promise<void> {
    for (const id of await this.store.allLbIds()) this.schedule(id);
  }

  instanceState(lbId: string): InstanceState {
    return this.entry(lbId).state;
  }

  /** The config version the LB's instance runs (0 before its first apply). */
  appliedVersion(lbId: string): number {
    return Math.max(0, this.work.get(lbId)?.appliedVersion ?? 0);
  }

  /** The config version the instance state is about (0 before the first apply). */
  triedVersion(lbId: string): number {
    return this.work.get(lbId)?.triedVersion ?? 0;
  }

  /** Applies the LB again although its config version did not change (an agent's LB moved or got a new peer node). */
  refresh(lbId: string): void {
    this.entry(lbId).appliedVersion = -1;
    this.schedule(lbId);
  }

  /**
   * Live statistics; while the LB's HAProxy does not run, every pool server reads stopped/unknown. Live reads feed the
   * event feed's server changes (an instance that does not run is reported as an instance change instead).
   */
  async stats(lbId: string): Promise<ServerStat[] | null> {
    const snap = await this.store.snapshot(lbId);
    if (!snap) return null;
    const live = await this.dataPlane.stats(snap);
    if (live) this.events.observeServers(lbId, live);
    return live ?? unknownServerStats(snap);
  }

  /** Resolves once everything scheduled so far for the LB has been applied (used by tests and shutdown). */
  async settled(lbId: string): Promise<void> {
    for (;;) {
      const w = this.work.get(lbId);
      if (!w?.running) return;
      await w.running;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.work.keys()].map((id) => this.settled(id)));
  }

  private entry(lbId: string): LbWork {
    let w = this.work.get(lbId);
    if (!w) {
      w = { lbId, running: null, dirty: false, appliedVersion: 0, triedVersion: 0, state: { status: 'pending', reason: null, updatedAt: new Date().toISOString() } };
      this.work.set(lbId, w);
    }
    return w;
  }

  private setState(w: LbWork, status: InstanceState['status'], reason: string | null): void {
    if (w.state.status === status && w.state.reason === reason) return;
    const previous = w.state.status;
    w.state = { status, reason, updatedAt: new Date().toISOString() };
    this.events.instanceChanged(w.lbId, previous, status, reason, w.state.updatedAt);
  }

  private changed(lbId: string): void {
    const w = this.entry(lbId);
    if (w.state.status !== 'error') this.setState(w, 'pending', null);
    this.schedule(lbId);
  }

  private schedule(lbId: string): void {
    if (this.closed) return;
    const w = this.entry(lbId);
    w.dirty = true;
    if (w.running) return;
    // Starting on the next turn lets the API answer first and folds writes made in the same turn into one apply.
    w.running = (async () => {
      await new Promise((r) => setImmediate(r));
      while (w.dirty && !this.closed) {
        w.dirty = false;
        try {
          await this.step(lbId, w);
        } catch (err) {
          this.log.error({ err, lbId }, 'reconcile failed');
          this.setState(w, 'error', (err as Error).message);
        }
      }
      w.running = null;
    })();
  }

  /** Waits until no write came for NEW_LB_QUIET_MS (at most NEW_LB_WAIT_MS); true if writes came meanwhile. */
  private async settle(w: LbWork): Promise<boolean> {
    const deadline = Date.now() + NEW_LB_WAIT_MS;
    let wrote = false;
    do {
      w.dirty = false;
      await new Promise((r) => setTimeout(r, NEW_LB_QUIET_MS));
      wrote ||= w.dirty;
    } while (w.dirty && Date.now() < deadline && !this.closed);
    w.dirty = false;
    return wrote;
  }

  private async step(lbId: string, w: LbWork): Promise<void> {
    const snap = await this.store.snapshot(lbId);
    if (!snap) {
      await this.dataPlane.remove(lbId);
      this.work.delete(lbId);
      return;
    }
    const { lb } = snap;
    const lifecycle = await this.finishesLifecycles();
    if (lb.status === 'to_delete' || lb.status === 'deleting') {
      await this.dataPlane.remove(lbId);
      if (lifecycle) await this.store.deleteLb(lbId, lb.releaseIpsOnDelete);
      this.work.delete(lbId);
      this.events.forget(lbId);
      return;
    }
    if (lb.status === 'to_create' && lifecycle) {
      await this.store.setLbStatus(lbId, 'creating');
      // A new LB's backends and frontends usually follow within milliseconds: one start instead of a start and a
      // reload per object (100 LBs created in a row started in 30 s, most of it reloads).
      if (await this.settle(w)) return this.step(lbId, w);
    }
    // Already applied: nothing to do, unless the lifecycle waits to be finished (it was another process's to finish
    // when this one applied).
    const inForce = w.appliedVersion === lb.configVersion && w.state.status === 'ready';
    if (inForce && lb.status !== 'to_create' && lb.status !== 'creating') return;
    w.triedVersion = lb.configVersion;
    const result: ApplyResult = inForce ? { ok: true } : await this.dataPlane.apply(snap);
    if (this.closed) return; // shutting down: an apply cut short says nothing about the LB
    if (result.ok) {
      w.appliedVersion = lb.configVersion;
      // A write that landed while we applied leaves the instance pending until the next pass.
      if (!w.dirty) this.setState(w, 'ready', null);
    } else {
      this.log.warn({ lbId, reason: result.reason }, 'apply refused');
      this.setState(w, 'error', result.reason);
    }
    if (!lifecycle) return;
    if (lb.status === 'to_create' || lb.status === 'creating') await this.store.setLbStatus(lbId, result.ok ? 'ready' : 'error');
    // A creation that failed (in agents mode: no node ran it in time) is ready once a later apply succeeds.
    else if (lb.status === 'error' && result.ok) await this.store.setLbStatus(lbId, 'ready');
    await finishMigration(this.store, lb, result.ok);
  }
}
