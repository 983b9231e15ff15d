// Sealing of certificates' PEM text (private key included) for the shared PostgreSQL store: AES-256-GCM under the
// operator's key (FULCRUM_PEM_KEY, or --pem-key-file), a random 96-bit nonce per sealing, and the certificate id as
// associated data, so a sealed PEM copied onto another certificate's row does not open. The sealed text names a key id
// (an HMAC of a fixed label under the key, which tells nothing of the key) so that a process with another key can say
// so instead of reporting a forgery. Keys being rotated out still open (never seal) what they sealed.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** A sealed PEM that cannot be opened here; its message names the certificate and, when it is the cause, the key. */
export class PemSealError extends Error {}

const keyIdOf = (key: Buffer): string => createHmac('sha256', key).update('fulcrum pem key id').digest('hex').slice(0, 16);

export class PemSealer {
  /** Identifies the key in sealed texts and messages (16 hex digits). */
  readonly keyId: string;
  /** Key id → key: the current key, and previous ones that still open what they sealed (a rotation). */
  private readonly openers: Map<string, Buffer>;

  constructor(private readonly key: Buffer, previous: Buffer[] = []) {
    for (const k of [key, ...previous]) {
      if (k.length !== KEY_BYTES) throw new Error(`a PEM sealing key has ${KEY_BYTES} bytes, not ${k.length}`);
    }
    this.keyId = keyIdOf(key);
    this.openers = new Map([...previous.map((k) => [keyIdOf(k), k] as const), [this.keyId, key]]);
  }

  /** How every text this sealer seals starts. */
  get prefix(): string {
    return `${VERSION}:${this.keyId}:`;
  }

  /** `v1:<key id>:<base64 of nonce, ciphertext and tag>`. */
  seal(certificateId: string, pem: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(certificateId, 'utf8'));
    const body = Buffer.concat([nonce, cipher.update(pem, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${this.prefix}${body.toString('base64')}`;
  }

  open(certificateId: string, sealed: string): string {
    const [version, keyId, b64, ...rest] = sealed.split(':');
    const body = Buffer.from(b64 ?? '', 'base64');
    if (version !== VERSION || rest.length || !/^[0-9a-f]{16}$/.test(keyId ?? '') || body.length < NONCE_BYTES + TAG_BYTES) {
      throw new PemSealError(`the stored PEM of certificate ${certificateId} is not a sealed PEM this Fulcrum reads`);
    }
    const key = this.openers.get(keyId);
    if (!key) {
      throw new PemSealError(`the stored PEM of certificate ${certificateId} was sealed under another FULCRUM_PEM_KEY `
        + `(key id ${keyId}; this process has key id ${this.keyId}): give every process the same key`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(certificateId, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new PemSealError(`the stored PEM of certificate ${certificateId} fails authentication under FULCRUM_PEM_KEY `
        + `(key id ${keyId}): it was altered, or sealed for another certificate`);
    }
  }
}

/**
 * The sealing key from FULCRUM_PEM_KEY (`env`) or the file of --pem-key-file: 32 bytes in base64 (e.g. the output of
 * `openssl rand -base64 32`); during a rotation, the keys it replaces (FULCRUM_PEM_KEY_PREVIOUS, comma-separated), which
 * only open. Null when no key is given; both sources at once, or a malformed key, is an error naming its source.
 */
export function readPemKey(env: string | undefined, file: string | undefined, previous?: string): PemSealer | null {
  if (env && file) throw new Error('give the PEM sealing key once: FULCRUM_PEM_KEY or --pem-key-file, not both');
  const [source, text] = file ? [`--pem-key-file ${file}`, readKeyFile(file)] : ['FULCRUM_PEM_KEY', env];
  if (!file && !text) {
    if (previous) throw new Error('FULCRUM_PEM_KEY_PREVIOUS is given without the current key (FULCRUM_PEM_KEY or --pem-key-file)');
    return null;
  }
  const olds = (previous ?? '').split(',').filter((k) => k.trim()).map((k) => decodeKey('FULCRUM_PEM_KEY_PREVIOUS', k));
  return new PemSealer(decodeKey(source, text ?? ''), olds);
}

function decodeKey(source: string, text: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== KEY_BYTES) {
    throw new Error(`${source}: expected ${KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
  }
  return key;
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`--pem-key-file ${file}: ${(e as Error).message}`);
  }
}
