// Zones: a deployment serving two zones keeps each zone's objects to itself; a zone it does not serve is refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum } from '../helpers/fulcrum.js';
import { backendRequest, invalidArgs, notFound, readyLb } from '../helpers/api.js';

let f: Fulcrum;
let par: Lbv1.ZonedAPI;
let ams: Lbv1.ZonedAPI;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none', zones: ['fr-par-1', 'nl-ams-1'] });
  par = f.sdk('fr-par-1');
  ams = f.sdk('nl-ams-1');
});
after(async () => { await f.destroy(); });

test('objects stay in their zone; each zone lists only its own', async () => {
  const inPar = await readyLb(par, 'par');
  const inAms = await readyLb(ams, 'ams');
  assert.equal(inAms.zone, 'nl-ams-1');
  assert.equal(inAms.region, 'nl-ams');
  assert.equal(inAms.instances[0].zone, 'nl-ams-1');
  assert.equal(inAms.ip[0].zone, 'nl-ams-1');
  assert.equal(inAms.ip[0].region, 'nl-ams');

  assert.deepEqual((await par.listLbs({}).all()).map((l) => l.id), [inPar.id]);
  assert.deepEqual((await ams.listLbs({}).all()).map((l) => l.id), [inAms.id]);
  assert.deepEqual((await par.listIPs({}).all()).map((i) => i.id), [inPar.ip[0].id]);
  assert.deepEqual((await ams.listIPs({}).all()).map((i) => i.id), [inAms.ip[0].id]);

  await notFound(par.getLb({ lbId: inAms.id }), 'lb', inAms.id);
  await notFound(par.getIp({ ipId: inAms.ip[0].id }), 'ip', inAms.ip[0].id);
  await notFound(par.createBackend(backendRequest(inAms.id)), 'lb', inAms.id);

  const be = await ams.createBackend(backendRequest(inAms.id));
  assert.equal(be.lb?.zone, 'nl-ams-1');
  await notFound(par.getBackend({ backendId: be.id }), 'backend', be.id);
  const fe = await ams.createFrontend({ lbId: inAms.id, name: 'fe', inboundPort: 80, backendId: be.id, enableHttp3: false, enableAccessLogs: false });
  await notFound(par.getFrontend({ frontendId: fe.id }), 'frontend', fe.id);
  await notFound(par.deleteLb({ lbId: inAms.id, releaseIp: true }), 'lb', inAms.id);
  assert.equal((await ams.getFrontend({ frontendId: fe.id })).lb?.zone, 'nl-ams-1');

  const ip = await ams.createIp({ isIpv6: false });
  assert.equal(ip.zone, 'nl-ams-1');
  await notFound(par.updateIp({ ipId: ip.id, reverse: 'x.example.com' }), 'ip', ip.id);
  // An IP of one zone cannot be given to an LB of another.
  await notFound(par.createLb({ name: 'cross', description: '', type: 'LB-S', ipIds: [ip.id] }), 'ip', ip.id);
  await notFound(ams.updateIp({ ipId: ip.id, lbId: inPar.id }), 'lb', inPar.id);
});

test('a zone this deployment does not serve is refused, and nothing is created', async () => {
  const waw = f.sdk('pl-waw-3');
  assert.deepEqual(await invalidArgs(waw.listLbs({})), ['zone']);
  assert.deepEqual(await invalidArgs(waw.createLb({ name: 'nowhere', description: '', type: 'LB-S' })), ['zone']);
  assert.deepEqual(await invalidArgs(waw.createIp({ isIpv6: false })), ['zone']);
  assert.deepEqual(await invalidArgs(waw.listLbTypes({})), ['zone']);
  assert.equal((await par.listLbs({ name: 'nowhere' })).totalCount, 0);
  assert.equal((await ams.listLbs({ name: 'nowhere' })).totalCount, 0);
  const raw = await f.http('GET', '/lbs', undefined, {}, 'not-a-zone');
  assert.equal(raw.status, 400);
  assert.equal(raw.json.details[0].argument_name, 'zone');
});
