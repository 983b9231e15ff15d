// Bundles the dashboard (ui/) into dist/ui/ with esbuild: one JS file and one CSS file, no network needed at run time.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

mkdirSync('dist/ui', { recursive: true });
await build({
  entryPoints: ['ui/app.ts'], bundle: true, minify: true, format: 'esm', target: 'es2020', outdir: 'dist/ui',
  sourcemap: false, logLevel: 'warning', legalComments: 'none',
});
copyFileSync('ui/index.html', 'dist/ui/index.html');
