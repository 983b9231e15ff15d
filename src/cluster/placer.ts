// The placement loop of `fulcrum serve --dataplane agents`: every PLACE_MS, places new LBs, forgets deleted ones and
// moves instances off nodes silent for MOVE_AFTER_MS (placement.ts decides; this only reads and writes). Several API
// servers may run it at once: each round runs under a transaction-level advisory lock, so rounds never interleave.
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { place } from './placement.js';
import type { ClusterStore } from './types.js';

export const PLACE_MS = 500;
/** A node silent this long loses its instances to healthy nodes (it reads `error` from NODE_DOWN_MS on). */
export const MOVE_AFTER_MS = 8000;

export class Placer {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly store: Store, private readonly cluster: ClusterStore, private readonly log: Logger,
    private readonly moveAfterMs = MOVE_AFTER_MS) {}

  start(): void {
    const loop = async () => {
      try {
        await this.placeOnce();
      } catch (err) {
        this.log.warn({ err }, 'placement round failed');
      }
      if (!this.stopped) this.timer = setTimeout(() => { this.round = loop(); }, PLACE_MS);
    };
    this.round = loop();
  }

  async placeOnce(): Promise<void> {
    await this.cluster.exclusively(async () => {
      const [lbIds, nodes, placements] = await Promise.all([this.store.allLbIds(), this.cluster.nodes(), this.cluster.placements()]);
      for (const [lbId, next] of place({ lbIds, nodes, placements, moveAfterMs: this.moveAfterMs })) {
        await this.cluster.setPlacements(lbId, next);
        this.log.info({ lbId, nodes: next.map((p) => p.node) }, next.length ? 'LB placed' : 'LB placement forgotten');
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
  }
}
