// The global-section lines that size an LB's HAProxy: its type's resource profile (domain/lb-types.ts).
import { DEFAULT_LB_TYPE, findLbType, profileOf } from '../domain/lb-types.js';
import type { Lb } from '../domain/lbs.js';
import { safeCount } from './tokens.js';

/** maxconn of the default offer: what an HAProxy of this deployment is sized for unless its type says more. */
export const DEFAULT_MAXCONN = findLbType(DEFAULT_LB_TYPE)!.profile.maxconn;

/** File descriptors kept apart from the 2 per connection: listeners, server checks, pollers (pitfall 20 measured 60). */
export const FD_RESERVE = 1024;

/**
 * Pipes for splicing answers (`option splice-response`, render.ts): HAProxy's own default, one per 4 connections,
 * written out so that the file-descriptor count below and fd-limit.ts count the same thing (a pipe is 2 descriptors).
 */
export const pipesFor = (maxconn: number): number => Math.ceil(maxconn / 4);

/** The highest maxconn whose descriptors fit under `fdLimit`: 2 per connection and 2 per pipe, past FD_RESERVE. */
export function maxconnCap(fdLimit: number): number {
  return Math.max(1, Math.floor((fdLimit - FD_RESERVE) / 2.5));
}

/**
 * `nbthread`, `maxconn`, `maxpipes` and `tune.maxaccept` of the LB's profile. `maxconn` gives the operator's value
 * instead, and `fdLimit` (the open-file limit HAProxy may raise itself to) caps maxconn (maxconnCap): HAProxy refuses to
 * start when it cannot get its descriptors (pitfall 20).
 */
export function profileLines(lb: Lb, maxconn: number | undefined, fdLimit: number | undefined): string[] {
  const p = profileOf(lb);
  const want = maxconn ?? p.maxconn;
  // An unknown or unlimited fdLimit (Infinity) caps nothing.
  const conns = safeCount('maxconn', fdLimit === undefined ? want : Math.min(want, maxconnCap(fdLimit)), 1);
  return [`  nbthread ${safeCount('nbthread', p.nbthread, 1)}`, `  maxconn ${conns}`, `  maxpipes ${pipesFor(conns)}`,
    `  tune.maxaccept ${safeCount('tune.maxaccept', p.maxaccept, 1)}`];
}
