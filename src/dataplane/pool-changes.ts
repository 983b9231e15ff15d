// Pool and max_connections changes through the runtime API, with no reload (spec §4 recipes).
import type { Backend } from '../domain/backends.js';
import type { Lb } from '../domain/lbs.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import { backendName, dynamicCookieKey, serverName } from './names.js';
import { serverArgs } from './render.js';
import { pnSourceLb } from './render-pn.js';
import { sleep, type MasterCli } from './runtime.js';
import { uniquePool, type ServerIds } from './server-ids.js';

export interface PoolChange {
  backend: Backend;
  /** The LB as in the next snapshot (servers inside its private networks connect from its address there). */
  lb: Lb;
  add: string[];
  remove: string[];
  /** Addresses in both pools whose maxconn must change. */
  setMaxconn: string[];
}

/** Pool changes of the backends present in both snapshots (new or deleted backends need a reload anyway). */
export function diffPools(prev: LbSnapshot, next: LbSnapshot): PoolChange[] {
  const before = new Map(prev.backends.map((b) => [b.id, b]));
  const out: PoolChange[] = [];
  for (const b of next.backends) {
    const p = before.get(b.id);
    if (!p) continue;
    const was = new Set(uniquePool(p.pool));
    const now = uniquePool(b.pool);
    const add = now.filter((ip) => !was.has(ip));
    const remove = [...was].filter((ip) => !now.includes(ip));
    const setMaxconn = p.maxConnections === b.maxConnections ? [] : now.filter((ip) => was.has(ip));
    if (add.length || remove.length || setMaxconn.length) out.push({ backend: b, lb: next.lb, add, remove, setMaxconn });
  }
  return out;
}

/** `prev` with the pools and max_connections of `next`: what the worker runs after applyPoolChanges. */
export function withPoolsOf(prev: LbSnapshot, next: LbSnapshot): LbSnapshot {
  const after = new Map(next.backends.map((b) => [b.id, b]));
  return {
    ...prev,
    backends: prev.backends.map((b) => {
      const n = after.get(b.id);
      return n ? { ...b, pool: n.pool, maxConnections: n.maxConnections } : b;
    }),
  };
}

export interface PoolChangeOptions {
  /** How long removed servers may finish their sessions in DRAIN before they are cut. */
  drainTimeoutMs: number;
  /** As RenderOptions.pnSource: added servers connect from the LB's private addresses (default). */
  pnSource?: boolean;
}

async function expectEmpty(what: string, answer: Promise<string>): Promise<void> {
  const text = (await answer).trim();
  if (text) throw new Error(`${what}: ${text}`);
}

/** Applies the changes to the running worker; throws on the first refusal (the caller then falls back to a reload). */
export async function applyPoolChanges(cli: MasterCli, changes: PoolChange[], ids: ServerIds,
  opts: PoolChangeOptions): Promise<void> {
  for (const c of changes) {
    const be = backendName(c.backend.id);
    for (const ip of c.add) {
      const s = `${be}/${serverName(ip)}`;
      // A dynamic server starts in MAINT with checks off. Once enabled it would be UP before its first check, so it
      // is forced down right after `enable server` (before it, `enable server` would undo it): traffic starts only
      // after `rise` passing checks (pitfall 3).
      const answer = await cli.worker([`add server ${s} ${serverArgs(c.backend, ip, ids[c.backend.id][ip], pnSourceLb(c.lb, opts.pnSource))}`,
        `enable health ${s}`, `enable server ${s}`, `set server ${s} health down`]);
      if (!answer.includes('New server registered.') || answer.replace('New server registered.', '').trim()) {
        throw new Error(`add server ${s}: ${answer.trim()}`);
      }
    }
    // `add server` does not compute the dynamic cookie; re-setting the key does, for every server (pitfall 1).
    if (c.add.length && c.backend.stickySessions === 'cookie' && c.backend.forwardProtocol === 'http') {
      await expectEmpty(`cookie key of ${be}`,
        cli.worker(`set dynamic-cookie-key backend ${be} ${dynamicCookieKey(c.backend.id)}`));
    }
    for (const ip of c.setMaxconn) {
      await expectEmpty(`maxconn of ${be}/${serverName(ip)}`,
        cli.worker(`set maxconn server ${be}/${serverName(ip)} ${c.backend.maxConnections ?? 0}`));
    }
  }
  const removing = changes.flatMap((c) => c.remove.map((ip) => `${backendName(c.backend.id)}/${serverName(ip)}`));
  if (removing.length) await removeServers(cli, removing, opts.drainTimeoutMs);
}

/** Drain (no new sessions), wait boundedly for current ones, maintenance, delete; sessions left are cut. */
async function removeServers(cli: MasterCli, servers: string[], drainTimeoutMs: number): Promise<void> {
  await expectEmpty('drain', cli.worker(servers.map((s) => `set server ${s} state drain`)));
  const deadline = Date.now() + drainTimeoutMs;
  while (Date.now() < deadline && (await currentSessions(cli, servers)) > 0) await sleep(25);
  await expectEmpty('maint', cli.worker(servers.map((s) => `set server ${s} state maint`)));
  for (const s of servers) await deleteServer(cli, s);
}

async function deleteServer(cli: MasterCli, s: string): Promise<void> {
  let answer = '';
  for (let attempt = 0; attempt < 40; attempt++) {
    // After 20 refusals (~0.5 s) the remaining sessions are cut: the drain time is over.
    if (attempt === 20) await cli.worker(`shutdown sessions server ${s}`);
    answer = (await cli.worker(`del server ${s}`)).trim();
    if (answer.startsWith('Server deleted')) return;
    if (!answer.includes('still has connections')) break;
    await sleep(25);
  }
  throw new Error(`del server ${s}: ${answer}`);
}

/**
 * Sessions currently attached to the given `backend/server`s, from `show stat` (parsed by header name). Asked per
 * backend: the dump of every server of an LB at the API's limits (30,000) is megabytes, and this is polled.
 */
async function currentSessions(cli: MasterCli, servers: string[]): Promise<number> {
  const byBackend = new Map<string, Set<string>>();
  for (const s of servers) {
    const be = s.slice(0, s.indexOf('/'));
    byBackend.set(be, (byBackend.get(be) ?? new Set()).add(s));
  }
  let total = 0;
  for (const [be, wanted] of byBackend) {
    const csv = (await cli.worker(`show stat ${be} 4 -1`)).split('\n');
    const header = (csv[0] ?? '').replace(/^# /, '').split(',');
    const [px, sv, scur] = ['pxname', 'svname', 'scur'].map((n) => header.indexOf(n));
    for (const line of csv.slice(1)) {
      const f = line.split(',');
      if (wanted.has(`${f[px]}/${f[sv]}`)) total += Number(f[scur]) || 0;
    }
  }
  return total;
}
