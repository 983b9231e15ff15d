// The Store contract against SqliteStore in a temp dir, plus what only a file on disk shows: persistence across a
// reopen, idempotent migrations and the durability settings.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { makeBackend, makeFrontend, makeLb } from '../fixtures/snapshots.js';
import { storeContract } from './contract.js';

function tempDb(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-store-'));
  return { dir, path: join(dir, 'fulcrum.db') };
}

storeContract('SqliteStore', async () => {
  const { dir, path } = tempDb();
  const store = new SqliteStore(path);
  const peers: SqliteStore[] = [];
  return {
    store,
    async peer() {
      const p = new SqliteStore(path);
      peers.push(p);
      return p;
    },
    async destroy() {
      for (const p of peers) await p.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore on disk', () => {
  const { dir, path } = tempDb();
  after(() => rmSync(dir, { recursive: true, force: true }));

  const schema = (db: Database.Database) =>
    db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();

  test('what was written is there after closing and reopening', async () => {
    const lbId = randomUUID();
    const lb = makeLb(lbId, { status: 'ready', tags: ['kept'] });
    const ip = {
      id: randomUUID(), zone: 'fr-par-1', address: '10.7.7.7', projectId: 'p', organizationId: 'o', lbId,
      reverse: 'kept.example.com', tags: ['t'], createdAt: lb.createdAt, updatedAt: lb.createdAt,
    };
    const be = makeBackend(randomUUID(), lbId, { pool: ['10.0.0.1'], timeoutQueueMs: 0 });
    const fe = makeFrontend(randomUUID(), lbId, be.id, 443, { connectionRateLimit: 10 });
    let store = new SqliteStore(path);
    await store.createLb(lb, [], [ip]);
    await store.createBackend(be);
    await store.createFrontend(fe);
    await store.setLbStatus(lbId, 'ready');
    await store.setSetting('admin_secret_key', 'k');
    const snap = await store.snapshot(lbId);
    await store.close();

    store = new SqliteStore(path);
    try {
      assert.deepEqual(await store.snapshot(lbId), snap);
      assert.deepEqual(await store.getIp(ip.id), ip);
      assert.deepEqual(await store.getBackend(be.id), be);
      assert.deepEqual(await store.getFrontend(fe.id), fe);
      assert.equal(await store.getSetting('admin_secret_key'), 'k');
      assert.deepEqual(await store.allLbIds(), [lbId]);
      // Uniqueness still holds on the reopened file.
      await assert.rejects(store.createFrontend(makeFrontend(randomUUID(), lbId, be.id, 443)));
    } finally {
      await store.close();
    }
  });

  test('migrations run once: reopening keeps the schema and the version', async () => {
    const first = new SqliteStore(path);
    await first.close();
    const db = new Database(path);
    const before = schema(db);
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    db.close();
    for (let i = 0; i < 2; i++) await new SqliteStore(path).close();
    const again = new Database(path);
    assert.deepEqual(schema(again), before);
    assert.equal(again.pragma('user_version', { simple: true }), MIGRATIONS.length);
    again.close();
  });

  test('a fresh file is migrated to the current version; writes are durable (WAL, synchronous=FULL but for status writes, foreign keys)', async () => {
    const fresh = tempDb();
    try {
      const store = new SqliteStore(fresh.path);
      await store.close();
      const db = new Database(fresh.path);
      assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.close();
      // The per-connection settings, read through the store's own connection.
      const store2 = new SqliteStore(fresh.path);
      const s = store2 as unknown as { db: Database.Database };
      assert.equal(s.db.pragma('synchronous', { simple: true }), 2);
      assert.equal(s.db.pragma('foreign_keys', { simple: true }), 1);
      // A status write (derived state) commits without waiting for the disk, and leaves the connection at FULL.
      const lb = makeLb(randomUUID());
      await store2.createLb(lb, [], []);
      await store2.setLbStatus(lb.id, 'ready');
      assert.equal((await store2.getLb(lb.id))?.status, 'ready');
      assert.equal(s.db.pragma('synchronous', { simple: true }), 2);
      await store2.close();
    } finally {
      rmSync(fresh.dir, { recursive: true, force: true });
    }
  });
});
