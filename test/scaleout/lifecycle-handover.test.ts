// Two `fulcrum serve` on one PostgreSQL (started by this file), `api` API-only and `edge` with HAProxy: while `edge` is
// connected, `api` leaves LB lifecycles to it (an LB created while `edge` is frozen stays `to_create`); once `edge` is
// gone (SIGKILL: its sessions end), `api` finishes them itself, as an emulator alone on PostgreSQL must. `edge` never applies anything here: it is frozen before the LB exists, so no HAProxy outlives it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startPostgres, type Postgres } from '../fixtures/postgres.js';
import { waitFor } from '../fixtures/servers.js';
import { Fulcrum } from '../helpers/fulcrum.js';
import { loopbackNet } from '../helpers/ports.js';

let pg: Postgres;
let api: Fulcrum;
let edge: Fulcrum;

before(async () => {
  pg = await startPostgres('127.0.0.1');
  const shared = { ipNet: loopbackNet(), secretKey: randomUUID(), env: { FULCRUM_STORE: await pg.database() } };
  api = await Fulcrum.start({ ...shared, dataplane: 'none' });
  edge = await Fulcrum.start({ ...shared, dataplane: 'haproxy' });
});

after(async () => {
  if (edge?.child.signalCode === null) await edge.kill(); // not killed yet: the test failed before
  if (edge) rmSync(edge.dataDir, { recursive: true, force: true });
  await api?.destroy();
  await pg?.stop();
});

test('the API-only server finishes lifecycles only once no server with a data plane is connected', async () => {
  const a = api.sdk();
  process.kill(edge.child.pid!, 'SIGSTOP');
  const lb = await a.createLb({ name: 'handover', description: '', type: 'LB-S', tags: [] } as never);
  const seen: string[] = [];
  for (let i = 0; i < 20; i++) {
    seen.push((await a.getLb({ lbId: lb.id })).status);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual([...new Set(seen)], ['to_create'], 'left to the HAProxy server while it is connected');

  await edge.kill(); // SIGKILL works on a stopped process: its sessions, and its presence lock, end with it
  await waitFor('the API-only server makes it ready', async () => (await a.getLb({ lbId: lb.id })).status === 'ready', 15_000, 50);
});
