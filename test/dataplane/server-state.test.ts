import { test } from 'node:test';
import assert from 'node:assert/strict';
import { carryOverState } from '../../src/dataplane/server-state.js';

const HEADER = '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight '
  + 'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state '
  + 'bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr '
  + 'srv_agent_addr srv_agent_port';
const line = (be: string, id: number, ip: string) => `3 ${be} ${id} srv-${ip} ${ip} 0 0 1 1 5 8 2 0 6 0 0 1 - 80 - 0 0 - - 0`;
const dump = ['1', HEADER, line('be_a', 1, '10.0.0.1'), line('be_a', 2, '10.0.0.2'), line('be_a', 3, '10.0.0.3'),
  line('be_b', 1, '10.0.0.1'), line('be_a', 4, '10.0.0.4'), ''].join('\n');
const cfg = (a: string[], b: string) => ['global', '  master-worker', '', 'backend be_a', '  mode http', ...a, '',
  'backend be_b', `  server srv-10.0.0.1 ${b}`, ''].join('\n');

test('servers whose checks go elsewhere (port, ssl, check port) start DOWN; the others keep their state', () => {
  const running = cfg(['  server srv-10.0.0.1 10.0.0.1:80 id 1 check inter 1s',
    '  server srv-10.0.0.2 10.0.0.2:80 id 2 check inter 1s', '  server srv-10.0.0.3 10.0.0.3:80 id 3 check inter 1s'],
  '10.0.0.1:80 id 1 check');
  const next = cfg(['  server srv-10.0.0.1 10.0.0.1:80 id 1 check inter 5s', // only inter: kept
    '  server srv-10.0.0.2 10.0.0.2:80 id 2 ssl verify none check', // ssl: dropped
    '  server srv-10.0.0.3 10.0.0.3:80 id 3 check port 81', // check port: dropped
    '  server srv-10.0.0.4 10.0.0.4:80 id 4 check'], // added at runtime, not in the running file: kept
  '10.0.0.1:8080 id 1 check'); // port: dropped
  const lines = carryOverState(dump, running, next).split('\n').filter((l) => /^\d+ be_/.test(l)).map((l) => l.split(' '));
  assert.deepEqual(lines.filter((f) => f[0] === '3').map((f) => f.slice(1, 4).join(' ')),
    ['be_a 1 srv-10.0.0.1', 'be_a 4 srv-10.0.0.4']);
  // The others start DOWN (op state 0, check health 0) with their new port, ssl flag and check port.
  const down = lines.filter((f) => f[0] === '0');
  assert.deepEqual(down.map((f) => [f[1], f[2], f[3], f[5], f[12], f[18], f[20], f[21]].join(' ')), [
    'be_a 2 srv-10.0.0.2 0 0 80 1 0', 'be_a 3 srv-10.0.0.3 0 0 80 0 81', 'be_b 1 srv-10.0.0.1 0 0 8080 0 0']);
});

test('a forward port change with checks on their own port keeps the state, with the new port', () => {
  const running = cfg(['  server srv-10.0.0.1 10.0.0.1:80 id 1 check port 9000'], '10.0.0.1:80 id 1 check');
  const next = cfg(['  server srv-10.0.0.1 10.0.0.1:8080 id 1 check port 9000'], '10.0.0.1:80 id 1 check');
  const lines = carryOverState(dump, running, next).split('\n').filter((l) => / srv-10\.0\.0\.1 /.test(l));
  assert.deepEqual(lines, ['3 be_a 1 srv-10.0.0.1 10.0.0.1 0 0 1 1 5 8 2 0 6 0 0 1 - 8080 - 0 9000 - - 0',
    '3 be_b 1 srv-10.0.0.1 10.0.0.1 0 0 1 1 5 8 2 0 6 0 0 1 - 80 - 0 0 - - 0']);
});

test('every checked server of a new backend starts DOWN; servers without checks (failover) get no line', () => {
  const running = cfg(['  server srv-10.0.0.1 10.0.0.1:80 id 1 check'], '10.0.0.1:80 id 1 check');
  const next = `${running}\nbackend be_c\n  server srv-2001:db8::1 [2001:db8::1]:443 id 7 check\n`
    + 'backend be_c_failover\n  server failover 10.0.0.9:80\n';
  const added = carryOverState(dump, running, next).split('\n').filter((l) => l.startsWith('0 '));
  assert.deepEqual(added, ['0 be_c 7 srv-2001:db8::1 2001:db8::1 0 0 1 1 0 1 0 0 6 0 0 1 - 443 - 0 0 - - 0']);
});

test('an unchanged config carries every line', () => {
  const c = cfg(['  server srv-10.0.0.1 10.0.0.1:80 id 1 check'], '10.0.0.1:80 id 1 check');
  assert.equal(carryOverState(dump, c, c), dump);
});
