// serializeOnce: a list that embeds one object in every item serializes to exactly what JSON.stringify gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serializeOnce } from '../../src/wire/shared-json.js';

test('the shared object is written once and placed wherever it is embedded, byte for byte as JSON.stringify', () => {
  // Strings that a replacement pattern would expand, quotes, and a NUL like the marker's.
  const lb = { id: 'lb-1', name: 'a $& b $1 $$ "q"', description: '\u0000x', ip: [{ ip_address: '127.0.0.1' }] };
  const shared = serializeOnce(lb);
  const body = (embed: object) => ({
    backends: [1, 2, 3].map((i) => ({ id: `b${i}`, lb: embed, nested: { lb: embed } })), total_count: 3,
  });
  assert.equal(shared.stringify(body(shared.embed)), JSON.stringify(body(lb)));
  // The embed copy keeps the fields (code that reads them still works) and does not change the original.
  assert.equal((shared.embed as typeof lb).name, lb.name);
  assert.equal(JSON.stringify(lb).includes('lb-1'), true);
});

test('a body without the embed is serialized unchanged', () => {
  const shared = serializeOnce({ id: 'x' });
  assert.equal(shared.stringify({ a: [1, 'two', null] }), '{"a":[1,"two",null]}');
});
