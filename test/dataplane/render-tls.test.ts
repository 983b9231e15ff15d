// render-tls.ts with render.ts: what a TLS frontend, each ssl_compatibility_level and the ACME answers render to, and
// `haproxy -c` accepting all of it with the crt-lists and PEM files really written (tls-runtime.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseCustomChain, sha256, type Certificate } from '../../src/domain/certificates.js';
import { SSL_COMPATIBILITY_LEVELS } from '../../src/domain/lbs.js';
import type { LbSnapshot } from '../../src/domain/snapshot.js';
import { renderConfig } from '../../src/dataplane/render.js';
import { crtListOf } from '../../src/dataplane/render-tls.js';
import { writeTlsFiles } from '../../src/dataplane/tls-runtime.js';
import { assignServerIds } from '../../src/dataplane/server-ids.js';
import { Pki } from '../fixtures/pki.js';
import { makeBackend, makeFrontend, makeLb, makeSnapshot } from '../fixtures/snapshots.js';

let dir: string;
let pki: Pki;
const certs: Certificate[] = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fulcrum-render-tls-'));
  mkdirSync(join(dir, 'certs'));
  writeFileSync(join(dir, 'server-state'), '1\n'); // an empty state file, as the instance writes one
  pki = await Pki.create();
  for (const [i, names] of [['a.example.com'], ['b.example.com', '*.b.example.com']].entries()) {
    const pem = parseCustomChain((await pki.leaf(names)).chain).pem;
    const id = `00000000-0000-4000-8000-00000000000${i}`;
    writeFileSync(join(dir, 'certs', `${id}.pem`), pem);
    certs.push({ id, lbId: 'lb1', name: `c${i}`, type: 'custom', commonName: names[0], subjectAlternativeName: names.slice(1),
      fingerprint: '', notValidBefore: null, notValidAfter: null, status: 'ready', statusDetails: null, pemSha256: sha256(pem),
      orderActive: false, nextOrderAt: null, createdAt: '', updatedAt: '' });
  }
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  pki.close();
});

function snapshot(over: { level?: (typeof SSL_COMPATIBILITY_LEVELS)[number]; port80?: 'http' | 'tcp' | null; ordering?: boolean } = {}): LbSnapshot {
  const http = makeBackend('be1', 'lb1', { pool: ['127.0.0.1'] });
  const tcp = makeBackend('be2', 'lb1', { forwardProtocol: 'tcp', pool: ['127.0.0.1'] });
  const frontends = [makeFrontend('fe-https', 'lb1', 'be1', 8443, { certificateIds: [certs[0].id, certs[1].id] }),
    makeFrontend('fe-tls-tcp', 'lb1', 'be2', 8444, { certificateIds: [certs[1].id] })];
  if (over.port80) frontends.push(makeFrontend('fe-80', 'lb1', over.port80 === 'http' ? 'be1' : 'be2', 80));
  const s = makeSnapshot('lb1', ['127.0.0.1'], frontends, [http, tcp]);
  return { ...s, lb: makeLb('lb1', { sslCompatibilityLevel: over.level ?? 'ssl_compatibility_level_intermediate' }),
    certificates: certs.map((c) => ({ ...c, orderActive: !!over.ordering })) };
}

async function render(s: LbSnapshot): Promise<string> {
  const cfg = renderConfig(s, { runDir: dir, certDir: join(dir, 'certs'), serverIds: assignServerIds({}, s) });
  await writeTlsFiles(s, { runDir: dir, certDir: join(dir, 'certs') });
  return cfg;
}

function haproxyCheck(cfg: string): string {
  const file = join(dir, 'check.cfg');
  writeFileSync(file, cfg);
  const r = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

const line = (cfg: string, re: RegExp) => cfg.split('\n').filter((l) => re.test(l));

test('a frontend with certificates binds ssl with its crt-list (certificates in certificate_ids order); ALPN h2 only for HTTP', async () => {
  const s = snapshot();
  const cfg = await render(s);
  const [https] = line(cfg, /bind 127\.0\.0\.1:8443 /);
  const [tcp] = line(cfg, /bind 127\.0\.0\.1:8444 /);
  const list = crtListOf(s.frontends[0], s, { runDir: dir, certDir: join(dir, 'certs') })!;
  assert.match(https, new RegExp(` ssl crt-list ${list.path} ssl-min-ver TLSv1\\.2 ciphers \\S+ ciphersuites \\S+ alpn h2,http/1\\.1$`));
  assert.doesNotMatch(tcp, /alpn/);
  assert.deepEqual(readFileSync(list.path, 'utf8').trim().split('\n'), certs.map((c) => join(dir, 'certs', `${c.id}.pem`)));
  const out = haproxyCheck(cfg);
  assert.doesNotMatch(out, /WARNING/, out);
});

test('each ssl_compatibility_level renders its Mozilla profile, and haproxy -c accepts it', async () => {
  const expect: Record<string, RegExp> = {
    ssl_compatibility_level_modern: / ssl-min-ver TLSv1\.3 ciphersuites /,
    ssl_compatibility_level_intermediate: / ssl-min-ver TLSv1\.2 ciphers ECDHE/,
    ssl_compatibility_level_unknown: / ssl-min-ver TLSv1\.2 ciphers ECDHE/,
    ssl_compatibility_level_old: / ssl-min-ver TLSv1\.0 ciphers \S+:@SECLEVEL=0 /,
  };
  for (const level of SSL_COMPATIBILITY_LEVELS) {
    const cfg = await render(snapshot({ level }));
    assert.match(line(cfg, /bind 127\.0\.0\.1:8443 /)[0], expect[level], level);
    haproxyCheck(cfg);
  }
});

test('HTTP-01: first rule of an HTTP frontend on port 80; a temporary listener only while an order runs and port 80 is free', async () => {
  const withHttp80 = await render(snapshot({ port80: 'http', ordering: true }));
  const fe80 = withHttp80.split('\n\n').find((sec) => sec.startsWith('frontend fe_fe-80'))!;
  const rules = fe80.split('\n').filter((l) => /http-request|use_backend|default_backend/.test(l));
  assert.match(rules[0], /http-request return status 200 .*acme-challenges\.map.* if \{ path_beg \/\.well-known\/acme-challenge\/ \}/);
  assert.doesNotMatch(withHttp80, /frontend acme_http01/, 'the port-80 frontend answers: no listener');
  haproxyCheck(withHttp80);

  assert.doesNotMatch(await render(snapshot()), /acme_http01/, 'no order: no listener');
  const listener = await render(snapshot({ ordering: true }));
  assert.match(listener, /frontend acme_http01\n  mode http\n  bind 127\.0\.0\.1:80\n/);
  haproxyCheck(listener);
  // A tcp frontend holds port 80: no listener (the order fails with the ACME server's reason).
  assert.doesNotMatch(await render(snapshot({ port80: 'tcp', ordering: true })), /acme_http01/);
});

test('a frontend whose certificates have no PEM yet is refused rather than served in clear', () => {
  const s = snapshot();
  const pending: LbSnapshot = { ...s, certificates: s.certificates!.map((c) => ({ ...c, pemSha256: null })) };
  assert.throws(() => renderConfig(pending, { runDir: dir, certDir: join(dir, 'certs'), serverIds: assignServerIds({}, s) }),
    /no issued certificate/);
});
