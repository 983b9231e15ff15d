// Backend statistics over time, read through the SDK's listBackendStats while real HAProxy checks real servers:
// what each phase of a server's life is reported as, when server_state_changed_at moves (and when it must not), and a
// server added at run time, which must never be reported running before its checks pass.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { backendName, serverName } from '../../src/dataplane/names.js';
import { cli } from '../../src/dataplane/runtime.js';
import { startLoad } from '../helpers/load.js';
import { sleep } from './support/daemon.js';
import { Addresses, healthCheck, Lab, measure, type Stat } from './support/lab.js';
import { MARGIN_MS, settleBound, TEST_TIMING } from './support/scenario.js';
import { startBlackhole, startWebServer, type WebServer } from './support/web.js';

const addr = new Addresses();
let lab: Lab;
const servers: Array<{ close(): Promise<void> }> = [];

before(async () => { lab = await Lab.start('health-stats'); });
after(async () => {
  await lab?.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** Web servers on one port, each on its own address. */
async function webServers(n: number): Promise<WebServer[]> {
  const out: WebServer[] = [];
  for (let i = 0; i < n; i++) {
    const w = await startWebServer(addr.next(), `web-${servers.length + 1}`, { port: out[0]?.port });
    servers.push(w);
    out.push(w);
  }
  return out;
}

const httpCheck = { httpConfig: { uri: '/health', method: 'GET', hostHeader: '' } };
const phases = (seen: Stat[]) => seen.map((s) => `${s.state}/${s.check}`);

/** What was seen after the server left `phase` (the first entries, when they are in it). */
function since<T extends Stat>(seen: T[], phase: string): T[] {
  const i = seen.findIndex((s) => `${s.state}/${s.check}` !== phase);
  return i < 0 ? [] : seen.slice(i);
}

/**
 * watch() records a new entry when state, check or changed_at moves: changed_at must not move alone (it is unset only
 * while the worker does not have the server yet).
 */
function steadyBetweenTransitions(seen: Stat[]): void {
  for (let i = 1; i < seen.length; i++) {
    const [a, b] = [seen[i - 1], seen[i]];
    const alone = a.changedAt && b.changedAt && a.state === b.state && a.check === b.check;
    assert.ok(!alone, `server_state_changed_at moved without a transition: ${seen.map((s) => `${s.state}/${s.check}@${s.changedAt?.toISOString()}`).join(' → ')}`);
  }
}

/**
 * Watches a server just added next to a dead one: the added one must be stopped until it runs, the dead one must
 * never run, and changed_at must not move alone. Returns what was seen of the added server and when it first ran.
 */
async function watchAdded(backendId: string, added: string, dead: string, label: string): Promise<{ seen: Array<Stat & { at: number }>; firstRunning: number }> {
  const [seen, seenDead] = await Promise.all([
    lab.watch(backendId, added, 8000, (s) => s.state === 'running'),
    lab.watch(backendId, dead, 4000),
  ]);
  console.log(`# observed: ${label}: ${phases(seen).join(' → ')}; dead: ${phases(seenDead).join(' → ')}`);
  for (const x of [seen, seenDead]) steadyBetweenTransitions(x);
  const firstRunning = seen.findIndex((s) => s.state === 'running');
  assert.ok(firstRunning > 0 && seen.slice(0, firstRunning).every((s) => s.state === 'stopped'),
    `the added server was stopped before it ran: ${phases(seen).join(' → ')}`);
  assert.ok(seenDead.every((s) => s.state === 'stopped'), `the dead server never ran: ${phases(seenDead).join(' → ')}`);
  assert.equal(phases(seenDead).at(-1), 'stopped/failed');
  return { seen, firstRunning };
}

/** A backend PUT that makes HAProxy reload (the algorithm and connect timeout change). */
async function reloadWith(backendId: string, n: number): Promise<void> {
  const b = await lab.api.getBackend({ backendId });
  await lab.api.updateBackend({ backendId, name: b.name, forwardProtocol: b.forwardProtocol, forwardPort: b.forwardPort,
    forwardPortAlgorithm: n % 2 ? 'roundrobin' : 'leastconn', stickySessions: 'none', stickySessionsCookieName: '',
    timeoutConnect: String(1000 + n) } as never);
}

/** Reads the stat a few times over `ms`; all must carry the same server_state_changed_at. */
async function steadyChangedAt(backendId: string, ip: string, ms: number): Promise<Date> {
  const reads: Array<Date | undefined> = [];
  for (let i = 0; i < 6; i++) {
    reads.push((await lab.stat(backendId, ip)).changedAt);
    await sleep(ms / 5);
  }
  const first = reads[0];
  assert.ok(first instanceof Date, 'server_state_changed_at is set');
  for (const r of reads) assert.equal(r?.toISOString(), first.toISOString(), 'server_state_changed_at does not move without a transition');
  return first;
}

test('over a server\'s life: running/passed, running/failed while going down, stopped/failed, stopped/passed while coming back; server_state_changed_at moves on each transition only', async () => {
  const [w] = await webServers(1);
  // A long transient_check_delay makes the intermediate phases easy to see.
  const be = await lab.backend({ name: 'life', protocol: 'http', forwardPort: w.port, pool: [w.host],
    check: healthCheck(w.port, httpCheck, { transientCheckDelay: '0.8s', checkMaxRetries: 3 }) });
  await lab.waitState(be.id, w.host, 'running', 'passed', settleBound(TEST_TIMING));
  const up = await steadyChangedAt(be.id, w.host, 2200);

  w.checkStatus = 503;
  const t0 = Date.now();
  // The first failed check may come before the first read: the phase the server is leaving is optional.
  const goingDown = since(await lab.watch(be.id, w.host, 10_000, (s) => s.state === 'stopped'), 'running/passed');
  assert.deepEqual(phases(goingDown), ['running/failed', 'stopped/failed'], 'phases while going down');
  // A failed check that does not change the state leaves server_state_changed_at alone.
  assert.equal(goingDown[0].changedAt?.toISOString(), up.toISOString());
  const down = goingDown[1].changedAt!;
  assert.ok(down > up, 'moved when the server went down');
  assert.ok(Math.abs(down.getTime() - (t0 + goingDown[1].at)) <= 2500, `down at ${down.toISOString()}, seen at ${new Date(t0 + goingDown[1].at).toISOString()}`);
  assert.equal((await steadyChangedAt(be.id, w.host, 1200)).toISOString(), down.toISOString());

  w.checkStatus = 200;
  const comingUp = since(await lab.watch(be.id, w.host, 10_000, (s) => s.state === 'running'), 'stopped/failed');
  assert.deepEqual(phases(comingUp), ['stopped/passed', 'running/passed'], 'phases while coming back');
  assert.equal(comingUp[0].changedAt?.toISOString(), down.toISOString());
  assert.ok(comingUp[1].changedAt! > down, 'moved when the server came back');

  // A reload (any backend setting) keeps the state and when it last changed (to the second it is counted in).
  const upAgain = comingUp[1].changedAt!;
  await reloadWith(be.id, 0);
  await lab.ready();
  const after = await lab.stat(be.id, w.host);
  assert.deepEqual([after.state, after.check], ['running', 'passed']);
  assert.ok(Math.abs(after.changedAt!.getTime() - upAgain.getTime()) <= 1000, `kept over the reload: ${upAgain.toISOString()} → ${after.changedAt?.toISOString()}`);
});

test('a server added at run time is stopped until its checks pass: never running (nor sent traffic) before, and a dead one never runs', async () => {
  const [first, added] = await webServers(2);
  const dead = addr.next();
  const be = await lab.backend({ name: 'added', protocol: 'http', forwardPort: first.port, pool: [first.host],
    check: healthCheck(first.port, httpCheck, { transientCheckDelay: '0.3s' }) });
  await lab.waitState(be.id, first.host, 'running', 'passed', settleBound(TEST_TIMING));

  const load = startLoad(lab.lbIp, be.inbound, { concurrency: 2, maxMs: 20_000 });
  try {
    const t0 = performance.now();
    await lab.api.addBackendServers({ backendId: be.id, serverIp: [added.host, dead] });
    const answered = performance.now() - t0;
    const { seen, firstRunning } = await watchAdded(be.id, added.host, dead, 'added at run time');
    measure('server added at run time (check_delay 1000 ms, transient 300 ms, rise 2): API call → running/passed', answered + seen[firstRunning].at);
    await sleep(300);
  } finally {
    await load.stop();
  }
  // Traffic reached the added server only after it had passed two checks (rise 2).
  const checks = added.checks.map((c) => c.at).sort((a, b) => a - b);
  assert.ok(added.traffic.length > 0, 'the added server took traffic once running');
  assert.ok(checks.length >= 2 && added.traffic[0].at > checks[1], 'its first request came after its second check');
});

test('servers added together with a change that reloads HAProxy (a Terraform-style burst) are stopped until their checks pass, too', async () => {
  const [first, added] = await webServers(2);
  const dead = addr.next();
  const be = await lab.backend({ name: 'burst', protocol: 'http', forwardPort: first.port, pool: [first.host],
    check: healthCheck(first.port, httpCheck, { transientCheckDelay: '0.3s' }) });
  await lab.waitState(be.id, first.host, 'running', 'passed', settleBound(TEST_TIMING));
  // Back to back, without waiting: both land in one apply (runtime add, then reload).
  await lab.api.setBackendServers({ backendId: be.id, serverIp: [first.host, added.host, dead] });
  await reloadWith(be.id, 0);
  await watchAdded(be.id, added.host, dead, 'added with a reload');
  assert.ok(added.checks.length >= 2, 'it passed its checks before running');
});

test('the stats answer all through reloads: every server, in its real state, on every read', async () => {
  const [up] = await webServers(1);
  const down = addr.next();
  const be = await lab.backend({ name: 'reloads', protocol: 'http', forwardPort: up.port, pool: [up.host, down],
    check: healthCheck(up.port, httpCheck) });
  await lab.waitState(be.id, down, 'stopped', 'failed', settleBound(TEST_TIMING));
  await lab.waitState(be.id, up.host, 'running', 'passed', settleBound(TEST_TIMING));
  const wrong: string[] = [];
  let reads = 0;
  for (let k = 0; k < 3; k++) {
    await reloadWith(be.id, k);
    // Reads while the change is applied (HAProxy reloads) and a little after.
    const t0 = performance.now();
    for (let i = 0; i < 100 && performance.now() - t0 < 1200; i++) {
      const got = (await lab.stats(be.id)).map((s) => `${s.ip} ${s.state}/${s.check}`).sort().join(', ');
      const want = [`${up.host} running/passed`, `${down} stopped/failed`].sort().join(', ');
      reads++;
      if (got !== want && wrong.length < 5) wrong.push(got || '(no servers)');
      await sleep(20);
    }
    await lab.ready();
  }
  assert.deepEqual(wrong, [], `reads with wrong or missing servers out of ${reads}`);
});

test('a hung server: last_health_check_status stays failed while each next check waits for check_timeout (never unknown)', async () => {
  const hole = await startBlackhole(addr.next());
  servers.push(hole);
  const be = await lab.backend({ name: 'hung', protocol: 'tcp', forwardPort: hole.port, pool: [hole.host],
    check: healthCheck(hole.port, httpCheck, { checkTimeout: '1500', checkMaxRetries: 3 }) });
  // A server new to HAProxy starts down (it has passed no check) and its first check fails after check_timeout.
  const seen = await lab.watch(be.id, hole.host, 1000 + 1500 + MARGIN_MS, (s) => s.check === 'failed');
  measure('hung server in a new backend (check_timeout 1500 ms): applied → stopped/failed', seen.at(-1)!.at);
  assert.ok(seen.every((s) => s.state === 'stopped'), `never running: ${phases(seen).join(' → ')}`);
  assert.equal(phases(seen).at(-1), 'stopped/failed');
  await sleep(2000); // and while down, checks keep running for check_timeout each
  const s = await lab.stat(be.id, hole.host);
  assert.deepEqual([s.state, s.check], ['stopped', 'failed']);
});

test('stopping is reported when HAProxy soft-stops a server (set through its runtime API: the Scaleway API has no field for it)', async () => {
  const [w] = await webServers(1);
  const be = await lab.backend({ name: 'soft-stop', protocol: 'http', forwardPort: w.port, pool: [w.host],
    check: healthCheck(w.port, httpCheck, { checkDelay: '3000' }) });
  await lab.waitState(be.id, w.host, 'running', 'passed', settleBound(TEST_TIMING));
  const sock = join(lab.f.dataDir, 'lbs', lab.lbId, 'admin.sock');
  const answer = await cli(sock, `set server ${backendName(be.id)}/${serverName(w.host)} health stopping`);
  assert.equal(answer.trim(), '');
  // The next passing check (within check_delay) makes it running again.
  const seen = await lab.waitState(be.id, w.host, 'stopping', 'passed', 2000);
  assert.ok(seen.stat.changedAt);
  await lab.waitState(be.id, w.host, 'running', 'passed', 3000 + MARGIN_MS);
});
