import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignServerIds } from '../../src/dataplane/server-ids.js';
import { makeBackend, makeSnapshot } from '../fixtures/snapshots.js';

const snap = (pool: string[]) => makeSnapshot('lb', [], [], [makeBackend('b', 'lb', { pool })]);

test('server ids: first allocation follows pool order, duplicates ignored', () => {
  assert.deepEqual(assignServerIds({}, snap(['10.0.0.2', '10.0.0.1', '10.0.0.2'])), { b: { '10.0.0.2': 1, '10.0.0.1': 2 } });
});

test('server ids: kept while in the pool, new ones above everything the backend had', () => {
  const first = assignServerIds({}, snap(['10.0.0.1', '10.0.0.2', '10.0.0.3']));
  // .3 (id 3) leaves while .4 arrives: .4 must not take id 3, which the draining server still holds.
  const second = assignServerIds(first, snap(['10.0.0.4', '10.0.0.2', '10.0.0.1']));
  assert.deepEqual(second, { b: { '10.0.0.4': 4, '10.0.0.2': 2, '10.0.0.1': 1 } });
  assert.deepEqual(assignServerIds(second, snap(['10.0.0.1'])), { b: { '10.0.0.1': 1 } });
});

test('server ids: backends that left the snapshot are forgotten', () => {
  const ids = assignServerIds({ gone: { '10.0.0.9': 7 } }, snap(['10.0.0.1']));
  assert.deepEqual(ids, { b: { '10.0.0.1': 1 } });
});
