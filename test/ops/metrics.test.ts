// GET /metrics after real traffic through two LBs: the right counters per server, frontend and backend under Scaleway
// ids, the control plane's own metrics, one HELP/TYPE per family (promtool, Prometheus' own checker, accepts it),
// and the key rules: admin key as X-Auth-Token or Bearer, project keys refused, --metrics-public opens it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startHttpServers } from '../fixtures/servers.js';
import { E2e, type Service } from '../e2e/support/lb.js';
import { Fulcrum } from '../helpers/fulcrum.js';
import { parseLabels } from '../../src/ops/exposition.js';
import { ops } from './support.js';

const e = E2e.suite('metrics');

interface Sample { name: string; labels: Record<string, string>; value: number }

function samples(text: string): Sample[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(l);
    assert.ok(m, `sample line: ${l}`);
    return { name: m[1], labels: Object.fromEntries(parseLabels(m[2] ?? '')), value: Number(m[3]) };
  });
}

const find = (all: Sample[], name: string, labels: Record<string, string>) =>
  all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

async function scrape(headers: Record<string, string> = { 'X-Auth-Token': e.f.key }): Promise<string> {
  const r = await ops(e.f, 'GET', '/metrics', undefined, headers);
  assert.equal(r.status, 200, r.text.slice(0, 500));
  assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return r.text;
}

test('a scrape after real traffic holds each server\'s, frontend\'s and backend\'s counters under Scaleway ids', async () => {
  const servers = e.serve(...await startHttpServers([e.host(), e.host()]));
  const svc = await e.lb.service({ forwardPort: servers[0].port, serverIp: servers.map((s) => s.host) });
  for (const s of servers) await svc.waitServer(s.host, 'running', 'passed');
  // A second LB, so the merge is of two exporters.
  const other = await e.newLb('metrics-2');
  const otherServers = e.serve(...await startHttpServers([e.host()]));
  const svc2: Service = await other.service({ forwardPort: otherServers[0].port, serverIp: [otherServers[0].host] });
  await svc2.waitServer(otherServers[0].host, 'running', 'passed');

  await svc.bodies(10);
  await svc.get('/nowhere-404'); // counted by the server too: the test server answers 200 to any path
  await svc2.bodies(3);
  const all = samples(await scrape());

  for (const s of servers) {
    const ok = find(all, 'haproxy_server_http_responses_total', { lb_id: e.lb.id, backend_id: svc.backend.id, server_ip: s.host, code: '2xx' });
    assert.equal(ok.length, 1, `one 2xx counter for ${s.host}`);
    assert.equal(ok[0].value, s.hits, `2xx of ${s.host} = requests it received`);
    assert.ok(s.hits >= 5);
    const up = find(all, 'haproxy_server_status', { server_ip: s.host, state: 'UP' });
    assert.equal(up[0]?.value, 1, `${s.host} is UP`);
    assert.equal(find(all, 'haproxy_server_weight', { server_ip: s.host })[0]?.value, 1);
  }
  const fe = find(all, 'haproxy_frontend_http_requests_total', { lb_id: e.lb.id });
  assert.equal(fe.length, 1);
  assert.equal(fe[0].value, 11);
  assert.ok(fe[0].labels.frontend_id, 'frontend_id label');
  assert.equal(find(all, 'haproxy_backend_http_responses_total', { backend_id: svc.backend.id, code: '2xx' })[0]?.value, 11);
  assert.equal(find(all, 'haproxy_server_http_responses_total', { lb_id: other.id, server_ip: otherServers[0].host, code: '2xx' })[0]?.value, 3);
  // No HAProxy names left, nor the exporter's own frontend.
  assert.ok(!all.some((s) => 'proxy' in s.labels || 'server' in s.labels), 'proxy/server labels are rewritten');
  assert.ok(!all.some((s) => Object.values(s.labels).includes('fulcrum_metrics')));
  for (const id of [e.lb.id, other.id]) assert.equal(find(all, 'fulcrum_lb_exporter_up', { lb_id: id })[0]?.value, 1);

  // The control plane's own.
  assert.ok(find(all, 'fulcrum_http_request_duration_seconds_count', { method: 'POST', route: '/lb/v1/zones/:zone/lbs', status: '200' })[0]?.value >= 2);
  assert.ok(find(all, 'fulcrum_apply_duration_seconds_count', { result: 'ok' })[0]?.value >= 2);
  assert.equal(find(all, 'fulcrum_lbs', { status: 'ready' })[0]?.value, 2);
  assert.ok(find(all, 'fulcrum_store_operation_duration_seconds_count', { operation: 'snapshot' })[0]?.value >= 1);
  assert.ok(all.some((s) => s.name === 'fulcrum_process_cpu_seconds_total'));
});

test('one exposition: each family once with one HELP and one TYPE; promtool accepts it', async () => {
  const text = await scrape();
  const types = text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
  assert.equal(new Set(types).size, types.length, 'no family is typed twice');
  const helps = text.split('\n').filter((l) => l.startsWith('# HELP ')).map((l) => l.split(' ')[2]);
  assert.equal(new Set(helps).size, helps.length, 'no family has two HELP lines');
  assert.ok(types.includes('haproxy_server_http_responses_total') && types.includes('fulcrum_http_request_duration_seconds'));
  const child = promisify(execFile)('promtool', ['check', 'metrics']);
  child.child.stdin!.end(text);
  // promtool exits non-zero on a malformed exposition; lint remarks (names, HELP texts) are HAProxy's own and print only.
  const { stderr } = await child.catch((err: { stderr: string; code: number }) => {
    assert.ok(!/error while linting|parse error|second TYPE|duplicate/i.test(err.stderr), err.stderr.slice(0, 2000));
    return { stderr: err.stderr };
  });
  assert.ok(!/parse error|second TYPE/i.test(stderr), stderr);
});

test('keys: the admin key as Bearer works; none, or a bad one, is 401; --metrics-public needs none', async () => {
  await scrape({ Authorization: `Bearer ${e.f.key}` });
  const none = await ops(e.f, 'GET', '/metrics', undefined, {});
  assert.equal(none.status, 401);
  assert.equal(none.json.type, 'denied_authentication');
  assert.equal((await ops(e.f, 'GET', '/metrics', undefined, { Authorization: 'Bearer 11111111-2222-4333-8444-555555555555' })).status, 401);

  const open = await Fulcrum.start({ dataplane: 'none', env: { FULCRUM_METRICS_PUBLIC: '1' } });
  try {
    const r = await ops(open, 'GET', '/metrics', undefined, {});
    assert.equal(r.status, 200);
    assert.match(r.text, /^# HELP fulcrum_/m);
    assert.equal((await ops(open, 'GET', '/lb/v1/zones/fr-par-1/lbs', undefined, {})).status, 401, 'the API still needs a key');
  } finally {
    await open.destroy();
  }
});
