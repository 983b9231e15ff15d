// Stable numeric server ids (HAProxy `id`), per backend and address.
//
// Why: the server-state file and stick tables must find "the same server" after a reload, and a runtime-added server
// must get the id the next reload will give it. Ids are therefore allocated once and remembered (the map is persisted
// by the instance next to the config): an address keeps its id as long as it stays in the pool; a new address gets
// one more than the highest id the backend had in the previous map (including addresses being removed in the same
// change, so a runtime `add server` never collides with a server that is still draining). A hash of the address
// would need no memory but could collide inside a backend, which HAProxy refuses.
import type { LbSnapshot } from '../domain/snapshot.js';

/** backendId → address → server id. */
export type ServerIds = Record<string, Record<string, number>>;

/** The pool without repeated addresses, in the order given (a repeated address would repeat a server name). */
export function uniquePool(pool: readonly string[]): string[] {
  return [...new Set(pool)];
}

export function assignServerIds(prev: ServerIds, snapshot: LbSnapshot): ServerIds {
  const out: ServerIds = {};
  for (const b of snapshot.backends) {
    const before = prev[b.id] ?? {};
    let top = Math.max(0, ...Object.values(before));
    const ids: Record<string, number> = {};
    for (const ip of uniquePool(b.pool)) ids[ip] = before[ip] ?? ++top;
    out[b.id] = ids;
  }
  return out;
}
