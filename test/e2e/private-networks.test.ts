// Private networks on real HAProxy, on a declared loopback range: an attached LB answers on its address in the network,
// connects to backend servers inside the network from that address (they see it as the client), to servers outside it
// as before; after detach the address no longer answers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { freePort, httpGet, loopbackNet, waitFor } from '../fixtures/servers.js';
import { E2e } from './support/lb.js';

const PN = randomUUID();
const pnNet = loopbackNet();
const e = E2e.suite('private-networks', () => ({ env: { FULCRUM_PRIVATE_NETWORK: `${PN}=${pnNet}.0/24` } }));

/** An HTTP server that answers every request with the address the request came from. */
async function whoCalls(host: string, port: number): Promise<{ host: string; port: number; close(): Promise<void> }> {
  const srv = createServer((req, res) => { res.end(req.socket.remoteAddress ?? ''); });
  srv.listen(port, host);
  await once(srv, 'listening');
  return { host, port: (srv.address() as AddressInfo).port, close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

test('attached: the frontend answers on the PN address, and PN servers see the LB\'s PN address as the client', async () => {
  const port = await freePort(`${pnNet}.50`);
  const inside = e.serve(await whoCalls(`${pnNet}.50`, port))[0];
  const outside = e.serve(await whoCalls(e.host(), port))[0];
  const svc = await e.lb.service({ forwardPort: port, serverIp: [inside.host] });
  const pnAddress = `${pnNet}.5`;
  const att = await e.api.attachPrivateNetwork({ lbId: e.lb.id, privateNetworkId: PN, staticConfig: { ipAddress: [pnAddress] } });
  assert.equal(att.status, 'pending');
  await waitFor('attachment ready', async () => (await e.api.listLbPrivateNetworks({ lbId: e.lb.id })).privateNetwork[0]?.status === 'ready', 10_000);

  const viaPn = await waitFor('the frontend answers on the PN address', async () => {
    const r = await httpGet(pnAddress, svc.port).catch(() => null);
    return r?.status === 200 ? r : null;
  }, 10_000, 50);
  assert.equal(viaPn.body, pnAddress, 'the server inside the network saw the LB\'s PN address as the source');
  assert.equal((await svc.get()).body, pnAddress, 'also for traffic that came in on the public address');

  // A server outside the range is reached from the usual source, not the PN address.
  await svc.addServers([outside.host]);
  await svc.removeServers([inside.host]);
  const fromOutside = await waitFor('only the outside server serves', async () => {
    const r = await svc.get().catch(() => null);
    return r?.status === 200 && r.body !== pnAddress ? r : null;
  }, 10_000, 50);
  assert.notEqual(fromOutside.body, pnAddress);
  assert.match(fromOutside.body, /^127\./);

  // Back inside through the runtime API (no reload): the added server is reached from the PN address too.
  await svc.addServers([inside.host]);
  await svc.removeServers([outside.host]);
  await waitFor('the inside server serves again, seeing the PN address', async () => (await svc.get().catch(() => null))?.body === pnAddress, 10_000, 50);

  const d = await e.f.http('POST', `/lbs/${e.lb.id}/detach-private-network`, { private_network_id: PN });
  assert.equal(d.status, 204);
  await e.lb.ready();
  await assert.rejects(httpGet(pnAddress, svc.port, '/', {}, 1000), 'the PN address no longer answers after detach');
  const after = await waitFor('served from the usual source after detach', async () => {
    const r = await svc.get().catch(() => null);
    return r?.status === 200 && r.body !== pnAddress ? r : null;
  }, 10_000, 50);
  assert.match(after.body, /^127\./);
});
