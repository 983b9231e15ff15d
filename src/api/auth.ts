// Authentication: every route needs `X-Auth-Token: <secret key>`, a UUID.
// - The admin key (FULCRUM_SECRET_KEY, or generated on first start) sees every project.
// - Project keys (`fulcrum keys create --project <uuid>`) see and change only their project. They live in the store,
//   hashed (SHA-256: the secrets are random UUIDs, see domain/keys.ts), and are looked up on every request with no cache,
//   so a key created or revoked by the CLI counts at once, without restarting `fulcrum serve`.
// Comparisons are of SHA-256 digests with timingSafeEqual; the store lookup is by digest, so its timing can only reveal
// something about a digest, which does not help to find a secret.
import { timingSafeEqual } from 'node:crypto';
import { hashSecretKey } from '../domain/keys.js';
import { isUuid } from '../domain/validation.js';
import type { Store } from '../store/store.js';
import { deniedAuthentication } from '../wire/errors.js';

export interface Principal {
  /** Projects this key may see; undefined for the admin key, which sees all. */
  projectIds?: string[];
  /** Who is calling, for the rate limit and the logs: `admin` or the key's access key (never the secret). */
  keyName: string;
}

export const ADMIN: Principal = { keyName: 'admin' };

export class Keys {
  private readonly adminHash: Buffer;

  constructor(adminSecretKey: string, private readonly store: Pick<Store, 'findApiKey'>) {
    this.adminHash = Buffer.from(hashSecretKey(adminSecretKey), 'hex');
  }

  /** The principal of a request's X-Auth-Token; throws 401 `denied_authentication` for a missing, malformed or unknown key. */
  async authenticate(token: string | string[] | undefined): Promise<Principal> {
    // A repeated header arrives as an array: refused like a malformed one.
    if (typeof token !== 'string' || !isUuid(token)) throw deniedAuthentication('invalid_argument');
    const hex = hashSecretKey(token);
    const given = Buffer.from(hex, 'hex');
    if (timingSafeEqual(given, this.adminHash)) return ADMIN;
    const key = await this.store.findApiKey(hex);
    if (key && timingSafeEqual(given, Buffer.from(key.secretHash, 'hex'))) {
      return { projectIds: [key.projectId], keyName: key.accessKey };
    }
    throw deniedAuthentication('not_found');
  }
}
