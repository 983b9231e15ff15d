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

test('state lines are dropped only for servers whose port, ssl or check port changes', () => {
  const running = cfg(['  server srv-10.0.0.1 10.0.0.1:80 id 1 check inter 1s',
    '  server srv-10.0.0.2 10.0.0.2:80 id 2 check inter 1s', '  server srv-10.0.0.3 10.0.0.3:80 id 3 check inter 1s'],
  '10.0.0.1:80 id 1 check');
  const next = cfg(['  server srv-10.0.0.1 10.0.0.1:80 id 1 check inter 5s', // only inter: kept
    '  server srv-10.0.0.2 10.0.0.2:80 id 2 ssl verify none check', // ssl: dropped
    '  server srv-10.0.0.3 10.0.0.3:80 id 3 check port 81', // check port: dropped
    '  server srv-10.0.0.4 10.0.0.4:80 id 4 check'], // added at runtime, not in the running file: kept
  '10.0.0.1:8080 id 1 check'); // port: dropped
  const kept = carryOverState(dump, running, next).split('\n').filter((l) => /^\d+ be_/.test(l))
    .map((l) => l.split(' ').slice(1, 4).join(' '));
  assert.deepEqual(kept, ['be_a 1 srv-10.0.0.1', 'be_a 4 srv-10.0.0.4']);
});

test('an unchanged config carries every line', () => {
  const c = cfg(['  server srv-10.0.0.1 10.0.0.1:80 id 1 check'], '10.0.0.1:80 id 1 check');
  assert.equal(carryOverState(dump, c, c), dump);
});
