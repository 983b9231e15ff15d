// Leadership and data-plane presence between processes on one PostgreSQL server this file starts: each Coordination has
// a connection of its own, as each `fulcrum serve` does. Exactly one leads; a leader that closes, or whose session the
// server ends, hands over; an API-only process leads only while no process with a data plane is connected.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { coordinate, type Coordination } from '../../src/store/leader.js';
import { startPostgres, type Postgres } from '../fixtures/postgres.js';
import { waitFor } from '../fixtures/servers.js';

let server: Postgres;
before(async () => { server = await startPostgres('127.0.0.1'); });
after(async () => { await server?.stop(); });

const ROUND_MS = 50;

/** A coordination that records its leadership changes and its "data plane gone" calls. */
async function member(url: string, dataPlane: boolean) {
  const log: string[] = [];
  const c = await coordinate(url, {
    dataPlane, roundMs: ROUND_MS,
    async onLeading(leading) { log.push(leading ? 'lead' : 'step down'); },
    onDataPlaneGone() { log.push('data plane gone'); },
  });
  return { c, log };
}

const leaders = (ms: { c: Coordination }[]) => ms.filter((m) => m.c.leading).length;

test('two processes with a data plane: exactly one leads; closing it, or losing its session, hands over', async () => {
  const url = await server.database();
  const a = await member(url, true);
  const b = await member(url, true);
  try {
    assert.equal(a.c.leading, true, 'the first one took the lock at start');
    assert.equal(b.c.leading, false);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, ROUND_MS));
      assert.equal(leaders([a, b]), 1, 'never two leaders, never none while both run');
    }
    await a.c.close();
    assert.deepEqual(a.log, ['lead', 'step down']);
    await waitFor('b takes over', async () => b.c.leading, 5000);

    // The server ends b's session (as a failover or a cut connection would): b steps down, c takes over.
    const c = await member(url, true);
    assert.equal(c.c.leading, false);
    await server.sql(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242015004 AND granted`,
      url.split('/').pop());
    await waitFor('b steps down', async () => b.log.at(-1) === 'step down', 5000);
    await waitFor('someone leads again', async () => leaders([b, c]) === 1, 5000);
    await c.c.close();
  } finally {
    await a.c.close();
    await b.c.close();
  }
});

test('an API-only process leads only while no process with a data plane is connected, and hears when the last one left', async () => {
  const url = await server.database();
  const api = await member(url, false);
  try {
    assert.deepEqual([api.c.leading, await api.c.dataPlaneConnected()], [true, false], 'alone: it leads');
    const edge = await member(url, true);
    await waitFor('the API-only process steps down for the data plane', async () => edge.c.leading, 5000);
    assert.deepEqual(api.log, ['lead', 'step down']);
    assert.equal(await api.c.dataPlaneConnected(), true);
    await edge.c.close();
    await waitFor('it leads again', async () => api.c.leading, 5000);
    assert.deepEqual(api.log, ['lead', 'step down', 'data plane gone', 'lead']);
    assert.equal(await api.c.dataPlaneConnected(), false);
  } finally {
    await api.c.close();
  }
});

test('SQLite (no store URL): the one process leads', async () => {
  const m = await member('', true);
  assert.equal(m.c.leading, true);
  await m.c.close();
  assert.deepEqual(m.log, ['lead', 'step down']);
});
