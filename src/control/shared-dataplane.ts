// The HAProxy data plane of a process on a shared store (an agent, or `fulcrum serve --dataplane haproxy` on
// PostgreSQL), where what an LB needs beside its config may come from another process:
// - before an apply, the PEMs of the certificates its frontends use become local files, from their sealed copies in
//   the store (store/certificate-pems.ts). A PEM that cannot be had (another key, a missing or altered row) fails the
//   apply with that reason: the LB reads `error`, nothing crashes. A renewal (same id, new PEM hash) rewrites the file
//   before the apply, which swaps it at run time (tls-runtime.ts);
// - after an apply, the HTTP-01 answers the snapshot carries (`challenges`, set by whichever process runs the ACME
//   order) are set in, or removed from, the LB's challenge map.
import type { AcmeChallenge, LbSnapshot } from '../domain/snapshot.js';
import type { ServerStat } from '../domain/stats.js';
import type { CertificatePems } from '../store/certificate-pems.js';
import type { ApplyResult, DataPlanePort } from './port.js';

type ChallengeServing = DataPlanePort & Required<Pick<DataPlanePort, 'setChallenge'>>;

export class SharedStoreDataPlane implements DataPlanePort {
  /** LB id → the certificates its frontends use, as of its last apply here. */
  private readonly used = new Map<string, Set<string>>();
  /** LB id → token → key authorization: the answers set in its HAProxy by this process. */
  private readonly answers = new Map<string, Map<string, string>>();
  /** PEM file writes and prunes run one at a time, so a prune never takes a file an apply just wrote. */
  private files: Promise<unknown> = Promise.resolve();

  /** `prune`: remove the PEM files no LB here uses (an agent's own certificate dir; not serve's, which holds them all). */
  constructor(private readonly inner: ChallengeServing, private readonly pems: CertificatePems, private readonly prune: boolean) {}

  async apply(snapshot: LbSnapshot): Promise<ApplyResult> {
    const ids = new Set(snapshot.frontends.flatMap((f) => f.certificateIds));
    try {
      await this.exclusive(() => {
        this.used.set(snapshot.lb.id, ids);
        return this.pems.materialize((snapshot.certificates ?? []).filter((c) => ids.has(c.id)));
      });
    } catch (e) {
      return { ok: false, reason: message(e) };
    }
    const result = await this.inner.apply(snapshot);
    await this.pruneUnused();
    if (!result.ok) return result;
    return this.serveChallenges(snapshot.lb.id, snapshot.challenges ?? []).then(() => result,
      (e: unknown) => ({ ok: false, reason: `setting ACME HTTP-01 answers: ${message(e)}` }));
  }

  async remove(lbId: string): Promise<void> {
    await this.inner.remove(lbId);
    this.used.delete(lbId);
    this.answers.delete(lbId);
    await this.pruneUnused();
  }

  stats(snapshot: LbSnapshot): Promise<ServerStat[] | null> {
    return this.inner.stats(snapshot);
  }

  onInstanceDown(listener: (lbId: string, reason: string) => void): void {
    this.inner.onInstanceDown(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Makes the LB's challenge map hold exactly `wanted` (of what this process set; see docs/decisions.md, ACME). */
  private async serveChallenges(lbId: string, wanted: AcmeChallenge[]): Promise<void> {
    const served = this.answers.get(lbId) ?? new Map<string, string>();
    this.answers.set(lbId, served);
    const keep = new Set(wanted.map((c) => c.token));
    for (const c of wanted) {
      if (served.get(c.token) === c.keyAuthorization) continue;
      await this.inner.setChallenge(lbId, c.token, c.keyAuthorization);
      served.set(c.token, c.keyAuthorization);
    }
    for (const token of [...served.keys()].filter((t) => !keep.has(t))) {
      await this.inner.setChallenge(lbId, token, null);
      served.delete(token);
    }
  }

  private async pruneUnused(): Promise<void> {
    if (!this.prune) return;
    // A file a failed prune leaves behind goes at the next one.
    await this.exclusive(() => this.pems.files.sweep(new Set([...this.used.values()].flatMap((s) => [...s])))).catch(() => undefined);
  }

  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.files.then(fn, fn);
    this.files = run.catch(() => undefined);
    return run;
  }
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
