// HTTP-01 answers through the shared store (control/store-challenges.ts), on a PostgreSQL server this file starts: an
// answer is checked before it is stored, and setting one returns only once the LB's address answers it on port 80
// (here a plain HTTP server on the LB's loopback address, which starts answering after a delay). Port 80: root only.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { storeChallenges } from '../../src/control/store-challenges.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { makeLb } from '../fixtures/snapshots.js';
import { startPostgres, type Postgres } from '../fixtures/postgres.js';
import { loopbackNet } from '../helpers/ports.js';

const warnings: unknown[] = [];
const log = { warn: (o: unknown) => { warnings.push(o); } } as never;

describe('ACME answers through the store', { skip: process.getuid?.() !== 0 ? 'binds port 80 (root)' : false }, () => {
  let server: Postgres;
  let store: PostgresStore;
  before(async () => {
    server = await startPostgres('127.0.0.1');
    store = await PostgresStore.open(await server.database());
  });
  after(async () => {
    await store?.close();
    await server?.stop();
  });

  /** An LB whose address is a fresh loopback one, stored with that address. */
  async function lbAt(address: string): Promise<string> {
    const lb = makeLb(randomUUID());
    const T = new Date().toISOString();
    await store.createLb(lb, [], [{ id: randomUUID(), zone: lb.zone, projectId: lb.projectId, organizationId: lb.organizationId,
      address, lbId: lb.id, reverse: '', tags: [], createdAt: T, updatedAt: T }]);
    return lb.id;
  }

  test('a token or key authorization that is not base64url is refused before it is stored', async () => {
    const lbId = await lbAt(`${loopbackNet()}.1`);
    const challenges = storeChallenges(store, log);
    await assert.rejects(challenges.setChallenge(lbId, 'tok en', 'a.b'), /unexpected characters/);
    await assert.rejects(challenges.setChallenge(lbId, 'tok', 'a.b\nadd map x'), /unexpected characters/);
    assert.deepEqual((await store.snapshot(lbId))?.challenges, []);
  });

  test('setting an answer returns once the LB\'s address answers it; removing one does not wait', async () => {
    const address = `${loopbackNet()}.1`;
    const lbId = await lbAt(address);
    let answering = false;
    const http: Server = createServer((req, res) => {
      const ok = answering && req.url === '/.well-known/acme-challenge/tok-1';
      res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain' }).end(ok ? 'tok-1.thumb' : 'no');
    });
    await new Promise<void>((r) => http.listen(80, address, r));
    try {
      const challenges = storeChallenges(store, log);
      const answersAfterMs = 600;
      const started = Date.now();
      setTimeout(() => { answering = true; }, answersAfterMs);
      await challenges.setChallenge(lbId, 'tok-1', 'tok-1.thumb');
      const waited = Date.now() - started;
      assert.ok(waited >= answersAfterMs, `returned after ${waited} ms, before the address answered`);
      assert.deepEqual((await store.snapshot(lbId))?.challenges, [{ token: 'tok-1', keyAuthorization: 'tok-1.thumb' }]);
      assert.deepEqual(warnings, []);
      answering = false;
      await challenges.setChallenge(lbId, 'tok-1', null);
      assert.deepEqual((await store.snapshot(lbId))?.challenges, []);
    } finally {
      await new Promise((r) => http.close(r));
    }
  });
});
