// The end of an LB migration (api/lb-migration.ts): once the apply that rendered the target profile is done, the LB
// takes its new type and reads `ready` again. A refused apply ends the migration too: the LB keeps its old type and
// the next apply puts the old profile back, while the instance shows the refusal.
import type { Lb } from '../domain/lbs.js';
import type { Store } from '../store/store.js';

export async function finishMigration(store: Store, lb: Lb, applied: boolean): Promise<void> {
  if (lb.status !== 'migrating' || !lb.migratingTo) return;
  const current = await store.getLb(lb.id);
  if (!current || current.status !== 'migrating') return;
  const target = lb.migratingTo;
  await store.changeLb(lb.id, (now) => ({ ...now, type: applied ? target : now.type, migratingTo: null }));
  await store.setLbStatus(lb.id, 'ready');
}
