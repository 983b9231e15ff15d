// GET /openapi.json: a valid OpenAPI 3.1 document (checked against the official schema) that lists every route the
// API registers — taken from Fastify's own onRoute hook, so a new route without its entry fails here — with the same
// TypeBox schemas the routes validate with.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ServerAdminPatch } from '../../src/wire/server-admin.js';
import { inProcessApi, type InProcessApi } from '../security/support.js';

let api: InProcessApi;
const registered: [string, string][] = [];
let doc: any;

before(async () => {
  api = await inProcessApi((method, url) => registered.push([method, url]));
  const r = await api.app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.headers['content-type'], 'application/json');
  doc = r.json();
});
after(() => api.close());

test('the document is valid OpenAPI 3.1', async () => {
  assert.equal(doc.openapi, '3.1.0');
  const res = await new Validator().validate(doc);
  assert.ok(res.valid, JSON.stringify(res.errors)?.slice(0, 2000));
});

test('every registered route (HEAD included) is in the document, and nothing else', () => {
  const toOpenApi = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');
  const want = [...new Set(registered.map(([m, u]) => `${m.toLowerCase()} ${toOpenApi(u)}`))].sort();
  const have = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, ops]) => Object.keys(ops).filter((k) => k !== 'parameters').map((m) => `${m} ${path}`)).sort();
  assert.deepEqual(have, want);
  assert.ok(want.length >= 40, `${want.length} routes`);
  assert.ok(want.includes('patch /fulcrum/v1/zones/{zone}/backends/{backend_id}/servers/{ip}'));
  assert.ok(want.includes('post /lb/v1/zones/{zone}/lbs/{lb_id}/backends'));
});

test('request schemas are the ones the routes validate with', async () => {
  const op = doc.paths['/fulcrum/v1/zones/{zone}/backends/{backend_id}/servers/{ip}'].patch;
  const schema = op.requestBody.content['application/json'].schema;
  assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(ServerAdminPatch.properties).sort());
  assert.equal(schema.properties.weight.maximum, 256);
  // …and the route refuses what the documented schema refuses.
  const r = await api.app.inject({
    method: 'PATCH', url: '/fulcrum/v1/zones/fr-par-1/backends/x/servers/127.0.0.1', payload: { weight: 257 },
    headers: { 'x-auth-token': api.adminKey, 'content-type': 'application/json' },
  });
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().details[0].argument_name, 'weight');
  const create = doc.paths['/lb/v1/zones/{zone}/lbs/{lb_id}/backends'].post;
  assert.ok(create.requestBody.content['application/json'].schema.properties.forward_port, 'backend create body documented');
  const names = create.parameters.map((p: { name: string; in: string }) => `${p.in} ${p.name}`).sort();
  assert.deepEqual(names, ['path lb_id', 'path zone']);
});

test('the document is served without a key; the API still needs one', async () => {
  const r = await api.app.inject({ method: 'GET', url: '/lb/v1/zones/fr-par-1/lbs' });
  assert.equal(r.statusCode, 401);
});
