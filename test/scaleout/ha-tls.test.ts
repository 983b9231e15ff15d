// Certificates on HA pairs, in network namespaces (root only), with the fixtures of ha.test.ts: two nodes running
// `fulcrum agent`, PostgreSQL and `serve --dataplane agents` in the host namespace. A certificate imported through the
// API (its PEM sealed in the store under FULCRUM_PEM_KEY) is served by the HTTPS frontend of both nodes; a renewal
// written to the store (as the ACME job writes it) is swapped on both without a reload; an agent with another key
// reports its instance `error` naming the key while its pair serves; the master node killed, the other serves the
// same certificate. Every wait is bounded; namespaces, bridge, processes and temp dirs go away in `after`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { parseCustomChain, sha256 } from '../../src/domain/certificates.js';
import { lbPaths } from '../../src/dataplane/haproxy.js';
import { cli } from '../../src/dataplane/runtime.js';
import { CertificateFiles } from '../../src/store/certificate-files.js';
import { CertificatePems } from '../../src/store/certificate-pems.js';
import { readPemKey } from '../../src/store/pem-seal.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { canUseNetns, createNetLab, type NetLab } from '../fixtures/netns.js';
import { Pebble } from '../fixtures/pebble.js';
import { Pki } from '../fixtures/pki.js';
import { startPostgres, type Postgres } from '../fixtures/postgres.js';
import { startHttpServer, waitFor, type HttpTestServer } from '../fixtures/servers.js';
import { Fulcrum } from '../helpers/fulcrum.js';
import { haproxyPidsOf } from '../helpers/procs.js';
import { fastCheck, report } from '../e2e/support/lb.js';
import { httpsFingerprintGet } from '../e2e/support/tls.js';
import { TEST_PEM_KEY, destroyAgent, holds, killNode, startAgent, type Agent } from './support/cluster.js';

const skip = !canUseNetns() ? 'needs root (network namespaces)'
  : spawnSync('keepalived', ['--version']).error ? 'needs keepalived (scripts/install.sh --test)' : false;

const PORT = 8443;
const NAME = 'shop.fulcrum.test';
const ACME_NAME = 'acme.fulcrum.test';

/** One HTTPS request to the LB's PORT: the served leaf's fingerprint and the backend server's id. */
const httpsGet = (host: string, ca: string, servername = NAME) => httpsFingerprintGet(host, PORT, servername, ca);

describe('certificates on HA pairs', { skip, timeout: 240_000 }, () => {
  let lab: NetLab;
  let pg: Postgres;
  let pki: Pki;
  let pebble: Pebble;
  let api: Fulcrum;
  let sdk: Lbv1.ZonedAPI;
  let storeUrl = '';
  let server: HttpTestServer;
  const agents: Agent[] = [];

  before(async () => {
    lab = createNetLab(2);
    try {
      pg = await startPostgres(lab.hostAddress);
      storeUrl = await pg.database();
      pki = await Pki.create();
      // Names Pebble is not told about resolve to an address nothing listens on.
      pebble = await Pebble.start(pki, { defaultIPv4: `${lab.prefix}.250` });
      server = await startHttpServer(lab.addHostAddress(201), 's1');
      api = await Fulcrum.start({ dataplane: 'agents', ipPool: [100, 101, 102, 103, 104, 105].map((n) => `${lab.prefix}.${n}`).join(','),
        env: { FULCRUM_STORE: storeUrl, FULCRUM_PEM_KEY: TEST_PEM_KEY, FULCRUM_ACME_DIRECTORY: pebble.directoryUrl,
          FULCRUM_ACME_CA_FILE: pebble.caFile } });
      sdk = api.sdk();
      for (const n of lab.nodes) agents.push(startAgent(lab, n, storeUrl));
      await waitFor('all agents registered', async () => Number((await sql('SELECT count(*) FROM cluster_nodes').catch(() => '0')).trim())
        === lab.nodes.length, 30_000, 100);
    } catch (e) {
      await teardown();
      throw e;
    }
  });

  const teardown = async () => {
    const steps = [() => api?.destroy().catch(() => api?.kill()), ...agents.map((a) => () => destroyAgent(a)),
      () => server?.close(), () => pg?.stop(), () => pebble?.close(), () => pki?.close(), () => lab?.cleanup()];
    for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
  };
  after(teardown);

  const sql = (query: string) => pg.sql(query, new URL(storeUrl).pathname.slice(1));

  /** An LB with an HTTPS frontend on PORT serving a new certificate for NAME; resolves once both instances are ready. */
  async function tlsLb(name: string): Promise<{ lb: Lbv1.Lb; vip: string; cert: { id: string; fingerprint: string } }> {
    const lb = await sdk.createLb({ name, description: '', tags: [], type: 'lb-s', assignFlexibleIp: true });
    const cert = await newCertificate(lb.id);
    const backend = await sdk.createBackend({ lbId: lb.id, name: 'app', forwardProtocol: 'http', forwardPort: server.port,
      forwardPortAlgorithm: 'roundrobin', stickySessions: 'none', stickySessionsCookieName: '', serverIp: [server.host],
      healthCheck: fastCheck({ port: server.port }) });
    await sdk.createFrontend({ lbId: lb.id, name: 'https', inboundPort: PORT, backendId: backend.id, certificateIds: [cert.id],
      enableHttp3: false, enableAccessLogs: false });
    const ready = await bothReady(lb.id);
    return { lb: ready, vip: ready.ip[0].ipAddress, cert };
  }

  /** A certificate for NAME imported into the LB; its id and the SHA-1 fingerprint of its leaf. */
  async function newCertificate(lbId: string): Promise<{ id: string; fingerprint: string }> {
    const leaf = await pki.leaf([NAME]);
    const { id } = await sdk.createCertificate({ lbId, name: 'shop', customCertificate: { certificateChain: leaf.chain } });
    return { id, fingerprint: parseCustomChain(leaf.chain).sha1 };
  }

  const bothReady = (lbId: string) => waitFor('both instances ready', async () => {
    const l = await sdk.getLb({ lbId });
    return l.instances.length === 2 && l.instances.every((i) => i.status === 'ready') ? l : null;
  }, 30_000, 100);

  /** The first HTTPS answer of the backend server through the LB (its health check passed). */
  const served = (vip: string, ca = pki.rootCert, servername = NAME) => waitFor('an HTTPS answer of the server through the LB',
    () => httpsGet(vip, ca, servername).then((r) => (r.body === 's1' ? r : null), () => null), 10_000, 100);

  /** The SHA-1 fingerprint of the certificate the node's HAProxy holds in memory (its admin socket). */
  async function heldBy(a: Agent, lbId: string, certId: string): Promise<string> {
    const text = await cli(lbPaths(join(a.dataDir, 'haproxy'), lbId).adminSock, `show ssl cert ${join(a.dataDir, 'certificates', `${certId}.pem`)}`);
    return /SHA1 FingerPrint: ([0-9A-F]+)/i.exec(text)?.[1].toLowerCase() ?? `no fingerprint in: ${text}`;
  }

  test('an imported certificate is served by the HTTPS frontend of both nodes, sealed in the store and 0600 on the nodes', async () => {
    const { lb, vip, cert } = await tlsLb('tls');
    const answer = await served(vip);
    assert.deepEqual(answer, { fingerprint: cert.fingerprint, body: 's1' });
    for (const a of agents) {
      assert.equal(await heldBy(a, lb.id, cert.id), cert.fingerprint, `node ${a.node.name} holds the certificate`);
      const file = join(a.dataDir, 'certificates', `${cert.id}.pem`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.match(readFileSync(file, 'utf8'), /PRIVATE KEY/);
    }
    const rows = await sql(`SELECT sealed FROM certificate_pems WHERE certificate_id = '${cert.id}'`);
    assert.match(rows, /v1:[0-9a-f]{16}:/);
    assert.doesNotMatch(await sql('SELECT * FROM certificate_pems'), /PRIVATE KEY|BEGIN/);
    assert.doesNotMatch(await sql('SELECT doc FROM certificates'), /PRIVATE KEY|BEGIN/);
    assert.doesNotMatch(api.output + agents.map((a) => a.output).join(''), /PRIVATE KEY/);
    // The API server runs no HAProxy: it keeps no PEM file.
    assert.throws(() => statSync(join(api.dataDir, 'certificates', `${cert.id}.pem`)), /ENOENT/);

    // The LB deleted: each node removes the PEM files no LB of its own uses any more.
    await sdk.deleteLb({ lbId: lb.id, releaseIp: true });
    for (const a of agents) {
      const file = join(a.dataDir, 'certificates', `${cert.id}.pem`);
      await waitFor(`node ${a.node.name} removed the PEM file`, () => !existsSync(file), 20_000, 100);
    }
  });

  test('a renewal written to the store reaches both nodes through the change feed and is swapped without a reload', async () => {
    const { lb, vip, cert } = await tlsLb('renew');
    await served(vip);
    const pidsBefore = agents.map((a) => haproxyPidsOf(lbPaths(join(a.dataDir, 'haproxy'), lb.id).dir).sort());
    assert.ok(pidsBefore.every((p) => p.length >= 2), `master and worker on each node: ${JSON.stringify(pidsBefore)}`);
    // What the ACME job does on a renewal: the sealed PEM, then the certificate's document naming it.
    const renewed = parseCustomChain((await pki.leaf([NAME])).chain);
    const store = await PostgresStore.open(storeUrl);
    try {
      await new CertificatePems(new CertificateFiles(join(api.dataDir, 'renewal')), { rows: store, sealer: readPemKey(TEST_PEM_KEY, undefined)! }, false)
        .write(cert.id, renewed.pem);
      const writtenAt = performance.now();
      await store.changeCertificate(cert.id, (c) => ({ ...c, pemSha256: sha256(renewed.pem), fingerprint: renewed.sha1 }));
      for (const a of agents) {
        await waitFor(`node ${a.node.name} holds the renewed certificate`, async () => (await heldBy(a, lb.id, cert.id)) === renewed.sha1, 10_000, 20);
      }
      report('renewal written → held by both nodes', performance.now() - writtenAt);
    } finally {
      await store.close();
    }
    assert.equal((await served(vip)).fingerprint, renewed.sha1);
    assert.deepEqual(agents.map((a) => haproxyPidsOf(lbPaths(join(a.dataDir, 'haproxy'), lb.id).dir).sort()), pidsBefore, 'no reload: same processes');
    assert.equal((await bothReady(lb.id)).status, 'ready');
  });

  test('an agent without the key refuses to start; one with another key reports error naming it while its pair serves', async () => {
    const keyless = startAgent(lab, lab.nodes[1], storeUrl, undefined, { pemKey: '' });
    const exit = await waitFor('the keyless agent exits', () => keyless.child.exitCode, 20_000, 50);
    destroyAgent(keyless);
    assert.notEqual(exit, 0);
    assert.match(keyless.output, /fulcrum agent needs FULCRUM_PEM_KEY/);

    // Node 1's agent restarted with another key: the PEM files it already has still serve, a new certificate does not.
    const victim = agents[1];
    const exited = new Promise((r) => victim.child.once('exit', r));
    victim.child.kill('SIGKILL');
    await exited;
    agents[1] = startAgent(lab, victim.node, storeUrl, victim.dataDir, { pemKey: readPemKeyOther() });
    const lb = await sdk.createLb({ name: 'wrong-key', description: '', tags: [], type: 'lb-s', assignFlexibleIp: true });
    const cert = await newCertificate(lb.id);
    const backend = await sdk.createBackend({ lbId: lb.id, name: 'app', forwardProtocol: 'http', forwardPort: server.port,
      forwardPortAlgorithm: 'roundrobin', stickySessions: 'none', stickySessionsCookieName: '', serverIp: [server.host], healthCheck: fastCheck() });
    await sdk.createFrontend({ lbId: lb.id, name: 'https', inboundPort: PORT, backendId: backend.id, certificateIds: [cert.id],
      enableHttp3: false, enableAccessLogs: false });
    const reason = await waitFor('node 1 reports its instance error', async () => {
      const r = await sql(`SELECT status || ' ' || coalesce(reason, '') FROM cluster_reports WHERE lb_id = '${lb.id}' AND node = '${victim.node.name}'`);
      return r.startsWith('error') ? r : null;
    }, 30_000, 100);
    assert.match(reason, /sealed under another FULCRUM_PEM_KEY/);
    assert.ok(reason.includes(cert.id), reason);
    const l = await waitFor('node 0 ready', async () => {
      const x = await sdk.getLb({ lbId: lb.id });
      return x.instances.some((i) => i.ipAddress === lab.nodes[0].address && i.status === 'ready') ? x : null;
    }, 30_000, 100);
    assert.ok(l.instances.some((i) => i.ipAddress === victim.node.address && i.status === 'error'));
    assert.equal(agents[1].child.exitCode, null, 'the agent did not crash');
    assert.equal((await served(l.ip[0].ipAddress)).fingerprint, cert.fingerprint, 'the pair serves');

    // The right key back: the instance applies again.
    const exited2 = new Promise((r) => agents[1].child.once('exit', r));
    agents[1].child.kill('SIGKILL');
    await exited2;
    agents[1] = startAgent(lab, victim.node, storeUrl, victim.dataDir);
    await bothReady(lb.id);
  });

  test('a Let\'s Encrypt certificate is issued through HTTP-01 answered by the nodes (Pebble), and served by both', async () => {
    const lb = await sdk.createLb({ name: 'acme', description: '', tags: [], type: 'lb-s', assignFlexibleIp: true });
    const vip = (await bothReady(lb.id)).ip[0].ipAddress;
    await pebble.resolve(ACME_NAME, vip);
    const created = await sdk.createCertificate({ lbId: lb.id, name: 'acme', letsencrypt: { commonName: ACME_NAME, subjectAlternativeName: [] } });
    const issuing = performance.now();
    const issued = await waitFor('the certificate settled', async () => {
      const c = await sdk.getCertificate({ certificateId: created.id });
      return c.status === 'pending' ? null : c;
    }, 60_000, 100);
    report('Let\'s Encrypt certificate on agents: created → ready', performance.now() - issuing);
    assert.equal(issued.status, 'ready', `status_details: ${issued.statusDetails} / ${pebble.output.slice(-1500)}`);
    assert.equal(await sql(`SELECT count(*) FROM acme_challenges WHERE lb_id = '${lb.id}'`).then((n) => n.trim()), '0', 'answers removed');

    const backend = await sdk.createBackend({ lbId: lb.id, name: 'app', forwardProtocol: 'http', forwardPort: server.port,
      forwardPortAlgorithm: 'roundrobin', stickySessions: 'none', stickySessionsCookieName: '', serverIp: [server.host], healthCheck: fastCheck() });
    await sdk.createFrontend({ lbId: lb.id, name: 'https', inboundPort: PORT, backendId: backend.id, certificateIds: [issued.id],
      enableHttp3: false, enableAccessLogs: false });
    await bothReady(lb.id);
    for (const a of agents) assert.equal(await heldBy(a, lb.id, issued.id), issued.fingerprint, `node ${a.node.name} holds it`);
    const root = await pebble.issuerRoot();
    assert.equal((await served(vip, root, ACME_NAME)).fingerprint, issued.fingerprint);
  });

  test('the master node killed: the other node serves the same certificate', async () => {
    const { vip, cert } = await tlsLb('failover');
    // Exactly one holder (right after a start both nodes may hold it for a moment, until they hear each other).
    const master = await waitFor('one node holds the LB address', () => {
      const holders = agents.filter((a) => holds(lab, a.node, vip));
      return holders.length === 1 ? holders[0] : null;
    }, 5000, 100);
    const backup = agents.find((a) => a !== master)!;
    assert.equal((await served(vip)).fingerprint, cert.fingerprint);
    const killedAt = performance.now();
    killNode(master);
    await waitFor('the address moved', () => holds(lab, backup.node, vip), 10_000, 50);
    const after = await waitFor('served by the other node', () => httpsGet(vip, pki.rootCert).catch(() => null), 10_000, 20);
    report('kill → HTTPS answered by the other node', performance.now() - killedAt);
    assert.deepEqual(after, { fingerprint: cert.fingerprint, body: 's1' });
  });
});

/** A valid key that is not the API servers'. */
function readPemKeyOther(): string {
  return Buffer.from(Buffer.from(TEST_PEM_KEY, 'base64').map((b) => b ^ 0xff)).toString('base64');
}
