// A data plane whose applies first make the PEMs of the certificates the LB's frontends use local files, from the
// shared store (store/certificate-pems.ts). It wraps the HAProxy data plane wherever the certificate may have been
// received by another process: agents, and `fulcrum serve --dataplane haproxy` on a shared store. A PEM that cannot be
// had (another key, a missing or altered row) fails the apply with that reason: the LB reads `error`, nothing crashes.
// A renewal (same id, new PEM hash) rewrites the file before the apply, which swaps it at run time (tls-runtime.ts).
import type { LbSnapshot } from '../domain/snapshot.js';
import type { ServerStat } from '../domain/stats.js';
import type { CertificatePems } from '../store/certificate-pems.js';
import type { ApplyResult, DataPlanePort } from './port.js';

export class PemDataPlane implements DataPlanePort {
  /** LB id → the certificates its frontends use, as of its last apply here. */
  private readonly used = new Map<string, Set<string>>();
  /** PEM file writes and prunes run one at a time, so a prune never takes a file an apply just wrote. */
  private files: Promise<unknown> = Promise.resolve();
  readonly setChallenge?: (lbId: string, token: string, keyAuthorization: string | null) => Promise<void>;

  /** `prune`: remove the PEM files no LB here uses (an agent's own certificate dir; not serve's, which holds them all). */
  constructor(private readonly inner: DataPlanePort, private readonly pems: CertificatePems, private readonly prune: boolean) {
    if (inner.setChallenge) this.setChallenge = inner.setChallenge.bind(inner);
  }

  async apply(snapshot: LbSnapshot): Promise<ApplyResult> {
    const ids = new Set(snapshot.frontends.flatMap((f) => f.certificateIds));
    try {
      await this.exclusive(() => {
        this.used.set(snapshot.lb.id, ids);
        return this.pems.materialize((snapshot.certificates ?? []).filter((c) => ids.has(c.id)));
      });
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
    const result = await this.inner.apply(snapshot);
    await this.pruneUnused();
    return result;
  }

  async remove(lbId: string): Promise<void> {
    await this.inner.remove(lbId);
    this.used.delete(lbId);
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
