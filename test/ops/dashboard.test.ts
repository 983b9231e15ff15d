// The dashboard (/ui/) in a real headless Chromium (Debian's, driven by playwright-core): it loads without console
// errors, takes the key from the URL fragment (and drops it from the address), shows a real LB's routes and servers with their
// states and live request rates, follows a server going down and back, fits a phone's width, and refuses a bad key.
// UPDATE_SCREENSHOTS=1 also writes docs/dashboard.png and docs/dashboard-phone.png.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHttpServers, waitFor, type HttpTestServer } from '../fixtures/servers.js';
import { E2e, fastCheck, type Service } from '../e2e/support/lb.js';
import { startLoad, type LoadLoop } from '../helpers/load.js';
import { ROOT } from '../helpers/fulcrum.js';

const e = E2e.suite('shop-frontend');
let browser: Browser;
let servers: HttpTestServer[];
let svc: Service;
let load: LoadLoop | null = null;

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The browser and an LB with three servers behind an HTTP check; made once, by the first test (after E2e's hooks). */
let ready: Promise<void> | null = null;
const setup = () => (ready ??= (async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS, headless: true });
  servers = e.serve(...await startHttpServers([e.host(), e.host(), e.host()]));
  svc = await e.lb.service({ name: 'web', forwardPort: servers[0].port, serverIp: servers.map((s) => s.host),
    healthCheck: fastCheck({ httpConfig: { uri: '/health', method: 'GET', code: 200, hostHeader: '' } }) } as never,
  { name: 'https-in', enableAccessLogs: true } as never);
  for (const s of servers) await svc.waitServer(s.host, 'running', 'passed');
  const frontend = (await e.api.listFrontends({ lbId: e.lb.id })).frontends[0];
  await e.api.createRoute({ frontendId: frontend.id, backendId: svc.backend.id, match: { hostHeader: 'shop.example.com', matchSubdomains: true } } as never);
  await e.lb.ready();
})());

after(async () => {
  await load?.stop();
  await browser?.close();
});

/** A page that records console errors and uncaught exceptions. */
async function open(width: number, height: number): Promise<{ page: Page; errors: string[] }> {
  await setup();
  const page = await browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (err) => errors.push(err.message));
  return { page, errors };
}

const row = (ip: string, state: string) => `tr[data-server="${svc.backend.id} ${ip}"][data-state="${state}"]`;

test('shows the LB, its frontend, backend and servers with their states and live rates; follows a server going down', async () => {
  const { page, errors } = await open(1280, 800);
  await page.goto(`${e.f.url}/ui/#key=${e.f.key}`);
  for (const s of servers) await page.waitForSelector(row(s.host, 'running'), { timeout: 10_000 });
  assert.ok(!page.url().includes(e.f.key), 'the key is dropped from the address bar');
  const lb = page.locator(`section[data-lb="${e.lb.id}"]`);
  assert.match(await lb.locator('h2').innerText(), /shop-frontend/);
  assert.match(await lb.innerText(), /https-in/);
  assert.match(await lb.innerText(), /Backend web/);
  assert.match(await lb.locator('tr[data-route]').innerText(), /host_header = shop\.example\.com \(and subdomains\)\s+web/);
  assert.match(await lb.locator(row(servers[0].host, 'running')).innerText(), /passed/);

  // Live rates: traffic through the LB shows as requests per second on the servers.
  load = startLoad(e.lb.ip, svc.port, { concurrency: 2, maxMs: 60_000, maxRequests: 200_000 });
  await waitFor('a request rate on a server', async () => {
    const cells = await lb.locator(`${row(servers[1].host, 'running')} td.num`).allInnerTexts();
    return Number(cells[1]) > 0;
  }, 15_000, 250);

  // A server going down (its health check answers 503) and back.
  servers[0].healthy = false;
  await page.waitForSelector(row(servers[0].host, 'stopped'), { timeout: 10_000 });
  assert.match(await lb.locator(row(servers[0].host, 'stopped')).innerText(), /failed/);
  if (process.env.UPDATE_SCREENSHOTS) await page.screenshot({ path: `${ROOT}/docs/dashboard.png`, fullPage: true });
  servers[0].healthy = true;
  await page.waitForSelector(row(servers[0].host, 'running'), { timeout: 10_000 });
  const result = await load.stop();
  load = null;
  assert.ok(result.ok > 0);
  assert.deepEqual(errors, [], 'no console error');
  await page.close();
});

test('fits a phone\'s width (tables scroll inside their cards)', async () => {
  const { page, errors } = await open(390, 844);
  await page.goto(`${e.f.url}/ui/#key=${e.f.key}`);
  await page.waitForSelector(row(servers[2].host, 'running'), { timeout: 10_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  if (process.env.UPDATE_SCREENSHOTS) await page.screenshot({ path: `${ROOT}/docs/dashboard-phone.png` });
  assert.deepEqual(errors, []);
  await page.close();
});

test('asks for a key, and refuses a wrong one', async () => {
  const { page } = await open(1280, 800);
  await page.goto(`${e.f.url}/ui/`);
  await page.waitForSelector('form.key');
  await page.fill('input[name=key]', randomUUID());
  await page.click('button[type=submit]');
  await page.waitForSelector('text=That key was refused.');
  await page.fill('input[name=key]', e.f.key);
  await page.click('button[type=submit]');
  await page.waitForSelector(row(servers[1].host, 'running'), { timeout: 10_000 });
  await page.close();
});
