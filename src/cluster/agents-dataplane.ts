// The data plane of `fulcrum serve --dataplane agents`: the nodes run the LBs, so an apply here is waiting for them.
// apply(snapshot of config version V) resolves
// - ok once a live node placed for the LB reports V (or later) applied, its instance not in error;
// - not ok, with the nodes' reasons, once every live placed node reports an error about V (or later);
// - not ok after APPLY_WAIT_MS otherwise, saying what it waited for (not placed yet, no live node, a node still
//   applying): the LB reads `error`, never a silent `ready`, and a later report that settles it applies it again.
// Reports and placement changes arrive by NOTIFY (cluster tables); since a node going silent sends nothing, a wait also
// looks again every RECHECK_MS. Stats read unknown here, as with --dataplane none: the API reads the nodes' own (instances.ts).
import type { LbSnapshot } from '../domain/snapshot.js';
import { unknownServerStats, type ServerStat } from '../domain/stats.js';
import type { ApplyResult, DataPlanePort } from '../control/port.js';
import { NODE_DOWN_MS } from './instances.js';
import type { ClusterStore } from './types.js';

/** Long enough for a first start on a loaded node plus a placement round; Terraform's own waits are minutes. */
export const APPLY_WAIT_MS = 30_000;
/** How often a wait re-reads the tables without news: a node's silence is noticed within NODE_DOWN_MS plus this. */
const RECHECK_MS = 500;

type Verdict = { done: true; result: ApplyResult } | { done: false; waiting: string };

export class AgentsDataPlane implements DataPlanePort {
  /** Wake-ups of the applies and removals waiting on each LB. */
  private readonly waiting = new Map<string, Set<() => void>>();
  /** Notifications heard per LB: one that lands while a wait reads the tables makes it read again at once. */
  private readonly heard = new Map<string, number>();
  /** LBs whose last wait ended without a verdict: a report about them later asks for another apply. */
  private readonly unsettled = new Set<string>();
  private closed = false;

  constructor(private readonly cluster: ClusterStore, private readonly reapply: (lbId: string) => void,
    private readonly waitMs = APPLY_WAIT_MS) {}

  /** Starts listening to reports; call once before the first apply. */
  async start(): Promise<void> {
    await this.cluster.watch((lbId) => {
      this.heard.set(lbId, (this.heard.get(lbId) ?? 0) + 1);
      for (const wake of this.waiting.get(lbId) ?? []) wake();
      if (this.unsettled.delete(lbId)) this.reapply(lbId);
    });
  }

  async apply(snap: LbSnapshot): Promise<ApplyResult> {
    const lbId = snap.lb.id;
    const version = snap.lb.configVersion;
    const v = await this.waitFor(lbId, () => this.verdict(lbId, version));
    if (v.done) return v.result;
    this.unsettled.add(lbId);
    return { ok: false, reason: `no node applied config version ${version} within ${this.waitMs / 1000} s: ${v.waiting}` };
  }

  /** Resolves once no live node placed for the LB runs it (nodes that are gone are not waited for), or after the bound. */
  async remove(lbId: string): Promise<void> {
    this.unsettled.delete(lbId);
    await this.waitFor(lbId, async () => {
      const running = (await this.liveReports(lbId)).filter((r) => r.report && r.report.appliedVersion > 0).map((r) => r.node);
      return running.length ? { done: false, waiting: `running on ${running.join(', ')}` } : { done: true, result: { ok: true } };
    });
    this.heard.delete(lbId);
  }

  async stats(snap: LbSnapshot): Promise<ServerStat[]> {
    return unknownServerStats(snap);
  }

  /** Nothing runs here: the nodes restart their own instances. */
  onInstanceDown(): void {}

  async close(): Promise<void> {
    this.closed = true;
    this.heard.clear();
    for (const wakes of this.waiting.values()) for (const wake of wakes) wake();
  }

  private async waitFor(lbId: string, check: () => Promise<Verdict>): Promise<Verdict> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      if (this.closed) return { done: false, waiting: 'shutting down' };
      await this.cluster.watch().catch(() => undefined); // listens again if the connection dropped
      const before = this.heard.get(lbId);
      const v = await check();
      if (v.done || Date.now() >= deadline) return v;
      if (this.heard.get(lbId) !== before) continue;
      await new Promise<void>((resolve) => {
        const wakes = this.waiting.get(lbId) ?? new Set();
        this.waiting.set(lbId, wakes);
        const wake = () => {
          clearTimeout(timer);
          wakes.delete(wake);
          if (!wakes.size) this.waiting.delete(lbId);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(RECHECK_MS, deadline - Date.now()));
        wakes.add(wake);
      });
    }
  }

  private async verdict(lbId: string, version: number): Promise<Verdict> {
    const live = await this.liveReports(lbId);
    if (!live.length) return { done: false, waiting: 'no live node holds it (not placed yet, or every placed node is silent)' };
    const applied = live.find((r) => r.report && r.report.appliedVersion >= version && r.report.state.status !== 'error');
    if (applied) return { done: true, result: { ok: true } };
    const refusals = live.map((r) => (r.report?.state.status === 'error' && r.report.triedVersion >= version ? r : null));
    if (refusals.every((r) => r !== null)) {
      return { done: true, result: { ok: false, reason: refusals.map((r) => `node ${r!.node}: ${r!.report!.state.reason}`).join('; ') } };
    }
    return { done: false, waiting: live.map((r) => `node ${r.node}: ${r.report ? `${r.report.state.status}, runs version ${r.report.appliedVersion}` : 'no report yet'}`).join('; ') };
  }

  /** The LB's placed nodes that are live, each with its last report. */
  private async liveReports(lbId: string) {
    const [placements, nodes, reports] = await Promise.all([this.cluster.placementsOf(lbId), this.cluster.nodes(), this.cluster.reports(lbId)]);
    const live = new Set(nodes.filter((n) => n.ageMs < NODE_DOWN_MS).map((n) => n.name));
    return placements.filter((p) => live.has(p.node)).map((p) => ({ node: p.node, report: reports.find((r) => r.node === p.node) }));
  }
}
