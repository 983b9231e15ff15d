// Project-scoped API keys. A key is a pair like Scaleway's: a public access key (`SCW` + 17 characters, to name the key
// in `fulcrum keys list|revoke`) and a secret key (a random UUID, the only thing clients send, as X-Auth-Token).
// Only a SHA-256 hash of the secret is stored: the secret is 122 random bits, so a slow password KDF would add nothing
// (there is no dictionary to guess from) and would cost every request.
import { createHash, randomInt } from 'node:crypto';

export interface ApiKey {
  id: string;
  /** Public name of the key, e.g. `SCWZ3Q7R0B5N8K2M4P6T`. */
  accessKey: string;
  /** Hex SHA-256 of the lower-case secret key. */
  secretHash: string;
  /** The one project this key sees and changes. */
  projectId: string;
  description: string;
  createdAt: string;
  /** When the key was revoked; a revoked key authenticates nothing. */
  revokedAt: string | null;
}

/** The stored form of a secret key. UUIDs are case-insensitive, so the lower-case text is hashed. */
export function hashSecretKey(secret: string): string {
  return createHash('sha256').update(secret.toLowerCase()).digest('hex');
}

const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A new access key: `SCW` and 17 random upper-case letters or digits, the shape the Scaleway tools expect. */
export function newAccessKey(): string {
  let s = 'SCW';
  for (let i = 0; i < 17; i++) s += ACCESS_KEY_ALPHABET[randomInt(ACCESS_KEY_ALPHABET.length)];
  return s;
}

export function isAccessKey(s: string): boolean {
  return /^SCW[A-Z0-9]{17}$/.test(s);
}
