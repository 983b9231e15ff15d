// The PEM files of certificates (leaf, chain and private key), one per certificate under <dataDir>/certificates/:
// directory 0700, files 0600, written atomically. HAProxy's crt-lists name these files; nothing else reads them, and
// their content never goes through the API, the logs or the database.
import { mkdirSync, readdirSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { certificateFileName } from '../domain/certificates.js';

export class CertificateFiles {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = certificatesDir(dataDir);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  path(id: string): string {
    return join(this.dir, certificateFileName(id));
  }

  async write(id: string, pem: string): Promise<void> {
    const tmp = `${this.path(id)}.tmp`;
    await writeFile(tmp, pem, { mode: 0o600 });
    await rename(tmp, this.path(id));
  }

  read(id: string): Promise<string> {
    return readFile(this.path(id), 'utf8');
  }

  async remove(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }

  /** Removes the files of certificates that no longer exist (their LB was deleted). */
  async sweep(existing: Set<string>): Promise<void> {
    for (const f of readdirSync(this.dir)) {
      const id = f.replace(/\.pem(\.tmp)?$/, '');
      if (!existing.has(id)) await rm(join(this.dir, f), { force: true });
    }
  }
}

export function certificatesDir(dataDir: string): string {
  return join(resolve(dataDir), 'certificates');
}
