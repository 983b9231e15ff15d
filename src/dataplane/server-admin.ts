// Server administration through the runtime API (no reload). Weight and admin state are not in haproxy.cfg: HAProxy
// carries both over a reload in the server-state file (spec haproxy-2.6 §1.5), and after every apply — start, reload,
// adoption after a control-plane restart, or a change of these settings alone (which leaves the config unchanged) —
// the stored settings are asserted again here, which is idempotent. Slow start has no runtime command in 2.6: it is a
// `slowstart` keyword on the server line (render.ts), so changing it takes one seamless reload.
import type { AdminState } from '../domain/server-admin.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import { backendName, serverName } from './names.js';
import type { MasterCli } from './runtime.js';
import { uniquePool } from './server-ids.js';
import { safeCount, safeIp } from './tokens.js';

const STATE_WORD: Record<AdminState, string> = { ready: 'ready', drain: 'drain', maintenance: 'maint' };

/** The runtime commands that give every pool server with stored settings its weight and admin state. */
export function serverAdminCommands(s: LbSnapshot): string[] {
  const out: string[] = [];
  for (const b of s.backends) {
    if (!b.serverAdmin) continue;
    for (const ip of uniquePool(b.pool)) {
      const a = b.serverAdmin[ip];
      if (!a) continue;
      const srv = `${backendName(b.id)}/${serverName(safeIp('pool', ip))}`;
      const state = STATE_WORD[a.adminState];
      if (!state) throw new Error(`admin_state ${JSON.stringify(a.adminState)} unknown`);
      out.push(`set server ${srv} weight ${safeCount('weight', a.weight)}`, `set server ${srv} state ${state}`);
    }
  }
  return out;
}

/** Commands sent on one connection at a time, so that a backend of 100 servers is a few round trips. */
const BATCH = 50;

/** Applies the stored settings to the running worker; throws with HAProxy's answer when one is refused. */
export async function applyServerAdmin(cli: MasterCli, s: LbSnapshot): Promise<void> {
  const commands = serverAdminCommands(s);
  for (let i = 0; i < commands.length; i += BATCH) {
    const answer = (await cli.worker(commands.slice(i, i + BATCH))).trim();
    if (answer) throw new Error(`server administration refused: ${answer}`);
  }
}
