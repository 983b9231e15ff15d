// Let's Encrypt certificates through ACME, as a job beside the reconciler (never inside a request):
// - a pending certificate gets an order; while it runs the certificate is `orderActive`, which makes the LB answer
//   HTTP-01 on port 80 (its port-80 HTTP frontend, or a temporary listener) from a map the runtime API fills;
// - issued: the PEM is written (0600), the certificate turns `ready` with fingerprint and validity, and is renewed
//   without any API call once a third of its lifetime is left; the data plane swaps a renewed PEM at run time;
// - refused: `error` with the ACME server's own reason in status_details (a failed renewal keeps the certificate
//   `ready`, since it still serves, and retries later).
// The ACME account key lives in <dataDir>/acme/ and is reused. The challenge is not checked locally first: the names
// need not resolve from this machine, only from the ACME server. The job also removes the PEM files of certificates
// that went with their LB.
import { mkdir, readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type acme from 'acme-client';
import type { Logger } from 'pino';
import { parseCustomChain, sha256, type Certificate } from '../domain/certificates.js';
import { writeAtomic } from '../dataplane/haproxy.js';
import type { CertificatePems } from '../store/certificate-pems.js';
import type { Store } from '../store/store.js';
import type { DataPlanePort } from './port.js';

export interface AcmeOptions {
  directoryUrl: string;
  email: string | null;
  /** Extra CA certificates (PEM file) trusted for the ACME server's own HTTPS. */
  caFile: string | null;
  dataDir: string;
  /** How often due orders and renewals are looked for. Default 5 s. */
  tickMs?: number;
}

/** acme-client and what it brings (axios, node-forge) cost about 0.4 s of CPU to load: loaded when an order first runs. */
let acmeModule: Promise<typeof acme> | null = null;
const loadAcme = (): Promise<typeof acme> => (acmeModule ??= import('acme-client').then((m) => m.default));

/** A renewal that failed is tried again after this long (or sooner, when less lifetime is left). */
const RENEWAL_RETRY_MS = 15 * 60_000;
/** How often files of deleted LBs' certificates are removed, and how old a file without a row must be. */
const SWEEP_GRACE_MS = 60_000;

export class AcmeJob {
  private readonly running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private client: Promise<acme.Client> | null = null;
  private ticking = false;

  /** `challenges`: the data plane, or with a shared store the store (store-challenges.ts), that serves HTTP-01 answers. */
  constructor(private readonly store: Store, private readonly challenges: Pick<DataPlanePort, 'setChallenge'>, private readonly files: CertificatePems,
    /** Resolves once the LB's data plane runs what is stored now (the reconciler). */
    private readonly settled: (lbId: string) => Promise<void>, private readonly opts: AcmeOptions, private readonly log: Logger) {}

  async start(): Promise<void> {
    // Files of certificates deleted with their LB while the process was down.
    await this.files.sweep(new Set((await this.store.allCertificates()).map((c) => c.id)));
    this.sweeper = setInterval(() => {
      void this.store.allCertificates().then((all) => this.files.sweep(new Set(all.map((c) => c.id)), SWEEP_GRACE_MS))
        .catch((err) => this.log.warn({ err }, 'sweeping certificate files failed'));
    }, SWEEP_GRACE_MS);
    this.sweeper.unref();
  }

  /** Orders and renewals run in one process of a deployment (store/leader.ts): this one, from now on. */
  lead(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poke(), this.opts.tickMs ?? 5000);
    this.timer.unref();
    this.poke();
  }

  /** Another process runs orders from now on; resolves once those in flight here ended. */
  async stepDown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled(this.running.values());
  }

  /** Looks for due work now (a certificate was just created); in another process than the leader, the leader's next tick does. */
  poke(): void {
    setImmediate(() => { void this.tick(); });
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.stepDown();
  }

  private async tick(): Promise<void> {
    if (this.ticking || !this.timer) return;
    this.ticking = true;
    try {
      const now = Date.now();
      for (const c of await this.store.allCertificates()) {
        if (c.type !== 'letsencrypt' || this.running.has(c.id)) continue;
        const due = c.status === 'pending' || (c.status === 'ready' && c.nextOrderAt !== null && Date.parse(c.nextOrderAt) <= now);
        if (!due) continue;
        const run = this.order(c).catch((err) => this.log.error({ err, certificateId: c.id }, 'ACME order bookkeeping failed'))
          .finally(() => this.running.delete(c.id));
        this.running.set(c.id, run);
      }
    } catch (err) {
      this.log.error({ err }, 'ACME round failed');
    } finally {
      this.ticking = false;
    }
  }

  /** The ACME account, created (or found again, same key) on first use; the key is made once and kept 0600. */
  private account(): Promise<acme.Client> {
    this.client ??= (async () => {
      const acme = await loadAcme();
      if (this.opts.caFile) {
        // acme-client talks through its own axios instance: the extra CA goes there, beside the system roots.
        acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, await readFile(this.opts.caFile, 'utf8')] });
      }
      const dir = join(this.opts.dataDir, 'acme');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const keyFile = join(dir, 'account-key.pem');
      let accountKey = await readFile(keyFile, 'utf8').catch(() => null);
      if (!accountKey) {
        accountKey = (await acme.crypto.createPrivateEcdsaKey()).toString();
        await writeAtomic(keyFile, accountKey);
      }
      const client = new acme.Client({ directoryUrl: this.opts.directoryUrl, accountKey });
      await client.createAccount({ termsOfServiceAgreed: true, ...(this.opts.email ? { contact: [`mailto:${this.opts.email}`] } : {}) });
      return client;
    })();
    // A failure (server down) is not remembered: the next order tries again.
    this.client.catch(() => { this.client = null; });
    return this.client;
  }

  /** Applies `patch` to the certificate as stored (a rename may have happened meanwhile); false if it is gone. */
  private async patch(id: string, patch: Partial<Certificate>): Promise<boolean> {
    return (await this.store.changeCertificate(id, (cur) => ({ ...cur, ...patch, updatedAt: new Date().toISOString() }))) !== null;
  }

  private async order(c: Certificate): Promise<void> {
    const renewal = c.status === 'ready';
    if (!(await this.patch(c.id, { orderActive: true }))) return;
    try {
      // Port 80 answers HTTP-01 once the LB runs with the order active (a temporary listener may need a reload).
      await this.settled(c.lbId);
      const setChallenge = this.challenges.setChallenge?.bind(this.challenges);
      if (!setChallenge) throw new Error('this Fulcrum runs without a data plane (--dataplane none): nothing can answer HTTP-01');
      const client = await this.account();
      const acme = await loadAcme();
      const [key, csr] = await acme.crypto.createCsr({ commonName: c.commonName, altNames: [c.commonName, ...c.subjectAlternativeName] },
        await acme.crypto.createPrivateEcdsaKey());
      const chain = await client.auto({
        csr, email: this.opts.email ?? undefined, termsOfServiceAgreed: true, challengePriority: ['http-01'],
        skipChallengeVerification: true,
        challengeCreateFn: (_authz, ch, keyAuthorization) => setChallenge(c.lbId, ch.token, keyAuthorization),
        challengeRemoveFn: (_authz, ch) => setChallenge(c.lbId, ch.token, null),
      });
      const issued = parseCustomChain(`${chain.toString()}\n${key.toString()}`);
      await this.files.write(c.id, issued.pem);
      const from = Date.parse(issued.notValidBefore);
      const to = Date.parse(issued.notValidAfter);
      const stored = await this.patch(c.id, {
        status: 'ready', statusDetails: null, fingerprint: issued.sha1, notValidBefore: issued.notValidBefore,
        notValidAfter: issued.notValidAfter, pemSha256: sha256(issued.pem), orderActive: false,
        nextOrderAt: new Date(to - (to - from) / 3).toISOString(),
      });
      if (!stored) await this.files.remove(c.id); // deleted while the order ran
      this.log.info({ certificateId: c.id, renewal, notValidAfter: issued.notValidAfter }, 'certificate issued');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.log.warn({ certificateId: c.id, renewal, reason }, 'ACME order failed');
      const left = c.notValidAfter ? Date.parse(c.notValidAfter) - Date.now() : 0;
      await this.patch(c.id, renewal
        ? { orderActive: false, statusDetails: null, nextOrderAt: new Date(Date.now() + Math.min(RENEWAL_RETRY_MS, Math.max(1000, left / 10))).toISOString() }
        : { orderActive: false, status: 'error', statusDetails: reason || 'the ACME order failed' });
    }
  }
}
