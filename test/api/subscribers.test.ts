// Subscribers through the official SDK (no data plane): create/get/list/update/delete on Scaleway's odd paths, an LB's
// `subscriber` field through subscribe/unsubscribe, the one-of config rules, and email subscribers refused (400 saying
// why) when the deployment has no SMTP relay.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum } from '../helpers/fulcrum.js';
import { assertUnchanged, invalidArgs, notFound, readyLb } from '../helpers/api.js';

let f: Fulcrum;
let api: Lbv1.ZonedAPI;
/** A second server that has an SMTP relay configured (nothing listens there: these tests send no mail). */
let withMail: Fulcrum;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none' });
  api = f.sdk();
  withMail = await Fulcrum.start({ dataplane: 'none', env: { FULCRUM_SMTP_URL: 'smtp://127.0.0.1:9', FULCRUM_SMTP_FROM: 'lb@example.com' } });
});
after(async () => {
  await f.destroy();
  await withMail.destroy();
});

test('webhook subscriber: create, get, list (name filter), update, delete on /lb/subscription/{id}', async () => {
  const s = await api.createSubscriber({ name: 'ops-hook', webhookConfig: { uri: 'https://hooks.example.com/lb' } });
  assert.match(s.id, /^[0-9a-f-]{36}$/);
  assert.equal(s.name, 'ops-hook');
  assert.deepEqual(s.webhookConfig, { uri: 'https://hooks.example.com/lb' });
  assert.equal(s.emailConfig, undefined);
  const raw = await f.http('GET', `/subscribers/${s.id}`);
  assert.deepEqual(Object.keys(raw.json).sort(), ['id', 'name', 'webhook_config']);
  assert.deepEqual(await api.getSubscriber({ subscriberId: s.id }), s);

  await api.createSubscriber({ name: 'other', webhookConfig: { uri: 'http://127.0.0.1:9/x' } });
  const list = await api.listSubscriber({ name: 'ops' });
  assert.equal(list.totalCount, 1);
  assert.deepEqual(list.subscribers, [s]);
  assert.equal((await api.listSubscriber({})).totalCount, 2);
  const rawList = await f.http('GET', '/subscribers?order_by=name_desc');
  assert.deepEqual(rawList.json.subscribers.map((x: { name: string }) => x.name), ['other', 'ops-hook']);

  const u = await api.updateSubscriber({ subscriberId: s.id, name: 'renamed', webhookConfig: { uri: 'http://127.0.0.1:9/y' } });
  assert.equal(u.name, 'renamed');
  assert.deepEqual((await api.getSubscriber({ subscriberId: s.id })).webhookConfig, { uri: 'http://127.0.0.1:9/y' });

  const d = await f.http('DELETE', `/lb/subscription/${s.id}`);
  assert.equal(d.status, 204);
  await notFound(api.getSubscriber({ subscriberId: s.id }), 'subscriber', s.id);
  await notFound(api.deleteSubscriber({ subscriberId: s.id }), 'subscriber', s.id);
});

test('subscribe fills the LB\'s subscriber; unsubscribe answers 200 with the LB; deleting the subscriber unsubscribes', async () => {
  const lb = await readyLb(api, 'alerted');
  assert.equal((await f.http('GET', `/lbs/${lb.id}`)).json.subscriber, null);
  const s = await api.createSubscriber({ name: 'hook', webhookConfig: { uri: 'http://127.0.0.1:9/' } });
  const subscribed = await api.subscribeToLb({ lbId: lb.id, subscriberId: s.id });
  assert.deepEqual(subscribed.subscriber, s);
  assert.deepEqual((await api.getLb({ lbId: lb.id })).subscriber, s);
  const raw = await f.http('DELETE', `/lb/${lb.id}/unsubscribe`);
  assert.equal(raw.status, 200);
  assert.equal(raw.json.id, lb.id);
  assert.equal(raw.json.subscriber, null);
  await api.subscribeToLb({ lbId: lb.id, subscriberId: s.id });
  const again = await api.unsubscribeFromLb({ lbId: lb.id });
  assert.equal(again.subscriber, undefined);
  await api.subscribeToLb({ lbId: lb.id, subscriberId: s.id });
  await api.deleteSubscriber({ subscriberId: s.id });
  assert.equal((await f.http('GET', `/lbs/${lb.id}`)).json.subscriber, null);
});

test('bad configs are 400s naming the argument, unknown ids 404s, and nothing changes', async () => {
  const lb = await readyLb(api, 'alerted-bad');
  await assertUnchanged(f, ['/subscribers', `/lbs/${lb.id}`], async () => {
    assert.deepEqual(await invalidArgs(api.createSubscriber({ name: 'x' })), ['email_config']);
    assert.deepEqual(await invalidArgs(api.createSubscriber({ name: '', webhookConfig: { uri: 'http://a.example/' } })), ['name']);
    for (const uri of ['ftp://a.example/', 'not a uri', 'http://user:pw@a.example/', '/relative']) {
      assert.deepEqual(await invalidArgs(api.createSubscriber({ name: 'x', webhookConfig: { uri } })), ['webhook_config.uri'], uri);
    }
    const both = await f.http('POST', '/subscribers', { name: 'x', webhook_config: { uri: 'http://a.example/' }, email_config: { email: 'a@b.example' } });
    assert.equal(both.status, 400, both.text);
    const missing = '3f1c3b52-8f38-4d8a-9d1e-0d6f5f7a0002';
    await notFound(api.subscribeToLb({ lbId: lb.id, subscriberId: missing }), 'subscriber', missing);
    await notFound(api.subscribeToLb({ lbId: missing, subscriberId: missing }), 'lb', missing);
    await notFound(api.updateSubscriber({ subscriberId: missing, name: 'x', webhookConfig: { uri: 'http://a.example/' } }), 'subscriber', missing);
  });
});

test('email subscribers need the deployment\'s SMTP relay: without it a 400 that says so; with it, accepted', async () => {
  const r = await f.http('POST', '/subscribers', { name: 'mail', email_config: { email: 'ops@example.com' } });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.details[0].argument_name, 'email_config');
  assert.match(r.json.details[0].help_message, /SMTP relay.*--smtp-url/);
  const mailApi = withMail.sdk();
  const s = await mailApi.createSubscriber({ name: 'mail', emailConfig: { email: 'ops@example.com' } });
  assert.deepEqual(s.emailConfig, { email: 'ops@example.com' });
  assert.equal(s.webhookConfig, undefined);
  assert.deepEqual(await invalidArgs(mailApi.createSubscriber({ name: 'mail', emailConfig: { email: 'not-an-address' } })), ['email_config.email']);
});
