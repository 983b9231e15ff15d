// File descriptors: what a rendered config needs, the hard limit read from /proc, and an LB past that limit refused
// with a reason that names both numbers (instead of a reload HAProxy would refuse).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fdLimitProblem, fdsNeeded, hardFdLimit } from '../../src/dataplane/fd-limit.js';
import { DEFAULT_MAXCONN, renderConfig } from '../../src/dataplane/render.js';
import { FD_RESERVE } from '../../src/dataplane/render-profile.js';
import { assignServerIds } from '../../src/dataplane/server-ids.js';
import { DataPlaneHarness } from '../fixtures/dataplane.js';
import { makeBackend, makeFrontend, makeSnapshot } from '../fixtures/snapshots.js';

const snap = (lbId: string) => makeSnapshot(lbId, ['127.0.0.1', '::1'],
  [makeFrontend('f1', lbId, 'b', 20_001), makeFrontend('f2', lbId, 'b', 20_002)],
  [makeBackend('b', lbId, { pool: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] })]);

// Listeners: 2 frontends × 2 addresses, and the metrics exporter's socket.
const LISTENERS = 2 * 2 + 1;

test('a config needs 2 per maxconn, 2 per pipe (one per 4 connections), one per server and per listener, and 25 more', () => {
  const s = snap('lb');
  const cfg = renderConfig(s, { runDir: '/run/x', serverIds: assignServerIds({}, s) });
  assert.equal(fdsNeeded(cfg), 2 * DEFAULT_MAXCONN + 2 * (DEFAULT_MAXCONN / 4) + 3 + LISTENERS + 25);
  assert.equal(fdsNeeded(renderConfig(s, { runDir: '/run/x', serverIds: assignServerIds({}, s), maxconn: 100 })), 200 + 50 + 3 + LISTENERS + 25);
});

test('the hard limit is read from the limits table; past it, the reason names the limit, the need and how to raise it', () => {
  const limits = 'Limit                     Soft Limit           Hard Limit           Units     \n'
    + 'Max open files            1024                 20000                files     \n';
  assert.equal(hardFdLimit(limits), 20_000);
  assert.equal(hardFdLimit(limits.replace('20000 ', 'unlimited')), Number.POSITIVE_INFINITY);
  const cfg = `global\n  maxconn 10000\n  maxpipes 2500\n\ndefaults\n${'  server s 10.0.0.1:80\n'.repeat(10)}`;
  assert.equal(fdLimitProblem(cfg, 25_035), null);
  assert.match(fdLimitProblem(cfg, 25_034) ?? '', /needs 25035 file descriptors.*hard limit .* is 25034.*LimitNOFILE.*ulimit -Hn/);
});

const h = new DataPlaneHarness();
after(() => h.cleanup());

test('an LB past the hard limit is refused with that reason, and no HAProxy is started', async (t) => {
  const hard = hardFdLimit();
  if (!Number.isFinite(hard)) return t.skip('no hard limit: nothing to exceed');
  // maxconn, asked for as high as the limit, is capped to leave FD_RESERVE for the rest (render-profile.ts): more
  // servers than that reserve cannot fit.
  const lbId = randomUUID();
  h.lbIds.add(lbId);
  const backends = Array.from({ length: Math.ceil(FD_RESERVE / 100) + 1 }, (_, i) => makeBackend(`b${i}`, lbId,
    { pool: Array.from({ length: 100 }, (_, j) => `10.${i}.0.${j + 1}`) }));
  const dp = h.plane({ maxconn: hard });
  const result = await dp.apply(makeSnapshot(lbId, ['127.0.0.1'], [makeFrontend('f1', lbId, 'b0', 20_001)], backends));
  assert.equal(result.ok, false);
  assert.match(result.ok ? '' : result.reason, new RegExp(`hard limit \\(RLIMIT_NOFILE\\) of fulcrum serve is ${hard}`));
  assert.equal(dp.isAlive(lbId), false);
});
