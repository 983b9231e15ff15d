// What a clean install must give: the native SQLite module built and loading, install scripts approved for exactly the
// packages that have them (npm's allowScripts), and no installed package whose `engines` excludes this Node.js.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import semver from 'semver';
import { ROOT } from '../helpers/fulcrum.js';

const require = createRequire(import.meta.url);
const readJson = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
const pkg = readJson('package.json');
const lock = readJson('package-lock.json');

/** Installed packages by name (the lock's node_modules/… keys), with their lock entries. */
const installed = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean; engines?: { node?: string } }>)
  .filter(([path]) => path.startsWith('node_modules/'))
  .map(([path, entry]) => ({ path, name: path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), entry }));

test('better-sqlite3 native module loads and runs a query', () => {
  const Database = require('better-sqlite3');
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (41), (1)');
  assert.equal(db.prepare('SELECT sum(x) AS s FROM t').get().s, 42);
  db.close();
});

test('allowScripts approves exactly the installed packages that have install scripts', () => {
  const withScripts = [...new Set(installed.filter((p) => p.entry.hasInstallScript).map((p) => p.name))].sort();
  const approved = Object.entries(pkg.allowScripts ?? {}).filter(([, v]) => v === true).map(([k]) => k).sort();
  assert.deepEqual(approved, withScripts);
  // Each approved package is pinned to one exact version in package.json, so the approval covers what was reviewed.
  for (const name of approved) {
    const wanted = pkg.dependencies?.[name] ?? pkg.devDependencies?.[name];
    assert.ok(wanted && semver.valid(wanted), `${name} is a direct dependency pinned to an exact version (got ${wanted})`);
  }
});

test(`every installed package supports this Node.js (${process.version}), as package.json engines does`, () => {
  assert.ok(semver.satisfies(process.version, pkg.engines.node), `package.json engines ${pkg.engines.node}`);
  const refused = installed.flatMap(({ name, entry }) => {
    const engines = entry.engines?.node;
    return engines && !semver.satisfies(process.version, engines) ? [`${name} requires node ${engines}`] : [];
  });
  assert.deepEqual(refused, []);
});
