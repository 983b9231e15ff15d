// A `fulcrum serve` of the harness's own (own data dir, port and IP pool, started as a child like users run it) and
// raw calls against its Scaleway-shaped API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fulcrum } from '../../test/helpers/fulcrum.js';
import { haproxyPidsUnder, killPids } from './procs.js';
import { log, sleep } from './util.js';

export const ZONE = 'fr-par-1';

export interface Answer {
  status: number;
  json: any;
  /** performance.now() when the whole answer was read. */
  at: number;
}

export class Api {
  readonly f: Fulcrum;
  readonly dataDir: string;

  private constructor(f: Fulcrum, dataDir: string) {
    this.f = f;
    this.dataDir = dataDir;
  }

  static async start(ipPool: string): Promise<Api> {
    const dataDir = mkdtempSync(join(tmpdir(), 'fulcrum-bench-'));
    // The per-key rate limit (100 req/s by default) is off: the API itself is what is measured.
    const f = new Fulcrum({ dataDir, ipPool, env: { FULCRUM_RATE_LIMIT: '0' } });
    try {
      await f.launch();
    } catch (e) {
      await f.kill().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
      throw e;
    }
    return new Api(f, dataDir);
  }

  get url(): string {
    return this.f.url;
  }

  get key(): string {
    return this.f.key;
  }

  get pid(): number {
    return this.f.child.pid!;
  }

  lbDir(lbId: string): string {
    return join(this.dataDir, 'lbs', lbId);
  }

  /** One API call; throws unless the status is 2xx. */
  async call(method: string, path: string, body?: unknown): Promise<Answer> {
    const r = await fetch(`${this.f.url}/lb/v1/zones/${ZONE}${path}`, {
      method,
      headers: { 'X-Auth-Token': this.f.key, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const at = performance.now();
    const json = text ? JSON.parse(text) : null;
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return { status: r.status, json, at };
  }

  async createLb(name: string): Promise<{ id: string; ip: string }> {
    const lb = (await this.call('POST', '/lbs', { name, description: '', type: 'LB-S', tags: [] })).json;
    return { id: lb.id, ip: lb.ip[0].ip_address };
  }

  async createBackend(lbId: string, body: Record<string, unknown>): Promise<string> {
    return (await this.call('POST', `/lbs/${lbId}/backends`, backendBody(body))).json.id;
  }

  async createFrontend(lbId: string, backendId: string, port: number, name = 'fe'): Promise<string> {
    return (await this.call('POST', `/lbs/${lbId}/frontends`,
      { name, inbound_port: port, backend_id: backendId, enable_http3: false, enable_access_logs: false })).json.id;
  }

  /** Polls the LB until it and its instance are ready; returns performance.now() at that moment. */
  async waitReady(lbId: string, timeoutMs = 30_000, everyMs = 5): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const lb = (await this.call('GET', `/lbs/${lbId}`)).json;
      const inst: { status: string }[] = lb.instances;
      if (lb.status === 'ready' && inst.length > 0 && inst.every((i) => i.status === 'ready')) return performance.now();
      if (lb.status === 'error' || inst.some((i) => i.status === 'error')) {
        // The reason is in the control plane's log (the wire shape has no field for it).
        const out = this.f.output;
        const at = out.lastIndexOf('"reason":"');
        throw new Error(`LB ${lbId} in error; fulcrum serve said: ${at >= 0 ? out.slice(at, at + 600) : out.slice(-600)}`);
      }
      if (performance.now() > deadline) throw new Error(`LB ${lbId} not ready after ${timeoutMs} ms: ${lb.status}`);
      await sleep(everyMs);
    }
  }

  /** Deletes every LB (bounded parallelism), stops the server, ends leftover HAProxy of this data dir, removes it. */
  async destroy(): Promise<void> {
    try {
      if (this.f.child.exitCode === null) {
        const ids: string[] = [];
        for (let page = 1; page <= 20; page++) {
          const r = (await this.call('GET', `/lbs?page=${page}&page_size=100`)).json;
          ids.push(...r.lbs.map((l: { id: string }) => l.id));
          if (r.lbs.length < 100) break;
        }
        for (let i = 0; i < ids.length; i += 10) {
          const batch = ids.slice(i, i + 10);
          await Promise.all(batch.map((id) => this.call('DELETE', `/lbs/${id}?release_ip=true`).catch(() => null)));
          await Promise.all(batch.map((id) => this.f.waitGone(ZONE, id).catch(() => null)));
        }
        await this.f.stop();
      }
    } catch (e) {
      log(`cleanup of fulcrum: ${(e as Error).message}`);
      await this.f.kill().catch(() => undefined);
    }
    const left = haproxyPidsUnder(this.dataDir);
    if (left.length) {
      log(`ending ${left.length} HAProxy processes left in ${this.dataDir}`);
      await killPids(left);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A complete wire create-backend body; `over` replaces fields. */
export function backendBody(over: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'be', forward_protocol: 'http', forward_port: 80, forward_port_algorithm: 'roundrobin', sticky_sessions: 'none',
    sticky_sessions_cookie_name: '', server_ip: [], health_check: { port: 80, check_max_retries: 3, check_send_proxy: false, tcp_config: {} },
    ...over,
  };
}

/** A complete wire backend PUT body from a backend as read (PUT replaces every field). */
export function updateBody(be: Record<string, any>, over: Record<string, unknown>): Record<string, unknown> {
  const keys = ['name', 'forward_protocol', 'forward_port', 'forward_port_algorithm', 'sticky_sessions', 'sticky_sessions_cookie_name',
    'timeout_server', 'timeout_connect', 'timeout_tunnel', 'on_marked_down_action', 'proxy_protocol', 'failover_host', 'ssl_bridging',
    'ignore_ssl_server_verify', 'redispatch_attempt_count', 'max_retries', 'max_connections', 'timeout_queue'];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (be[k] !== undefined) out[k] = be[k];
  return { ...out, ...over };
}
