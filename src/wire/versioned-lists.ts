// List answers kept per config version of their LB. Every write of an LB's child (a backend, say) bumps the LB's config
// version in the same transaction (the store contract; the reconciler relies on it too), so the children listed under
// one version never change: such a list is read from the store and serialized once, then only completed with the LB's
// own JSON (which changes without a version bump: status, IPs) at each request. A list of 20 backends thus costs no
// query, no parse and no serialization while its LB does not change (docs/decisions.md, list answers per version).
import { LRUCache } from 'lru-cache';
import { jsonPieces, standIn } from './shared-json.js';

/** Characters kept, keys included; about 32 MiB at two bytes a character. Old versions age out, least recent first. */
const MAX_CHARS = 16 << 20;

export interface ListKey {
  lbId: string;
  configVersion: number;
  /** The list's query: filters and page, anything that selects or orders the items. */
  query: unknown;
}

export class VersionedLists {
  private readonly cache = new LRUCache<string, string[]>({
    maxSize: MAX_CHARS,
    sizeCalculation: (pieces, key) => pieces.reduce((n, p) => n + p.length, key.length),
  });

  /**
   * The list's JSON with `lbJson` wherever `read` embedded its stand-in. `read` is called on a miss only, after the
   * caller read the LB (so what it reads is at least as new as `key.configVersion`: never an older list under a newer key).
   */
  async answer(key: ListKey, read: (lbStandIn: object) => Promise<unknown>, lbJson: string): Promise<string> {
    const k = JSON.stringify([key.lbId, key.configVersion, key.query]);
    let pieces = this.cache.get(k);
    if (!pieces) {
      pieces = jsonPieces(await read(standIn()));
      this.cache.set(k, pieces);
    }
    return pieces.join(lbJson);
  }
}
