// HAProxy object names derived from IDs and addresses only, never from user-chosen names, so they are always valid
// HAProxy identifiers and can be mapped back (stats) without a lookup table.
import { createHash } from 'node:crypto';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws unless `id` is usable in HAProxy names and as a directory name. */
export function checkId(kind: string, id: string): string {
  if (!ID_RE.test(id)) throw new Error(`${kind} id ${JSON.stringify(id)} is not usable in an HAProxy name`);
  return id;
}

export const frontendName = (frontendId: string): string => `fe_${checkId('frontend', frontendId)}`;
export const backendName = (backendId: string): string => `be_${checkId('backend', backendId)}`;
export const failoverBackendName = (backendId: string): string => `${backendName(backendId)}_failover`;
/** State-file lines and stick-table entries are matched by backend + server name, so the name is the address. */
export const serverName = (ip: string): string => `srv-${ip}`;
export const RESOLVERS_SECTION = 'sysdns';

/** The backend id behind a pool backend's section name; null for failover backends and anything else. */
export function backendIdOf(sectionName: string): string | null {
  if (!sectionName.startsWith('be_') || sectionName.endsWith('_failover')) return null;
  return sectionName.slice(3);
}

/** The frontend id behind a frontend's section name; null for anything else. */
export function frontendIdOf(sectionName: string): string | null {
  return sectionName.startsWith('fe_') ? sectionName.slice(3) : null;
}

export function ipOfServer(name: string): string | null {
  return name.startsWith('srv-') ? name.slice(4) : null;
}

/**
 * Key of the `dynamic` cookies. Derived from the backend id so it is the same in every process and after every reload
 * (the cookie value is a hash of key + server address + port); hashed so the raw id does not travel in cookies' input.
 */
export function dynamicCookieKey(backendId: string): string {
  return createHash('sha256').update(`fulcrum-cookie:${backendId}`).digest('hex').slice(0, 32);
}
