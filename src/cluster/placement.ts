// Where each LB runs: two healthy nodes, the least loaded, in a stable way. Pure: the placement loop (placer.ts) feeds it
// the cluster's state and writes back only the LBs whose placement changes.
// - A node is healthy while its heartbeat is younger than `moveAfterMs`. An instance on an unhealthy node moves to a
//   healthy node that does not hold the LB yet, when there is one; otherwise it stays (and reads `error`).
// - The replacement takes the slot of the instance it replaces; the surviving instance (VRRP master by now) keeps its
//   own, and keepalived's nopreempt keeps it master.
// - Each LB gets the smallest VRID no other LB uses (1..255, MAX_VRID); an LB finding none stays unplaced.
import { randomUUID } from 'node:crypto';
import { MAX_VRID } from './names.js';
import type { ClusterNode, Placement } from './types.js';

export const INSTANCES_PER_LB = 2;

export interface PlacementInput {
  lbIds: string[];
  nodes: ClusterNode[];
  placements: Placement[];
  moveAfterMs: number;
  newInstanceId?: () => string;
}

/** LB id → its new placements (empty: forget the LB), only for LBs whose placement changes. */
export function place(input: PlacementInput): Map<string, Placement[]> {
  const newId = input.newInstanceId ?? randomUUID;
  const healthy = new Set(input.nodes.filter((n) => n.ageMs < input.moveAfterMs).map((n) => n.name));
  const live = new Set(input.lbIds);
  const byLb = new Map<string, Placement[]>();
  for (const p of input.placements) byLb.set(p.lbId, [...(byLb.get(p.lbId) ?? []), p]);
  const load = new Map<string, number>([...healthy].map((n) => [n, 0]));
  for (const p of input.placements) if (live.has(p.lbId) && load.has(p.node)) load.set(p.node, load.get(p.node)! + 1);
  const usedVrids = new Set(input.placements.filter((p) => live.has(p.lbId)).map((p) => p.vrid));
  const changes = new Map<string, Placement[]>();

  for (const lbId of byLb.keys()) if (!live.has(lbId)) changes.set(lbId, []);
  for (const lbId of [...input.lbIds].sort()) {
    const current = byLb.get(lbId) ?? [];
    const vrid = current[0]?.vrid ?? [...Array(MAX_VRID).keys()].map((i) => i + 1).find((v) => !usedVrids.has(v));
    if (vrid === undefined) continue;
    const next: Placement[] = [];
    for (let slot = 0; slot < INSTANCES_PER_LB; slot++) {
      const held = current.find((p) => p.slot === slot);
      if (held && healthy.has(held.node)) {
        next.push(held);
        continue;
      }
      const taken = new Set([...current.map((p) => p.node), ...next.map((p) => p.node)]);
      const pick = [...load].filter(([n]) => !taken.has(n)).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
      if (pick !== undefined) {
        load.set(pick, load.get(pick)! + 1);
        next.push({ lbId, node: pick, slot, vrid, instanceId: newId() });
      } else if (held) {
        next.push(held); // nowhere to go: it stays, and reads `error` while its node is silent
      }
    }
    if (!next.length) continue;
    usedVrids.add(vrid);
    const same = next.length === current.length && next.every((p) => current.some((c) => c.node === p.node && c.slot === p.slot));
    if (!same) changes.set(lbId, next);
  }
  return changes;
}
