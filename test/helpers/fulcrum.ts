// Starts `fulcrum serve` (the built bin, as `npx fulcrum serve` would) in a child process with its own data dir,
// port and IP pool, and gives tests the official Scaleway SDK pointed at it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@scaleway/sdk-client';
import { Lbv1 } from '@scaleway/sdk-lb';
import { freePort, loopbackNet } from './ports.js';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
export const BIN = join(ROOT, 'bin/fulcrum.js');
export const ZONE = 'fr-par-1';

export interface FulcrumOptions {
  dataDir?: string;
  /** The admin key; null lets the server generate one, which is read from what its first start prints. */
  secretKey?: string | null;
  ipNet?: string;
  /** The `--ip-pool` value; default `<ipNet>.0/24`. */
  ipPool?: string;
  zones?: string[];
  dataplane?: 'haproxy' | 'none' | 'agents';
  /** Extra environment; a key set to undefined is removed (e.g. FULCRUM_RATE_LIMIT, to run with the default). */
  env?: Record<string, string | undefined>;
}

export class Fulcrum {
  child!: ChildProcess;
  url = '';
  key: string;
  readonly projectId = randomUUID();
  readonly dataDir: string;
  /** The first three octets of this server's IP pool (`<ipNet>.0/24`). */
  readonly ipNet: string;
  private readonly ownsDataDir: boolean;
  output = '';

  constructor(private readonly opts: FulcrumOptions = {}) {
    this.key = opts.secretKey ?? randomUUID();
    this.ownsDataDir = !opts.dataDir;
    this.dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'fulcrum-test-'));
    this.ipNet = opts.ipNet ?? loopbackNet();
  }

  static async start(opts: FulcrumOptions = {}): Promise<Fulcrum> {
    const f = new Fulcrum(opts);
    await f.launch();
    return f;
  }

  /** Starts (or restarts) the server process on a fresh port, same data dir. */
  async launch(): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    const args = [BIN, 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', this.dataDir, '--ip-pool', this.opts.ipPool ?? `${this.ipNet}.0/24`,
      '--dataplane', this.opts.dataplane ?? 'haproxy', '--log-level', 'warn'];
    for (const z of this.opts.zones ?? []) args.push('--zone', z);
    this.child = spawn(process.execPath, args, {
      // The suites send bursts far above the default per-key rate limit (100/s): they raise it; test/security tests it.
      env: { ...process.env, FULCRUM_SECRET_KEY: this.opts.secretKey === null ? undefined : this.key, FULCRUM_RATE_LIMIT: '100000',
        ...this.opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => { this.output += d; });
    this.child.stderr!.on('data', (d) => { this.output += d; });
    // Generous: on a machine loaded by other suites a cold start (module loading) has taken over 10 s.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`fulcrum exited: ${this.output}`);
      if (this.opts.secretKey === null) this.key = /admin secret key[^:]*: ([0-9a-f-]{36})/.exec(this.output)?.[1] ?? this.key;
      try {
        const r = await fetch(`${this.url}/lb/v1/zones/${ZONE}/lb-types`, { headers: { 'X-Auth-Token': this.key } });
        if (r.status === 200) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`fulcrum did not start: ${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The official SDK, configured as a user would. */
  sdk(zone = ZONE): Lbv1.ZonedAPI {
    const client = createClient({
      accessKey: 'SCWXXXXXXXXXXXXXXXXX', secretKey: this.key, apiURL: this.url,
      defaultProjectId: this.projectId, defaultOrganizationId: this.projectId, defaultZone: zone as `${string}-${string}-${number}`,
      defaultRegion: zone.replace(/-\d+$/, '') as `${string}-${string}`,
    });
    return new Lbv1.ZonedAPI(client);
  }

  /** Raw HTTP against the API, for what the SDK hides. */
  async http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, zone = ZONE): Promise<{ status: number; headers: Headers; text: string; json: any }> {
    const r = await fetch(`${this.url}/lb/v1/zones/${zone}${path}`, {
      method,
      headers: { 'X-Auth-Token': this.key, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let json: unknown = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: r.status, headers: r.headers, text, json };
  }

  /** SIGKILL: what a crash looks like. HAProxy processes are in their own process groups and survive. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** Graceful stop of the API process only (HAProxy keeps running by design). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    // A server that ignores SIGTERM fails the test instead of hanging the run.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), 15_000); });
    const outcome = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      await this.kill();
      throw new Error(`fulcrum did not exit within 15 s of SIGTERM: ${this.output.slice(-2000)}`);
    }
  }

  /** Deletes every LB (which stops its HAProxy), stops the server, removes the data dir. */
  async destroy(): Promise<void> {
    if (this.child.exitCode === null) {
      const api = this.sdk();
      for (const zone of this.opts.zones ?? [ZONE]) {
        const lbs = await this.sdk(zone).listLbs({ zone: zone as never, pageSize: 100 }).catch(() => ({ lbs: [] }));
        for (const lb of lbs.lbs) await api.deleteLb({ zone: zone as never, lbId: lb.id, releaseIp: true }).catch(() => undefined);
        for (const lb of lbs.lbs) await this.waitGone(zone, lb.id);
      }
      await this.stop();
    }
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  async waitGone(zone: string, lbId: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const r = await fetch(`${this.url}/lb/v1/zones/${zone}/lbs/${lbId}`, { headers: { 'X-Auth-Token': this.key } });
      if (r.status === 404) return;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`LB ${lbId} was not deleted`);
  }
}

/** Polls an LB until it and its instance are ready (the SDK's own waiter sleeps at least 1 s per try). */
export async function waitLbReady(api: Lbv1.ZonedAPI, lbId: string, timeoutMs = 15_000): Promise<Lbv1.Lb> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lb = await api.getLb({ lbId });
    if (lb.status === 'ready' && lb.instances.every((i) => i.status === 'ready')) return lb;
    if (lb.status === 'error' || lb.instances.some((i) => i.status === 'error')) throw new Error(`LB ${lbId} is in error`);
    if (Date.now() > deadline) throw new Error(`LB ${lbId} not ready: ${lb.status}/${lb.instances.map((i) => i.status)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
