// Process lifecycle: HAProxy outlives a killed control plane, a dead master is reported and restarted, a start that
// cannot bind fails cleanly, remove() leaves nothing behind; stickiness across reloads and runtime adds.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HaproxyProcess, lbPaths } from '../../src/dataplane/haproxy.js';
import { parseShowProc } from '../../src/dataplane/runtime.js';
import type { LbSnapshot } from '../../src/domain/snapshot.js';
import { DataPlaneHarness } from '../fixtures/dataplane.js';
import {
  freePort, httpGet, loopbackNet, startHttpServers, startTcpServer, tcpFirstLine, waitFor,
} from '../fixtures/servers.js';
import { makeBackend, makeFrontend, makeSnapshot, withBackend } from '../fixtures/snapshots.js';

const h = new DataPlaneHarness();
after(() => h.cleanup());

/** An HTTP LB on a fresh /24 with two servers. */
async function httpLb(): Promise<{ snap: LbSnapshot; lbIp: string; port: number }> {
  const net = loopbackNet();
  const lbId = randomUUID();
  const servers = h.serve(...await startHttpServers([`${net}.11`, `${net}.12`]));
  const port = await freePort(`${net}.1`);
  h.lbIds.add(lbId);
  const snap = makeSnapshot(lbId, [`${net}.1`], [makeFrontend('f', lbId, 'b', port)],
    [makeBackend('b', lbId, { forwardPort: servers[0].port, pool: servers.map((s) => s.host) })]);
  return { snap, lbIp: `${net}.1`, port };
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('show proc parsing', () => {
  const p = parseShowProc(['#<PID>          <type>          <reloads>       <uptime>        <version>',
    '6365            master          2 [failed: 1]   0d00h10m33s     2.6.12-1+deb12u4', '# workers',
    '10017           worker          0               0d00h00m00s     2.6.12-1+deb12u4', '# old workers',
    '6368            worker          1               0d00h00m30s     2.6.12-1+deb12u4', '# programs', ''].join('\n'));
  assert.deepEqual(p, { masterPid: 6365, reloads: 2, failed: 1, workers: [10017], oldWorkers: [6368] });
  assert.throws(() => parseShowProc('Unknown command'));
});

test('validate returns HAProxy alerts for a config it refuses', async () => {
  const proc = new HaproxyProcess(lbPaths(h.dataDir, 'validate-only'));
  assert.equal(await proc.validate('listen l\n  mode tcp\n  bind 127.0.0.1:1\n  timeout client 1s\n  timeout connect 1s\n  timeout server 1s\n'), null);
  assert.match(await proc.validate('defaults\n  timeout client 1s\n') ?? '', /no listener/);
  assert.match(await proc.validate('backend b\n  balance nosuchalgo\n') ?? '', /balance only supports/);
});

test('HAProxy keeps serving after the control plane is SIGKILLed, and is adopted afterwards', async () => {
  const { snap, lbIp, port } = await httpLb();
  const script = fileURLToPath(new URL('../fixtures/apply-child.js', import.meta.url));
  const child = spawn(process.execPath, [script, h.dataDir, JSON.stringify(snap)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    await waitFor('the child to apply', () => out.includes('applied'), 10_000, 20);
    assert.match(out, /applied \{"ok":true\}/);
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((r) => child.once('exit', r));
  for (let i = 0; i < 5; i++) assert.equal((await httpGet(lbIp, port)).status, 200);
  const dp = h.plane();
  assert.equal((await dp.adoptAll([snap.lb.id])).get(snap.lb.id), true);
  assert.deepEqual(await dp.apply(snap), { ok: true });
  assert.equal((await dp.instance(snap.lb.id).proc.showProc()).reloads, 0, 'adopted as is: no restart, no reload');
});

test('adopt finds the master through its socket when the pid file is gone', async () => {
  const { snap } = await httpLb();
  const first = h.plane();
  assert.deepEqual(await first.apply(snap), { ok: true });
  const pid = first.instance(snap.lb.id).proc.masterPid;
  rmSync(first.instance(snap.lb.id).proc.paths.pidFile);
  const second = h.plane();
  assert.equal((await second.adoptAll([snap.lb.id])).get(snap.lb.id), true);
  assert.equal(second.instance(snap.lb.id).proc.masterPid, pid);
});

test('a master that dies is reported by the watchdog, and apply starts it again', async (t) => {
  const { snap, lbIp, port } = await httpLb();
  const dp = h.plane({ watchdogIntervalMs: 100 });
  const deaths: string[] = [];
  dp.onInstanceDown((id) => deaths.push(id));
  assert.deepEqual(await dp.apply(snap), { ok: true });
  const proc = dp.instance(snap.lb.id).proc;
  const first = await proc.showProc();
  process.kill(first.masterPid, 'SIGKILL'); // our own process, by PID
  await waitFor('the watchdog', () => deaths.length > 0, 3000);
  assert.deepEqual(deaths, [snap.lb.id]);
  // Workers exit when their master dies; bounded wait, then make sure (it is ours).
  const t0 = performance.now();
  await waitFor('the orphaned worker to exit', () => !alive(first.workers[0]), 3000).then(
    () => t.diagnostic(`the worker exited ${(performance.now() - t0).toFixed(0)} ms after its master was killed`),
    () => { if (proc.isOurs(first.workers[0])) process.kill(first.workers[0], 'SIGKILL'); });
  assert.deepEqual(await dp.apply(snap), { ok: true });
  assert.notEqual(proc.masterPid, first.masterPid);
  assert.equal((await httpGet(lbIp, port)).status, 200);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(deaths.length, 1, 'reported once');
});

test('a start that cannot bind fails with the reason and leaves no process', async () => {
  const { snap, lbIp, port } = await httpLb();
  const dp = h.plane();
  const result = await dp.apply({ ...snap, addresses: ['192.0.2.1'] });
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.reason : '', /cannot bind/);
  assert.equal(dp.isAlive(snap.lb.id), false);
  assert.deepEqual(await dp.apply(snap), { ok: true });
  assert.equal((await httpGet(lbIp, port)).status, 200);
});

test('remove stops HAProxy by PID and deletes the LB directory', async () => {
  const { snap } = await httpLb();
  const dp = h.plane();
  assert.deepEqual(await dp.apply(snap), { ok: true });
  const proc = dp.instance(snap.lb.id).proc;
  const p = await proc.showProc();
  await dp.remove(snap.lb.id);
  for (const pid of [p.masterPid, ...p.workers]) await waitFor(`pid ${pid} to exit`, () => !alive(pid), 3000);
  assert.equal(existsSync(proc.paths.dir), false);
});

test('table stickiness survives a reload (entries copied into the new worker)', async () => {
  const net = loopbackNet();
  const lbId = randomUUID();
  const a = h.serve(await startTcpServer(`${net}.11`, 'a'))[0];
  const b = h.serve(await startTcpServer(`${net}.12`, 'b', a.port))[0];
  const port = await freePort(`${net}.1`);
  h.lbIds.add(lbId);
  let snap = makeSnapshot(lbId, [`${net}.1`], [makeFrontend('f', lbId, 't', port)],
    [makeBackend('t', lbId, { forwardProtocol: 'tcp', forwardPort: a.port, pool: [a.host, b.host], stickySessions: 'table' })]);
  const dp = h.plane();
  assert.deepEqual(await dp.apply(snap), { ok: true });
  const first = await tcpFirstLine(`${net}.1`, port);
  for (let i = 0; i < 4; i++) assert.equal(await tcpFirstLine(`${net}.1`, port), first, 'sticks before the reload');
  const before = await dp.instance(lbId).proc.showProc();
  snap = withBackend(snap, 't', { timeoutServerMs: 12_345 });
  assert.deepEqual(await dp.apply(snap), { ok: true });
  assert.notDeepEqual((await dp.instance(lbId).proc.showProc()).workers, before.workers);
  for (let i = 0; i < 4; i++) assert.equal(await tcpFirstLine(`${net}.1`, port), first, 'sticks after the reload');
});

test('cookie stickiness: a server added at runtime gets a real cookie, and the cookie routes to it', async () => {
  const net = loopbackNet();
  const lbId = randomUUID();
  const [a, b, c] = h.serve(...await startHttpServers([`${net}.11`, `${net}.12`, `${net}.13`]));
  const port = await freePort(`${net}.1`);
  h.lbIds.add(lbId);
  let snap = makeSnapshot(lbId, [`${net}.1`], [makeFrontend('f', lbId, 'w', port)], [makeBackend('w', lbId,
    { forwardPort: a.port, pool: [a.host, b.host], stickySessions: 'cookie', cookieName: 'SCWLB' })]);
  const dp = h.plane();
  assert.deepEqual(await dp.apply(snap), { ok: true });
  snap = withBackend(snap, 'w', { pool: [a.host, b.host, c.host] });
  assert.deepEqual(await dp.apply(snap), { ok: true });
  const answer = await waitFor('a response from the added server', async () => {
    const r = await httpGet(`${net}.1`, port);
    return r.body === c.host ? r : null;
  }, 5000, 5);
  const cookie = String(answer.headers['set-cookie'] ?? '');
  assert.match(cookie, /^SCWLB=[0-9a-f]{16};/, `added server's cookie: ${cookie}`);
  for (let i = 0; i < 5; i++) {
    assert.equal((await httpGet(`${net}.1`, port, '/', { cookie: cookie.split(';')[0] })).body, c.host);
  }
});
