// `--store URL`: which URLs are taken, and that a password never shows in what Fulcrum prints about them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeStore, parseStoreUrl, redactUrl } from '../../src/store/open.js';

const SECRET = 's3cret-pw';

test('a postgres:// or postgresql:// URL is taken as is; unset or empty means the SQLite file in the data dir', () => {
  for (const url of [`postgres://fulcrum:${SECRET}@db:5432/fulcrum`, 'postgresql://db/fulcrum', 'postgres://u@127.0.0.1/x?sslmode=require']) {
    assert.equal(parseStoreUrl(url), url);
  }
  assert.equal(parseStoreUrl(undefined), null);
  assert.equal(parseStoreUrl(''), null);
  assert.equal(describeStore(null, '/var/lib/fulcrum'), '/var/lib/fulcrum/fulcrum.db');
});

test('anything else is refused, and the refusal never repeats the password', () => {
  for (const url of [`mysql://u:${SECRET}@db/x`, `postgres://u:${SECRET}@db`, `postgres://u:${SECRET}@db/`, 'not a url']) {
    assert.throws(() => parseStoreUrl(url), (err: Error) => err.message.startsWith('--store') && !err.message.includes(SECRET), url);
  }
});

test('logs show the URL with its password masked', () => {
  const shown = describeStore(`postgres://fulcrum:${SECRET}@db.internal:5432/fulcrum`, '/d');
  assert.equal(shown, 'postgres://fulcrum:***@db.internal:5432/fulcrum');
  assert.equal(redactUrl('postgres://db/fulcrum'), 'postgres://db/fulcrum');
});
