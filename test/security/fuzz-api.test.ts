// Fuzzing the API of a running `fulcrum serve` (API-only data plane, so thousands of requests take seconds): every
// route gets malformed JSON, wrong types, missing and extra fields, huge and negative numbers, deep nesting, unicode,
// megabyte strings (beyond the 1 MiB body limit too), hostile ids and queries, and injection text in every string
// field. Every answer is a 4xx in Scaleway's error shape (or a success), never a 5xx nor a dropped connection, and a
// refused request changes nothing: the whole store is dumped before and after each one.
// Seeded: FULCRUM_FUZZ_SEED=<n> replays another seed, FULCRUM_FUZZ_RUNS=<k> runs k times as many cases.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Fulcrum } from '../helpers/fulcrum.js';
import { ID_KINDS, ROUTES, fillPath, paramsOf, realIds, withQuery, type Fixture, type IdKind, type RouteSpec } from './routes.js';
import {
  SEED, StoreDump, assertScalewayError, createFixture, createRules, raw, runs, sleep, startFulcrum, type RawResponse,
} from './support.js';

const PROJECT = randomUUID();
let f: Fulcrum;
let dump: StoreDump;
let fx: Fixture;
const stats = { requests: 0, refused: 0, accepted: 0, byStatus: new Map<number, number>() };

before(async () => {
  f = await startFulcrum({ dataplane: 'none' });
  dump = new StoreDump(f.dataDir);
  fx = await createFixture(f, PROJECT);
  console.log(`# seed ${SEED} (replay: FULCRUM_FUZZ_SEED=${SEED})`);
});

after(async () => {
  const codes = [...stats.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
  console.log(`# ${stats.requests} requests: ${stats.refused} refused, ${stats.accepted} accepted (${codes})`);
  dump.close();
  await f.destroy();
});

// ---- the invariant every request is held to

/** Waits until no LB is between states (being created or deleted): the store changes only by requests then. */
async function quiesce(): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const busy = dump.rows<{ n: number }>(
      "SELECT COUNT(*) AS n FROM lbs WHERE json_extract(doc, '$.status') IN ('to_create', 'creating', 'to_delete', 'deleting')")[0].n;
    if (busy === 0) return;
    await sleep(10);
  }
  throw new Error('the store did not settle');
}

/** The fixture objects still exist and are usable; otherwise (a fuzzed DELETE was accepted) a new fixture is made. */
async function ensureFixture(): Promise<void> {
  const has = (table: string, id: string) => dump.rows(`SELECT 1 FROM ${table} WHERE id = ?`, id).length > 0;
  const lb = dump.rows<{ doc: string }>('SELECT doc FROM lbs WHERE id = ?', fx.lbId)[0];
  const ipFree = dump.rows<{ lb_id: string | null }>('SELECT lb_id FROM ips WHERE id = ?', fx.ipId)[0];
  const usable = lb && JSON.parse(lb.doc).status === 'ready' && has('backends', fx.backendId) && has('frontends', fx.frontendId)
    && ipFree && ipFree.lb_id === null;
  if (!usable) {
    await quiesce();
    fx = await createFixture(f, PROJECT, f.key, 8001 + Math.floor(Math.random() * 1000) * 2);
  } else if (!has('routes', fx.routeId) || !has('acls', fx.aclId)) {
    fx = { ...fx, ...(await createRules(f, fx)) };
  }
}

/** Deletes what an accepted create made, so that the fuzz does not fill the IP pool or the LB's limits. */
async function undoCreate(route: RouteSpec, r: RawResponse): Promise<void> {
  if (route.method !== 'POST' || r.status !== 200 || typeof r.json?.id !== 'string') return;
  const path = { '/lbs': `/lbs/${r.json.id}?release_ip=true`, '/ips': `/ips/${r.json.id}`, '/lbs/:lb_id/backends': `/backends/${r.json.id}`,
    '/lbs/:lb_id/frontends': `/frontends/${r.json.id}`, '/routes': `/routes/${r.json.id}`,
    '/frontends/:frontend_id/acls': `/acls/${r.json.id}` }[route.path];
  if (!path) return;
  const d = await f.http('DELETE', path);
  assert.ok(d.status === 204 || d.status === 412, `cleanup ${path}: ${d.status} ${d.text}`);
}

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  chunked?: boolean;
}

/** Sends one request and checks the invariant; returns the answer. */
async function probe(route: RouteSpec | null, req: Sent): Promise<RawResponse> {
  await ensureFixture();
  await quiesce();
  const before = dump.all();
  const label = `${req.method} ${req.path.slice(0, 200)} body ${JSON.stringify(String(req.body ?? '').slice(0, 300))}`;
  let r: RawResponse;
  try {
    r = await raw(f.url, req.method, req.path, { headers: { 'x-auth-token': f.key, ...req.headers }, body: req.body, chunked: req.chunked });
  } catch (err) {
    assert.fail(`${label}: no complete answer: ${(err as Error).message}`);
  }
  stats.requests++;
  stats.byStatus.set(r.status, (stats.byStatus.get(r.status) ?? 0) + 1);
  assert.ok(r.status < 500, `${label}: ${r.status} ${r.text.slice(0, 500)}`);
  if (r.status >= 400) {
    stats.refused++;
    assertScalewayError(r, label, req.method);
    // A refused request changes nothing (nor does the reconciler act on it afterwards).
    assert.equal(dump.all(), before, `${label}: refused with ${r.status} but the store changed`);
  } else {
    stats.accepted++;
    assert.equal(r.headers['content-type'], 'application/json', `${label}: content type`);
    if (r.status === 200 && req.method !== 'HEAD') assert.doesNotThrow(() => JSON.parse(r.text), `${label}: JSON answer`);
    if (route) await undoCreate(route, r);
  }
  return r;
}

// ---- generators

const INJECTIONS = ['a\nb', 'a\r\nb', '\n', '#', 'x # y', '"', "'q'", 'a b', ' ', '\t', '%[src]', '%', '${HOME}', '"${HOME}"',
  ';', 'a;b', '\\', '\u0000', '\u007f', 'é', '𝕏', '\u2028', '\ufeff', '\u200b', '}', '{{x}}', '<script>', "' OR 1=1 --",
  '../../etc/passwd', '\n  server evil 127.0.0.1:1 check', 'GET / HTTP/1.1\r\nHost: x'];

const nasty = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.tuple(fc.constantFrom('fuzz', 'GET', '/', '127.0.0.1', 'http'), fc.constantFrom(...INJECTIONS)).map(([a, b]) => a + b),
  fc.integer({ min: 256, max: 5000 }).map((n) => 'x'.repeat(n)),
);
const bigNumber = fc.constantFrom(-1, -0, 0.5, -65536, 65536, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53, -(2 ** 53), 1e21, -1e308,
  1.7976931348623157e308, 5e-324, Number.MAX_SAFE_INTEGER + 2);
const deep = (depth: number, leaf: unknown = 1): unknown => {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
};
const hostile = fc.oneof(
  { weight: 3, arbitrary: nasty },
  { weight: 2, arbitrary: bigNumber },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 2000 }).map((d) => deep(d)) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], [[]], { __proto__: null }) },
);
const extraKey = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('constructor', 'toString', 'hasOwnProperty', 'valueOf', 'lb_id', 'id',
  'zone', 'status', 'project_id', 'config_version', 'configVersion', 'pool'));

/** Leaf paths of a JSON value: `a`, `b.c`, `d.0`. */
function paths(v: unknown, prefix = ''): string[] {
  if (v === null || typeof v !== 'object') return prefix ? [prefix] : [];
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
  const own = prefix ? [prefix] : [];
  return [...own, ...entries.flatMap(([k, x]) => paths(x, prefix ? `${prefix}.${k}` : k))];
}

function edit(obj: unknown, path: string, op: 'set' | 'delete', value?: unknown): unknown {
  const copy = structuredClone(obj) as Record<string, any>;
  const keys = path.split('.');
  let o: any = copy;
  for (const k of keys.slice(0, -1)) o = o?.[k];
  if (o === null || typeof o !== 'object') return copy;
  const last = keys[keys.length - 1];
  if (op === 'delete') {
    if (Array.isArray(o)) o.splice(Number(last), 1);
    else delete o[last];
  } else o[last] = value;
  return copy;
}

type BodyCase = { text?: string | Buffer; contentType?: string; chunked?: boolean };

const contentType = fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', undefined,
  'application/x-www-form-urlencoded', 'application/json; charset=utf-8', 'multipart/form-data; boundary=x', 'application/xml', '*/*', 'a');

function bodyCases(base: Record<string, unknown> | null): fc.Arbitrary<BodyCase> {
  const valid = base ?? {};
  const leafs = paths(valid);
  const mutated = fc.array(fc.oneof(
    ...(leafs.length ? [
      fc.tuple(fc.constantFrom(...leafs), hostile).map(([p, v]) => (o: unknown) => edit(o, p, 'set', v)),
      fc.constantFrom(...leafs).map((p) => (o: unknown) => edit(o, p, 'delete')),
    ] : []),
    fc.tuple(extraKey, hostile).map(([k, v]) => (o: unknown) => ({ ...(o as object), [k]: v })),
  ), { minLength: 1, maxLength: 3 }).map((ops) => ops.reduce<unknown>((o, op) => op(o), valid));
  const malformed = fc.oneof(
    fc.constantFrom('{', '}', '{"name":}', '{"name": "a",}', "{'name': 'a'}", '{"name": "a"', 'nul', 'NaN', '1e999', '-', '[1,]',
      '{"__proto__": {"admin": true}, "name": "x"}', '{"constructor": {"prototype": {"x": 1}}}', '\ufeff{}', '{"a":1}{"b":2}',
      '{"name": "\\ud800"}', '{"name": "\\u0000"}', '"\\x"'),
    fc.string({ maxLength: 60 }),
    fc.integer({ min: 1000, max: 100_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
    fc.integer({ min: 1000, max: 50_000 }).map((n) => `{"name":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`),
    fc.constant(Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d])), // invalid UTF-8 in a string
  );
  return fc.oneof(
    { weight: 5, arbitrary: fc.tuple(mutated, contentType).map(([o, ct]) => ({ text: JSON.stringify(o), contentType: ct })) },
    { weight: 2, arbitrary: fc.tuple(malformed, contentType).map(([t, ct]) => ({ text: t, contentType: ct })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
      .map((v) => ({ text: JSON.stringify(v), contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.constant({}) },
  );
}

/** A path parameter: the right object, an object of another kind, another UUID, or hostile text. */
const idChoice = fc.oneof(
  { weight: 3, arbitrary: fc.constant<'real'>('real') },
  { weight: 1, arbitrary: fc.constantFrom<IdKind>(...ID_KINDS) },
  { weight: 1, arbitrary: fc.uuid().map((u) => ({ id: u })) },
  { weight: 1, arbitrary: fc.oneof(nasty, fc.constantFrom('..', '%2e%2e', '', '0', 'ZZZZZZZZ-0000-4000-8000-000000000000', 'x'.repeat(101)))
    .map((s) => ({ id: s })) },
);

function queryCases(route: RouteSpec): fc.Arbitrary<Record<string, string | string[]> | undefined> {
  const base = route.query ?? {};
  const keys = Object.keys(base);
  const value = fc.oneof(nasty, bigNumber.map(String), fc.constantFrom('0', '-1', '101', '1000000000', '99999999999', '1.5', 'true', ''),
    fc.array(nasty, { maxLength: 3 }));
  return fc.oneof(
    fc.constant(route.query),
    fc.array(fc.tuple(fc.oneof(...(keys.length ? [fc.constantFrom(...keys)] : []), extraKey), value), { minLength: 1, maxLength: 3 })
      .map((edits) => Object.fromEntries([...Object.entries(base), ...edits])),
  );
}

function pathFor(route: RouteSpec, choices: (string | IdKind | { id: string })[]): string {
  const real = realIds(fx);
  let i = 0;
  return fillPath(route.path, fx, (kind) => {
    const c = choices[i++] ?? 'real';
    if (c === 'real') return real[kind];
    if (typeof c === 'string') return real[c as IdKind];
    return c.id;
  });
}

// ---- the properties, one per route

describe('fuzzed requests on every route: a 4xx in Scaleway\'s shape or a success, never a 5xx, a refusal changes nothing', () => {
  ROUTES.forEach((route, i) => {
    test(`${route.method} ${route.path}`, async () => {
      const arb = fc.record({
        ids: fc.array(idChoice, { minLength: paramsOf(route.path).length, maxLength: paramsOf(route.path).length }),
        query: queryCases(route),
        body: route.body || route.method !== 'GET' ? bodyCases(route.body ? route.body(fx) : null) : fc.constant<BodyCase>({}),
      });
      const built = { ...fx };
      const details = await fc.check(fc.asyncProperty(arb, async (c) => {
        // Bodies were generated against the fixture of the moment; a replaced fixture gets its ids swapped in.
        let body = c.body.text;
        if (typeof body === 'string') {
          for (const k of ['lbId', 'backendId', 'frontendId', 'ipId', 'routeId', 'aclId'] as const) body = body.replaceAll(built[k], fx[k]);
        }
        await probe(route, {
          method: route.method, path: withQuery(pathFor(route, c.ids), c.query),
          headers: c.body.contentType ? { 'content-type': c.body.contentType } : {}, body,
        });
      }), { seed: SEED + i, numRuns: runs(route.body ? 45 : 25), interruptAfterTimeLimit: 60_000 });
      if (details.failed) assert.fail(`${fc.defaultReportMessage(details)}\n${(details.errorInstance as Error)?.message}`);
    });
  });
});

// ---- deterministic sweeps: every string field and query value with every injection text; megabyte bodies

/** The fixture-based valid body of a route, rebuilt each time (the fixture may have been replaced). */
const validBody = (route: RouteSpec) => route.body!(fx);

test('injection text in every string field of every body: refused, or stored as given without harm', async () => {
  let sent = 0;
  for (const route of ROUTES.filter((r) => r.body)) {
    for (const p of paths(validBody(route)).filter((x) => typeof x === 'string')) {
      const leaf = p.split('.').reduce<any>((o, k) => o?.[k], validBody(route));
      if (typeof leaf !== 'string') continue;
      for (const inj of INJECTIONS) {
        for (const value of [inj, `${leaf}${inj}`]) {
          const body = edit(validBody(route), p, 'set', value);
          await probe(route, { method: route.method, path: fillPath(route.path, fx), headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body) });
          sent++;
        }
      }
    }
  }
  console.log(`# injection sweep over body fields: ${sent} requests`);
  assert.ok(sent > 1000);
});

test('injection text in every query parameter and path parameter', async () => {
  let sent = 0;
  for (const route of ROUTES) {
    for (const key of Object.keys(route.query ?? {})) {
      for (const inj of INJECTIONS) {
        await probe(route, { method: route.method, path: withQuery(fillPath(route.path, fx), { ...route.query, [key]: inj }) });
        sent++;
      }
    }
    for (const [n] of paramsOf(route.path).entries()) {
      for (const inj of [...INJECTIONS, 'x'.repeat(100), 'x'.repeat(101), 'x'.repeat(5000)]) {
        let k = 0;
        const path = fillPath(route.path, fx, (kind) => (k++ === n ? inj : realIds(fx)[kind]));
        const body = route.body ? JSON.stringify(validBody(route)) : undefined;
        await probe(route, { method: route.method, path, body, headers: body ? { 'content-type': 'application/json' } : {} });
        sent++;
      }
    }
  }
  console.log(`# injection sweep over query and path parameters: ${sent} requests`);
});

test('megabyte strings: under the 1 MiB body limit a 400 naming the field, over it a 413, chunked or not', async () => {
  for (const route of ROUTES.filter((r) => r.body)) {
    const base = validBody(route);
    const field = paths(base).find((p) => typeof p.split('.').reduce<any>((o, k) => o?.[k], base) === 'string')!;
    const under = JSON.stringify(edit(base, field, 'set', 'é'.repeat(400_000))); // 800 KB of UTF-8
    assert.ok(Buffer.byteLength(under) < 1024 * 1024);
    const r1 = await probe(route, { method: route.method, path: fillPath(route.path, fx), headers: { 'content-type': 'application/json' }, body: under });
    assert.equal(r1.status, 400, `${route.method} ${route.path} with an 800 KB ${field}: ${r1.text.slice(0, 300)}`);
    for (const chunked of [false, true]) {
      const over = JSON.stringify(edit(base, field, 'set', 'a'.repeat(2 * 1024 * 1024)));
      const r2 = await probe(route, { method: route.method, path: fillPath(route.path, fx), headers: { 'content-type': 'application/json' }, body: over, chunked });
      assert.equal(r2.status, 413, `${route.method} ${route.path} with a 2 MiB body${chunked ? ' (chunked)' : ''}: ${r2.text.slice(0, 300)}`);
      assert.equal(r2.json.type, 'invalid_arguments');
    }
  }
  // A body exactly at the limit is read (and refused for its content, not its size); one byte more is 413.
  const route = ROUTES.find((r) => r.method === 'POST' && r.path === '/lbs')!;
  const pad = (n: number) => { const s = JSON.stringify({ ...validBody(route), description: '' }); return s.slice(0, -1) + ',"pad":"' + 'p'.repeat(n - s.length - 9) + '"}'; };
  assert.equal(Buffer.byteLength(pad(1024 * 1024)), 1024 * 1024);
  assert.equal((await probe(route, { method: 'POST', path: fillPath(route.path, fx), headers: { 'content-type': 'application/json' }, body: pad(1024 * 1024) })).status < 413, true);
  assert.equal((await probe(route, { method: 'POST', path: fillPath(route.path, fx), headers: { 'content-type': 'application/json' }, body: pad(1024 * 1024 + 1) })).status, 413);
});

test('unknown routes and methods: 404 in Scaleway\'s shape', async () => {
  for (const [method, path] of [['PATCH', '/lbs'], ['OPTIONS', '/lbs'], ['GET', '/nope'], ['POST', '/lbs/x/y/z'], ['PUT', '/ips'],
    ['DELETE', '/lb-types'], ['GET', ''], ['TRACE', '/lbs']] as const) {
    const r = await probe(null, { method, path: `/lb/v1/zones/fr-par-1${path}` });
    assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
  }
  for (const path of ['/', '/lb/v1', '/lb/v1/zones/nl-ams-1/lbs', '/lb/v1/zones/%zz/lbs', '/lb/v1/zones/fr-par-1/lbs/%E0%A4%A', '/lb/v2/zones/fr-par-1/lbs']) {
    const r = await probe(null, { method: 'GET', path });
    assert.ok(r.status === 404 || r.status === 400, `GET ${path}: ${r.status} ${r.text}`);
  }
});

test('keys that reach a prototype are refused, at any depth, and change nothing', async () => {
  const route = ROUTES.find((r) => r.method === 'POST' && r.path === '/lbs')!;
  for (const extra of ['"__proto__": {"status": "ready"}', '"extra": [{"a": {"__proto__": {}}}]', '"constructor": {"prototype": {"x": 1}}']) {
    const text = JSON.stringify(validBody(route)).replace(/^\{/, `{${extra},`);
    const r = await probe(route, { method: 'POST', path: fillPath(route.path, fx), headers: { 'content-type': 'application/json' }, body: text });
    assert.equal(r.status, 400, `${extra}: ${r.text}`);
    assert.match(r.json.details[0].help_message, /__proto__/);
  }
});

test('a path parameter over 100 characters or a bad percent-encoding: the key is checked first, then a 400 naming path', async () => {
  for (const path of [`/lb/v1/zones/fr-par-1/lbs/${'x'.repeat(101)}`, '/lb/v1/zones/fr-par-1/lbs/%zz']) {
    const denied = await raw(f.url, 'GET', path);
    assert.equal(denied.status, 401, `${path} without a key: ${denied.text}`);
    assertScalewayError(denied, path);
    const r = await probe(null, { method: 'GET', path });
    assert.equal(r.status, 400, `${path}: ${r.text}`);
    assert.equal(r.json.details[0].argument_name, 'path');
  }
});

/** Writes raw bytes on a socket and reads until the server closes it. */
function rawSocket(bytes: string | Buffer): Promise<string> {
  const url = new URL(f.url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = createConnection({ host: url.hostname, port: Number(url.port) }, () => s.end(bytes));
    s.setTimeout(10_000, () => { s.destroy(); reject(new Error('no answer within 10 s')); });
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}

test('what is not HTTP, or headers over 16 KiB, gets a 4xx in Scaleway\'s shape before the connection closes', async () => {
  const key = f.key;
  const cases: [string, string][] = [
    ['a malformed request line', 'GARBAGE\r\n\r\n'],
    ['binary', '\x00\x01\x02\xff\r\n\r\n'],
    ['a header without a colon', `GET /lb/v1/zones/fr-par-1/lbs HTTP/1.1\r\nHost: x\r\nX-Auth-Token ${key}\r\n\r\n`],
    ['a 32 KiB header', `GET /lb/v1/zones/fr-par-1/lbs HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${key}\r\nX-Big: ${'b'.repeat(32_768)}\r\n\r\n`],
    ['a 64 KiB URL', `GET /lb/v1/zones/fr-par-1/lbs?name=${'n'.repeat(65_536)} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${key}\r\n\r\n`],
    ['two lengths', `POST /lb/v1/zones/fr-par-1/lbs HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${key}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`],
    ['a bad chunk size', `POST /lb/v1/zones/fr-par-1/lbs HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${key}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
  ];
  for (const [what, bytes] of cases) {
    const before = dump.all();
    const answer = await rawSocket(bytes);
    const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(answer);
    assert.ok(m, `${what}: an HTTP answer, got ${JSON.stringify(answer.slice(0, 200))}`);
    const status = Number(m[1]);
    assert.ok(status >= 400 && status < 500, `${what}: ${status}`);
    assert.match(m[2], /^content-type: application\/json$/im, `${what}: content type`);
    const body = JSON.parse(m[3]);
    assert.equal(typeof body.type, 'string', `${what}: ${m[3]}`);
    assert.equal(typeof body.message, 'string', `${what}: ${m[3]}`);
    assert.equal(dump.all(), before, `${what} changed nothing`);
  }
  // The server still answers afterwards.
  assert.equal((await f.http('GET', '/lbs')).status, 200);
});

test('the server logged no internal error through all of it', () => {
  assert.doesNotMatch(f.output, /internal error|"level":50/, f.output.slice(0, 2000));
  assert.equal(f.child.exitCode, null, 'still running');
});
