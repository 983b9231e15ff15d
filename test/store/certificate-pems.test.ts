// Certificates' PEMs sealed in the shared store: the sealing itself (pem-seal.ts), the PostgreSQL rows that keep the
// sealed text (a PostgreSQL server this file starts), and CertificatePems, which writes a PEM received by one process
// as a file for another process's HAProxy.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sha256, type Certificate } from '../../src/domain/certificates.js';
import { CertificateFiles } from '../../src/store/certificate-files.js';
import { CertificatePems, serveCertificatePems } from '../../src/store/certificate-pems.js';
import { PemSealError, PemSealer, readPemKey } from '../../src/store/pem-seal.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { makeLb } from '../fixtures/snapshots.js';
import { startPostgres, type Postgres } from '../fixtures/postgres.js';

const newKey = () => new PemSealer(randomBytes(32));
/** A PEM as the API stores it: here a real private key (what must never be readable in the database). */
const keyPem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('PemSealer', () => {
  test('round trip; every sealing has its own nonce; the text shows neither the PEM nor the key', () => {
    const key = randomBytes(32);
    const s = new PemSealer(key);
    const pem = keyPem();
    const a = s.seal('cert-1', pem);
    const b = s.seal('cert-1', pem);
    assert.notEqual(a, b, 'random nonce');
    assert.equal(s.open('cert-1', a), pem);
    assert.equal(s.open('cert-1', b), pem);
    assert.match(a, /^v1:[0-9a-f]{16}:[A-Za-z0-9+/=]+$/);
    for (const leak of ['PRIVATE KEY', Buffer.from(pem).toString('base64').slice(40, 80), key.toString('base64'), key.toString('hex')]) {
      assert.ok(!a.includes(leak), `sealed text holds ${leak}`);
    }
  });

  test('another key: refused with a message naming FULCRUM_PEM_KEY and both key ids', () => {
    const [mine, theirs] = [newKey(), newKey()];
    const sealed = theirs.seal('cert-1', 'pem');
    assert.throws(() => mine.open('cert-1', sealed), (e: Error) => e instanceof PemSealError
      && e.message.includes('FULCRUM_PEM_KEY') && e.message.includes(theirs.keyId) && e.message.includes(mine.keyId)
      && e.message.includes('cert-1'));
  });

  test('an altered ciphertext, or one moved to another certificate, fails authentication', () => {
    const s = newKey();
    const sealed = s.seal('cert-1', keyPem());
    const [v, id, b64] = sealed.split(':');
    const body = Buffer.from(b64, 'base64');
    body[20] ^= 1;
    const tampered = `${v}:${id}:${body.toString('base64')}`;
    assert.throws(() => s.open('cert-1', tampered), /fails authentication/);
    assert.throws(() => s.open('cert-2', sealed), /fails authentication/, 'the certificate id is associated data');
    assert.throws(() => s.open('cert-1', 'v2:0011223344556677:AAAA'), /not a sealed PEM/);
    assert.throws(() => s.open('cert-1', `${v}:${id}:AAAA`), /not a sealed PEM/, 'too short');
  });

  test('a rotation: the previous key still opens what it sealed, the new one seals; without it, refused', () => {
    const [oldKey, newKey_] = [randomBytes(32), randomBytes(32)];
    const sealedBefore = new PemSealer(oldKey).seal('cert-1', 'pem-1');
    const rotating = new PemSealer(newKey_, [oldKey]);
    assert.equal(rotating.open('cert-1', sealedBefore), 'pem-1');
    assert.ok(rotating.seal('cert-1', 'pem-1').startsWith(new PemSealer(newKey_).prefix), 'seals under the new key only');
    assert.throws(() => new PemSealer(newKey_).open('cert-1', sealedBefore), /another FULCRUM_PEM_KEY/);
    const both = readPemKey(newKey_.toString('base64'), undefined, ` ${oldKey.toString('base64')} ,`)!;
    assert.equal(both.open('cert-1', sealedBefore), 'pem-1');
    assert.throws(() => readPemKey(newKey_.toString('base64'), undefined, 'short'), /FULCRUM_PEM_KEY_PREVIOUS: expected 32 bytes/);
    assert.throws(() => readPemKey(undefined, undefined, oldKey.toString('base64')), /without the current key/);
  });

  test('readPemKey: from the environment or a file, 32 bytes of base64; anything else is refused naming its source', () => {
    const key = randomBytes(32).toString('base64');
    assert.equal(readPemKey(undefined, undefined), null);
    assert.equal(readPemKey('', undefined), null);
    assert.equal(readPemKey(key, undefined)!.keyId, new PemSealer(Buffer.from(key, 'base64')).keyId);
    assert.throws(() => readPemKey(randomBytes(16).toString('base64'), undefined), /FULCRUM_PEM_KEY: expected 32 bytes in base64/);
    assert.throws(() => readPemKey('not base64 at all!', undefined), /FULCRUM_PEM_KEY: expected 32 bytes/);
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-pemkey-'));
    try {
      const file = join(dir, 'key');
      writeFileSync(file, `${key}\n`, { mode: 0o600 });
      assert.equal(readPemKey(undefined, file)!.keyId, readPemKey(key, undefined)!.keyId);
      assert.throws(() => readPemKey(key, file), /not both/);
      writeFileSync(file, '');
      assert.throws(() => readPemKey(undefined, file), /--pem-key-file .*: expected 32 bytes/);
      assert.throws(() => readPemKey(undefined, join(dir, 'missing')), /--pem-key-file .*missing: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sealed PEMs in PostgreSQL', () => {
  let server: Postgres;
  let url = '';
  let store: PostgresStore;
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'fulcrum-pems-'));
    dirs.push(d);
    return d;
  };

  before(async () => {
    server = await startPostgres('127.0.0.1');
    url = await server.database();
    store = await PostgresStore.open(url);
  });
  after(async () => {
    await store?.close();
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A ready certificate of a new LB whose document names `pem`. */
  async function storedCertificate(pem: string): Promise<Certificate> {
    const lb = makeLb(randomUUID());
    await store.createLb(lb, [], []);
    const T = new Date().toISOString();
    const c: Certificate = { id: randomUUID(), lbId: lb.id, name: 'c', type: 'custom', commonName: 'a.example.com', subjectAlternativeName: [],
      fingerprint: '', notValidBefore: T, notValidAfter: T, status: 'ready', statusDetails: null, pemSha256: sha256(pem), orderActive: false,
      nextOrderAt: null, createdAt: T, updatedAt: T };
    await store.createCertificate(c);
    return c;
  }

  const dbText = async () => server.sql('SELECT certificate_id, pem_sha256, sealed FROM certificate_pems', new URL(url).pathname.slice(1));

  test('the store keeps and returns the sealed text per (certificate, PEM hash); the database never holds the PEM', async () => {
    const sealer = newKey();
    const pem = keyPem();
    const id = randomUUID();
    const sealed = sealer.seal(id, pem);
    await store.putSealedPem(id, sha256(pem), sealed);
    assert.equal(await store.sealedPem(id, sha256(pem)), sealed);
    assert.equal(await store.sealedPem(id, sha256('other')), null);
    assert.ok(!(await dbText()).includes('PRIVATE KEY'));
    await store.deleteSealedPems(id);
    assert.equal(await store.sealedPem(id, sha256(pem)), null);
  });

  test('a PEM written through one process is written as a 0600 file by another; a renewal replaces it', async () => {
    const sealer = newKey();
    const other = await PostgresStore.open(url);
    try {
      const receiver = new CertificatePems(new CertificateFiles(tempDir()), { rows: store, sealer }, false);
      const node = new CertificatePems(new CertificateFiles(tempDir()), { rows: other, sealer });
      const pem = keyPem();
      const c = await storedCertificate(pem);
      await receiver.write(c.id, pem);
      assert.throws(() => statSync(receiver.files.path(c.id)), /ENOENT/, 'no file where no HAProxy runs');
      await node.materialize([c]);
      assert.equal(readFileSync(node.files.path(c.id), 'utf8'), pem);
      assert.equal(statSync(node.files.path(c.id)).mode & 0o777, 0o600);
      assert.equal(statSync(node.dir).mode & 0o777, 0o700);

      const renewed = keyPem();
      await receiver.write(c.id, renewed);
      const next = (await store.changeCertificate(c.id, (cur) => ({ ...cur, pemSha256: sha256(renewed) })))!;
      await node.materialize([next]);
      assert.equal(readFileSync(node.files.path(c.id), 'utf8'), renewed);
      // The superseded version goes with the sweep (here without the grace a caller cannot go below).
      assert.equal(await store.sweepSealedPems(0), 1);
      assert.equal(await store.sealedPem(c.id, sha256(pem)), null);
      assert.ok(await store.sealedPem(c.id, sha256(renewed)));
    } finally {
      await other.close();
    }
  });

  test('PEM files received before the key was set are sealed at start, once, when they match their certificate', async () => {
    const sealer = newKey();
    const pem = keyPem();
    const c = await storedCertificate(pem);
    const stale = await storedCertificate(keyPem());
    const before = new CertificatePems(new CertificateFiles(tempDir()), null);
    await before.write(c.id, pem);
    await before.write(stale.id, keyPem()); // not the PEM its certificate names
    const after = new CertificatePems(before.files, { rows: store, sealer });
    assert.equal(await new CertificatePems(before.files, null).sealLocalFiles([c, stale]), 0, 'nothing to seal without a key');
    assert.equal(await after.sealLocalFiles([c, stale]), 1);
    assert.equal(await after.sealLocalFiles([c, stale]), 0, 'already sealed');
    assert.equal(await store.sealedPem(stale.id, stale.pemSha256!), null);
    const node = new CertificatePems(new CertificateFiles(tempDir()), { rows: store, sealer });
    await node.materialize([c]);
    assert.equal(readFileSync(node.files.path(c.id), 'utf8'), pem);
    await store.deleteSealedPems(c.id);
  });

  test('after a rotation, rows sealed under the previous key are sealed again under the current one; unknown keys are left', async () => {
    await server.sql('DELETE FROM certificate_pems', new URL(url).pathname.slice(1)); // rows other tests left
    const [oldKey, newKey_] = [randomBytes(32), randomBytes(32)];
    const pem = keyPem();
    const c = await storedCertificate(pem);
    const foreign = await storedCertificate(pem);
    await store.putSealedPem(c.id, c.pemSha256!, new PemSealer(oldKey).seal(c.id, pem));
    await store.putSealedPem(foreign.id, foreign.pemSha256!, newKey().seal(foreign.id, pem));
    const rotating = new CertificatePems(new CertificateFiles(tempDir()), { rows: store, sealer: new PemSealer(newKey_, [oldKey]) }, false);
    assert.deepEqual(await rotating.resealUnderCurrentKey(), { resealed: 1, unreadable: 1 });
    assert.deepEqual(await rotating.resealUnderCurrentKey(), { resealed: 0, unreadable: 1 }, 'done once');
    // The previous key can now go: the new one alone opens the row.
    const after = new CertificatePems(new CertificateFiles(tempDir()), { rows: store, sealer: new PemSealer(newKey_) });
    await after.materialize([c]);
    assert.equal(readFileSync(after.files.path(c.id), 'utf8'), pem);
    for (const id of [c.id, foreign.id]) await store.deleteSealedPems(id);
  });

  test('another key, an altered row, a missing row: materialize refuses naming the certificate (and the key)', async () => {
    const sealer = newKey();
    const pem = keyPem();
    const c = await storedCertificate(pem);
    await new CertificatePems(new CertificateFiles(tempDir()), { rows: store, sealer }, false).write(c.id, pem);
    const stranger = new CertificatePems(new CertificateFiles(tempDir()), { rows: store, sealer: newKey() });
    await assert.rejects(stranger.materialize([c]), (e: Error) => e instanceof PemSealError && /another FULCRUM_PEM_KEY/.test(e.message)
      && e.message.includes(c.id));
    assert.throws(() => statSync(stranger.files.path(c.id)), /ENOENT/);

    // Another certificate's sealed text under this certificate's hash: the associated data refuses it.
    const elsewhere = randomUUID();
    await store.putSealedPem(c.id, c.pemSha256!, sealer.seal(elsewhere, pem));
    const node = new CertificatePems(new CertificateFiles(tempDir()), { rows: store, sealer });
    await assert.rejects(node.materialize([c]), /fails authentication/);
    // Sealed right, but not the PEM the document names.
    await store.putSealedPem(c.id, c.pemSha256!, sealer.seal(c.id, keyPem()));
    await assert.rejects(node.materialize([c]), /does not match its hash/);
    await store.deleteSealedPems(c.id);
    await assert.rejects(node.materialize([c]), /is not in the store/);
  });

  test('deleting the LB deletes its certificates\' sealed rows; rows of no certificate are swept', async () => {
    const sealer = newKey();
    const pem = keyPem();
    const c = await storedCertificate(pem);
    await store.putSealedPem(c.id, c.pemSha256!, sealer.seal(c.id, pem));
    const orphan = randomUUID();
    await store.putSealedPem(orphan, sha256(pem), sealer.seal(orphan, pem));
    assert.equal(await store.sweepSealedPems(60_000), 0, 'young rows stay (a create writes its row before the certificate)');
    await store.deleteLb(c.lbId, true);
    assert.equal(await store.sealedPem(c.id, c.pemSha256!), null);
    assert.ok(await store.sweepSealedPems(0) >= 1);
    assert.equal(await store.sealedPem(orphan, sha256(pem)), null);
  });

  test('serve\'s rules: agents need the key; without it PostgreSQL keeps files and warns; SQLite never seals', () => {
    const warnings: string[] = [];
    const log = { warn: (m: unknown) => { warnings.push(String(m)); } } as never;
    const files = new CertificateFiles(tempDir());
    assert.throws(() => serveCertificatePems({ store: url, dataplane: 'agents' }, store, files, log), /--dataplane agents needs FULCRUM_PEM_KEY/);
    assert.equal(serveCertificatePems({ store: url, dataplane: 'haproxy' }, store, files, log).shared, null);
    assert.match(warnings.pop()!, /FULCRUM_PEM_KEY is not set/);
    const sealer = newKey();
    assert.equal(serveCertificatePems({ store: url, dataplane: 'agents', pemSealer: sealer }, store, files, log).shared?.sealer, sealer);
    assert.equal(serveCertificatePems({ store: null, dataplane: 'haproxy', pemSealer: sealer }, store, files, log).shared, null);
    assert.match(warnings.pop()!, /not used with the SQLite store/);
  });
});
