// The global-section lines that size an LB's HAProxy: its type's resource profile (domain/lb-types.ts).
import { DEFAULT_LB_TYPE, findLbType, profileOf } from '../domain/lb-types.js';
import type { Lb } from '../domain/lbs.js';
import { safeCount } from './tokens.js';

/** maxconn of the default offer: what an HAProxy of this deployment is sized for unless its type says more. */
export const DEFAULT_MAXCONN = findLbType(DEFAULT_LB_TYPE)!.profile.maxconn;

/** `nbthread`, `maxconn` (unless the operator's `maxconn` overrides it) and `tune.maxaccept` of the LB's profile. */
export function profileLines(lb: Lb, maxconn: number | undefined): string[] {
  const p = profileOf(lb);
  return [`  nbthread ${safeCount('nbthread', p.nbthread, 1)}`, `  maxconn ${safeCount('maxconn', maxconn ?? p.maxconn, 1)}`,
    `  tune.maxaccept ${safeCount('tune.maxaccept', p.maxaccept, 1)}`];
}
