// Authentication: every route needs `X-Auth-Token: <secret key>`. The admin key (FULCRUM_SECRET_KEY, or generated on
// first start) sees every project.
import { timingSafeEqual } from 'node:crypto';
import { deniedAuthentication } from '../wire/errors.js';
import { isUuid } from '../domain/validation.js';

export interface Principal {
  /** Projects this key may see; undefined for the admin key, which sees all. */
  projectIds?: string[];
}

export class Keys {
  private readonly admin: Buffer;

  constructor(adminSecretKey: string) {
    this.admin = Buffer.from(adminSecretKey.toLowerCase());
  }

  authenticate(token: string | string[] | undefined): Principal {
    if (typeof token !== 'string' || token === '') throw deniedAuthentication('invalid_argument');
    if (!isUuid(token)) throw deniedAuthentication('invalid_argument');
    const given = Buffer.from(token.toLowerCase());
    if (given.length === this.admin.length && timingSafeEqual(given, this.admin)) return {};
    throw deniedAuthentication('not_found');
  }
}
