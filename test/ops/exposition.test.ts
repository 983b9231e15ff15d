// The exposition merger and the HAProxy relabelling, on fixed texts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Exposition, parseLabels } from '../../src/ops/exposition.js';
import { relabelFor } from '../../src/ops/lb-metrics.js';

const exporter = (fe: string, be: string, n: number) => `# HELP haproxy_frontend_http_requests_total Total number of HTTP requests received.
# TYPE haproxy_frontend_http_requests_total counter
haproxy_frontend_http_requests_total{proxy="fe_${fe}"} ${n}
haproxy_frontend_http_requests_total{proxy="fulcrum_metrics"} 99
# TYPE haproxy_server_http_responses_total counter
haproxy_server_http_responses_total{proxy="be_${be}",server="srv-10.0.0.1",code="2xx"} ${n}
haproxy_server_http_responses_total{proxy="be_${be}_failover",server="failover",code="2xx"} 1
haproxy_server_http_responses_total{proxy="be_${be}",server="srv-2001:db8::1",code="5xx"} 0
`;

test('two exporters merge into one family each, relabelled with ids', () => {
  const x = new Exposition();
  x.add(exporter('f1', 'b1', 5), relabelFor('lb1'));
  x.add(exporter('f2', 'b2', 7), relabelFor('lb2'));
  assert.equal(x.toString(), `# HELP haproxy_frontend_http_requests_total Total number of HTTP requests received.
# TYPE haproxy_frontend_http_requests_total counter
haproxy_frontend_http_requests_total{lb_id="lb1",frontend_id="f1"} 5
haproxy_frontend_http_requests_total{lb_id="lb2",frontend_id="f2"} 7
# TYPE haproxy_server_http_responses_total counter
haproxy_server_http_responses_total{lb_id="lb1",backend_id="b1",server_ip="10.0.0.1",code="2xx"} 5
haproxy_server_http_responses_total{lb_id="lb1",backend_id="b1",failover="true",server="failover",code="2xx"} 1
haproxy_server_http_responses_total{lb_id="lb1",backend_id="b1",server_ip="2001:db8::1",code="5xx"} 0
haproxy_server_http_responses_total{lb_id="lb2",backend_id="b2",server_ip="10.0.0.1",code="2xx"} 7
haproxy_server_http_responses_total{lb_id="lb2",backend_id="b2",failover="true",server="failover",code="2xx"} 1
haproxy_server_http_responses_total{lb_id="lb2",backend_id="b2",server_ip="2001:db8::1",code="5xx"} 0
`);
});

test('histogram samples stay in their family; label values keep their escapes', () => {
  const x = new Exposition();
  const h = '# HELP d_seconds D.\n# TYPE d_seconds histogram\nd_seconds_bucket{le="0.1",route="/a\\"b"} 1\nd_seconds_sum 0.05\nd_seconds_count 1\n';
  x.add(h);
  x.add(h);
  const out = x.toString();
  assert.equal(out.match(/# TYPE d_seconds /g)?.length, 1);
  assert.equal(out.match(/^d_seconds_count 1$/gm)?.length, 2);
  assert.match(out, /route="\/a\\"b"/);
  assert.deepEqual(parseLabels('a="x\\\\y",b="2"'), [['a', 'x\\y'], ['b', '2']]);
});
