// The official SDK can create an LB, a backend and a frontend and read them back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Fulcrum, waitLbReady } from '../helpers/fulcrum.js';

let f: Fulcrum;
before(async () => { f = await Fulcrum.start(); });
after(async () => { await f.destroy(); });

test('SDK round trip: LB, backend, frontend', async () => {
  const api = f.sdk();
  const lb = await api.createLb({ name: 'smoke', description: '', type: 'LB-S', tags: ['a'] } as never);
  assert.equal(lb.name, 'smoke');
  const ready = await waitLbReady(api, lb.id);
  assert.equal(ready.status, 'ready');
  const be = await api.createBackend({
    lbId: lb.id, name: 'be', forwardProtocol: 'http', forwardPort: 8080, forwardPortAlgorithm: 'roundrobin',
    stickySessions: 'none', stickySessionsCookieName: '', serverIp: ['127.0.0.1'],
    healthCheck: { port: 8080, checkMaxRetries: 3, checkSendProxy: false },
  } as never);
  assert.deepEqual(be.pool, ['127.0.0.1']);
  assert.equal(be.healthCheck?.tcpConfig !== undefined, true);
  const fe = await api.createFrontend({ lbId: lb.id, name: 'fe', inboundPort: 8081, backendId: be.id, enableHttp3: false } as never);
  assert.equal(fe.backend?.id, be.id);
  const got = await api.getBackend({ backendId: be.id });
  assert.equal(got.name, 'be');
});
