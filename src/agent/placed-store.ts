// The store as an agent's reconciler sees it: only the LBs placed on this node exist. An LB placed elsewhere reads as
// absent (so the reconciler removes its instance here), and changes of other LBs are not passed on.
import type { ChangeListener, Store } from '../store/store.js';

export function placedStore(store: Store, isPlacedHere: (lbId: string) => boolean, placedIds: () => string[]): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'allLbIds') return async () => placedIds();
      if (key === 'snapshot') return async (lbId: string) => (isPlacedHere(lbId) ? target.snapshot(lbId) : null);
      if (key === 'onChange') return (l: ChangeListener) => target.onChange((lbId) => { if (isPlacedHere(lbId)) l(lbId); });
      const v = Reflect.get(target, key, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
