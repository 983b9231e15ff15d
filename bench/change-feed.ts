// The shared store's costs (`node dist/bench/change-feed.js [changes]`): how long a change committed by one store takes to
// reach another store's listeners through NOTIFY/LISTEN, what one write costs on PostgreSQL against SQLite, and how
// long 2 × 200 backend creates on one LB from two stores take (every one locks the LB's row). A PostgreSQL server of
// its own (test/fixtures/postgres.ts: loopback, free port, fsync off — so the commit cost here is not a disk's).
// Prints and writes bench/results/change-feed.json; every loop is bounded.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PostgresStore } from '../src/store/postgres.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { makeBackend, makeLb } from '../test/fixtures/snapshots.js';
import { startPostgres } from '../test/fixtures/postgres.js';
import { dist, round, type Dist } from './lib/util.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const HEAR_TIMEOUT_MS = 5000;

/**
 * Per change, one at a time: from the write's call to the other store's listener, and from the writer's own listener
 * (told once the COMMIT is acknowledged) to the other's — negative when NOTIFY outruns the acknowledgement.
 */
async function feedLatency(writer: PostgresStore, reader: PostgresStore, changes: number): Promise<{ fromCall: number[]; fromAck: number[] }> {
  const lb = makeLb(randomUUID());
  await writer.createLb(lb, [], []);
  let committedAt = 0;
  let heard: (() => void) | null = null;
  writer.onChange(() => { committedAt = performance.now(); });
  reader.onChange(() => heard?.());
  const fromCall: number[] = [];
  const fromAck: number[] = [];
  for (let i = 0; i < changes; i++) {
    const arrived = new Promise<number>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`change ${i} not heard in ${HEAR_TIMEOUT_MS} ms`)), HEAR_TIMEOUT_MS);
      heard = () => { clearTimeout(timer); heard = null; res(performance.now()); };
    });
    const t0 = performance.now();
    await writer.updateLb({ ...lb, name: `lb-${i}` });
    const at = await arrived;
    fromCall.push(at - t0);
    fromAck.push(at - committedAt);
  }
  return { fromCall, fromAck };
}

/** One backend create at a time on one LB: the write's own latency. */
async function writeLatency(store: Store, writes: number): Promise<number[]> {
  const lb = makeLb(randomUUID());
  await store.createLb(lb, [], []);
  const out: number[] = [];
  for (let i = 0; i < writes; i++) {
    const t0 = performance.now();
    await store.createBackend(makeBackend(randomUUID(), lb.id));
    out.push(performance.now() - t0);
  }
  return out;
}

/** 2 × `each` creates at once on one LB through two stores; wall time of the lot. */
async function contended(a: Store, b: Store, each: number): Promise<number> {
  const lb = makeLb(randomUUID());
  await a.createLb(lb, [], []);
  const t0 = performance.now();
  await Promise.allSettled([a, b].flatMap((s) => Array.from({ length: each }, () => s.createBackend(makeBackend(randomUUID(), lb.id)))));
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const changes = Number(process.argv[2] ?? 200);
  const pg = await startPostgres('127.0.0.1', { maxConnections: 40 });
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-bench-store-'));
  try {
    const url = await pg.database();
    const [a, b] = [await PostgresStore.open(url), await PostgresStore.open(url)];
    const sqlite = new SqliteStore(join(dir, 'fulcrum.db'));
    const sqlitePeer = new SqliteStore(join(dir, 'fulcrum.db'));
    try {
      const latency = await feedLatency(a, b, changes);
      const feed = { fromCall: dist(latency.fromCall), fromAck: dist(latency.fromAck) };
      const pgWrite = dist(await writeLatency(a, 200));
      const sqliteWrite = dist(await writeLatency(sqlite, 200));
      const pgContended = await contended(a, b, 200);
      const sqliteContended = await contended(sqlite, sqlitePeer, 200);
      const result = {
        changes, feedMs: feed, writeMs: { postgres: pgWrite, sqlite: sqliteWrite },
        contendedCreatesMs: { postgres: round(pgContended), sqlite: round(sqliteContended) },
      };
      const line = (label: string, d: Dist) => `${label}: median ${d.p50} ms, p99 ${d.p99} ms`;
      process.stdout.write([
        line(`change feed, write called -> other store's listener (${changes} changes)`, feed.fromCall),
        line('change feed, writer\'s commit acknowledged -> other store\'s listener', feed.fromAck),
        line('backend create, PostgreSQL', pgWrite),
        line('backend create, SQLite', sqliteWrite),
        `2 x 200 backend creates at once on one LB (300 written): PostgreSQL ${round(pgContended)} ms, SQLite ${round(sqliteContended)} ms`,
        '',
      ].join('\n'));
      mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
      writeFileSync(join(ROOT, 'bench/results/change-feed.json'), `${JSON.stringify(result, null, 2)}\n`);
    } finally {
      for (const s of [a, b, sqlite, sqlitePeer]) await s.close();
    }
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
