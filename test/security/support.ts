// Shared by the security suites: the fuzz seed, a Fulcrum with the rate limit raised, the API's route table (taken from
// the Fastify app itself), a raw HTTP client that reports dropped connections, a full dump of the store, and the
// `fulcrum keys` CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type IncomingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import pino from 'pino';
import { AddressPool } from '../../src/api/address-pool.js';
import { Keys } from '../../src/api/auth.js';
import { buildApi } from '../../src/api/server.js';
import { MemoryDataPlane } from '../../src/control/memory-dataplane.js';
import { Reconciler } from '../../src/control/reconciler.js';
import { CertificateFiles } from '../../src/store/certificate-files.js';
import { CertificatePems } from '../../src/store/certificate-pems.js';
import { Pki } from '../fixtures/pki.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { BIN, Fulcrum, ZONE, type FulcrumOptions } from '../helpers/fulcrum.js';
import { loopbackNet } from '../helpers/ports.js';
import { FUZZ_PN_ID } from './routes.js';

/**
 * The seed of every property in this folder: fixed, so a run is reproducible; FULCRUM_FUZZ_SEED=<n> replays another.
 * fast-check prints the seed and the path of a failing case, which `fc.assert(..., { seed, path })` replays.
 */
export const SEED = Number(process.env.FULCRUM_FUZZ_SEED ?? 20_261_127);
/** Scales every numRuns (FULCRUM_FUZZ_RUNS=5 runs five times as many cases, for a longer local hunt). */
export const RUNS_SCALE = Number(process.env.FULCRUM_FUZZ_RUNS ?? 1);
export const runs = (n: number): number => Math.max(1, Math.round(n * RUNS_SCALE));

/** The fuzz and limit suites send far more than the default 100 requests per second on purpose. */
export const NO_RATE_LIMIT = { FULCRUM_RATE_LIMIT: '0' };

export async function startFulcrum(opts: FulcrumOptions = {}): Promise<Fulcrum> {
  // A private network so that attachments can succeed; its own loopback /24, apart from the pool's.
  const pn = `${FUZZ_PN_ID}=${loopbackNet()}.0/24`;
  return Fulcrum.start({ ...opts, env: { ...NO_RATE_LIMIT, FULCRUM_PRIVATE_NETWORK: pn, ...opts.env } });
}

export const API_PREFIX = `/lb/v1/zones/:zone`;

export interface InProcessApi {
  app: import('fastify').FastifyInstance;
  store: SqliteStore;
  adminKey: string;
  close(): Promise<void>;
}

/** The API in this process (app.inject), on a store in a temp dir, with the data plane that runs nothing. */
export async function inProcessApi(onRoute?: (method: string, url: string) => void, pool = '127.77.0.0/24'): Promise<InProcessApi> {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-inproc-'));
  const store = new SqliteStore(join(dir, 'fulcrum.db'));
  const log = pino({ level: 'silent' });
  const reconciler = new Reconciler(store, new MemoryDataPlane(), log);
  const adminKey = '00000000-0000-4000-8000-000000000001';
  const app = await buildApi({
    store, reconciler, pool: new AddressPool(pool), zones: [ZONE], defaultProjectId: '00000000-0000-4000-8000-000000000000',
    certificatePems: new CertificatePems(new CertificateFiles(dir), null),
    privateNetworks: [{ id: FUZZ_PN_ID, cidr: '127.78.0.0/24' }],
  }, new Keys(adminKey, store), log, { onRoute });
  await app.ready();
  await reconciler.start();
  return {
    app, store, adminKey,
    async close() {
      await app.close();
      await reconciler.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every route of the API as `METHOD /path/:param` (prefix removed), read from a Fastify app built in this process. */
export async function apiRoutes(): Promise<string[]> {
  const routes: string[] = [];
  const api = await inProcessApi((method, url) => routes.push(`${method} ${url.startsWith(API_PREFIX) ? url.slice(API_PREFIX.length) : url}`));
  await api.close();
  return [...new Set(routes)].sort();
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

/**
 * One request over a fresh connection, with nothing added: the body is sent as given (a string or bytes), headers as
 * given (an array value sends the header once per item). A connection that closes without a complete answer rejects.
 */
export function raw(baseUrl: string, method: string, path: string, opts: {
  headers?: Record<string, string | string[]>; body?: string | Buffer; chunked?: boolean; timeoutMs?: number;
} = {}): Promise<RawResponse> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[] | number> = { ...opts.headers };
    if (opts.body !== undefined) {
      // Node chunks by itself only for some methods (not DELETE): the framing is always said explicitly here.
      if (opts.chunked) headers['transfer-encoding'] = 'chunked';
      else headers['content-length'] = Buffer.byteLength(opts.body);
    }
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, agent: false,
      timeout: opts.timeoutMs ?? 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('error', reject);
      res.on('end', () => {
        if (!res.complete) return reject(new Error(`connection closed before the end of the answer (status ${res.statusCode})`));
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: the assertions say so */ }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 15_000} ms`)));
    req.on('error', (e) => reject(new Error(`${method} ${path}: ${e.message}`)));
    if (opts.body !== undefined) {
      if (opts.chunked) {
        // Several writes without a length: Node sends Transfer-Encoding: chunked.
        const b = Buffer.from(opts.body);
        for (let i = 0; i < b.length; i += 256 * 1024) req.write(b.subarray(i, i + 256 * 1024));
      } else req.write(opts.body);
    }
    req.end();
  });
}

/**
 * Asserts a refusal in Scaleway's error shape: a 4xx, Content-Type exactly application/json, a JSON object with a string
 * `type` and `message`. HEAD answers carry no body, so only the status and content type are checked for them.
 */
export function assertScalewayError(r: RawResponse, what: string, method = 'GET'): void {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: expected a 4xx, got ${r.status}: ${r.text.slice(0, 300)}`);
  assert.equal(r.headers['content-type'], 'application/json', `${what}: content type of a ${r.status}`);
  if (method === 'HEAD') return;
  assert.ok(r.json && typeof r.json === 'object' && !Array.isArray(r.json), `${what}: a JSON object: ${r.text.slice(0, 300)}`);
  assert.equal(typeof r.json.type, 'string', `${what}: type: ${r.text.slice(0, 300)}`);
  assert.equal(typeof r.json.message, 'string', `${what}: message: ${r.text.slice(0, 300)}`);
}

/** Reads every stored object (and key, and setting) of a data dir through a read-only connection of its own. */
export class StoreDump {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    this.db = new Database(join(dataDir, 'fulcrum.db'), { readonly: true, fileMustExist: true });
  }

  /** Every row of every table, sorted: two equal dumps mean nothing was written in between. */
  all(): string {
    const tables = (this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[]).map((t) => t.name);
    const out: Record<string, unknown[]> = {};
    for (const t of tables) out[t] = this.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all();
    return JSON.stringify(out);
  }

  rows<T>(sql: string, ...args: unknown[]): T[] {
    return this.db.prepare(sql).all(...args) as T[];
  }

  close(): void {
    this.db.close();
  }
}

const execFileP = promisify(execFile);

/** Runs `fulcrum keys …` against a data dir, as an operator would, and returns what it prints. */
export async function keysCli(dataDir: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileP(process.execPath, [BIN, 'keys', ...args, '--data-dir', dataDir], { timeout: 15_000 });
  return stdout;
}

export interface CreatedKey {
  id: string;
  access_key: string;
  secret_key: string;
  project_id: string;
}

export async function createProjectKey(dataDir: string, projectId: string): Promise<CreatedKey> {
  return JSON.parse(await keysCli(dataDir, 'create', '--project', projectId, '--json')) as CreatedKey;
}

/** A deterministic stream of numbers in [0, 1) from fast-check's generator, for the choices of the crash tests. */
export function prng(seed: number): () => number {
  const xs = fc.sample(fc.noBias(fc.integer({ min: 0, max: 2 ** 31 - 1 })), { seed, numRuns: 4096 });
  let i = 0;
  return () => xs[i++ % xs.length] / 2 ** 31;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Admin-key JSON request through the Fulcrum helper; throws unless the answer is a 2xx. */
export async function ok(f: Fulcrum, method: string, path: string, body?: unknown, key = f.key): Promise<any> {
  const r = await f.http(method, path, body, { 'X-Auth-Token': key });
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text.slice(0, 500)}`);
  return r.json;
}

/** Waits until the LB and its instance are ready, through raw HTTP (works with any key). */
export async function waitReady(f: Fulcrum, lbId: string, key = f.key, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lb = await ok(f, 'GET', `/lbs/${lbId}`, undefined, key);
    if (lb.status === 'ready' && lb.instances.every((i: { status: string }) => i.status === 'ready')) return;
    if (Date.now() > deadline) throw new Error(`LB ${lbId} not ready: ${lb.status}/${lb.instances.map((i: { status: string }) => i.status)}`);
    await sleep(20);
  }
}

let chain: Promise<string> | null = null;

/** One certificate chain for every fixture of the process (made with openssl once). */
function testChain(): Promise<string> {
  chain ??= (async () => {
    const pki = await Pki.create();
    try {
      return (await pki.leaf(['fixture.example.com'])).chain;
    } finally {
      pki.close();
    }
  })();
  return chain;
}

/** An LB with a backend (cookie stickiness, HTTP check, two servers), a frontend on it, and a free flexible IP. */
export async function createFixture(f: Fulcrum, projectId: string, key = f.key, inbound = 8001): Promise<import('./routes.js').Fixture> {
  const { backendBody, certificateBody } = await import('./routes.js');
  const [a, b, c] = f.ipNet.split('.');
  const serverIps = [11, 12, 13, 14].map((n) => `${a}.${b}.${(Number(c) + 1) % 256}.${n}`);
  const lb = await ok(f, 'POST', '/lbs', { project_id: projectId, name: 'fixture', description: '', assign_flexible_ip: true }, key);
  await waitReady(f, lb.id, key);
  const partial = { projectId, lbId: lb.id, backendId: '', frontendId: '', ipId: '', routeId: '', aclId: '', certificateId: '',
    subscriberId: '', certificateChain: await testChain(), serverIps, freePort: inbound + 1 };
  const be = await ok(f, 'POST', `/lbs/${lb.id}/backends`, backendBody(partial), key);
  const fe = await ok(f, 'POST', `/lbs/${lb.id}/frontends`, { name: 'fixture', inbound_port: inbound, backend_id: be.id }, key);
  const ip = await ok(f, 'POST', '/ips', { project_id: projectId }, key);
  const cert = await ok(f, 'POST', `/lbs/${lb.id}/certificates`, certificateBody(partial), key);
  const sub = await ok(f, 'POST', '/subscribers', { project_id: projectId, name: 'fixture', webhook_config: { uri: 'http://127.0.0.1:9/' } }, key);
  const withObjects = { ...partial, backendId: be.id, frontendId: fe.id, ipId: ip.id, certificateId: cert.id, subscriberId: sub.id };
  const rules = await createRules(f, withObjects, key);
  await waitReady(f, lb.id, key);
  return { ...withObjects, ...rules };
}

/** A route and an ACL on the fixture's frontend (made again when a fuzzed request deleted or replaced them). */
export async function createRules(f: Fulcrum, fx: import('./routes.js').Fixture, key = f.key): Promise<{ routeId: string; aclId: string }> {
  const { aclBody, routeBody } = await import('./routes.js');
  const route = await ok(f, 'POST', '/routes', routeBody(fx), key);
  const acl = await ok(f, 'POST', `/frontends/${fx.frontendId}/acls`, aclBody(), key);
  return { routeId: route.id, aclId: acl.id };
}
