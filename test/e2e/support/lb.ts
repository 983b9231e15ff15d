// End-to-end harness: one `fulcrum serve` (real HAProxy) per test file, driven by the official SDK, one LB, and the
// real servers the file starts on its own loopback /24. `E2e.suite()` registers the hooks that start and close it all.
import { after, before } from 'node:test';
import type { Lbv1 } from '@scaleway/sdk-lb';
import { lbPaths } from '../../../src/dataplane/haproxy.js';
import { MasterCli, parseShowProc } from '../../../src/dataplane/runtime.js';
import { Fulcrum, waitLbReady, type FulcrumOptions } from '../../helpers/fulcrum.js';
import { freePort, httpGet, loopbackNet, waitFor, type HttpAnswer } from '../../fixtures/servers.js';

export type Api = Lbv1.ZonedAPI;
export type BackendRequest = Omit<Lbv1.ZonedApiCreateBackendRequest, 'lbId'>;
export type HealthCheckRequest = NonNullable<BackendRequest['healthCheck']>;

/**
 * Health checks that settle in well under a second: every 300 ms, 150 ms while changing state, one failure is down.
 * No port: the check goes to the forward port. No kind: a TCP check, unless `over` names one.
 */
export function fastCheck(over: Partial<HealthCheckRequest> = {}): HealthCheckRequest {
  return { checkDelay: '300', checkTimeout: '300', transientCheckDelay: '0.150s', checkMaxRetries: 1,
    checkSendProxy: false, ...over } as HealthCheckRequest;
}

/** Prints a measurement; the TAP reporter shows it as a `# measured: …` line (informative, never asserted). */
export function report(label: string, ms: number): void {
  console.log(`measured: ${label}: ${ms.toFixed(0)} ms`);
}

/**
 * Polls `until` from `t0` (performance.now() when the API answered) until it is true, then reports the elapsed time.
 * Bounded by `timeoutMs`; throws when the change never shows.
 */
export async function measure(label: string, t0: number, until: () => Promise<boolean> | boolean,
  timeoutMs = 10_000, intervalMs = 10): Promise<number> {
  await waitFor(label, until, timeoutMs, intervalMs);
  const ms = performance.now() - t0;
  report(label, ms);
  return ms;
}

interface Closable { close(): Promise<void> }

export class E2e {
  f!: Fulcrum;
  api!: Api;
  /** The file's load balancer. */
  lb!: Lb;
  /** The /24 this file's backend servers and clients use (never the LB pool's). */
  net = '';
  private nextHost = 10;
  private readonly closers: (() => Promise<void>)[] = [];

  /**
   * Registers the file's hooks: before its tests, one `fulcrum serve` (real HAProxy, started with `options()`) and one LB
   * named `lbName`;
   * after them, every LB deleted, the server stopped and every server the tests started closed.
   */
  static suite(lbName: string, options: () => FulcrumOptions | Promise<FulcrumOptions> = () => ({})): E2e {
    const e = new E2e();
    before(async () => {
      e.f = await Fulcrum.start(await options());
      e.api = e.f.sdk();
      e.net = loopbackNet();
      for (let i = 0; i < 10 && e.net === e.f.ipNet; i++) e.net = loopbackNet();
      e.lb = await e.newLb(lbName);
    });
    after(() => e.close());
    return e;
  }

  /** A loopback address of this file not handed out before. */
  host(): string {
    if (this.nextHost > 254) throw new Error('out of loopback addresses');
    return `${this.net}.${this.nextHost++}`;
  }

  /** Closes the servers when the file ends. */
  serve<T extends Closable>(...servers: T[]): T[] {
    for (const s of servers) this.closers.push(() => s.close());
    return servers;
  }

  /** Creates another load balancer and waits until its HAProxy runs. */
  async newLb(name: string): Promise<Lb> {
    const created = await this.api.createLb({ name, description: '', type: 'LB-S', tags: [] } as never);
    return new Lb(this, await waitLbReady(this.api, created.id));
  }

  /** Deletes every LB (stopping its HAProxy) and stops `fulcrum serve`, then closes the servers (newest first). */
  private async close(): Promise<void> {
    try {
      await this.f?.destroy();
    } finally {
      for (const c of this.closers.reverse()) await c().catch(() => undefined);
    }
  }
}

export class Lb {
  readonly id: string;
  readonly ip: string;
  readonly instanceId: string;
  private readonly master: MasterCli;

  constructor(readonly e: E2e, lb: Lbv1.Lb) {
    this.id = lb.id;
    this.ip = lb.ip[0].ipAddress;
    this.instanceId = lb.instances[0].id;
    this.master = new MasterCli(lbPaths(e.f.dataDir, lb.id).masterSock);
  }

  /** Waits until the LB runs its stored config (instance ready). */
  ready(timeoutMs?: number): Promise<Lbv1.Lb> {
    return waitLbReady(this.e.api, this.id, timeoutMs);
  }

  /** PIDs of the current HAProxy workers (read-only look through the master socket, to tell a reload happened). */
  async workers(): Promise<number[]> {
    return parseShowProc(await this.master.master('show proc')).workers;
  }

  /** Waits until every server of these backends has been checked (see Service.checked). */
  async checked(...backends: Lbv1.Backend[]): Promise<void> {
    await Promise.all(backends.map((b) => new Service(this, b, 0).checked()));
  }

  /** Creates a backend (fast TCP checks unless given); does not wait for the LB to apply it. */
  backend(req: Partial<BackendRequest>): Promise<Lbv1.Backend> {
    return this.e.api.createBackend({
      lbId: this.id, name: 'be', forwardProtocol: 'http', forwardPort: 80, forwardPortAlgorithm: 'roundrobin',
      stickySessions: 'none', stickySessionsCookieName: '', serverIp: [], healthCheck: fastCheck(), ...req,
    } as Lbv1.ZonedApiCreateBackendRequest);
  }

  /** A backend and a frontend in front of it on a free port of the LB's IP; resolves once the LB applied both. */
  async service(req: Partial<BackendRequest>, fe: Partial<Lbv1.ZonedApiCreateFrontendRequest> = {}): Promise<Service> {
    const port = fe.inboundPort ?? await freePort(this.ip);
    const backend = await this.backend(req);
    await this.e.api.createFrontend({ lbId: this.id, name: 'fe', inboundPort: port, backendId: backend.id,
      enableHttp3: false, ...fe } as Lbv1.ZonedApiCreateFrontendRequest);
    await this.ready();
    const svc = new Service(this, backend, port);
    await svc.checked();
    return svc;
  }
}

/** Settings of a backend as an update request: PUT replaces every field, so the current ones are carried over. */
function settingsOf(b: Lbv1.Backend): Omit<Lbv1.ZonedApiUpdateBackendRequest, 'backendId'> {
  return {
    name: b.name, forwardProtocol: b.forwardProtocol, forwardPort: b.forwardPort, forwardPortAlgorithm: b.forwardPortAlgorithm,
    stickySessions: b.stickySessions, stickySessionsCookieName: b.stickySessionsCookieName, timeoutServer: b.timeoutServer,
    timeoutConnect: b.timeoutConnect, timeoutTunnel: b.timeoutTunnel, onMarkedDownAction: b.onMarkedDownAction,
    proxyProtocol: b.proxyProtocol, failoverHost: b.failoverHost, sslBridging: b.sslBridging,
    ignoreSslServerVerify: b.ignoreSslServerVerify, redispatchAttemptCount: b.redispatchAttemptCount,
    maxRetries: b.maxRetries, maxConnections: b.maxConnections, timeoutQueue: b.timeoutQueue,
  };
}

/** One frontend → backend pair of an LB, with its traffic address. */
export class Service {
  constructor(readonly lb: Lb, public backend: Lbv1.Backend, readonly port: number) {}

  get api(): Api {
    return this.lb.e.api;
  }

  /** One HTTP request through the LB on a new connection. */
  get(path = '/', headers: Record<string, string> = {}, timeoutMs = 5000): Promise<HttpAnswer> {
    return httpGet(this.lb.ip, this.port, path, headers, timeoutMs);
  }

  /** Bodies (server ids) of `n` sequential requests. */
  async bodies(n: number, path = '/'): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await this.get(path)).body);
    return out;
  }

  /**
   * PUT of the backend settings with `over` changed; returns performance.now() at the API's answer (the start of a
   * "time to traffic change" measurement). Does not wait for the LB to apply it.
   */
  async update(over: Partial<Lbv1.ZonedApiUpdateBackendRequest>): Promise<number> {
    this.backend = await this.api.updateBackend({ ...settingsOf(this.backend), backendId: this.backend.id, ...over });
    return performance.now();
  }

  async addServers(ips: string[]): Promise<number> {
    this.backend = await this.api.addBackendServers({ backendId: this.backend.id, serverIp: ips });
    return performance.now();
  }

  async removeServers(ips: string[]): Promise<number> {
    this.backend = await this.api.removeBackendServers({ backendId: this.backend.id, serverIp: ips });
    return performance.now();
  }

  /** Backend stats of this backend's servers, from the live HAProxy. */
  async stats(): Promise<Lbv1.BackendServerStats[]> {
    return (await this.api.listBackendStats({ lbId: this.lb.id, backendId: this.backend.id })).backendServersStats;
  }

  /**
   * Waits until every server has been checked: a server that arrives through a reload takes traffic only once it
   * passed its checks, so a new service answers only from then on. Servers failing their check read stopped/failed.
   */
  async checked(timeoutMs = 10_000): Promise<void> {
    await waitFor('the first checks of every server', async () => (await this.stats()).every((s) =>
      s.serverState === 'running' || s.lastHealthCheckStatus === 'failed'), timeoutMs, 25);
  }

  /** Waits until the server at `ip` reads `state` (and `check`, when given) in the backend stats. */
  async waitServer(ip: string, state: Lbv1.BackendServerStatsServerState, check?: Lbv1.BackendServerStatsHealthCheckStatus,
    timeoutMs = 5000): Promise<Lbv1.BackendServerStats> {
    return waitFor(`${ip} ${state} ${check ?? ''}`, async () => (await this.stats())
      .find((s) => s.ip === ip && s.serverState === state && (!check || s.lastHealthCheckStatus === check)), timeoutMs, 25);
  }
}
