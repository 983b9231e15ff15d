// The dashboard at /ui/: static files bundled at install time (scripts/build-ui.mjs → dist/ui/), served without a key
// (the page asks for one and calls the API with it), and /ui/config.json with the zones this deployment serves.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../api/context.js';
import { notFound } from '../wire/errors.js';
import type { OpsRouteConfig } from './access.js';

/** dist/ui, next to dist/src (this file is dist/src/ops/ui.js once built). */
const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export function uiRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const config: OpsRouteConfig = { public: true, ownContentType: true };
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(FILES)) {
    try { files.set(name, readFileSync(`${UI_DIR}${name}`)); } catch { /* not built: answered 404 below */ }
  }
  const serve = (name: string) => async (_req: FastifyRequest, reply: FastifyReply) => {
    const body = files.get(name);
    if (!body) throw notFound('ui', `${name} (the dashboard is not built: npm run build)`);
    // Content Security Policy: the page loads only its own files and talks only to this origin.
    return reply.header('content-type', FILES[name]).header('cache-control', 'no-cache')
      .header('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
      .header('x-content-type-options', 'nosniff').send(body);
  };
  const schema = { tags: ['fulcrum'], summary: 'The dashboard (no key: the page asks for one)' };
  app.get('/ui/', { config, schema }, serve('index.html'));
  app.get('/ui/app.js', { config, schema }, serve('app.js'));
  app.get('/ui/app.css', { config, schema }, serve('app.css'));
  app.get('/ui/config.json', { config: { public: true }, schema: { ...schema, summary: 'Zones the dashboard shows' } },
    async () => ({ zones: ctx.zones }));
}
