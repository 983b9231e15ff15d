// Table stickiness across reloads. HAProxy 2.6's local peer hands stick tables to a new worker only once the running
// worker finished its own initial resync, 5–10 s after each start, so a reload waiting for it stalled every change
// behind it. Instead, the entries are read from the running worker right before a reload and written into the new
// worker right after it (`set table … data.server_id`). Server ids are stable per backend and address (server-ids.ts),
// so an entry names the same server in both workers. Written entries restart their expiry (`expire 30m`).
// An entry the new worker already made (a client that came between the reload and the copy) also holds the name of
// the server it chose (`server_key`), which wins over `server_id` and which `set table` cannot write: such an entry is
// cleared first, and the written one, without a name, is read by its id.
import { isIP } from 'node:net';
import type { LbSnapshot } from '../domain/snapshot.js';
import { backendName, serverName } from './names.js';
import { sleep, type MasterCli } from './runtime.js';
import { uniquePool, type ServerIds } from './server-ids.js';

/** A client address (as the table stores it) and its server. */
export interface Pin {
  key: string;
  serverId: number;
  /** What the table holds as `server_key` for the server: its name, or `-` when the entry was written by us. */
  serverKey?: string;
}

/** Backend section name → its pins. */
export type Pins = Map<string, Pin[]>;

/** Bound of one CLI line of `set table` commands: HAProxy reads a command line into one buffer (tune.bufsize, 16 KiB). */
const MAX_LINE = 8000;
/**
 * A connection balanced in the new worker before the copy stores its server in the entry once it is connected, over
 * the written one: the entries are read back this long after each write (and written again where they differ).
 */
const SETTLE_MS = 50;
const WRITE_ROUNDS = 5;

/** The entries of a `show table <name>` dump that name a server. */
export function parseTable(dump: string): Pin[] {
  const out: Pin[] = [];
  for (const line of dump.split('\n')) {
    const m = /\skey=(\S+)\s.*\bserver_id=(\d+)(?:\s+server_key=(\S+))?/.exec(line);
    if (m && isIP(m[1])) out.push({ key: m[1], serverId: Number(m[2]), serverKey: m[3] });
  }
  return out;
}

/** The table-sticky backends of `next`: section name → server id → server name (pins to other ids are dropped). */
function tableBackends(next: LbSnapshot, ids: ServerIds): Map<string, Map<number, string>> {
  return new Map(next.backends.filter((b) => b.stickySessions === 'table').map((b) => [backendName(b.id),
    new Map(uniquePool(b.pool).filter((ip) => ids[b.id]?.[ip] !== undefined).map((ip) => [ids[b.id][ip], serverName(ip)]))]));
}

/**
 * Reads, from the running worker, the pins of every backend that keeps its table in `next`. Nothing is asked when
 * `next` has no table backend. A backend the worker has no table for yet reads as empty.
 */
export async function readPins(cli: MasterCli, next: LbSnapshot, ids: ServerIds): Promise<Pins> {
  const out: Pins = new Map();
  for (const [be, servers] of tableBackends(next, ids)) {
    const pins = parseTable(await cli.worker(`show table ${be}`)).filter((p) => servers.has(p.serverId))
      .map((p) => ({ key: p.key, serverId: p.serverId, serverKey: servers.get(p.serverId) }));
    if (pins.length) out.set(be, pins);
  }
  return out;
}

/** True when the entry as the new worker holds it leads to the pinned server. */
const holds = (pin: Pin, now: Pin | undefined): boolean => now !== undefined && now.serverId === pin.serverId
  && (now.serverKey === undefined || now.serverKey === '-' || now.serverKey === pin.serverKey);

/**
 * Writes the pins into the current worker, then reads them back and writes again those that differ (see SETTLE_MS),
 * boundedly; throws with HAProxy's answer on a refusal, or when entries still differ.
 */
export async function writePins(cli: MasterCli, pins: Pins): Promise<void> {
  let todo = pins;
  for (let round = 1; round <= WRITE_ROUNDS; round++) {
    await send(cli, [...todo].flatMap(([be, entries]) => entries.flatMap((p) => [`clear table ${be} key ${p.key}`,
      `set table ${be} key ${p.key} data.server_id ${p.serverId}`])));
    await sleep(SETTLE_MS);
    todo = new Map();
    for (const [be, entries] of pins) {
      const now = new Map(parseTable(await cli.worker(`show table ${be}`)).map((p) => [p.key, p]));
      const differ = entries.filter((p) => !holds(p, now.get(p.key)));
      if (differ.length) todo.set(be, differ);
    }
    if (todo.size === 0) return;
  }
  throw new Error(`${[...todo.values()].flat().length} entries stay different`);
}

/** Sends the commands, many per CLI line; throws with HAProxy's answer on a refusal. */
async function send(cli: MasterCli, commands: string[]): Promise<void> {
  let line: string[] = [];
  let size = 0;
  for (const [i, cmd] of commands.entries()) {
    line.push(cmd);
    size += cmd.length + 5; // `@1 ` and `; `
    if (size < MAX_LINE && i < commands.length - 1) continue;
    const answer = (await cli.worker(line)).trim();
    if (answer) throw new Error(`set table: ${answer.slice(0, 200)}`);
    line = [];
    size = 0;
  }
}
