// The HTTP API: Fastify with Scaleway's wire rules applied to every route —
// `Content-Type: application/json` exactly (the TS SDK parses nothing else), JSON bodies on any method (DELETE too),
// the secret key checked first, and every error in Scaleway's shape.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ApiError, invalidArgument, routeNotFound } from '../wire/errors.js';
import { Keys, type Principal } from './auth.js';
import type { ApiContext } from './context.js';
import { errorHandler } from './errors-hook.js';
import { backendRoutes } from './backends.js';
import { frontendRoutes } from './frontends.js';
import { ipRoutes } from './ips.js';
import { lbRoutes } from './lbs.js';
import { statsRoutes } from './stats.js';

export const BODY_LIMIT = 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export async function buildApi(ctx: ApiContext, keys: Keys, log: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: false, allErrors: true, removeAdditional: false, useDefaults: false } },
  });
  app.decorateRequest('principal', null as unknown as Principal);

  // Any content type is read as JSON: curl -d sends form-urlencoded by default, the SDKs send application/json.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(invalidArgument('body', 'format', `malformed JSON: ${(err as Error).message}`), undefined);
    }
  });

  app.addHook('onRequest', async (req) => {
    req.principal = keys.authenticate(req.headers['x-auth-token']);
  });
  app.addHook('preHandler', async (req) => {
    const zone = (req.params as { zone?: string } | undefined)?.zone;
    if (zone !== undefined && !ctx.zones.includes(zone)) {
      throw invalidArgument('zone', 'constraint', `this deployment serves zones: ${ctx.zones.join(', ')}`);
    }
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-type', 'application/json');
    return payload;
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    const err = routeNotFound(req.method, req.url.split('?')[0]);
    void reply.code(err.statusCode).send(err.body);
  });

  const prefix = '/lb/v1/zones/:zone';
  await app.register(async (r) => {
    lbRoutes(r, ctx);
    ipRoutes(r, ctx);
    backendRoutes(r, ctx);
    frontendRoutes(r, ctx);
    statsRoutes(r, ctx);
  }, { prefix });
  return app;
}

export { ApiError };
