// The HTTP API: Fastify with Scaleway's wire rules applied to every route —
// `Content-Type: application/json` exactly (the TS SDK parses nothing else), JSON bodies on any method (DELETE too),
// the secret key checked first, then the per-key rate limit, and every error in Scaleway's shape.
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { ApiError, invalidArgument, routeNotFound } from '../wire/errors.js';
import { ADMIN, Keys, type Principal } from './auth.js';
import type { ApiContext } from './context.js';
import { errorHandler } from './errors-hook.js';
import { aclResource } from './acls.js';
import { backendRoutes } from './backends.js';
import { certificateRoutes } from './certificates.js';
import { frontendRoutes } from './frontends.js';
import { ipRoutes } from './ips.js';
import { lbRoutes } from './lbs.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { routeResource } from './routes.js';
import { statsRoutes } from './stats.js';

export const BODY_LIMIT = 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface ApiOptions {
  /** Per-key request rate limit; default none (`fulcrum serve` always gives one, see cli.ts). */
  rateLimit?: RateLimitOptions;
  /** The admin key's own limit; default none (the admin key is the operator's: `--admin-rate-limit`). */
  adminRateLimit?: RateLimitOptions;
  /** Told about every route as it is registered (tests enumerate the routes with it). */
  onRoute?: (method: string, url: string) => void;
}

export async function buildApi(ctx: ApiContext, keys: Keys, log: Logger, opts: ApiOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: false, allErrors: true, removeAdditional: false, useDefaults: false } },
    clientErrorHandler,
    // A URL Fastify cannot route (bad percent-encoding, a path parameter over 100 characters) is answered here, before
    // any hook: still key first (401), then Scaleway's shape.
    frameworkErrors: (err, req, reply) => {
      // No hook runs for these replies: the body goes out as bytes, so that Fastify keeps the exact content type.
      const send = (e: ApiError) => {
        void (reply as FastifyReply).code(e.statusCode).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(e.body)));
      };
      keys.authenticate(req.headers['x-auth-token']).then(
        () => send(err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? invalidArgument('path', 'constraint', 'a path parameter (an id) is at most 100 characters')
          : invalidArgument('path', 'format', 'the URL is not valid (percent-encoding)')),
        (denied: ApiError) => send(denied),
      );
    },
  });
  app.decorateRequest('principal', null as unknown as Principal);
  if (opts.onRoute) {
    const tell = opts.onRoute;
    app.addHook('onRoute', (r) => { for (const m of [r.method].flat()) tell(m, r.url); });
  }
  const limiter = new RateLimiter(opts.rateLimit ?? { perSecond: 0, burst: 1 });
  const adminLimiter = new RateLimiter(opts.adminRateLimit ?? { perSecond: 0, burst: 1 });

  // Any content type is read as JSON: curl -d sends form-urlencoded by default, the SDKs send application/json.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return done(invalidArgument('body', 'format', `malformed JSON: ${(err as Error).message}`), undefined);
    }
    // What Fastify's own JSON parser refuses too: keys that would reach an object's prototype if merged somewhere.
    if ((text.includes('__proto__') || text.includes('prototype')) && poisoned(value)) {
      return done(invalidArgument('body', 'format', 'keys __proto__ and constructor.prototype are not allowed'), undefined);
    }
    done(null, value);
  });

  // Before the body is read: a refused key or a key over its limit costs no parsing. Requests whose key is refused are
  // limited per client address, so that guessing keys is slowed as well.
  app.addHook('onRequest', async (req, reply) => {
    const setHeader = (name: string, value: string) => { void reply.header(name, value); };
    let principal: Principal;
    try {
      principal = await keys.authenticate(req.headers['x-auth-token']);
    } catch (err) {
      limiter.check(`address ${req.ip}`, setHeader);
      throw err;
    }
    (principal === ADMIN ? adminLimiter : limiter).check(`key ${principal.keyName}`, setHeader);
    req.principal = principal;
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
    certificateRoutes(r, ctx);
    routeResource(r, ctx);
    aclResource(r, ctx);
    statsRoutes(r, ctx);
  }, { prefix });
  return app;
}

/** True when a parsed body holds a `__proto__` key or a `constructor` object with a `prototype` key, at any depth. */
function poisoned(value: unknown): boolean {
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    for (const [k, child] of Object.entries(v)) {
      if (k === '__proto__') return true;
      if (k === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) return true;
      stack.push(child);
    }
  }
  return false;
}

/**
 * HTTP the server cannot read as a request (a malformed request line, headers over Node's 16 KiB, a timeout) never
 * reaches Fastify's routes: the answer is written on the socket, here in Scaleway's shape, and the connection closed.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, help] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'the request line and headers must fit in 16 KiB']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'the request was not received in time']
    : [400, 'Bad Request', 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify({
    type: 'invalid_arguments', message: 'invalid argument(s)', details: [{ argument_name: 'request', reason: 'format', help_message: help }],
  });
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  // end() lets the answer out first; a client that never reads cannot hold the socket.
  setTimeout(() => socket.destroy(), 1000).unref();
}

export { ApiError };
