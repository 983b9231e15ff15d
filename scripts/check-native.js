// Run by `npm ci` / `npm install` (postinstall): fails the install, not the first start, when better-sqlite3's native
// module was not built (a stricter npm that skips its install script, a missing compiler, an unsupported Node.js).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
try {
  const Database = require('better-sqlite3');
  const db = new Database(':memory:');
  const { version } = db.prepare('SELECT sqlite_version() AS version').get();
  db.close();
  console.log(`better-sqlite3 native module loads (SQLite ${version}, Node.js ${process.version})`);
} catch (err) {
  console.error(`better-sqlite3's native module does not load on Node.js ${process.version}: ${err.message}
Fulcrum cannot start without it. Check that npm ran its install script (package.json "allowScripts"),
and that python3, make and g++ are installed to build it from source.`);
  process.exit(1);
}
