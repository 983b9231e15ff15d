// The Store contract against PostgresStore on a PostgreSQL server this file starts (one server, a fresh database per
// test), with `peer()` a second PostgresStore on the same database: it hears changes only through NOTIFY.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PostgresStore } from '../../src/store/postgres.js';
import { STORE_MIGRATIONS } from '../../src/store/postgres-migrations.js';
import { makeBackend, makeLb } from '../fixtures/snapshots.js';
import { startPostgres, type Postgres } from '../fixtures/postgres.js';
import { storeContract } from './contract.js';

let server: Postgres;
before(async () => { server = await startPostgres('127.0.0.1', { maxConnections: 60 }); });
after(async () => { await server?.stop(); });

storeContract('PostgresStore', async () => {
  const url = await server.database();
  const store = await PostgresStore.open(url);
  const peers: PostgresStore[] = [];
  return {
    store,
    async peer() {
      const p = await PostgresStore.open(url);
      peers.push(p);
      return p;
    },
    async destroy() {
      for (const p of peers) await p.close();
      await store.close();
    },
  };
});

/** Resolves with the first `count` LB ids `store` is told about from now on (bounded wait). */
function heard(store: PostgresStore, count: number, timeoutMs = 5000): Promise<string[]> {
  const got: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`heard ${got.length} of ${count} changes: ${got.join(', ')}`)), timeoutMs);
    store.onChange((id) => {
      if (got.length === count) return;
      got.push(id);
      if (got.length === count) { clearTimeout(timer); resolve(got); }
    });
  });
}

describe('PostgresStore: change feed and migrations', () => {
  test('another store hears a committed change through NOTIFY, once; the writer is told once, at commit', async () => {
    const url = await server.database();
    const [a, b] = [await PostgresStore.open(url), await PostgresStore.open(url)];
    try {
      const own: string[] = [];
      a.onChange((id) => own.push(id));
      const remote = heard(b, 2);
      const lb = makeLb(randomUUID());
      await a.createLb(lb, [], []);
      assert.deepEqual(own, [lb.id], 'told at commit, before the write resolves');
      await a.createBackend(makeBackend(randomUUID(), lb.id));
      assert.deepEqual(await remote, [lb.id, lb.id]);
      // The writer's own NOTIFY comes back to it too: it must not be told again.
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(own, [lb.id, lb.id]);
      assert.equal((await b.getLb(lb.id))?.configVersion, lb.configVersion + 1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('ACME answers: setting one bumps the LB and reaches another store, whose snapshot carries it; removed again', async () => {
    const url = await server.database();
    const [a, b] = [await PostgresStore.open(url), await PostgresStore.open(url)];
    try {
      const lb = makeLb(randomUUID());
      await a.createLb(lb, [], []);
      const announced = heard(b, 1);
      assert.equal(await a.setAcmeChallenge(lb.id, 'tok-1', 'tok-1.thumb'), true);
      assert.deepEqual(await announced, [lb.id]);
      const snap = await b.snapshot(lb.id);
      assert.deepEqual(snap?.challenges, [{ token: 'tok-1', keyAuthorization: 'tok-1.thumb' }]);
      assert.equal(snap?.lb.configVersion, lb.configVersion + 1);
      await a.setAcmeChallenge(lb.id, 'tok-1', 'tok-1.other');
      assert.deepEqual((await b.snapshot(lb.id))?.challenges, [{ token: 'tok-1', keyAuthorization: 'tok-1.other' }], 'one answer per token');
      await a.setAcmeChallenge(lb.id, 'tok-1', null);
      assert.deepEqual((await b.snapshot(lb.id))?.challenges, []);
      assert.equal(await a.setAcmeChallenge(randomUUID(), 'tok-2', 'tok-2.thumb'), false, 'no such LB');
      // Deleted with their LB.
      await a.setAcmeChallenge(lb.id, 'tok-3', 'tok-3.thumb');
      await a.deleteLb(lb.id, true);
      const dbName = new URL(url).pathname.slice(1);
      assert.equal((await server.sql('SELECT count(*) FROM acme_challenges', dbName)).trim(), '0');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a dropped feed connection is re-opened, and every LB is then reported as changed', async () => {
    const url = await server.database();
    const events: string[] = [];
    const store = await PostgresStore.open(url, { onFeedEvent: (e) => events.push(e) });
    const writer = await PostgresStore.open(url);
    try {
      const lbs = [makeLb(randomUUID()), makeLb(randomUUID())];
      const created = heard(store, 2);
      for (const lb of lbs) await writer.createLb(lb, [], []);
      await created;
      const afterReconnect = heard(store, 2, 15_000);
      // Ends the store's LISTEN connection from the server side, as a restart or a network cut would.
      const dbName = new URL(url).pathname.slice(1);
      await server.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}'
        AND query LIKE 'LISTEN%'`);
      assert.deepEqual((await afterReconnect).sort(), lbs.map((x) => x.id).sort());
      assert.deepEqual(events, ['lost', 'restored']);
      // …and it hears new changes again.
      const next = heard(store, 1);
      await writer.createBackend(makeBackend(randomUUID(), lbs[0].id));
      assert.deepEqual(await next, [lbs[0].id]);
    } finally {
      await store.close();
      await writer.close();
    }
  });

  test('four stores opened at once on an empty database migrate it once, without error', async () => {
    const url = await server.database();
    const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStore.open(url)));
    try {
      const dbName = new URL(url).pathname.slice(1);
      const applied = (await server.sql('SELECT set_name, applied FROM fulcrum_migrations', dbName)).trim();
      assert.equal(applied, `store|${STORE_MIGRATIONS.steps.length}`);
      const tables = (await server.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", dbName)).trim();
      assert.equal(tables, '13', 'twelve store tables and fulcrum_migrations');
      const lb = makeLb(randomUUID());
      await stores[0].createLb(lb, [], []);
      assert.deepEqual(await stores[3].getLb(lb.id), lb);
    } finally {
      for (const s of stores) await s.close();
    }
  });
});
