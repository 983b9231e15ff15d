// The global-section lines that size an LB's HAProxy: its type's resource profile (domain/lb-types.ts).
import { DEFAULT_LB_TYPE, findLbType, profileOf } from '../domain/lb-types.js';
import type { Lb } from '../domain/lbs.js';
import { safeCount } from './tokens.js';

/** maxconn of the default offer: what an HAProxy of this deployment is sized for unless its type says more. */
export const DEFAULT_MAXCONN = findLbType(DEFAULT_LB_TYPE)!.profile.maxconn;

/** File descriptors kept apart from the 2 per connection: listeners, server checks, pollers (pitfall 20 measured 60). */
export const FD_RESERVE = 1024;

/**
 * `nbthread`, `maxconn` and `tune.maxaccept` of the LB's profile. `maxconn` gives the operator's value instead, and
 * `fdLimit` (the open-file limit HAProxy may raise itself to) caps maxconn at (fdLimit − FD_RESERVE) / 2: HAProxy
 * refuses to start when it cannot get about 2 descriptors per connection (pitfall 20).
 */
export function profileLines(lb: Lb, maxconn: number | undefined, fdLimit: number | undefined): string[] {
  const p = profileOf(lb);
  const want = maxconn ?? p.maxconn;
  // An unknown or unlimited fdLimit (Infinity) caps nothing.
  const cap = fdLimit === undefined ? want : Math.max(1, Math.floor((fdLimit - FD_RESERVE) / 2));
  return [`  nbthread ${safeCount('nbthread', p.nbthread, 1)}`, `  maxconn ${safeCount('maxconn', Math.min(want, cap), 1)}`,
    `  tune.maxaccept ${safeCount('tune.maxaccept', p.maxaccept, 1)}`];
}
