// Turns every failure into Scaleway's error shape: Ajv validation errors into `invalid_arguments` naming each argument,
// malformed JSON and oversized bodies into 4xx, and anything unexpected into a logged 500 (always a bug).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ArgumentError, type ArgumentReason } from '../wire/errors.js';
import { LimitError } from '../store/store.js';
import { limitReached } from './limits.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

const REASON: Record<string, ArgumentReason> = {
  required: 'required', type: 'format', pattern: 'format', format: 'format', anyOf: 'format', maxLength: 'constraint',
  minLength: 'constraint', maxItems: 'constraint', minItems: 'constraint', enum: 'constraint', minimum: 'constraint',
  maximum: 'constraint',
};

/** How much of an oversized body is read and dropped so that its sender gets the 413; past it the connection is cut. */
const DRAIN_LIMIT = 64 * 1024 * 1024;
/** How long the rest of an oversized body may take to arrive. */
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * Answers once the client has sent its whole body. Fastify stops reading an oversized body and closes the connection;
 * a client still writing then gets a reset and never reads the answer. Reading the rest (and dropping it) first means
 * the 413 always arrives, for anything up to DRAIN_LIMIT bytes within DRAIN_TIMEOUT_MS; beyond, the answer is sent and
 * the connection cut.
 */
function answerAfterBody(req: FastifyRequest, reply: FastifyReply, status: number, body: Record<string, unknown>): Promise<void> {
  const raw = req.raw;
  return new Promise((resolve) => {
    let drained = 0;
    let answered = false;
    const answer = (cut: boolean) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      raw.removeListener('data', onData);
      // Settled once the answer is out, so that Fastify sees a reply already sent.
      reply.raw.once('close', () => resolve());
      reply.raw.once('finish', () => {
        if (cut) raw.socket?.destroy();
        resolve();
      });
      void reply.code(status).send(body);
    };
    const onData = (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT) answer(true);
    };
    const timer = setTimeout(() => answer(true), DRAIN_TIMEOUT_MS);
    if (raw.readableEnded) return answer(false);
    raw.on('data', onData);
    raw.once('end', () => answer(false));
    raw.once('error', () => answer(true));
    raw.resume();
  });
}

/** One detail per argument, preferring the most telling keyword (Ajv reports a failed union once per branch). */
export function ajvToDetails(errors: AjvError[], context: string | undefined): ArgumentError[] {
  const byArg = new Map<string, ArgumentError>();
  for (const e of errors) {
    let path = e.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
    if (e.keyword === 'required') path = path ? `${path}.${String(e.params.missingProperty)}` : String(e.params.missingProperty);
    const arg = path || (context === 'body' ? 'body' : context ?? 'request');
    const reason = REASON[e.keyword] ?? 'unknown';
    let help = e.message ?? 'invalid';
    if (e.keyword === 'enum') help = `must be one of: ${(e.params.allowedValues as string[]).join(', ')}`;
    const prev = byArg.get(arg);
    if (!prev || (prev.reason === 'format' && reason !== 'format' && e.keyword !== 'anyOf')) {
      byArg.set(arg, { argument_name: arg, reason, help_message: help });
    }
  }
  // A nullable field is a union with null: when a value inside it is bad, Ajv also reports the field itself
  // ("must be null"). The deeper argument is the real cause, so the field's own entry goes.
  const names = [...byArg.keys()];
  return [...byArg.values()].filter((d) => !names.some((n) => n.startsWith(`${d.argument_name}.`)));
}

export function errorHandler(err: FastifyError & { validation?: AjvError[]; validationContext?: string }, req: FastifyRequest, reply: FastifyReply): void | Promise<void> {
  if (err instanceof ApiError) {
    void reply.code(err.statusCode).send(err.body);
    return;
  }
  if (err instanceof LimitError) {
    const answer = limitReached(err);
    void reply.code(answer.statusCode).send(answer.body);
    return;
  }
  if (err.validation) {
    void reply.code(400).send({ type: 'invalid_arguments', message: 'invalid argument(s)', details: ajvToDetails(err.validation, err.validationContext) });
    return;
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const body = {
      type: 'invalid_arguments', message: 'request body too large',
      details: [{ argument_name: 'body', reason: 'constraint', help_message: `the body must be at most ${req.routeOptions.bodyLimit ?? 0} bytes` }],
    };
    return answerAfterBody(req, reply, 413, body);
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    void reply.code(400).send({
      type: 'invalid_arguments', message: 'invalid argument(s)',
      details: [{ argument_name: 'body', reason: 'format', help_message: err.message }],
    });
    return;
  }
  req.log.error({ err }, 'internal error');
  void reply.code(500).send({ type: 'internal_error', message: 'internal error' });
}
