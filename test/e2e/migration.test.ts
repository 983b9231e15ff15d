// Migration between LB types under load, on real HAProxy: the LB reads `migrating` then `ready` with its new type,
// a new worker runs the new profile (`show info`: Nbthread, Maxconn), and no request of a continuous load fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findLbType } from '../../src/domain/lb-types.js';
import { lbPaths } from '../../src/dataplane/haproxy.js';
import { hardFdLimit } from '../../src/dataplane/fd-limit.js';
import { maxconnCap } from '../../src/dataplane/render-profile.js';
import { cli } from '../../src/dataplane/runtime.js';
import { startHttpServers, waitFor } from '../fixtures/servers.js';
import { startLoad } from '../helpers/load.js';
import { E2e, report } from './support/lb.js';

const e = E2e.suite('migration');

/** The profile's maxconn, or less where this machine's open-file limit (inherited by HAProxy) allows less. */
const expectedMaxconn = (maxconn: number): number => {
  // Infinity (no limit) caps nothing.
  return Math.min(maxconn, maxconnCap(hardFdLimit()));
};

/** `show info` of the LB's running worker, as name → value. */
async function info(lbId: string): Promise<Record<string, string>> {
  const text = await cli(lbPaths(e.f.dataDir, lbId).adminSock, 'show info');
  return Object.fromEntries(text.split('\n').filter((l) => l.includes(': ')).map((l) => l.split(': ', 2) as [string, string]));
}

test('migrating under load: migrating, then ready with the new type; the new profile runs; 0 failed requests', async () => {
  const servers = e.serve(...await startHttpServers([e.host(), e.host()]));
  const svc = await e.lb.service({ forwardPort: servers[0].port, serverIp: servers.map((s) => s.host) });
  await waitFor('both servers serve', async () => new Set(await svc.bodies(6)).size === 2, 10_000);
  const before = await info(e.lb.id);
  assert.equal(before.Nbthread, '1');
  assert.equal(before.Maxconn, String(expectedMaxconn(findLbType('LB-S')!.profile.maxconn)));

  const load = startLoad(e.lb.ip, svc.port, { concurrency: 4, maxMs: 60_000 });
  try {
    for (const name of ['LB-GP-M', 'LB-GP-L', 'LB-S']) {
      const workers = await e.lb.workers();
      await waitFor('some traffic before the migration', () => load.result.ok > 50, 10_000);
      const t0 = performance.now();
      const answer = await e.api.migrateLb({ lbId: e.lb.id, type: name });
      assert.equal(answer.status, 'migrating');
      const done = await waitFor(`${name} applied`, async () => {
        const lb = await e.api.getLb({ lbId: e.lb.id });
        return lb.status === 'ready' && lb.instances[0].status === 'ready' ? lb : null;
      }, 20_000, 20);
      report(`migration to ${name} (migrating → ready)`, performance.now() - t0);
      assert.equal(done.type, name.toLowerCase());
      const now = await info(e.lb.id);
      const { profile } = findLbType(name)!;
      assert.equal(now.Nbthread, String(profile.nbthread), `${name}: threads of the running worker`);
      assert.equal(now.Maxconn, String(expectedMaxconn(profile.maxconn)), `${name}: maxconn of the running worker`);
      assert.notDeepEqual(await e.lb.workers(), workers, 'a new worker runs the new profile (one seamless reload)');
    }
  } finally {
    await load.stop();
  }
  assert.equal(load.result.failed, 0, load.result.errors.join('\n'));
  assert.ok(load.result.ok > 150, `${load.result.ok} requests went through`);
  console.log(`measured: requests during three migrations: ${load.result.ok} ok, ${load.result.failed} failed`);
});
