// Access logs in real traffic: a frontend with enable_access_logs writes one line per request (HAProxy's HTTP log
// format, or TCP's) to the LB's access.log; a frontend without writes nothing, and neither does HAProxy's own log;
// both files are rotated by size with a bounded number kept, without losing a line; `fulcrum logs` prints them, and
// --follow follows across rotations.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { lbPaths } from '../../src/dataplane/haproxy.js';
import { frontendName } from '../../src/dataplane/names.js';
import { startHttpServers, startTcpServer, waitFor } from '../fixtures/servers.js';
import { E2e } from '../e2e/support/lb.js';
import { BIN } from '../helpers/fulcrum.js';
import { fulcrumCli } from './support.js';

// Rotation past 4 KiB, 3 files kept: a few dozen requests rotate several times.
const e = E2e.suite('access-logs', () => ({ env: { FULCRUM_LOG_MAX_BYTES: '4096', FULCRUM_LOG_KEEP: '3' } }));

/**
 * Sends a line through the TCP echo server and closes once it came back. (A connection that sends nothing is not
 * logged: `option dontlognull`.)
 */
function echo(host: string, port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port }, () => s.write(`${line}\n`));
    let got = '';
    const timer = setTimeout(() => s.destroy(new Error('no echo')), 3000);
    s.setEncoding('utf8');
    s.on('data', (d: string) => { got += d; if (got.endsWith(`${line}\n`)) s.end(); });
    s.on('error', reject);
    s.on('close', () => { clearTimeout(timer); resolve(got); });
  });
}

const read = (file: string) => { try { return readFileSync(file, 'utf8'); } catch { return ''; } };

test('only frontends with access logs log requests, in HTTP and TCP formats; HAProxy\'s own log has none', async () => {
  const [web] = e.serve(...await startHttpServers([e.host()]));
  const logged = await e.lb.service({ forwardPort: web.port, serverIp: [web.host] }, { enableAccessLogs: true });
  const silent = await e.lb.service({ forwardPort: web.port, serverIp: [web.host] }, { enableAccessLogs: false });
  const [tcp] = e.serve(await startTcpServer(e.host(), 'tcp'));
  const tcpSvc = await e.lb.service({ forwardProtocol: 'tcp', forwardPort: tcp.port, serverIp: [tcp.host] }, { enableAccessLogs: true });
  await logged.waitServer(web.host, 'running', 'passed');
  await tcpSvc.waitServer(tcp.host, 'running', 'passed');

  for (let i = 0; i < 3; i++) assert.equal((await logged.get(`/logged-${i}`)).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await silent.get(`/silent-${i}`)).status, 200);
  assert.equal(await echo(e.lb.ip, tcpSvc.port, 'ping'), 'tcp\nping\n');
  const paths = lbPaths(e.f.dataDir, e.lb.id);
  const feLogged = frontendName((await e.api.listFrontends({ lbId: e.lb.id })).frontends.find((f) => f.inboundPort === logged.port)!.id);
  const feTcp = frontendName((await e.api.listFrontends({ lbId: e.lb.id })).frontends.find((f) => f.inboundPort === tcpSvc.port)!.id);
  await waitFor('the TCP line', () => read(paths.accessLogFile).includes(feTcp)).catch((err: Error) => { throw new Error(`${err.message}: ${feTcp} ${read(paths.accessLogFile)} CFG ${read(paths.config)}`); });
  const text = await fulcrumCli(['logs', e.lb.id, '--data-dir', e.f.dataDir]);
  const lines = text.split('\n').filter(Boolean);
  for (let i = 0; i < 3; i++) {
    const line = lines.filter((l) => l.includes(`"GET /logged-${i} HTTP/1.1"`));
    assert.equal(line.length, 1, `one line for /logged-${i}`);
    // httplog: client, [date], frontend, backend/server, timers, status, bytes, …, "request line"
    assert.match(line[0], new RegExp(`^[\\d.]+:\\d+ \\[\\d{2}/\\w{3}/\\d{4}:[\\d:.]+\\] ${feLogged} be_[\\w-]+/srv-${web.host.replaceAll('.', '\\.')} [\\d/-]+ 200 `));
  }
  assert.ok(!text.includes('/silent-'), 'the frontend without access logs logged nothing');
  assert.equal(lines.filter((l) => l.includes(feTcp)).length, 1, 'one tcplog line');
  assert.ok(!read(paths.logFile).includes('/logged-'), 'requests are not in HAProxy\'s own log');
  assert.match(await fulcrumCli(['logs', e.lb.id, '--process', '--data-dir', e.f.dataDir]), /Loading success|New worker/);
});

test('logs rotate by size, keep a bounded number of files, lose no line; --follow follows across rotations', async () => {
  const [web] = e.serve(...await startHttpServers([e.host()]));
  const svc = await e.lb.service({ forwardPort: web.port, serverIp: [web.host] }, { enableAccessLogs: true });
  await svc.waitServer(web.host, 'running', 'passed');
  const paths = lbPaths(e.f.dataDir, e.lb.id);

  const follower = spawn(process.execPath, [BIN, 'logs', e.lb.id, '--follow', '--data-dir', e.f.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let followed = '';
  follower.stdout.on('data', (d) => { followed += d; });
  try {
    // The follower is in its follow loop before the traffic starts (a rotation during its first listing is not covered).
    assert.equal((await svc.get('/follow-ready')).status, 200);
    await waitFor('the follower', () => followed.includes('/follow-ready'), 30_000, 100);
    const n = 120; // ~170 bytes a line: about five times the 4 KiB limit
    for (let i = 0; i < n; i++) {
      assert.equal((await svc.get(`/rot-${i}`)).status, 200);
      // Pauses let the rotator (every second) rotate in a lull: a burst (~5 KiB) stays under twice the limit, where it
      // would rotate under traffic (docs/operations.md: a line written in the microseconds of a truncate could be lost).
      if (i % 30 === 29) await new Promise((r) => setTimeout(r, 2500));
    }
    const rotated = await waitFor('rotated files', () => readdirSync(paths.dir).filter((f) => /^access\.log\.\d+$/.test(f)).length >= 3);
    assert.ok(rotated);
    const files = readdirSync(paths.dir).filter((f) => f.startsWith('access.log')).sort();
    assert.deepEqual(files, ['access.log', 'access.log.1', 'access.log.2', 'access.log.3'], 'at most 3 rotated files kept');
    for (const f of files.slice(1)) assert.ok(statSync(`${paths.dir}/${f}`).size > 4096, `${f} was rotated past the limit`);
    // The newest requests are all there, once, in order, across files (the oldest rotated away beyond the 3 kept).
    const all = (await fulcrumCli(['logs', e.lb.id, '--data-dir', e.f.dataDir])).split('\n').filter((l) => l.includes('/rot-'));
    const seen = all.map((l) => Number(/\/rot-(\d+) /.exec(l)![1]));
    assert.equal(seen.at(-1), n - 1);
    assert.deepEqual(seen, Array.from({ length: seen.length }, (_v, k) => n - seen.length + k), 'consecutive, no line lost or repeated');
    await waitFor('follow output', () => followed.includes(`/rot-${n - 1} `));
    const followedIds = followed.split('\n').filter((l) => l.includes('/rot-')).map((l) => Number(/\/rot-(\d+) /.exec(l)![1]));
    assert.deepEqual(followedIds, Array.from({ length: n }, (_v, k) => k), '--follow printed every request once, across rotations');
  } finally {
    follower.kill('SIGTERM');
  }
});
