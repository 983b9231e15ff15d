// `show servers state` → Scaleway backend stats. Scaleway's enums are HAProxy's own numbering (spec §0.1, §4b):
// server_state = srv_op_state, last_health_check_status = srv_check_result. Columns are found by header name because
// the header changes between HAProxy versions.
import type { CheckResult, ServerState } from '../domain/stats.js';
import { backendIdOf, ipOfServer } from './names.js';

/** Indexed by srv_op_state. */
const SERVER_STATES: readonly ServerState[] = ['stopped', 'starting', 'running', 'stopping'];
/** Indexed by srv_check_result. */
const CHECK_RESULTS: readonly CheckResult[] = ['unknown', 'neutral', 'failed', 'passed', 'condpass'];

export interface ServerStats {
  backendId: string;
  ip: string;
  serverState: ServerState;
  lastHealthCheckStatus: CheckResult;
  changedAt: Date;
}

/**
 * srv_check_status (HAProxy's HCHK_STATUS_* of the last finished check) → its result, as in check.c `check_statuses`.
 * srv_check_result alone is not the last result: HAProxy resets it to unknown when a check starts, so a server whose
 * checks take a while (a hung server, up to check_timeout) would read "unknown" for most of each check cycle.
 * 0 UNKNOWN, 1 INI, 2 START and 14 L57DATA are not finished checks: for those, srv_check_result is used.
 */
const RESULT_OF_STATUS: Readonly<Record<number, CheckResult>> = {
  3: 'neutral', // CHECKED (agent: no status change)
  4: 'failed', 5: 'failed', // HANA, SOCKERR
  6: 'passed', 7: 'failed', 8: 'failed', // L4OK, L4TOUT, L4CON
  9: 'passed', 10: 'failed', 11: 'failed', // L6OK, L6TOUT, L6RSP
  12: 'failed', 13: 'failed', // L7TOUT, L7RSP
  15: 'passed', 16: 'condpass', 17: 'failed', // L7OK, L7OKC, L7STS
  18: 'failed', 19: 'failed', 20: 'passed', // PROCERR, PROCTOUT, PROCOK
};

/** srv_admin_state bits meaning "in maintenance": forced (0x01, where dynamic servers start), inherited (0x02),
 * from the config (0x04), DNS resolution (0x20). */
const ADMIN_MAINT = 0x01 | 0x02 | 0x04 | 0x20;
/** Forced (0x08) or inherited (0x10) drain. */
const ADMIN_DRAIN = 0x08 | 0x10;

/** Parses the answer of `show servers state [<backend>]`; only pool servers of Fulcrum backends are returned. */
export function parseServersState(text: string, now: Date = new Date()): ServerStats[] {
  const lines = text.split('\n');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const col = new Map(header.slice(2).trim().split(/\s+/).map((name, i) => [name, i]));
  const get = (f: string[], name: string): string => {
    const i = col.get(name);
    if (i === undefined || f[i] === undefined) throw new Error(`show servers state has no ${name} column`);
    return f[i];
  };
  // HAProxy keeps the last change as a whole second of its clock and answers `now − last change` in whole seconds.
  // Subtracting that from the current whole second gives the same instant on every read; subtracting it from the
  // current millisecond would move server_state_changed_at by up to a second between two reads with no transition.
  const nowSec = Math.floor(now.getTime() / 1000);
  const out: ServerStats[] = [];
  for (const line of lines) {
    if (line.startsWith('#') || !line.trim() || /^\d+$/.test(line.trim())) continue;
    const f = line.trim().split(/\s+/);
    const backendId = backendIdOf(get(f, 'be_name'));
    const ip = ipOfServer(get(f, 'srv_name'));
    if (backendId === null || ip === null) continue;
    const op = Number(get(f, 'srv_op_state'));
    const admin = Number(get(f, 'srv_admin_state'));
    // A server in maintenance takes no traffic, whatever its op state says (e.g. just added, not yet enabled).
    // Draining (Fulcrum's admin_state drain): up but taking no new sessions, Scaleway's "stopping" (spec §6).
    const opState = SERVER_STATES[op] ?? 'stopped';
    const serverState = admin & ADMIN_MAINT ? 'stopped' : admin & ADMIN_DRAIN && opState === 'running' ? 'stopping' : opState;
    const status = col.has('srv_check_status') ? RESULT_OF_STATUS[Number(get(f, 'srv_check_status'))] : undefined;
    const lastHealthCheckStatus = status ?? CHECK_RESULTS[Number(get(f, 'srv_check_result'))] ?? 'unknown';
    const since = Number(get(f, 'srv_time_since_last_change'));
    out.push({ backendId, ip, serverState, lastHealthCheckStatus, changedAt: new Date((nowSec - since) * 1000) });
  }
  return out;
}
