// The HAProxy data plane of all load balancers of this node (implements the reconciler's DataPlanePort): one
// LbInstance (one HAProxy master-worker) per LB id, and a watchdog that reports a master that died so the control plane
// can mark the LB and apply it again (which restarts it).
import type { ApplyResult, DataPlanePort } from '../control/port.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import type { ServerStat, ServerState } from '../domain/stats.js';
import { detectCapabilities } from './capabilities.js';
import { inertSettings } from './inert-settings.js';
import { LbInstance, type InstanceOptions } from './instance.js';
import { uniquePool } from './server-ids.js';
import { cli } from './runtime.js';
import { parseServersState, type ServerStats } from './stats.js';

export interface DataPlaneOptions extends InstanceOptions {
  /** Each LB lives in <dataDir>/lbs/<lbId>/ (resolved to an absolute path). */
  dataDir: string;
  /** Watchdog period. Default 1000 ms. */
  watchdogIntervalMs?: number;
  /** Where settings without effect are reported at each apply (inert-settings.ts). */
  log?: { warn(obj: object, msg: string): void };
}

export type DeathListener = (lbId: string, reason: string) => void;

/** How far apart two reported change times of a server in the same state may be and still be the same change. */
const SAME_CHANGE_MS = 1000;

/** A server's state and change time as reported, the change time as read, and when. */
interface Reported {
  state: ServerState;
  at: number;
  raw: number;
  seenAt: number;
}

/** Bound of one stats read on the worker's admin socket. */
const ADMIN_READ_TIMEOUT_MS = 2000;

/**
 * `show servers state` of the LB's worker, read on its admin socket: that socket answers all through a reload (the old
 * worker until the new one takes it over), while the master socket answers nothing while the master re-executes
 * (measured: a third to a half of the reads of the second after a reload failed), which made the stats of every
 * server vanish during reloads. The master socket remains the fallback.
 */
async function readServersState(i: LbInstance): Promise<ServerStats[]> {
  const text = await cli(i.proc.paths.adminSock, 'show servers state', ADMIN_READ_TIMEOUT_MS).catch(() => '');
  // An answer without its header line is an error message (or nothing): ask the master.
  return text.split('\n').some((l) => l.startsWith('# ')) ? parseServersState(text) : i.stats();
}

/** Looks at a master that seems gone this many times, ALIVE_RECHECK_MS apart, before it counts as not running. */
const ALIVE_CHECKS = 5;
const ALIVE_RECHECK_MS = 20;

/**
 * True when the LB's master runs. During a reload the master re-executes itself, and for a moment its command line
 * (by which it is recognized) cannot be read: a stats read in that moment would report no server at all.
 */
async function aliveSoon(i: LbInstance): Promise<boolean> {
  for (let n = 1; ; n++) {
    if (i.isAlive()) return true;
    if (n >= ALIVE_CHECKS) return false;
    await new Promise((r) => setTimeout(r, ALIVE_RECHECK_MS));
  }
}

export class HaproxyDataPlane implements DataPlanePort {
  private readonly instances = new Map<string, LbInstance>();
  private readonly reportedDead = new Set<string>();
  private readonly listeners: DeathListener[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Per LB, per `<backend id> <ip>`: what was read and reported last (see steady()). */
  private readonly reported = new Map<string, Map<string, Reported>>();
  /** Per LB: when its last apply started and ended, Infinity while it runs (a reload shifts change times, see steady()). */
  private readonly applies = new Map<string, { start: number; end: number }>();

  constructor(private readonly opts: DataPlaneOptions) {
    // Detected once, at start: what the installed HAProxy can serve.
    this.opts = { ...opts, quic: opts.quic ?? detectCapabilities(opts.bin).quic };
  }

  /** The instance of an LB, created on first use (it adopts a running master before its first operation). */
  instance(lbId: string): LbInstance {
    let i = this.instances.get(lbId);
    if (!i) {
      i = new LbInstance(lbId, this.opts.dataDir, this.opts);
      this.instances.set(lbId, i);
    }
    return i;
  }

  async apply(snapshot: LbSnapshot): Promise<ApplyResult> {
    const start = Date.now();
    this.applies.set(snapshot.lb.id, { start, end: Infinity }); // in progress
    const result = await this.instance(snapshot.lb.id).apply(snapshot).finally(() => {
      this.applies.set(snapshot.lb.id, { start, end: Date.now() });
    });
    if (result.ok) this.reportedDead.delete(snapshot.lb.id);
    const inert = result.ok ? inertSettings(snapshot, this.opts.quic ?? false) : [];
    if (inert.length) this.opts.log?.warn({ lbId: snapshot.lb.id, settings: inert }, 'accepted settings without effect on this data plane');
    return result;
  }

  setChallenge(lbId: string, token: string, keyAuthorization: string | null): Promise<void> {
    return this.instance(lbId).challenge(token, keyAuthorization);
  }

  /** Stops the LB's HAProxy and deletes its files. */
  async remove(lbId: string): Promise<void> {
    await this.instance(lbId).stop({ removeFiles: true });
    this.instances.delete(lbId);
    this.reported.delete(lbId);
    this.applies.delete(lbId);
    this.reportedDead.delete(lbId);
  }

  /** Takes over the running masters of these LBs (after a control-plane restart); the map says which ones run. */
  async adoptAll(lbIds: string[]): Promise<Map<string, boolean>> {
    const found = await Promise.all(lbIds.map(async (id) => [id, await this.instance(id).adopt()] as const));
    return new Map(found);
  }

  /** Raw per-server state of a running LB (pool servers only). */
  async serverStats(lbId: string): Promise<ServerStats[]> {
    return this.steady(lbId, await readServersState(this.instance(lbId)));
  }

  /**
   * One entry per pool server of the snapshot; null when the LB's HAProxy does not run. A server the worker does not
   * have yet (change still being applied) is reported stopped/unknown.
   */
  async stats(snapshot: LbSnapshot): Promise<ServerStat[] | null> {
    const i = this.instances.get(snapshot.lb.id);
    if (!i || !(await aliveSoon(i))) return null;
    const read = await readServersState(i).catch(() => null); // e.g. no worker answers
    if (!read) return null;
    const raw = this.steady(snapshot.lb.id, read);
    const live = new Map(raw.map((s) => [`${s.backendId} ${s.ip}`, s]));
    return snapshot.backends.flatMap((b) => uniquePool(b.pool).map((ip): ServerStat => {
      const s = live.get(`${b.id} ${ip}`);
      return { instanceId: snapshot.lb.instanceId, backendId: b.id, ip, serverState: s?.serverState ?? 'stopped',
        serverStateChangedAt: s ? s.changedAt.toISOString() : null, lastHealthCheckStatus: s?.lastHealthCheckStatus ?? 'unknown' };
    }));
  }

  /**
   * Keeps server_state_changed_at steady between transitions. HAProxy answers whole seconds since the last change, and
   * turned into a date a change can move without a transition, in two ways:
   * - HAProxy's clock drifts from the wall clock by a fraction of a second on a busy machine (it takes a stall of its
   *   event loop for a time jump and absorbs it): one change reads one second apart from one read to the next;
   * - a reload carries the seconds since the change in the state file, and the new worker counts them from its own
   *   start: the change moves later by the time the reload took (seconds on a loaded machine).
   * So, in the same state, a change read within a second of the previous read, or later by at most the duration of an
   * apply made since, is the same change: the earlier report stands. A real transition changes the state, or moves
   * the time by more.
   */
  private steady(lbId: string, stats: ServerStats[]): ServerStats[] {
    const before = this.reported.get(lbId);
    const apply = this.applies.get(lbId);
    const now = Date.now();
    const next = new Map<string, Reported>();
    const out = stats.map((s) => {
      const key = `${s.backendId} ${s.ip}`;
      const prev = before?.get(key);
      const raw = s.changedAt.getTime();
      let at = raw;
      if (prev && prev.state === s.serverState) {
        const moved = raw - prev.raw;
        const drift = Math.abs(moved) <= SAME_CHANGE_MS;
        const reload = apply !== undefined && apply.end >= prev.seenAt && moved > 0
          && moved <= Math.min(apply.end, now) - apply.start + SAME_CHANGE_MS;
        if (drift || reload) at = prev.at;
      }
      next.set(key, { state: s.serverState, at, raw, seenAt: now });
      return at === raw ? s : { ...s, changedAt: new Date(at) };
    });
    this.reported.set(lbId, next);
    return out;
  }

  isAlive(lbId: string): boolean {
    return this.instances.get(lbId)?.isAlive() ?? false;
  }

  /** Registers a listener for masters that died on their own; the first one starts the watchdog. */
  onInstanceDown(listener: DeathListener): void {
    this.listeners.push(listener);
    if (!this.timer) {
      this.timer = setInterval(() => this.watch(), this.opts.watchdogIntervalMs ?? 1000);
      this.timer.unref();
    }
  }

  /** Stops watching. HAProxy processes keep running: they outlive the control plane on purpose. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Reports, once until its next successful apply, each LB that should run and has no master. Instances busy with an
   * operation are skipped: a start, reload or stop in progress is not a death.
   */
  private watch(): void {
    for (const [id, i] of this.instances) {
      if (!i.shouldRun || i.busy || this.reportedDead.has(id) || i.isAlive()) continue;
      this.reportedDead.add(id);
      i.shouldRun = false;
      for (const l of this.listeners) l(id, `HAProxy of load balancer ${id} is not running`);
    }
  }
}
