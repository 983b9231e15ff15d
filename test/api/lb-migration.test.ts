// LB types and migration through the official SDK (no data plane): each type describes its HAProxy profile; migrate
// answers `migrating` with the old type, then the LB reads `ready` with the new one; bad types are refused without a
// change.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { LB_TYPES } from '../../src/domain/lb-types.js';
import { Fulcrum, waitLbReady } from '../helpers/fulcrum.js';
import { assertUnchanged, invalidArgs, notFound, readyLb } from '../helpers/api.js';

let f: Fulcrum;
let api: Lbv1.ZonedAPI;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none' });
  api = f.sdk();
});
after(async () => { await f.destroy(); });

test('every lb-type states its HAProxy profile in its description', async () => {
  const { lbTypes } = await api.listLbTypes({});
  assert.deepEqual(lbTypes.map((t) => t.name), LB_TYPES.map((t) => t.name));
  for (const t of lbTypes) {
    const { profile } = LB_TYPES.find((x) => x.name === t.name)!;
    assert.match(t.description, new RegExp(`${profile.nbthread} threads?, ${profile.maxconn} concurrent connections`), t.description);
  }
  const sizes = LB_TYPES.map((t) => t.profile.maxconn);
  assert.deepEqual([...sizes].sort((a, b) => a - b), sizes, 'offers are listed from small to large');
});

test('migrate: migrating with the old type in the answer, then ready with the new type (lower case)', async () => {
  const lb = await readyLb(api, 'mig');
  assert.equal(lb.type, 'lb-s');
  const answer = await api.migrateLb({ lbId: lb.id, type: 'LB-GP-M' });
  assert.equal(answer.status, 'migrating');
  assert.equal(answer.type, 'lb-s', 'the answer still shows the old type (as recorded on Scaleway)');
  assert.equal(answer.id, lb.id);
  const done = await waitLbReady(api, lb.id);
  assert.equal(done.type, 'lb-gp-m');
  // …and back, as Terraform does.
  await api.migrateLb({ lbId: lb.id, type: 'lb-s' });
  assert.equal((await waitLbReady(api, lb.id)).type, 'lb-s');
});

test('migrate refuses an unknown type (400 naming type), an unknown LB (404), a missing type; nothing changes', async () => {
  const lb = await readyLb(api, 'mig-bad');
  const watch = [`/lbs/${lb.id}`];
  await assertUnchanged(f, watch, async () => {
    assert.deepEqual(await invalidArgs(api.migrateLb({ lbId: lb.id, type: 'LB-XXL' })), ['type']);
    const r = await f.http('POST', `/lbs/${lb.id}/migrate`, {});
    assert.equal(r.status, 400, r.text);
  });
  const missing = '3f1c3b52-8f38-4d8a-9d1e-0d6f5f7a0001';
  await notFound(api.migrateLb({ lbId: missing, type: 'LB-S' }), 'lb', missing);
});
