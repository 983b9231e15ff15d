// stats.ts: parsing `show servers state` (recorded HAProxy 2.6 output) and live up/down servers behind real checks.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { parseServersState, type ServerStats } from '../../src/dataplane/stats.js';
import { DataPlaneHarness } from '../fixtures/dataplane.js';
import { freePort, loopbackNet, startHttpServers, waitFor } from '../fixtures/servers.js';
import { makeBackend, makeFrontend, makeHealthCheck, makeSnapshot } from '../fixtures/snapshots.js';

const HEADER = '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight '
  + 'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state '
  + 'bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr '
  + 'srv_agent_addr srv_agent_port';

test('parses show servers state by header name into Scaleway server states', () => {
  const text = ['1', HEADER,
    '3 be_b1 1 srv-10.0.0.1 10.0.0.1 2 0 1 1 120 15 3 4 6 0 0 1 - 80 - 0 0 - - 0', // UP, L7OK
    '3 be_b1 2 srv-10.0.0.2 10.0.0.2 0 0 1 1 7 17 2 0 6 0 0 1 - 80 - 0 0 - - 0', // DOWN, L7STS
    '3 be_b1 3 srv-2001:db8::3 2001:db8::3 1 0 1 1 0 15 3 4 6 0 0 1 - 80 - 0 0 - - 0', // slowstart
    '3 be_b1 4 srv-10.0.0.4 10.0.0.4 3 0 1 1 0 16 4 4 6 0 0 1 - 80 - 0 0 - - 0', // NOLB, 404 + disable-on-404
    '3 be_b1 5 srv-10.0.0.5 10.0.0.5 2 1 1 1 0 1 0 0 2 0 0 1 - 80 - 0 0 - - 0', // just added: MAINT, checks off
    '3 be_b1 6 srv-10.0.0.6 10.0.0.6 2 0 1 1 0 1 1 2 6 0 0 1 - 80 - 0 0 - - 0', // neutral
    '4 be_b1_failover 1 failover - 0 32 1 1 608 1 0 0 0 0 0 0 example.com 80 - 0 0 - - 0',
    ''].join('\n');
  const now = new Date('2024-05-01T12:00:00Z');
  const stats = parseServersState(text, now);
  assert.deepEqual(stats.map((s) => [s.backendId, s.ip, s.serverState, s.lastHealthCheckStatus]), [
    ['b1', '10.0.0.1', 'running', 'passed'],
    ['b1', '10.0.0.2', 'stopped', 'failed'],
    ['b1', '2001:db8::3', 'starting', 'passed'],
    ['b1', '10.0.0.4', 'stopping', 'condpass'],
    ['b1', '10.0.0.5', 'stopped', 'unknown'],
    ['b1', '10.0.0.6', 'running', 'neutral'],
  ]);
  assert.equal(stats[0].changedAt.toISOString(), '2024-05-01T11:58:00.000Z');
});

test('server_state_changed_at is the same instant on every read while nothing changes', () => {
  // HAProxy answers whole seconds since the last change: reads within one second and across the next must agree.
  const text = ['1', '# be_name srv_name srv_op_state srv_admin_state srv_check_result srv_time_since_last_change',
    'be_x srv-10.0.0.1 2 0 3 SINCE', ''].join('\n');
  const at = (iso: string, since: number) => parseServersState(text.replace('SINCE', String(since)), new Date(iso))[0].changedAt.toISOString();
  assert.equal(at('2024-05-01T12:00:07.100Z', 7), '2024-05-01T12:00:00.000Z');
  assert.equal(at('2024-05-01T12:00:07.950Z', 7), '2024-05-01T12:00:00.000Z');
  assert.equal(at('2024-05-01T12:00:08.020Z', 8), '2024-05-01T12:00:00.000Z');
});

test('last_health_check_status is the last finished check, also while the next one runs', () => {
  // HAProxy resets srv_check_result to 0 (unknown) when a check starts; srv_check_status keeps the last finished one.
  const text = ['1', HEADER,
    '3 be_b1 1 srv-10.0.0.1 10.0.0.1 2 0 1 1 3 12 0 3 6 0 0 1 - 80 - 0 0 - - 0', // UP 2/3, running after an L7TOUT
    '3 be_b1 2 srv-10.0.0.2 10.0.0.2 2 0 1 1 9 15 0 4 6 0 0 1 - 80 - 0 0 - - 0', // UP, running after an L7OK
    '3 be_b1 3 srv-10.0.0.3 10.0.0.3 0 0 1 1 9 8 0 0 6 0 0 1 - 80 - 0 0 - - 0', // DOWN, running after an L4CON
    '3 be_b1 4 srv-10.0.0.4 10.0.0.4 2 0 1 1 0 1 0 4 6 0 0 1 - 80 - 0 0 - - 0', // the first check is running
    ''].join('\n');
  assert.deepEqual(parseServersState(text).map((s) => [s.serverState, s.lastHealthCheckStatus]), [
    ['running', 'failed'], ['running', 'passed'], ['stopped', 'failed'], ['running', 'unknown']]);
});

test('columns are found by name, whatever their order', () => {
  const text = ['1', '# srv_name be_name srv_check_result srv_op_state srv_admin_state srv_time_since_last_change',
    'srv-10.0.0.1 be_x 3 2 0 5', ''].join('\n');
  assert.deepEqual(parseServersState(text).map((s) => [s.backendId, s.ip, s.serverState, s.lastHealthCheckStatus]),
    [['x', '10.0.0.1', 'running', 'passed']]);
  assert.deepEqual(parseServersState('1\n'), []);
});

const h = new DataPlaneHarness();
after(() => h.cleanup());

test('server_state_changed_at stays put while HAProxy\'s drifting clock makes one change read a second apart', async () => {
  const dp = h.plane();
  const lbId = randomUUID();
  const i = dp.instance(lbId);
  i.isAlive = () => true;
  const T = Date.parse('2024-05-01T12:00:00Z');
  let answer: ServerStats[] = [];
  i.stats = async () => answer; // no admin socket here: the data plane falls back to the instance's read
  const read = async (state: ServerStats['serverState'], at: number) => {
    answer = [{ backendId: 'b', ip: '10.0.0.1', serverState: state, lastHealthCheckStatus: 'passed', changedAt: new Date(at) }];
    return (await dp.serverStats(lbId))[0].changedAt.getTime() - T;
  };
  // The same change, read one second apart: the first report stands.
  assert.deepEqual([await read('running', T), await read('running', T + 1000), await read('running', T - 1000 + 1000)], [0, 0, 0]);
  // A transition changes the state: its time is taken.
  assert.equal(await read('stopped', T + 7000), 7000);
  assert.equal(await read('stopped', T + 8000), 7000);
  // Down and up again between two reads: the state is the same, but the time moved by more than a second.
  assert.equal(await read('stopped', T + 20_000), 20_000);
  // A reload that took 2.5 s (as on a loaded machine): the new worker counts the seconds since the change from its
  // own start, so the change reads 2.5 s later; reads during and after it still report the change once.
  i.apply = async () => {
    await new Promise((r) => setTimeout(r, 2500));
    return { ok: true };
  };
  const applying = dp.apply(makeSnapshot(lbId, [], [], []));
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(await read('stopped', T + 22_000), 20_000, 'during the apply');
  await applying;
  assert.equal(await read('stopped', T + 22_000), 20_000, 'after it');
  assert.equal(await read('stopped', T + 23_000), 20_000, 'and drifting');
  // Without an apply in between, a jump of seconds is a change.
  assert.equal(await read('stopped', T + 27_000), 27_000);
  // An LB's memory goes with it.
  await dp.remove(lbId).catch(() => undefined);
});

test('live stats: a healthy, an unhealthy (503) and an unreachable server', async () => {
  const net = loopbackNet();
  const lbId = randomUUID();
  const [ok, sick] = h.serve(...await startHttpServers([`${net}.11`, `${net}.12`]));
  sick.healthy = false;
  const dead = `${net}.13`;
  const port = await freePort(`${net}.1`);
  const hc = makeHealthCheck({ config: { kind: 'http', uri: '/health', method: 'GET', code: 200, hostHeader: '' } });
  const snap = makeSnapshot(lbId, [`${net}.1`], [makeFrontend('f', lbId, 'b', port)],
    [makeBackend('b', lbId, { forwardPort: ok.port, pool: [ok.host, sick.host, dead], healthCheck: hc })]);
  const dp = h.plane();
  h.lbIds.add(lbId);
  assert.deepEqual(await dp.apply(snap), { ok: true });
  const t0 = Date.now();
  const stats = await waitFor('checks to settle', async () => {
    const s = await dp.stats(snap);
    return s?.filter((x) => x.serverState === 'stopped').length === 2 ? s : null;
  }, 5000, 50);
  assert.deepEqual(stats.map((s) => [s.ip, s.serverState, s.lastHealthCheckStatus]), [
    [ok.host, 'running', 'passed'], [sick.host, 'stopped', 'failed'], [dead, 'stopped', 'failed']]);
  for (const s of stats) {
    assert.equal(s.instanceId, snap.lb.instanceId);
    const at = Date.parse(s.serverStateChangedAt ?? '');
    assert.ok(at >= t0 - 10_000 && at <= Date.now() + 1000, `changedAt ${s.serverStateChangedAt}`);
  }
  // A server recovering is reported running again.
  sick.healthy = true;
  await waitFor('recovery', async () => (await dp.stats(snap))?.[1].serverState === 'running', 5000, 50);
});
