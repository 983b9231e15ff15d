// What real clients send and Scaleway answers with 200 (spec §11.5, recorded Terraform runs) is accepted, stored and
// echoed: cookie stickiness on a tcp backend, a health-check uri in absolute form, enable_http3, the Go SDK's backend
// `host`; IPs list by address (§11.10); counters in embedded LBs count what the request just created (§11.11).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum } from '../helpers/fulcrum.js';
import { loopbackNet } from '../helpers/ports.js';
import { backendBody, backendRequest, frontendBody, readyLb, updateRequest } from '../helpers/api.js';

const net = loopbackNet();
const V6 = `fd00:${net.split('.').slice(1).map((n) => Number(n).toString(16)).join(':')}::`;
let f: Fulcrum;
let api: Lbv1.ZonedAPI;
let lb: Lbv1.Lb;
before(async () => {
  // The pool hands addresses out in the listed order, so creation order differs from address order.
  f = await Fulcrum.start({ dataplane: 'none', ipNet: net, ipPool: `${V6}5,${net}.200,${net}.9,${V6}a:0,${net}.10,${net}.1,${net}.50` });
  api = f.sdk();
  lb = await readyLb(api, 'compat');
});
after(async () => { await f.destroy(); });

test('cookie stickiness on a tcp backend (with TLS bridging, as Terraform\'s own tests send it) is accepted, stored and echoed', async () => {
  const req = backendRequest(lb.id, { forwardProtocol: 'tcp', stickySessions: 'cookie', stickySessionsCookieName: 'SRVID', sslBridging: true });
  const be = await api.createBackend(req);
  assert.equal(be.stickySessions, 'cookie');
  assert.equal(be.stickySessionsCookieName, 'SRVID');
  assert.equal(be.forwardProtocol, 'tcp');
  const got = await api.getBackend({ backendId: be.id });
  assert.deepEqual([got.stickySessions, got.stickySessionsCookieName, got.forwardProtocol], ['cookie', 'SRVID', 'tcp']);
  const put = await api.updateBackend(updateRequest(be.id, req, { stickySessionsCookieName: 'OTHER' }));
  assert.equal(put.stickySessions, 'cookie');
  assert.equal(put.stickySessionsCookieName, 'OTHER');
});

test('a health-check uri in absolute form is accepted and echoed, in http_config and https_config, on create and PUT', async () => {
  const be = await api.createBackend(backendRequest(lb.id, {
    healthCheck: { port: 8080, checkMaxRetries: 2, checkSendProxy: false, httpConfig: { uri: 'http://test.com/health', method: 'GET', code: 200, hostHeader: '' } },
  }));
  assert.equal(be.healthCheck?.httpConfig?.uri, 'http://test.com/health');
  const hc = await api.updateHealthCheck({ backendId: be.id, port: 8080, checkMaxRetries: 2, checkSendProxy: false,
    checkDelay: '3000', checkTimeout: '1000', httpsConfig: { uri: 'https://test.com:8443/health?full=1', method: 'GET', code: 200, hostHeader: '', sni: '' } });
  assert.equal(hc.httpsConfig?.uri, 'https://test.com:8443/health?full=1');
  assert.equal((await api.getBackend({ backendId: be.id })).healthCheck?.httpsConfig?.uri, 'https://test.com:8443/health?full=1');
});

test('enable_http3 true is accepted, stored and echoed on create, get, list and PUT', async () => {
  const be = await api.createBackend(backendRequest(lb.id));
  const fe = await api.createFrontend({ lbId: lb.id, name: 'h3', inboundPort: 443, backendId: be.id, enableHttp3: true, enableAccessLogs: false });
  assert.equal(fe.enableHttp3, true);
  assert.equal((await api.getFrontend({ frontendId: fe.id })).enableHttp3, true);
  assert.equal((await api.listFrontends({ lbId: lb.id, name: 'h3' })).frontends[0].enableHttp3, true);
  const off = await api.updateFrontend({ frontendId: fe.id, name: 'h3', inboundPort: 443, backendId: be.id, enableHttp3: false, enableAccessLogs: false });
  assert.equal(off.enableHttp3, false);
  await api.deleteFrontend({ frontendId: fe.id });
});

test('backend host (Go SDK field, absent from the TS SDK: raw HTTP) is stored and echoed; PUT without it clears it', async () => {
  const created = await f.http('POST', `/lbs/${lb.id}/backends`, backendBody({ host: 'app.example.com:8443' }));
  assert.equal(created.status, 200, created.text);
  assert.equal(created.json.host, 'app.example.com:8443');
  const id = created.json.id as string;
  assert.equal((await f.http('GET', `/backends/${id}`)).json.host, 'app.example.com:8443');
  const { health_check: _hc, server_ip: _ips, ...settings } = backendBody();
  const v6 = await f.http('PUT', `/backends/${id}`, { ...settings, host: '[2001:db8::1]:8443' });
  assert.equal(v6.json.host, '[2001:db8::1]:8443');
  const cleared = await f.http('PUT', `/backends/${id}`, settings);
  assert.equal(cleared.status, 200, cleared.text);
  assert.equal(cleared.json.host, '', 'PUT replaces every field: an omitted host is empty, as Scaleway shows an unset one');
  // The TS SDK still reads the backend (it ignores the field).
  assert.equal((await api.getBackend({ backendId: id })).id, id);
});

test('GET /ips lists by address, IPv4 in numeric order then IPv6, not by creation time; filters as before', async () => {
  const created: Lbv1.Ip[] = [];
  for (const [i, isIpv6] of [true, false, false, true, false].entries()) created.push(await api.createIp({ isIpv6, tags: i % 2 ? ['odd'] : [] }));
  // The file's LB took the first IPv4 address of the pool (.200) before these.
  assert.deepEqual(created.map((ip) => ip.ipAddress), [`${V6}5`, `${net}.9`, `${net}.10`, `${V6}a:0`, `${net}.1`]);
  const all = await api.listIPs({ ipType: 'all' });
  assert.deepEqual(all.ips.map((ip) => ip.ipAddress), [`${net}.1`, `${net}.9`, `${net}.10`, `${net}.200`, `${V6}5`, `${V6}a:0`]);
  assert.deepEqual((await api.listIPs({ ipType: 'ipv4' })).ips.map((ip) => ip.ipAddress), [`${net}.1`, `${net}.9`, `${net}.10`, `${net}.200`]);
  assert.deepEqual((await api.listIPs({ ipType: 'ipv6' })).ips.map((ip) => ip.ipAddress), [`${V6}5`, `${V6}a:0`]);
  assert.deepEqual((await api.listIPs({ tags: ['odd'] })).ips.map((ip) => ip.ipAddress), [`${net}.9`, `${V6}a:0`]);
  // Pages follow the same order.
  const page2 = await api.listIPs({ ipType: 'all', page: 2, pageSize: 4 });
  assert.deepEqual(page2.ips.map((ip) => ip.ipAddress), [`${V6}5`, `${V6}a:0`]);
  assert.equal(page2.totalCount, 6);
});

test('counters: every LB embedded in an answer already counts the backend or frontend the request created', async () => {
  const l = await readyLb(api, 'counts');
  const b1 = await api.createBackend(backendRequest(l.id, { name: 'one' }));
  assert.equal(b1.lb?.backendCount, 1);
  const b2 = await api.createBackend(backendRequest(l.id, { name: 'two' }));
  assert.equal(b2.lb?.backendCount, 2, 'the answer to the second create counts two');
  assert.equal(b2.lb?.frontendCount, 0);
  const fe = await api.createFrontend({ lbId: l.id, name: 'fe', inboundPort: 80, backendId: b2.id, enableHttp3: false, enableAccessLogs: false });
  for (const [where, copy] of [['frontend.lb', fe.lb], ['frontend.backend.lb', fe.backend?.lb]] as const) {
    assert.equal(copy?.frontendCount, 1, `${where}.frontend_count`);
    assert.equal(copy?.backendCount, 2, `${where}.backend_count`);
  }
  const raw = await f.http('POST', `/lbs/${l.id}/frontends`, frontendBody(b1.id, { inbound_port: 81 }));
  assert.equal(raw.json.lb.frontend_count, 2);
  assert.equal(raw.json.backend.lb.frontend_count, 2);
  assert.equal((await api.getBackend({ backendId: b1.id })).lb?.frontendCount, 2);
  await api.deleteFrontend({ frontendId: fe.id });
  const after = await api.getFrontend({ frontendId: raw.json.id });
  assert.equal(after.lb?.frontendCount, 1);
  assert.equal(after.backend?.lb?.frontendCount, 1);
  assert.equal((await api.getLb({ lbId: l.id })).backendCount, 2);
});

test('timeouts of 0 ms (inside Scaleway\'s documented 0-2147483647 range) are accepted and echoed; HAProxy gets the default', async () => {
  const be = await f.http('POST', `/lbs/${lb.id}/backends`, backendBody({ timeout_server: 0, timeout_connect: 0, timeout_tunnel: 0 }));
  assert.equal(be.status, 200, be.text);
  assert.deepEqual([be.json.timeout_server, be.json.timeout_connect, be.json.timeout_tunnel], [0, 0, 0]);
  const fe = await f.http('POST', `/lbs/${lb.id}/frontends`, frontendBody(be.json.id, { inbound_port: 8099, timeout_client: 0 }));
  assert.equal(fe.status, 200, fe.text);
  assert.equal(fe.json.timeout_client, 0);
});
