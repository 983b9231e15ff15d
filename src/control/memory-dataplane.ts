// A data plane that runs nothing: every change is applied at once and no traffic flows. It backs `--dataplane none`
// (an API-only emulator, e.g. for client tests on machines without HAProxy); stats report every server stopped/unknown.
import type { LbSnapshot } from '../domain/snapshot.js';
import { unknownServerStats, type ServerStat } from '../domain/stats.js';
import type { ApplyResult, DataPlanePort } from './port.js';

export class MemoryDataPlane implements DataPlanePort {
  async apply(): Promise<ApplyResult> {
    return { ok: true };
  }

  async remove(): Promise<void> {}

  async stats(snap: LbSnapshot): Promise<ServerStat[]> {
    return unknownServerStats(snap);
  }

  onInstanceDown(): void {}

  async close(): Promise<void> {}
}
