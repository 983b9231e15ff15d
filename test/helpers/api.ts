// Helpers shared by the API contract tests: fixtures built through the official SDK, assertions on the SDK's typed
// errors, and the "a refused request changes nothing" check over raw HTTP.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { Errors } from '@scaleway/sdk-client';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum, ZONE, waitLbReady } from './fulcrum.js';

type Api = Lbv1.ZonedAPI;
type Response = Awaited<ReturnType<Fulcrum['http']>>;

/** Awaits a rejection that is an instance of `cls` (one of the SDK's typed errors) and returns it. */
export async function sdkError<E extends Error>(p: Promise<unknown>, cls: abstract new (...args: any[]) => E): Promise<E> {
  let result: unknown;
  try {
    result = await p;
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${(err as Error)?.name}: ${(err as Error)?.message}`);
    return err;
  }
  assert.fail(`expected ${cls.name}, but the call succeeded: ${JSON.stringify(result)?.slice(0, 300)}`);
}

/** Awaits an InvalidArgumentsError and returns the argument names it lists, sorted. */
export async function invalidArgs(p: Promise<unknown>): Promise<string[]> {
  const err = await sdkError(p, Errors.InvalidArgumentsError);
  return argNames(err.details.map((d) => d.argumentName));
}

export function argNames(names: string[]): string[] {
  return [...new Set(names)].sort();
}

/** Awaits a 404 ResourceNotFoundError for the given resource and id. */
export async function notFound(p: Promise<unknown>, resource: string, id: string): Promise<void> {
  const err = await sdkError(p, Errors.ResourceNotFoundError);
  assert.equal(err.resource, resource);
  assert.equal(err.resourceId, id);
  assert.equal(err.status, 404);
}

/** The exact wire content type every answer carries. */
export function assertJsonContentType(r: Response): void {
  assert.equal(r.headers.get('content-type'), 'application/json', `content type of a ${r.status} answer`);
}

/** Asserts a 400 `invalid_arguments` answer naming exactly `args`. */
export function assertInvalid(r: Response, args: string[]): void {
  assert.equal(r.status, 400, r.text);
  assertJsonContentType(r);
  assert.equal(r.json.type, 'invalid_arguments');
  assert.equal(r.json.message, 'invalid argument(s)');
  assert.ok(Array.isArray(r.json.details));
  for (const d of r.json.details) {
    assert.ok(['required', 'format', 'constraint', 'unknown'].includes(d.reason), JSON.stringify(d));
    assert.equal(typeof d.help_message, 'string');
    assert.ok(d.help_message.length > 0);
  }
  assert.deepEqual(argNames(r.json.details.map((d: { argument_name: string }) => d.argument_name)), argNames(args), r.text);
}

/** Reads every path (GET) and returns the JSON answers. */
export async function readAll(f: Fulcrum, paths: string[], zone = ZONE): Promise<unknown[]> {
  return Promise.all(paths.map(async (p) => {
    const r = await f.http('GET', p, undefined, {}, zone);
    assert.equal(r.status, 200, `GET ${p}: ${r.text}`);
    return r.json;
  }));
}

/**
 * Runs `act` and checks that the objects at `paths` read the same before and after. LB answers include the instance's
 * `updated_at`, which moves on any committed change of the LB or its children, so a write that slipped through shows.
 */
export async function assertUnchanged<T>(f: Fulcrum, paths: string[], act: () => Promise<T>, zone = ZONE): Promise<T> {
  const before = await readAll(f, paths, zone);
  const result = await act();
  assert.deepEqual(await readAll(f, paths, zone), before, 'a refused request changed something');
  return result;
}

/** Sends a request that must be refused with a 400 naming `args`. */
export async function expectInvalid(f: Fulcrum, method: string, path: string, body: unknown, args: string[]): Promise<void> {
  assertInvalid(await f.http(method, path, body), args);
}

/** Sends a request that must be refused with a 400 naming `args`, and checks that nothing at `watch` changed. */
export async function refused(f: Fulcrum, method: string, path: string, body: unknown, args: string[], watch: string[]): Promise<void> {
  await assertUnchanged(f, watch, () => expectInvalid(f, method, path, body, args));
}

/** Creates a load balancer through the SDK and waits until it and its instance are ready. */
export async function readyLb(api: Api, name = 'lb', extra: Partial<Lbv1.ZonedApiCreateLbRequest> = {}): Promise<Lbv1.Lb> {
  const lb = await api.createLb({ name, description: '', type: 'LB-S', ...extra });
  return waitLbReady(api, lb.id);
}

/** A complete SDK create-backend request with neutral values; `over` replaces fields. */
export function backendRequest(lbId: string, over: Partial<Lbv1.ZonedApiCreateBackendRequest> = {}): Lbv1.ZonedApiCreateBackendRequest {
  return {
    lbId, name: 'be', forwardProtocol: 'http', forwardPort: 8080, forwardPortAlgorithm: 'roundrobin', stickySessions: 'none',
    stickySessionsCookieName: '', serverIp: [], healthCheck: { port: 8080, checkMaxRetries: 3, checkSendProxy: false }, ...over,
  };
}

/** The update request matching a create request (PUT carries no health check nor servers). */
export function updateRequest(backendId: string, req: Lbv1.ZonedApiCreateBackendRequest,
  over: Partial<Lbv1.ZonedApiUpdateBackendRequest> = {}): Lbv1.ZonedApiUpdateBackendRequest {
  const { lbId: _lb, healthCheck: _hc, serverIp: _ips, zone: _zone, ...rest } = req;
  return { ...rest, name: req.name ?? 'be', backendId, ...over };
}

/** A complete raw (wire) create-backend body; `over` replaces fields. */
export function backendBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'be', forward_protocol: 'http', forward_port: 8080, forward_port_algorithm: 'roundrobin', sticky_sessions: 'none',
    sticky_sessions_cookie_name: '', server_ip: [], health_check: { port: 8080, check_max_retries: 3, check_send_proxy: false },
    ...over,
  };
}

/** A health-check body with the required fields; `fields` replaces or adds. */
export function healthCheckBody(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { port: 8080, check_max_retries: 3, ...fields };
}

/** A server holding one ready LB with a backend (one server) and a frontend, and a free IP: targets for refused requests. */
export interface Targets {
  f: Fulcrum;
  lbId: string;
  backendId: string;
  frontendId: string;
  ipId: string;
}

/** Registers hooks that start such a server before the file's tests and destroy it after; `t` is filled in by then. */
export function withTargets(): Targets {
  const t = {} as Targets;
  before(async () => {
    t.f = await Fulcrum.start({ dataplane: 'none' });
    t.lbId = (await t.f.http('POST', '/lbs', { name: 'errors', description: '', type: 'LB-S' })).json.id;
    await waitLbReady(t.f.sdk(), t.lbId);
    t.backendId = (await t.f.http('POST', `/lbs/${t.lbId}/backends`, backendBody({ server_ip: ['127.0.0.1'] }))).json.id;
    t.frontendId = (await t.f.http('POST', `/lbs/${t.lbId}/frontends`, frontendBody(t.backendId))).json.id;
    t.ipId = (await t.f.http('POST', '/ips', { reverse: 'keep.example.com', tags: ['keep'] })).json.id;
  });
  after(async () => { await t.f.destroy(); });
  return t;
}

/** A complete raw (wire) frontend body. */
export function frontendBody(backendId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'fe', inbound_port: 8081, backend_id: backendId, enable_http3: false, enable_access_logs: false, ...over };
}

/** Asserts a wire timestamp is RFC 3339 UTC (`…Z`). */
export function assertRfc3339(v: unknown, what: string): void {
  assert.equal(typeof v, 'string', what);
  assert.match(v as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, what);
  assert.ok(!Number.isNaN(Date.parse(v as string)), what);
}

/** Asserts the keys of a wire object, in any order. */
export function assertKeys(obj: unknown, keys: string[], what: string): void {
  assert.ok(obj && typeof obj === 'object' && !Array.isArray(obj), `${what} is an object`);
  assert.deepEqual(Object.keys(obj).sort(), [...keys].sort(), what);
}

/** Waits until a deleted LB answers 404; until then it must read `to_delete` (spec §5). */
export async function waitLbGone(f: Fulcrum, lbId: string, zone = ZONE): Promise<void> {
  const path = `/lbs/${lbId}`;
  for (let i = 0; i < 300; i++) {
    const r = await f.http('GET', path, undefined, {}, zone);
    if (r.status === 404) return;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'to_delete', `${path} while being deleted`);
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.fail(`${path} still exists`);
}
