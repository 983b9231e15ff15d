// Where certificates' PEMs (leaf, chain and private key) are kept:
// - files under the data dir (certificate-files.ts), which HAProxy's crt-lists name: what the HAProxy of this process
//   reads, and with the SQLite store the only copy;
// - with a shared store and a sealing key (FULCRUM_PEM_KEY), also one sealed row per certificate and PEM version
//   (pem-seal.ts), so that any process on the store — an agent, another `fulcrum serve` — can write the file for its
//   own HAProxy (materialize). The row is written before the certificate's document names the PEM's hash.
import type { Logger } from 'pino';
import { sha256, type Certificate } from '../domain/certificates.js';
import type { CertificateFiles } from './certificate-files.js';
import { PemSealError, type PemSealer } from './pem-seal.js';
import type { SealedPemStore, Store } from './store.js';

/** The shared store's sealed copies and the key they are sealed under. */
export interface SharedPems {
  rows: SealedPemStore;
  sealer: PemSealer;
}

/**
 * Sealed rows are swept no younger than this, whatever the caller asks: a create on another process writes its row
 * just before the certificate's own.
 */
const ROW_GRACE_MS = 60_000;

export class CertificatePems {
  /**
   * `writeFiles` false: this process runs no HAProxy and keeps PEMs in the shared store only (an API server of agents).
   */
  constructor(readonly files: CertificateFiles, readonly shared: SharedPems | null, private readonly writeFiles = true) {}

  /** The directory HAProxy reads the PEM files from. */
  get dir(): string {
    return this.files.dir;
  }

  /** Keeps a certificate's PEM (a new certificate, or a renewal): the sealed row first, then the local file. */
  async write(id: string, pem: string): Promise<void> {
    if (this.shared) await this.shared.rows.putSealedPem(id, sha256(pem), this.shared.sealer.seal(id, pem));
    if (this.writeFiles || !this.shared) await this.files.write(id, pem);
  }

  async remove(id: string): Promise<void> {
    await this.files.remove(id);
    await this.shared?.rows.deleteSealedPems(id);
  }

  /** Removes the files and sealed rows of certificates that no longer exist (see CertificateFiles.sweep). */
  async sweep(existing: Set<string>, graceMs = 0): Promise<void> {
    await this.files.sweep(existing, graceMs);
    await this.shared?.rows.sweepSealedPems(Math.max(graceMs, ROW_GRACE_MS));
  }

  /**
   * Seals the PEM files of certificates that have no sealed copy yet (received while no key was set, before an upgrade
   * to agents): each file that matches its certificate's hash. Returns how many were sealed.
   */
  async sealLocalFiles(certificates: Certificate[]): Promise<number> {
    if (!this.shared) return 0;
    let sealed = 0;
    for (const c of certificates) {
      const local = c.pemSha256 === null ? null : await this.files.read(c.id).catch(() => null);
      if (local === null || sha256(local) !== c.pemSha256 || (await this.shared.rows.sealedPem(c.id, c.pemSha256)) !== null) continue;
      await this.shared.rows.putSealedPem(c.id, c.pemSha256, this.shared.sealer.seal(c.id, local));
      sealed++;
    }
    return sealed;
  }

  /**
   * After a key rotation: seals again under the current key every row sealed under a previous one (which this process
   * must still be given, FULCRUM_PEM_KEY_PREVIOUS). Rows no key here opens are counted, not touched.
   */
  async resealUnderCurrentKey(): Promise<{ resealed: number; unreadable: number }> {
    const counts = { resealed: 0, unreadable: 0 };
    if (!this.shared) return counts;
    const { rows, sealer } = this.shared;
    for (const r of await rows.sealedPemsOutside(sealer.prefix)) {
      let pem: string;
      try {
        pem = sealer.open(r.certificateId, r.sealed);
      } catch {
        counts.unreadable++;
        continue;
      }
      await rows.putSealedPem(r.certificateId, r.pemSha256, sealer.seal(r.certificateId, pem));
      counts.resealed++;
    }
    return counts;
  }

  /**
   * Makes each certificate's PEM, as its document names it (`pemSha256`), a local file: a file that already holds it
   * stays; otherwise the sealed row is opened, checked against the hash, and written. Without a shared store a missing
   * file stays missing (HAProxy then refuses the config, naming it). Throws naming the certificate (and the key when
   * it is the cause).
   */
  async materialize(certificates: Certificate[]): Promise<void> {
    for (const c of certificates) {
      if (c.pemSha256 === null) continue;
      const local = await this.files.read(c.id).catch(() => null);
      if (!this.shared || (local !== null && sha256(local) === c.pemSha256)) continue;
      const sealed = await this.shared.rows.sealedPem(c.id, c.pemSha256);
      if (sealed === null) throw new PemSealError(`the PEM of certificate ${c.id} is not in the store (sealed copies are kept only with FULCRUM_PEM_KEY set on the process that received it)`);
      const pem = this.shared.sealer.open(c.id, sealed);
      if (sha256(pem) !== c.pemSha256) throw new PemSealError(`the stored PEM of certificate ${c.id} does not match its hash`);
      await this.files.write(c.id, pem);
    }
  }
}

function isSealedPemStore(store: Store): store is Store & SealedPemStore {
  return 'putSealedPem' in store;
}

/**
 * How `fulcrum serve` keeps PEMs, by its store, data plane and key (docs/decisions.md, certificates):
 * - SQLite: files only, as always (a key given is not used);
 * - PostgreSQL with a key: sealed rows, and files only when this process runs HAProxy;
 * - PostgreSQL without a key: files only, with a warning (another process cannot run a certificate received here),
 *   and refused with `--dataplane agents`, whose nodes read PEMs from the store only.
 */
export function serveCertificatePems(cfg: { store: string | null; dataplane: string; pemSealer?: PemSealer | null }, store: Store,
  files: CertificateFiles, log: Pick<Logger, 'warn'>): CertificatePems {
  const sealer = cfg.pemSealer ?? null;
  if (!cfg.store || !isSealedPemStore(store)) {
    if (sealer) log.warn('FULCRUM_PEM_KEY is not used with the SQLite store: certificates\' PEMs stay files in the data dir');
    return new CertificatePems(files, null);
  }
  if (!sealer) {
    if (cfg.dataplane === 'agents') {
      throw new Error('--dataplane agents needs FULCRUM_PEM_KEY (or --pem-key-file): the agents read certificates\' PEMs from the store, '
        + 'sealed under that key (32 bytes in base64, the same on every process; docs/scale-out.md)');
    }
    log.warn('FULCRUM_PEM_KEY is not set: certificates\' PEMs stay in this process\'s data dir, and a certificate created through '
      + 'another API server cannot be served here (docs/scale-out.md)');
    return new CertificatePems(files, null);
  }
  return new CertificatePems(files, { rows: store, sealer }, cfg.dataplane === 'haproxy');
}
