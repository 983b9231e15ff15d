// VersionedLists: a list kept per LB config version is read once per key and completed with the LB's JSON of each
// request, byte for byte what serializing the whole answer gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listBody } from '../../src/wire/paging.js';
import { VersionedLists } from '../../src/wire/versioned-lists.js';

test('one read per LB version and query; the LB JSON of each request is placed in every item', async () => {
  const lists = new VersionedLists();
  let reads = 0;
  const items = [{ id: 'b1', name: 'web "1"' }, { id: 'b2', name: '$& $1 $$' }];
  const body = (lb: unknown) => listBody('backends', items.map((b) => ({ ...b, lb, after: 1 })), 7);
  const read = async (standIn: object) => { reads++; return body(standIn); };
  // Strings a replacement pattern would expand, quotes and a NUL like the stand-in's marker.
  const lb = { id: 'lb-1', name: 'a $& b "q"', description: '\u0000x' };
  const key = { lbId: 'lb-1', configVersion: 3, query: [null, { page: 1 }] };

  assert.equal(await lists.answer(key, read, JSON.stringify(lb)), JSON.stringify(body(lb)));
  assert.equal(reads, 1);
  const lb2 = { ...lb, status: 'ready' };
  assert.equal(await lists.answer(key, read, JSON.stringify(lb2)), JSON.stringify(body(lb2)), 'the LB of this request');
  assert.equal(reads, 1);
  await lists.answer({ ...key, configVersion: 4 }, read, JSON.stringify(lb));
  await lists.answer({ ...key, query: [null, { page: 2 }] }, read, JSON.stringify(lb));
  await lists.answer({ ...key, lbId: 'lb-2' }, read, JSON.stringify(lb));
  assert.equal(reads, 4, 'another version, query or LB is another list');
  const empty = await lists.answer({ ...key, configVersion: 5 }, async () => listBody('backends', [], 0), JSON.stringify(lb));
  assert.equal(empty, '{"backends":[],"total_count":0}');
});
