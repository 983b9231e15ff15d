// Sealing of certificates' PEM text (private key included) for the shared PostgreSQL store: AES-256-GCM under the
// operator's key (FULCRUM_PEM_KEY, or --pem-key-file), a random 96-bit nonce per sealing, and the certificate id as
// associated data, so a sealed PEM copied onto another certificate's row does not open. The sealed text names a key id
// (an HMAC of a fixed label under the key, which tells nothing of the key) so that a process with another key can say
// so instead of reporting a forgery.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** A sealed PEM that cannot be opened here; its message names the certificate and, when it is the cause, the key. */
export class PemSealError extends Error {}

export class PemSealer {
  /** Identifies the key in sealed texts and messages (16 hex digits). */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`a PEM sealing key has ${KEY_BYTES} bytes, not ${key.length}`);
    this.keyId = createHmac('sha256', key).update('fulcrum pem key id').digest('hex').slice(0, 16);
  }

  /** `v1:<key id>:<base64 of nonce, ciphertext and tag>`. */
  seal(certificateId: string, pem: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(certificateId, 'utf8'));
    const body = Buffer.concat([nonce, cipher.update(pem, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}:${this.keyId}:${body.toString('base64')}`;
  }

  open(certificateId: string, sealed: string): string {
    const [version, keyId, b64, ...rest] = sealed.split(':');
    const body = Buffer.from(b64 ?? '', 'base64');
    if (version !== VERSION || rest.length || !/^[0-9a-f]{16}$/.test(keyId ?? '') || body.length < NONCE_BYTES + TAG_BYTES) {
      throw new PemSealError(`the stored PEM of certificate ${certificateId} is not a sealed PEM this Fulcrum reads`);
    }
    if (keyId !== this.keyId) {
      throw new PemSealError(`the stored PEM of certificate ${certificateId} was sealed under another FULCRUM_PEM_KEY `
        + `(key id ${keyId}; this process has key id ${this.keyId}): give every process the same key`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, body.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(certificateId, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new PemSealError(`the stored PEM of certificate ${certificateId} fails authentication under FULCRUM_PEM_KEY `
        + `(key id ${this.keyId}): it was altered, or sealed for another certificate`);
    }
  }
}

/**
 * The sealing key from FULCRUM_PEM_KEY (`env`) or the file of --pem-key-file: 32 bytes in base64 (e.g. the output of
 * `openssl rand -base64 32`). Null when neither is given; both at once, or a malformed key, is an error naming its source.
 */
export function readPemKey(env: string | undefined, file: string | undefined): PemSealer | null {
  if (env && file) throw new Error('give the PEM sealing key once: FULCRUM_PEM_KEY or --pem-key-file, not both');
  const [source, text] = file ? [`--pem-key-file ${file}`, readKeyFile(file)] : ['FULCRUM_PEM_KEY', env];
  if (!file && !text) return null;
  const trimmed = (text ?? '').trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== KEY_BYTES) {
    throw new Error(`${source}: expected ${KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
  }
  return new PemSealer(key);
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`--pem-key-file ${file}: ${(e as Error).message}`);
  }
}
