// One `fulcrum serve` (real HAProxy) with one load balancer, driven through the official SDK, plus what health-check
// tests need on top: a backend with its own frontend, backend stats by server, and bounded waits that measure how long
// a state took to be reported.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { Fulcrum, waitLbReady } from '../../helpers/fulcrum.js';
import { freePort, loopbackNet } from '../../helpers/ports.js';
import { sleep } from './daemon.js';

/** Loopback addresses for one test file's servers: `<random /24>.11`, `.12`, ... */
export class Addresses {
  private n = 10;
  constructor(readonly net = loopbackNet()) {}
  next(): string {
    if (this.n >= 250) throw new Error('out of test addresses');
    return `${this.net}.${++this.n}`;
  }
}

export type CheckConfig = Pick<Lbv1.HealthCheck, 'tcpConfig' | 'mysqlConfig' | 'pgsqlConfig' | 'ldapConfig' | 'redisConfig'
  | 'httpConfig' | 'httpsConfig'>;

/** A health check as the SDK sends it. Test defaults: every 1 s, 1 s timeout, 3 failures, transient 0.5 s. */
export function healthCheck(port: number, config: CheckConfig, o: Partial<Omit<Lbv1.HealthCheck, 'port'>> = {}): Lbv1.HealthCheck {
  return { port, checkDelay: '1000', checkTimeout: '1000', checkMaxRetries: 3, checkSendProxy: false, transientCheckDelay: '0.5s',
    ...config, ...o };
}

export interface Stat {
  ip: string;
  state: string;
  check: string;
  changedAt: Date | undefined;
}

export interface BackendSpec {
  name: string;
  protocol: 'tcp' | 'http';
  forwardPort: number;
  pool: string[];
  check: Lbv1.HealthCheck;
  /** Other backend fields (ssl_bridging, proxy_protocol, ...). */
  extra?: Record<string, unknown>;
}

export interface LabBackend {
  id: string;
  /** The frontend port on the LB address that leads to this backend. */
  inbound: number;
}

/** Every wait polls the API at this period. */
export const POLL_MS = 25;
/** watch() polls at this period: two watches at once stay well under the API's per-key request rate. */
const WATCH_MS = 30;

export class Lab {
  readonly api: Lbv1.ZonedAPI;

  private constructor(readonly f: Fulcrum, readonly lbId: string, readonly lbIp: string) {
    this.api = f.sdk();
  }

  static async start(name: string): Promise<Lab> {
    const f = await Fulcrum.start();
    try {
      const api = f.sdk();
      const lb = await api.createLb({ name, description: '', type: 'LB-S', tags: [] } as never);
      await waitLbReady(api, lb.id);
      return new Lab(f, lb.id, lb.ip[0].ipAddress);
    } catch (e) {
      await f.destroy();
      throw e;
    }
  }

  /** Creates the backend and a frontend for it, and waits until HAProxy runs them. */
  async backend(s: BackendSpec): Promise<LabBackend> {
    const be = await this.api.createBackend({
      lbId: this.lbId, name: s.name, forwardProtocol: s.protocol, forwardPort: s.forwardPort, forwardPortAlgorithm: 'roundrobin',
      stickySessions: 'none', stickySessionsCookieName: '', serverIp: s.pool, healthCheck: s.check, timeoutConnect: '1000',
      ...s.extra,
    } as never);
    const inbound = await freePort(this.lbIp);
    await this.api.createFrontend({ lbId: this.lbId, name: `fe-${s.name}`, inboundPort: inbound, backendId: be.id, enableHttp3: false } as never);
    await this.ready();
    return { id: be.id, inbound };
  }

  /** PUT …/healthcheck through the SDK, then waits until HAProxy runs it. */
  async setCheck(backendId: string, check: Lbv1.HealthCheck): Promise<Lbv1.HealthCheck> {
    const hc = await this.api.updateHealthCheck({ backendId, ...check } as never);
    await this.ready();
    return hc;
  }

  ready(): Promise<Lbv1.Lb> {
    return waitLbReady(this.api, this.lbId, 20_000);
  }

  async stats(backendId: string): Promise<Stat[]> {
    const r = await this.api.listBackendStats({ lbId: this.lbId, backendId, pageSize: 100 });
    return r.backendServersStats.map((s) => ({ ip: s.ip, state: s.serverState, check: s.lastHealthCheckStatus,
      changedAt: s.serverStateChangedAt }));
  }

  async stat(backendId: string, ip: string): Promise<Stat> {
    const s = (await this.stats(backendId)).find((x) => x.ip === ip);
    if (!s) throw new Error(`no stats for ${ip} in backend ${backendId}`);
    return s;
  }

  /**
   * Polls until `ip` is reported in `state` with check status `check`; returns the time it took (from `since`, a
   * performance.now() value, default the call) and the stat. Throws with the last stat after `timeoutMs`.
   */
  async waitState(backendId: string, ip: string, state: string, check: string, timeoutMs: number,
    since = performance.now()): Promise<{ ms: number; stat: Stat }> {
    const deadline = performance.now() + timeoutMs;
    let last: Stat | null = null;
    for (let i = 0; i < Math.ceil(timeoutMs / POLL_MS) + 2; i++) {
      last = await this.stat(backendId, ip);
      if (last.state === state && last.check === check) return { ms: performance.now() - since, stat: last };
      if (performance.now() > deadline) break;
      await sleep(POLL_MS);
    }
    throw new Error(`${ip} not ${state}/${check} within ${timeoutMs} ms; last: ${last?.state}/${last?.check}`);
  }

  /** Every distinct (state, check, changedAt) of `ip` seen while polling for `durationMs`, with when it was first seen. */
  async watch(backendId: string, ip: string, durationMs: number, until?: (s: Stat) => boolean): Promise<Array<Stat & { at: number }>> {
    const t0 = performance.now();
    const seen: Array<Stat & { at: number }> = [];
    for (let i = 0; i < Math.ceil(durationMs / WATCH_MS) + 2 && performance.now() - t0 < durationMs; i++) {
      const s = await this.stat(backendId, ip);
      const prev = seen[seen.length - 1];
      if (!prev || prev.state !== s.state || prev.check !== s.check || prev.changedAt?.getTime() !== s.changedAt?.getTime()) {
        seen.push({ ...s, at: performance.now() - t0 });
      }
      if (until?.(s)) break;
      await sleep(WATCH_MS);
    }
    return seen;
  }

  /** The LB's HAProxy config as last written (to prove a refused change did not touch it). */
  async haproxyConfig(): Promise<string> {
    return readFile(join(this.f.dataDir, 'lbs', this.lbId, 'haproxy.cfg'), 'utf8');
  }

  async close(): Promise<void> {
    await this.f.destroy();
  }
}

/** Prints one measurement in the suite's `# measured:` format. */
export function measure(what: string, ms: number): number {
  console.log(`# measured: ${what}: ${Math.round(ms)} ms`);
  return ms;
}
