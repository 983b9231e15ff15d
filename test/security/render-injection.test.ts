// No config injection, as a property: fast-check builds backend and frontend requests whose text fields mix valid values
// with HAProxy syntax (line breaks, `#`, quotes, spaces, `%[`, `${`, `;`, control and non-ASCII characters). Every
// request the API accepts (the real routes, in this process) gives a stored object that
//   - renders (src/dataplane/render.ts renderConfig) without the renderer's guard refusing it,
//   - renders to the same lines, word for word, as the same object with each user value swapped for a harmless
//     placeholder: a user value is always exactly its own word (or the host inside `host:port`), adds no line and no
//     word, and holds nothing HAProxy reads as syntax (`#`, quotes, backslash, control characters, `%` where the
//     value is a log-format string),
//   - never shows a user-chosen name (LB, backend, frontend names are free text and must not reach HAProxy),
//   - is accepted by `haproxy -c` (in a network namespace of its own when possible, so that resolving a failover host
//     sends nothing anywhere),
// and the runtime `add server` command built from it (serverArgs) is one command on one line, with the same words.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { Acl } from '../../src/domain/acls.js';
import type { Backend } from '../../src/domain/backends.js';
import { routePrecedence, type Route } from '../../src/domain/routes.js';
import type { LbSnapshot } from '../../src/domain/snapshot.js';
import { renderConfig, serverArgs } from '../../src/dataplane/render.js';
import { ruleLists } from '../../src/dataplane/render-rules.js';
import { assignServerIds } from '../../src/dataplane/server-ids.js';
import { splitHostPort } from '../../src/domain/validation.js';
import { requestArbitraries } from './arbitraries.js';
import { SEED, inProcessApi, runs, type InProcessApi } from './support.js';

const ZONE_PATH = '/lb/v1/zones/fr-par-1';
let api: InProcessApi;
let lbId: string;
let runDir: string;
const NETLESS = spawnSync('unshare', ['-n', 'true']).status === 0;

before(async () => {
  api = await inProcessApi();
  const r = await inject('POST', '/lbs', { name: 'render', assign_flexible_ip: true, assign_flexible_ipv6: false });
  assert.equal(r.statusCode, 200, r.body);
  lbId = r.json().id;
  runDir = mkdtempSync(join(tmpdir(), 'fulcrum-inject-'));
  writeFileSync(join(runDir, 'server-state'), '1\n');
  console.log(`# seed ${SEED} (replay: FULCRUM_FUZZ_SEED=${SEED}); haproxy -c ${NETLESS ? 'in its own network namespace' : 'with IP failover hosts only'}`);
});

after(async () => {
  await api.close();
  rmSync(runDir, { recursive: true, force: true });
});

function inject(method: string, path: string, body?: unknown) {
  return api.app.inject({
    method: method as 'POST', url: `${ZONE_PATH}${path}`, headers: { 'x-auth-token': api.adminKey, 'content-type': 'application/json' },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
}

const { aclRequest, backendRequest, frontendRequest, routeMatch } = requestArbitraries({ dnsNames: NETLESS });

// ---- the checks
// Headers of the file: backend and frontend requests (render, twin, haproxy -c), then route and ACL requests.

/** Characters HAProxy's config tokenizer reads as syntax (or that no config word should hold). */
const NOT_A_WORD = /[^\x21-\x7e]|["'#\\]/;

/** The same backend with every user-supplied text swapped for a harmless placeholder of the same kind. */
function twin(b: Backend, i: number): { backend: Backend; values: Map<string, string> } {
  const values = new Map<string, string>();
  const swap = (placeholder: string, value: string) => { values.set(placeholder, value); return placeholder; };
  const t: Backend = structuredClone(b);
  if (b.cookieName) t.cookieName = swap(`phcookie${i}`, b.cookieName);
  /** `host[:port]` with the host swapped for a placeholder of the same kind (IPv4, IPv6 or name). */
  const swapHost = (authority: string, name: 'failover' | 'backendhost') => {
    const hp = splitHostPort(authority);
    assert.ok(hp, `stored ${name} ${JSON.stringify(authority)} is a host`);
    const kind = isIP(hp.host);
    const [v4, v6] = name === 'failover' ? ['192.0.2', '2001:db8:ffff:'] : ['198.51.100', '2001:db8:eeee:'];
    const ph = kind === 4 ? `${v4}.${i + 1}` : kind === 6 ? `${v6}:${i + 1}` : `ph${name}${i}.example`;
    return authority.replace(hp.host, swap(ph, hp.host));
  };
  if (b.failoverHost) {
    const m = /^((?:https?:\/\/)?)([^/]+)(.*)$/i.exec(b.failoverHost);
    assert.ok(m, `stored failover_host ${JSON.stringify(b.failoverHost)} is a host or URL`);
    t.failoverHost = `${m[1]}${swapHost(m[2], 'failover')}${m[3].length > 1 ? swap(`/phpath${i}`, m[3]) : m[3]}`;
  }
  if (b.host) t.host = swapHost(b.host, 'backendhost');
  const c = t.healthCheck.config;
  const oc = b.healthCheck.config;
  if ((c.kind === 'mysql' || c.kind === 'pgsql') && (oc.kind === 'mysql' || oc.kind === 'pgsql')) c.user = swap(`phuser${i}`, oc.user);
  if ((c.kind === 'http' || c.kind === 'https') && (oc.kind === 'http' || oc.kind === 'https')) {
    c.uri = swap(`/phuri${i}`, oc.uri);
    c.method = swap(`PHMETHOD${'ABCDEFGHIJ'[i]}`, oc.method);
    if (oc.hostHeader) c.hostHeader = swap(`phhost${i}.example`, oc.hostHeader);
    if (c.kind === 'https' && oc.kind === 'https' && oc.sni) c.sni = swap(`phsni${i}.example`, oc.sni);
  }
  return { backend: t, values };
}

/** Asserts that `real` is `base` with placeholders replaced by their values, word by word and line by line. */
/** HAProxy's words: a single-quoted string (taken literally, spaces included) is one word. */
const words = (line: string): string[] => line.trim().match(/'[^']*'|[^ \t]+/g) ?? [];
/** What a single-quoted word may hold: printable ASCII and spaces, no quote. */
const NOT_QUOTED_TEXT = /[^\x20-\x7e]|'/;

function assertSameShape(real: string, base: string, values: Map<string, string>, what: string): void {
  const rl = real.split('\n');
  const bl = base.split('\n');
  assert.equal(rl.length, bl.length, `${what}: a user value changed the number of lines`);
  rl.forEach((line, n) => {
    const rw = words(line);
    const bw = words(bl[n]);
    assert.equal(rw.length, bw.length, `${what}, line ${n + 1}: a user value changed the number of words:\n${line}\n${bl[n]}`);
    rw.forEach((w, k) => {
      if (w === bw[k]) return;
      if (w.length >= 2 && w.startsWith("'") && w.endsWith("'")) {
        assert.doesNotMatch(w.slice(1, -1), NOT_QUOTED_TEXT, `${what}, line ${n + 1}: quoted word ${JSON.stringify(w)} holds HAProxy syntax`);
      } else {
        assert.doesNotMatch(w, NOT_A_WORD, `${what}, line ${n + 1}: word ${JSON.stringify(w)} holds HAProxy syntax`);
      }
      const ph = [...values.keys()].filter((p) => bw[k].includes(p));
      assert.equal(ph.length, 1, `${what}, line ${n + 1}: ${JSON.stringify(w)} differs from ${JSON.stringify(bw[k])} where no user value goes`);
      assert.equal(w, bw[k].replace(ph[0], values.get(ph[0])!), `${what}, line ${n + 1}: the user value is not exactly its word`);
      // Header values (`hdr Host <fmt>`, `set-header Host <fmt>`) are log-format strings: `%` would start an expression.
      // (`uri <path>` of http-check send is plain text, so percent-encoding is fine there.)
      if (rw[k - 1] === 'Host') assert.ok(!w.includes('%'), `${what}, line ${n + 1}: % in the log-format string ${JSON.stringify(w)}`);
    });
  });
}

function haproxyCheck(cfg: string, lists = new Map<string, string>()): { ok: boolean; out: string } {
  const file = join(runDir, 'haproxy.cfg');
  writeFileSync(file, cfg);
  for (const [path, text] of lists) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  const cmd = NETLESS ? ['unshare', ['-n', 'haproxy', '-c', '-f', file]] as const : ['haproxy', ['-c', '-f', file]] as const;
  const r = spawnSync(cmd[0], [...cmd[1]], { encoding: 'utf8', timeout: 30_000 });
  const out = `${r.stdout}${r.stderr}`;
  return { ok: r.status === 0 && !out.includes('[ALERT]'), out };
}

const counts = { tried: 0, accepted: 0, frontends: 0, configs: 0 };

/** One LB's worth of requests: a few backends, each perhaps with a frontend in front of it. */
const lbRequests = fc.array(fc.tuple(backendRequest, fc.option(frontendRequest, { nil: undefined })), { minLength: 1, maxLength: 3 });

test('every backend and frontend the API accepts renders within its own words, and haproxy -c accepts it', async () => {
  const details = await fc.check(fc.asyncProperty(lbRequests, async (requests) => {
    const created: string[] = [];
    const names: string[] = [];
    try {
      for (const [body, fe] of requests) {
        counts.tried++;
        const r = await inject('POST', `/lbs/${lbId}/backends`, body);
        assert.ok(r.statusCode < 500, `a 5xx: ${r.body}`);
        if (r.statusCode !== 200) continue;
        counts.accepted++;
        names.push(body.name);
        const backendId = r.json().id as string;
        created.push(`/backends/${backendId}`);
        if (!fe) continue;
        const rf = await inject('POST', `/lbs/${lbId}/frontends`, { ...fe, backend_id: backendId });
        assert.ok(rf.statusCode < 500, `a 5xx: ${rf.body}`);
        if (rf.statusCode !== 200) continue;
        counts.frontends++;
        names.push(fe.name);
        created.unshift(`/frontends/${rf.json().id}`);
      }
      if (created.length === 0) return;
      const snap = (await api.store.snapshot(lbId))!;
      const ids = assignServerIds({}, snap);
      const opts = { runDir, serverIds: ids };
      let cfg: string;
      try {
        cfg = renderConfig(snap, opts);
      } catch (err) {
        assert.fail(`the API accepted it but the renderer refuses it: ${(err as Error).message}`);
      }
      const twins = snap.backends.map((b, i) => ({ real: b, ...twin(b, i) }));
      const values = new Map(twins.flatMap((t) => [...t.values]));
      assertSameShape(cfg, renderConfig({ ...snap, backends: twins.map((t) => t.backend) }, opts), values, 'config');
      // User-chosen names never reach HAProxy.
      for (const name of names) assert.ok(!cfg.includes(name.slice(0, 12)), `the name ${JSON.stringify(name)} is in the config`);
      // The runtime command: one command, on one line, with the same words as its twin.
      for (const { real, backend: safe, values: v } of twins) {
        for (const ip of real.pool) {
          const cmd = `add server be_${real.id}/srv-${ip} ${serverArgs(real, ip, ids[real.id][ip])}`;
          assert.doesNotMatch(cmd, /[;\r\n]/, `runtime command ${JSON.stringify(cmd)}`);
          assertSameShape(cmd, `add server be_${real.id}/srv-${ip} ${serverArgs(safe, ip, ids[real.id][ip])}`, v, 'add server');
        }
      }
      const check = haproxyCheck(cfg);
      counts.configs++;
      assert.ok(check.ok, `haproxy -c refuses what the API accepted:\n${check.out}\n${cfg}`);
    } finally {
      for (const path of created) assert.equal((await inject('DELETE', path)).statusCode, 204);
    }
  }), { seed: SEED, numRuns: runs(120), interruptAfterTimeLimit: 90_000 });
  console.log(`# ${counts.tried} backend requests, ${counts.accepted} accepted, ${counts.frontends} frontends; ${counts.configs} configs through haproxy -c`);
  if (details.failed) assert.fail(`${fc.defaultReportMessage(details)}\n${(details.errorInstance as Error)?.message}`);
  assert.ok(!details.interrupted || details.numRuns >= 60, `interrupted after ${details.numRuns} runs`);
  assert.ok(counts.accepted >= 50, `enough accepted objects to mean something (${counts.accepted})`);
});

/**
 * The routes with their match values swapped for placeholders that keep the precedence (domain/routes.ts): ten
 * characters longer each, and in precedence order among equal lengths.
 */
function twinRoutes(routes: Route[], values: Map<string, string>): Route[] {
  const rank = new Map(routePrecedence(routes).map((r, k) => [r.id, k]));
  return routes.map((r) => {
    const k = String(rank.get(r.id)).padStart(4, '0');
    const ph = `${r.match.kind === 'path_begin' ? '/' : ''}ph${k}z`.padEnd(r.match.value.length + 10, 'q');
    // Host and SNI names are written lower-case (they match case-insensitively).
    values.set(ph, r.match.kind === 'path_begin' ? r.match.value : r.match.value.toLowerCase());
    return { ...r, match: { ...r.match, value: ph } };
  });
}

/** The same ACL with every user text (filter values, header name, redirect target) swapped for a placeholder. */
function twinAcl(a: Acl, i: number, values: Map<string, string>): Acl {
  const swap = (ph: string, v: string) => { values.set(ph, v); return ph; };
  const t: Acl = structuredClone(a);
  t.match.httpFilterValue = a.match.httpFilterValue.map((v, j) => swap(`phval${i}x${j}z`, v));
  if (a.match.httpFilterOption !== null) t.match.httpFilterOption = swap(`phopt${i}z`, a.match.httpFilterOption);
  if (a.action.redirect && t.action.redirect) {
    t.action.redirect.target = swap(a.action.redirect.type === 'scheme' ? `phscheme${i}z` : `/phloc${i}z`, a.action.redirect.target);
  }
  return t;
}

test('every route and ACL the API accepts renders within its own words, and haproxy -c accepts it with its subnet maps', async () => {
  const tally = { tried: 0, accepted: 0, configs: 0 };
  const fronts: { id: string; backendId: string }[] = [];
  for (const [protocol, port] of [['http', 18_081], ['tcp', 18_082]] as const) {
    const b = await inject('POST', `/lbs/${lbId}/backends`, { name: `rules-${protocol}`, forward_protocol: protocol, forward_port: 80, server_ip: ['127.0.0.1'] });
    assert.equal(b.statusCode, 200, b.body);
    const fe = await inject('POST', `/lbs/${lbId}/frontends`, { name: `rules-${protocol}`, inbound_port: port, backend_id: b.json().id });
    assert.equal(fe.statusCode, 200, fe.body);
    fronts.push({ id: fe.json().id, backendId: b.json().id });
  }
  const requests = fc.array(fc.tuple(fc.nat(1), fc.oneof(aclRequest.map((a) => ({ acl: a })), routeMatch.map((m) => ({ route: m })))),
    { minLength: 1, maxLength: 6 });
  try {
    const details = await fc.check(fc.asyncProperty(requests, async (reqs) => {
      const created: string[] = [];
      const names: string[] = [];
      try {
        for (const [which, req] of reqs) {
          const fe = fronts[which];
          tally.tried++;
          const r = 'acl' in req
            ? await inject('POST', `/frontends/${fe.id}/acls`, req.acl)
            : await inject('POST', '/routes', { frontend_id: fe.id, backend_id: fe.backendId, match: req.route });
          assert.ok(r.statusCode < 500, `a 5xx: ${r.body}`);
          if (r.statusCode !== 200) continue;
          tally.accepted++;
          created.push('acl' in req ? `/acls/${r.json().id}` : `/routes/${r.json().id}`);
          if ('acl' in req && req.acl.name) names.push(req.acl.name);
        }
        if (created.length === 0) return;
        const snap = (await api.store.snapshot(lbId))!;
        const opts = { runDir, serverIds: assignServerIds({}, snap) };
        let cfg: string;
        try {
          cfg = renderConfig(snap, opts);
        } catch (err) {
          assert.fail(`the API accepted it but the renderer refuses it: ${(err as Error).message}`);
        }
        const values = new Map<string, string>();
        const twin = { ...snap, routes: twinRoutes(snap.routes ?? [], values),
          acls: (snap.acls ?? []).map((a, i) => twinAcl(a, i, values)) };
        assertSameShape(cfg, renderConfig(twin, opts), values, 'config');
        for (const name of names) assert.ok(!cfg.includes(name.slice(0, 12)), `the name ${JSON.stringify(name)} is in the config`);
        const lists = ruleLists(snap, runDir);
        for (const text of lists.values()) assert.match(text, /^(?:[0-9a-f:.]+(?:\/\d+)? 1\n)*$/, 'map lines are addresses only');
        const check = haproxyCheck(cfg, lists);
        tally.configs++;
        assert.ok(check.ok, `haproxy -c refuses what the API accepted:\n${check.out}\n${cfg}`);
      } finally {
        for (const path of created) assert.equal((await inject('DELETE', path)).statusCode, 204);
      }
    }), { seed: SEED, numRuns: runs(100), interruptAfterTimeLimit: 90_000 });
    console.log(`# ${tally.tried} route and ACL requests, ${tally.accepted} accepted; ${tally.configs} configs through haproxy -c`);
    if (details.failed) assert.fail(`${fc.defaultReportMessage(details)}\n${(details.errorInstance as Error)?.message}`);
    assert.ok(!details.interrupted || details.numRuns >= 50, `interrupted after ${details.numRuns} runs`);
    assert.ok(tally.accepted >= 50, `enough accepted objects to mean something (${tally.accepted})`);
  } finally {
    for (const fe of fronts) {
      await inject('DELETE', `/frontends/${fe.id}`);
      await inject('DELETE', `/backends/${fe.backendId}`);
    }
  }
});
