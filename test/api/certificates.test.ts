// Certificates through the official SDK (and raw HTTP for the wire shape): custom PEM chains checked in full, Let's
// Encrypt ones answered pending, rename, list, delete, the in-use rule (412), frontends embedding their certificate,
// and the private key never answered, logged or stored readable by others.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Errors } from '@scaleway/sdk-client';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum } from '../helpers/fulcrum.js';
import { assertInvalid, assertKeys, assertUnchanged, backendRequest, notFound, readyLb, sdkError } from '../helpers/api.js';
import { Pki, type KeyKind } from '../fixtures/pki.js';

let f: Fulcrum;
let api: Lbv1.ZonedAPI;
let lb: Lbv1.Lb;
let pki: Pki;
before(async () => {
  f = await Fulcrum.start({ dataplane: 'none' });
  api = f.sdk();
  lb = await readyLb(api, 'certificates');
  pki = await Pki.create();
});
after(async () => {
  await f.destroy();
  pki.close();
});

const CERT_KEYS = ['common_name', 'created_at', 'fingerprint', 'id', 'lb', 'name', 'not_valid_after', 'not_valid_before', 'status',
  'status_details', 'subject_alternative_name', 'type', 'updated_at'];
const secondsOnly = (d: string) => new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
const keyBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');

test('custom: ready at once; names and validity read from the leaf as the real API shows them; no fingerprint', async () => {
  const leaf = await pki.leaf(['myserver.example.com', 'otherserver.example.org'], { cn: 'www.example.com', ipSans: ['10.100.0.1'] });
  // Key first, as recorded from Terraform.
  const r = await f.http('POST', `/lbs/${lb.id}/certificates`, { name: 'custom', custom_certificate: { certificate_chain: `${leaf.key}${leaf.cert}${pki.intermediateCert}` } });
  assert.equal(r.status, 200, r.text);
  assertKeys(r.json, CERT_KEYS, 'certificate');
  const x = new X509Certificate(leaf.cert);
  assert.deepEqual({ ...r.json, id: undefined, lb: undefined, created_at: undefined, updated_at: undefined }, {
    type: 'custom', id: undefined, common_name: 'myserver.example.com', subject_alternative_name: ['otherserver.example.org'],
    fingerprint: '', not_valid_before: secondsOnly(x.validFrom), not_valid_after: secondsOnly(x.validTo), status: 'ready',
    lb: undefined, name: 'custom', created_at: undefined, updated_at: undefined, status_details: null,
  });
  assert.equal(r.json.lb.id, lb.id);
  assert.equal(r.json.lb.instances.length, 1, 'the create answer embeds the LB with its instance');
  const got = await f.http('GET', `/certificates/${r.json.id}`);
  assert.deepEqual(got.json.lb.instances, [], 'reads embed the LB without instances (as recorded)');
  assert.equal(got.json.common_name, 'myserver.example.com');
  // Through the SDK too.
  const sdk = await api.getCertificate({ certificateId: r.json.id });
  assert.equal(sdk.status, 'ready');
  assert.equal(sdk.type, 'custom');
  assert.deepEqual(sdk.subjectAlternativeName, ['otherserver.example.org']);
});

test('custom: RSA and ECDSA keys in PKCS#1, PKCS#8 and SEC1 encodings are all accepted', async () => {
  for (const kind of ['rsa-pkcs1', 'rsa-pkcs8', 'ec-sec1', 'ec-pkcs8'] as KeyKind[]) {
    const leaf = await pki.leaf([`${kind}.example.com`], { key: kind });
    const c = await api.createCertificate({ lbId: lb.id, name: kind, customCertificate: { certificateChain: leaf.chain } });
    assert.equal(c.status, 'ready', kind);
    assert.equal(c.commonName, `${kind}.example.com`);
  }
});

test('custom: every bad chain is a 400 naming custom_certificate.certificate_chain, and nothing is stored', async () => {
  const good = await pki.leaf(['good.example.com']);
  const other = await pki.leaf(['other.example.com']);
  const expired = await pki.leaf(['expired.example.com'], { days: -1 });
  const cases: [string, string, RegExp][] = [
    ['not PEM', 'hello', /exactly one private key/],
    ['no key', `${good.cert}${pki.intermediateCert}`, /exactly one private key/],
    ['two keys', `${good.chain}${other.key}`, /exactly one private key/],
    ['no certificate', good.key, /found none/],
    ['a key of another certificate', `${good.cert}${other.key}`, /does not belong/],
    ['the intermediate before the leaf', `${pki.intermediateCert}${good.cert}${good.key}`, /must come first/],
    ['the root instead of the intermediate', `${good.cert}${pki.rootCert}${good.key}`, /not the issuer/],
    ['expired', expired.chain, /expired/],
    ['a damaged certificate', good.chain.replace(/(BEGIN CERTIFICATE-----\n)..../, '$1AAAA'), /cannot be parsed|does not belong/],
  ];
  await assertUnchanged(f, [`/lbs/${lb.id}/certificates?page_size=100`], async () => {
    for (const [what, chain, help] of cases) {
      const r = await f.http('POST', `/lbs/${lb.id}/certificates`, { name: what, custom_certificate: { certificate_chain: chain } });
      assertInvalid(r, ['custom_certificate.certificate_chain']);
      assert.match(r.json.details[0].help_message, help, what);
      assert.ok(!r.text.includes(keyBody(good.key).slice(0, 40)), `${what}: the answer quotes no key`);
    }
  });
});

test('exactly one of letsencrypt and custom_certificate; names of a Let\'s Encrypt certificate are DNS names, no wildcard', async () => {
  await assertUnchanged(f, [`/lbs/${lb.id}/certificates?page_size=100`], async () => {
    assertInvalid(await f.http('POST', `/lbs/${lb.id}/certificates`, { name: 'none' }), ['letsencrypt']);
    const leaf = await pki.leaf(['both.example.com']);
    assertInvalid(await f.http('POST', `/lbs/${lb.id}/certificates`, { name: 'both', letsencrypt: { common_name: 'a.example.com' },
      custom_certificate: { certificate_chain: leaf.chain } }), ['letsencrypt']);
    assertInvalid(await f.http('POST', `/lbs/${lb.id}/certificates`, { name: 'bad', letsencrypt: { common_name: 'bad name',
      subject_alternative_name: ['ok.example.com', '*.example.com'] } }), ['letsencrypt.common_name', 'letsencrypt.subject_alternative_name.1']);
    assertInvalid(await f.http('POST', `/lbs/${lb.id}/certificates`, { name: '', letsencrypt: { common_name: 'a.example.com' } }), ['name']);
  });
});

test('letsencrypt: answered pending with no fingerprint and zero validity; null SANs read []; given SANs keep their order', async () => {
  const r = await f.http('POST', `/lbs/${lb.id}/certificates`, { name: 'le', letsencrypt: { common_name: 'le.example.com', subject_alternative_name: null } });
  assert.equal(r.status, 200, r.text);
  assertKeys(r.json, CERT_KEYS, 'certificate');
  assert.deepEqual([r.json.type, r.json.status, r.json.fingerprint, r.json.not_valid_before, r.json.not_valid_after, r.json.status_details,
    r.json.common_name, r.json.subject_alternative_name], ['letsencrypt', 'pending', '', '0001-01-01T00:00:00Z', '0001-01-01T00:00:00Z', null,
    'le.example.com', []]);
  const sans = await api.createCertificate({ lbId: lb.id, name: 'le-sans', letsencrypt: { commonName: 'main.example.com',
    subjectAlternativeName: ['sub2.example.com', 'sub1.example.com'] } });
  assert.deepEqual(sans.subjectAlternativeName, ['sub2.example.com', 'sub1.example.com']);
  // Without a data plane nothing can answer HTTP-01: the order ends in error, with the reason.
  const failed = await waitFor(async () => { const c = await api.getCertificate({ certificateId: r.json.id }); return c.status === 'error' ? c : null; });
  assert.match(failed.statusDetails ?? '', /without a data plane/);
});

test('rename, list (name filter, order), delete then 404 "certificate not Found"', async () => {
  const leaf = await pki.leaf(['list.example.com']);
  const a = await api.createCertificate({ lbId: lb.id, name: 'zz-list-a', customCertificate: { certificateChain: leaf.chain } });
  const b = await api.createCertificate({ lbId: lb.id, name: 'zz-list-b', customCertificate: { certificateChain: leaf.chain } });
  const renamed = await api.updateCertificate({ certificateId: a.id, name: 'zz-list-c' });
  assert.equal(renamed.name, 'zz-list-c');
  assert.equal(renamed.commonName, a.commonName);
  assert.ok(renamed.updatedAt! >= a.updatedAt!);
  const listed = await api.listCertificates({ lbId: lb.id, name: 'zz-list', orderBy: 'name_asc' });
  assert.deepEqual(listed.certificates.map((c) => c.name), ['zz-list-b', 'zz-list-c']);
  assert.equal(listed.totalCount, 2);
  assert.equal(listed.certificates[0].lb?.id, lb.id);
  await api.deleteCertificate({ certificateId: b.id });
  await notFound(api.getCertificate({ certificateId: b.id }), 'certificate', b.id);
  const r = await f.http('GET', `/certificates/${b.id}`);
  assert.equal(r.json.message, 'certificate not Found');
});

test('frontends: certificate_ids accepted and the certificate embedded; a certificate in use is not deleted (412)', async () => {
  const be = await api.createBackend(backendRequest(lb.id, { name: 'tls-backend' }));
  const leaf = await pki.leaf(['front.example.com']);
  const cert = await api.createCertificate({ lbId: lb.id, name: 'front', customCertificate: { certificateChain: leaf.chain } });
  const fe = await api.createFrontend({ lbId: lb.id, name: 'tls', inboundPort: 443, backendId: be.id, certificateIds: [cert.id], enableHttp3: false,
    enableAccessLogs: false });
  assert.deepEqual(fe.certificateIds, [cert.id]);
  assert.equal(fe.certificate?.id, cert.id);
  assert.equal(fe.certificate?.commonName, 'front.example.com');
  assert.equal(fe.certificate?.lb?.id, lb.id);
  const raw = await f.http('GET', `/frontends/${fe.id}`);
  assertKeys(raw.json.certificate, CERT_KEYS, 'embedded certificate');

  const err = await sdkError(api.deleteCertificate({ certificateId: cert.id }), Errors.PreconditionFailedError);
  assert.equal(err.status, 412);
  assert.equal(err.precondition, 'resource_still_in_use');
  assert.equal((await api.getCertificate({ certificateId: cert.id })).id, cert.id, 'still there');
  await api.updateFrontend({ frontendId: fe.id, name: 'tls', inboundPort: 443, backendId: be.id, certificateIds: [], enableHttp3: false,
    enableAccessLogs: false });
  await api.deleteCertificate({ certificateId: cert.id });
});

test('frontends refuse a certificate that is not ready or belongs to another LB, naming the entry', async () => {
  const be = await api.createBackend(backendRequest(lb.id, { name: 'refuse-backend' }));
  const pending = await api.createCertificate({ lbId: lb.id, name: 'pending', letsencrypt: { commonName: 'p.example.com', subjectAlternativeName: [] } });
  const other = await readyLb(api, 'other');
  const leaf = await pki.leaf(['elsewhere.example.com']);
  const foreign = await api.createCertificate({ lbId: other.id, name: 'foreign', customCertificate: { certificateChain: leaf.chain } });
  const good = await api.createCertificate({ lbId: lb.id, name: 'good', customCertificate: { certificateChain: leaf.chain } });
  await assertUnchanged(f, [`/lbs/${lb.id}/frontends?page_size=100`], async () => {
    const r = await f.http('POST', `/lbs/${lb.id}/frontends`, { name: 'x', inbound_port: 8443, backend_id: be.id,
      certificate_ids: [good.id, pending.id, foreign.id] });
    assertInvalid(r, ['certificate_ids.1', 'certificate_ids.2']);
  });
});

test('the private key is never answered nor logged, and its file is readable by its owner only', async () => {
  const leaf = await pki.leaf(['secret.example.com'], { key: 'rsa-pkcs1' });
  const c = await f.http('POST', `/lbs/${lb.id}/certificates`, { name: 'secret', custom_certificate: { certificate_chain: leaf.chain } });
  const body = keyBody(leaf.key).slice(0, 60);
  for (const r of [c, await f.http('GET', `/certificates/${c.json.id}`), await f.http('GET', `/lbs/${lb.id}/certificates?page_size=100`)]) {
    assert.ok(!r.text.includes('PRIVATE KEY') && !r.text.includes(body), 'no key in answers');
  }
  assert.ok(!f.output.includes(body), 'no key in the logs');
  const dir = join(f.dataDir, 'certificates');
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, `${c.json.id}.pem`)).mode & 0o777, 0o600);
});

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
