// Alerts from real events: a real backend server failing its health checks (and recovering), a whole backend going
// down, and the LB's HAProxy dying, reach a real webhook receiver (retried after a refusal, bursts grouped) and a real
// SMTP server (smtp-server) through the relay given to `fulcrum serve --smtp-url`.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { lbPaths } from '../../src/dataplane/haproxy.js';
import { freePort, startHttpServers, waitFor, type HttpTestServer } from '../fixtures/servers.js';
import { haproxyMastersOf } from '../helpers/procs.js';
import { E2e, fastCheck, report, type Service } from './support/lb.js';

interface Hook {
  body: any;
  answered: number;
  at: number;
}

/** The webhook receiver: records every POST; answers 503 while `refuse` is above 0 (and counts it down). */
const hooks: Hook[] = [];
let refuse = 0;
let hookServer: Server;
let hookUrl = '';

/** What the SMTP server received. */
const mails: { to: string[]; raw: string }[] = [];
let smtp: SMTPServer;
const smtpPort = await freePort();

before(async () => {
  hookServer = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => { text += d; });
    req.on('end', () => {
      const answered = refuse > 0 ? (refuse--, 503) : 200;
      hooks.push({ body: JSON.parse(text), answered, at: performance.now() });
      res.writeHead(answered).end();
    });
  });
  hookServer.listen(0, '127.0.0.1');
  await once(hookServer, 'listening');
  hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/alerts`;
  smtp = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, done) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => { raw += d; });
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
});
after(async () => {
  hookServer.closeAllConnections();
  await new Promise((r) => hookServer.close(r));
  await new Promise<void>((r) => smtp.close(() => r()));
});

const e = E2e.suite('alerts', () => ({ env: { FULCRUM_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, FULCRUM_SMTP_FROM: 'fulcrum@example.com' } }));

let servers: HttpTestServer[];
let svc: Service;

/** Waits for a webhook delivery (answered 200) after index `from` that satisfies `match`; bounded. */
async function delivered(from: number, label: string, match: (b: any) => boolean): Promise<Hook> {
  return waitFor(label, () => hooks.slice(from).find((h) => h.answered === 200 && match(h.body)), 20_000, 20);
}

const about = (b: any, ip: string, state: string) => b.events.some((i: any) => i.server_ip === ip && i.state === state);

test('a server failing its checks is a webhook POST (retried after a 503), and its recovery another', async () => {
  servers = e.serve(...await startHttpServers([e.host(), e.host()]));
  svc = await e.lb.service({ forwardPort: servers[0].port, serverIp: servers.map((s) => s.host),
    healthCheck: fastCheck({ httpConfig: { uri: '/health', method: 'GET', code: 200, hostHeader: '' } }) });
  await waitFor('both servers serve', async () => new Set(await svc.bodies(6)).size === 2, 10_000);
  const sub = await e.api.createSubscriber({ name: 'hook', webhookConfig: { uri: hookUrl } });
  const lb = await e.api.subscribeToLb({ lbId: e.lb.id, subscriberId: sub.id });
  assert.equal(lb.subscriber?.id, sub.id);

  const [a] = servers;
  refuse = 1;
  let from = hooks.length;
  const t0 = performance.now();
  a.healthy = false;
  const down = await delivered(from, 'server down delivered', (b) => about(b, a.host, 'stopped'));
  report('server down → webhook delivered (after one 503 and a retry)', down.at - t0);
  const refused = hooks.slice(from).find((h) => h.answered === 503);
  assert.ok(refused, 'the first delivery was refused');
  assert.deepEqual(refused.body, down.body, 'the retry carries the same body');
  report('server down → first webhook attempt', refused.at - t0);
  const b = down.body;
  assert.equal(b.lb_id, e.lb.id);
  assert.equal(b.lb_name, 'alerts');
  assert.equal(b.backend_id, svc.backend.id);
  assert.equal(b.server_ip, a.host);
  assert.equal(b.state, 'stopped');
  assert.equal(b.previous_state, 'running');
  assert.equal(typeof b.reason, 'string');
  assert.ok(b.reason.length > 0);
  assert.ok(!Number.isNaN(Date.parse(b.at)), b.at);
  assert.deepEqual(b.events[0], { backend_id: b.backend_id, server_ip: b.server_ip, state: b.state, previous_state: b.previous_state,
    reason: b.reason, at: b.at });

  from = hooks.length;
  a.healthy = true;
  const up = await delivered(from, 'server up delivered', (x) => about(x, a.host, 'running'));
  assert.equal(up.body.events.find((i: any) => i.server_ip === a.host).previous_state, 'stopped');
});

test('a whole backend going down is one grouped message, not one per server', async () => {
  const from = hooks.length;
  for (const s of servers) s.healthy = false;
  const both = await delivered(from, 'both servers down', (b) => servers.every((s) => about(b, s.host, 'stopped')));
  assert.equal(both.body.events.length, 2, JSON.stringify(both.body.events));
  assert.equal(hooks.slice(from).filter((h) => h.answered === 200).length, 1, 'one message for the burst');
  const back = hooks.length;
  for (const s of servers) s.healthy = true;
  await delivered(back, 'both servers up', (b) => servers.every((s) => about(b, s.host, 'running')));
});

test('an email subscriber gets a mail through the SMTP relay; the HAProxy dying (error) and coming back too', async () => {
  const sub = await e.api.createSubscriber({ name: 'mail', emailConfig: { email: 'ops@example.com' } });
  await e.api.subscribeToLb({ lbId: e.lb.id, subscriberId: sub.id });
  const hooksBefore = hooks.length;
  const [, b] = servers;
  const from = mails.length;
  const t0 = performance.now();
  b.healthy = false;
  const mail = await waitFor('mail received', () => mails.slice(from).find((m) => m.raw.includes(b.host)), 20_000, 20);
  report('server down → mail received', performance.now() - t0);
  assert.deepEqual(mail.to, ['ops@example.com']);
  assert.match(mail.raw, /^From: fulcrum@example\.com/m);
  assert.match(mail.raw, /^Subject: \[Fulcrum\] load balancer alerts/m);
  assert.match(mail.raw, /running -> stopped/);
  assert.equal(hooks.length, hooksBefore, 'the webhook no longer gets this LB\'s alerts');
  b.healthy = true;

  // The LB's HAProxy master dies (killed by PID: it is this test's own): the instance goes to error, is restarted.
  const masters = haproxyMastersOf(lbPaths(e.f.dataDir, e.lb.id).dir);
  assert.equal(masters.length, 1);
  const mark = mails.length;
  process.kill(masters[0], 'SIGKILL');
  const failed = await waitFor('instance error mailed', () => mails.slice(mark).find((m) => /instance: \w+ -> error/.test(m.raw)), 20_000, 20);
  assert.ok(failed);
  await waitFor('instance recovery mailed', () => mails.slice(mark).find((m) => /instance: error -> ready/.test(m.raw)), 20_000, 20);
  await e.lb.ready();
});
