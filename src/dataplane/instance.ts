// One load balancer's data plane: makes its HAProxy process match a snapshot. Runtime API first (pools and
// max_connections), one seamless reload for anything else. Operations on one LB run one at a time.
// No `haproxy -c` on any path: the master parses the config as it starts or reloads and refuses it with the same alerts,
// keeping the old worker (haproxy.ts), so a check first would only add its 10–60 ms of CPU to every change.
import { readFile } from 'node:fs/promises';
import type { ApplyResult } from '../control/port.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import { fdLimitProblem, hardFdLimit } from './fd-limit.js';
import { HaproxyProcess, lbPaths, writeAtomic, type HaproxyOptions } from './haproxy.js';
import { applyPoolChanges, diffPools, withPoolsOf, type PoolChangeOptions } from './pool-changes.js';
import { renderConfig, type RenderOptions } from './render.js';
import type { PeerSet } from './render-peers.js';
import type { TlsPaths } from './render-tls.js';
import { pruneCrtLists, renewedCertificates, setChallenge, swapCertificates, writeTlsFiles } from './tls-runtime.js';
import { ruleLists, rulesDir } from './render-rules.js';
import { pruneRuleLists, pushRuleLists, writeRuleLists } from './rule-lists.js';
import { assignServerIds, type ServerIds } from './server-ids.js';
import { parseServersState, type ServerStats } from './stats.js';
import { readPins, writePins } from './stick-tables.js';

export interface InstanceOptions extends HaproxyOptions {
  /** How long a removed server may finish its sessions before they are cut. Default 2000 ms. */
  drainTimeoutMs?: number;
  /** Global maxconn of each HAProxy (the LB type's, render-profile.ts, when unset). */
  maxconn?: number;
  /** The HAProxy binary serves QUIC (HTTP/3); see capabilities.ts. */
  quic?: boolean;
  /** Directory of the certificates' PEM files; without it, frontends with certificates are refused. */
  certDir?: string;
  /** Addresses that ACLs with ips_edge_services match (the operator's list; none by default). */
  edgeServicesIps?: string[];
  /** The LB's HAProxy peers when it runs on an HA pair of nodes (agents); none on a single node. */
  peersOf?: (lbId: string) => PeerSet | null;
  /** RenderOptions.pnSource (off on agents). */
  pnSource?: boolean;
}

interface Applied {
  snapshot: LbSnapshot;
  config: string;
}

/** What survives a control-plane restart, next to the config (applied.json). */
interface Persisted {
  serverIds: ServerIds;
  /** What the running worker runs; null when unknown (the next apply then reloads). */
  applied: Applied | null;
}

/** HAProxy inherits this process's open-file limit. */
const FD_LIMIT = hardFdLimit();

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class LbInstance {
  readonly proc: HaproxyProcess;
  private state: Persisted = { serverIds: {}, applied: null };
  private loaded = false;
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;
  /** True while a process started or adopted by us should be running (the watchdog's reference). */
  shouldRun = false;

  constructor(readonly lbId: string, dataDir: string, private readonly opts: InstanceOptions = {}) {
    this.proc = new HaproxyProcess(lbPaths(dataDir, lbId), opts);
  }

  /** The snapshot the running process was last made to match. */
  get lastApplied(): LbSnapshot | null {
    return this.state.applied?.snapshot ?? null;
  }

  /** True while an operation is queued or running, or the master still re-executes after a reload. */
  get busy(): boolean {
    return this.pending > 0 || this.proc.reexecuting;
  }

  isAlive(): boolean {
    return this.proc.isAlive();
  }

  /** Loads the persisted state and takes over a running master of this LB; true if one runs. */
  adopt(): Promise<boolean> {
    return this.serial(() => this.load());
  }

  apply(snapshot: LbSnapshot): Promise<ApplyResult> {
    return this.serial(async () => {
      try {
        return await this.applyNow(snapshot);
      } catch (e) {
        return { ok: false, reason: message(e) };
      }
    });
  }

  /** Stops the process; `removeFiles` also deletes the LB's directory (the LB is gone). */
  stop(opts: { removeFiles?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      await this.load();
      this.shouldRun = false;
      await this.proc.stop();
      if (opts.removeFiles) {
        await this.proc.removeFiles();
        this.state = { serverIds: {}, applied: null };
      }
    });
  }

  /** Sets (or, with null, removes) the HTTP-01 answer for an ACME token; live at once when HAProxy runs. */
  challenge(token: string, keyAuthorization: string | null): Promise<void> {
    return this.serial(async () => {
      await setChallenge(this.proc.isAlive() ? this.proc.paths.adminSock : null, this.proc.paths.dir, token, keyAuthorization);
    });
  }

  private get tls(): TlsPaths | null {
    return this.opts.certDir ? { certDir: this.opts.certDir, runDir: this.proc.paths.dir } : null;
  }

  async stats(): Promise<ServerStats[]> {
    return parseServersState(await this.proc.cli.worker('show servers state'));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    this.pending++;
    const run = this.tail.then(fn, fn).finally(() => { this.pending--; });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<boolean> {
    if (!this.loaded) {
      try {
        this.state = { ...this.state, ...JSON.parse(await readFile(this.proc.paths.appliedFile, 'utf8')) };
      } catch { /* first use of this LB, or unreadable: start from nothing */ }
      this.loaded = true;
    }
    if (!this.proc.isAlive() && !(await this.proc.adopt())) return false;
    this.shouldRun = true;
    return true;
  }

  private async save(applied: Applied | null): Promise<void> {
    this.state.applied = applied;
    await writeAtomic(this.proc.paths.appliedFile, JSON.stringify(this.state));
    if (applied && this.tls) await pruneCrtLists([applied.snapshot], this.tls);
  }

  private async applyNow(next: LbSnapshot): Promise<ApplyResult> {
    if (next.lb.id !== this.lbId) return { ok: false, reason: `snapshot of ${next.lb.id} sent to ${this.lbId}` };
    const alive = await this.load();
    const serverIds = assignServerIds(this.state.serverIds, next);
    const opts: RenderOptions = {
      runDir: this.proc.paths.dir, serverIds, maxconn: this.opts.maxconn, fdLimit: FD_LIMIT, certDir: this.opts.certDir,
      quic: this.opts.quic, peers: this.opts.peersOf?.(this.lbId) ?? null, pnSource: this.opts.pnSource,
    };
    let config: string;
    let lists: Map<string, string>;
    try {
      config = renderConfig(next, opts);
      lists = ruleLists(next, this.proc.paths.dir, this.opts.edgeServicesIps);
    } catch (e) {
      return { ok: false, reason: `cannot render the configuration: ${message(e)}` };
    }
    // Before any runtime command or reload: HAProxy would refuse to reload (or start) past the hard limit.
    const tooMany = fdLimitProblem(config, FD_LIMIT);
    if (tooMany) return { ok: false, reason: tooMany };
    this.state.serverIds = serverIds;
    const prev = this.state.applied;
    const tls = this.tls;
    if (tls) await writeTlsFiles(next, tls);
    // Renewed certificates and changed ACL subnet lists go to the running worker through the runtime API (a reload would
    // also load them); the list files are on disk before HAProxy reads the config.
    const renewed = alive && prev && tls ? renewedCertificates(prev.snapshot, next, tls) : [];
    const changedLists = await writeRuleLists(lists);
    const runtime = () => pushRuleLists(this.proc.paths.adminSock, changedLists)
      .then(() => swapCertificates(this.proc.paths.adminSock, renewed)).then(() => true, () => false);
    if (alive && prev?.config === config) {
      // Nothing else HAProxy sees changed (names, tags, subnet lists, renewed certificates): no reload.
      if (!(await runtime())) return this.reloadOnto(next, config, null, lists);
      return this.applied(next, config, lists);
    }
    // A change of pools and max_connections only (the config rendered from the old snapshot with the new pools is the
    // new config): in force once the runtime commands return. The file is then written as is: it holds the server
    // arguments the worker just accepted through `add server`, which parses them as a server line does.
    if (alive && prev && this.poolsOnly(prev, next, opts, config)) {
      const done = await applyPoolChanges(this.proc.cli, diffPools(prev.snapshot, next), serverIds, this.poolOptions)
        .then(runtime, () => false);
      // Partly applied: a reload makes the worker match the file again.
      if (!done) return this.reloadOnto(next, config, null, lists);
      await this.proc.writeConfig(config);
      return this.applied(next, config, lists);
    }
    if (!alive) {
      this.shouldRun = false;
      await this.proc.start(config);
      this.shouldRun = true;
      return this.applied(next, config, lists);
    }
    // Pool changes go through the runtime API even when a reload follows: the running worker drains removed servers and
    // holds added ones DOWN until they pass a check, and the state file carries that over the reload.
    let running: Applied | null = prev;
    if (prev) {
      try {
        await applyPoolChanges(this.proc.cli, diffPools(prev.snapshot, next), serverIds, this.poolOptions);
        const patched = withPoolsOf(prev.snapshot, next);
        running = { snapshot: patched, config: renderConfig(patched, opts) };
      } catch {
        running = null; // partly applied: the reload below makes the worker match the file again
      }
    }
    return this.reloadOnto(next, config, running, lists);
  }

  private get rulesDir(): string {
    return rulesDir(this.proc.paths.dir);
  }

  private get poolOptions(): PoolChangeOptions {
    return { drainTimeoutMs: this.opts.drainTimeoutMs ?? 2000, pnSource: this.opts.pnSource };
  }

  /** True when `next` differs from what runs only in pools and max_connections (a runtime-only change). */
  private poolsOnly(prev: Applied, next: LbSnapshot, opts: RenderOptions, config: string): boolean {
    if (diffPools(prev.snapshot, next).length === 0) return false;
    try {
      return renderConfig(withPoolsOf(prev.snapshot, next), opts) === config;
    } catch {
      return false;
    }
  }

  /** Records `next` as what runs, once HAProxy runs it, and drops the subnet lists it no longer names. */
  private async applied(next: LbSnapshot, config: string, lists: Map<string, string>): Promise<ApplyResult> {
    await this.save({ snapshot: next, config });
    await pruneRuleLists(this.rulesDir, lists);
    return { ok: true };
  }

  /**
   * Seamless reload onto `config`; on failure (HAProxy refused the config or could not bind) the old worker keeps
   * serving what `running` describes, and the reason is HAProxy's. The stick-table pins of the backends that keep table
   * stickiness are carried into the new worker (stick-tables.ts).
   */
  private async reloadOnto(next: LbSnapshot, config: string, running: Applied | null, lists: Map<string, string>): Promise<ApplyResult> {
    const pins = await readPins(this.proc.cli, next, this.state.serverIds);
    try {
      await this.proc.reload(config);
    } catch (e) {
      // The old worker keeps serving. Its config file must reproduce what it runs, runtime changes included.
      if (running) await this.proc.writeConfig(running.config);
      await this.save(running);
      return { ok: false, reason: message(e) };
    }
    const lost = pins.size ? await writePins(this.proc.cli, pins).then(() => null, message) : null;
    const done = await this.applied(next, config, lists);
    return lost ? { ok: false, reason: `applied, but the sticky-session table was not carried over: ${lost}` } : done;
  }
}
