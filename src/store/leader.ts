// What the `fulcrum serve` processes sharing one PostgreSQL store tell each other, through session-level advisory locks
// held on a connection of each process's own. A process that dies (or whose connection drops) loses its session and
// its locks with it: no heartbeat, no table to clean.
// - Each process with a data plane (haproxy, agents) holds DATA_PLANE_LOCK shared: the others can tell whether any runs.
// - One process, the leader, holds JOBS_LOCK: it runs the jobs that must run once (ACME orders and renewals, alert
//   delivery). Processes with a data plane are candidates; an API-only one (--dataplane none) only while none of them
//   is connected, and it steps down when one comes (its alerts and ACME orders would have no data plane behind them).
// Every ROUND_MS a process checks its connection, who is there, and tries the lock when it may lead: another process
// takes over about ROUND_MS after a leader's session ended, and a leader whose connection stops answering steps down
// after at most ROUND_MS + QUERY_TIMEOUT_MS. On SQLite there is one process: it leads, and its own data plane is the
// only one.
import type pg from 'pg';
import { discard, openSession } from './pg-sessions.js';

/** Advisory lock keys, next to the migrations' (4_242_015_001) and placement rounds' (4_242_015_002). */
const DATA_PLANE_LOCK = 4_242_015_003;
const JOBS_LOCK = 4_242_015_004;
export const ROUND_MS = 1000;
const QUERY_TIMEOUT_MS = 2000;

export interface Coordination {
  /** True while this process runs the once-only jobs. */
  readonly leading: boolean;
  /** Whether a process with a data plane is connected now (this one included); true when the store does not answer. */
  dataPlaneConnected(): Promise<boolean>;
  close(): Promise<void>;
}

export interface CoordinationOptions {
  /** This process runs a data plane (haproxy, agents). */
  dataPlane: boolean;
  /** Called (one call at a time, in order) when this process starts or stops leading. */
  onLeading(leading: boolean): Promise<void>;
  /** Called when the last process with a data plane left (an API-only process then finishes lifecycles itself). */
  onDataPlaneGone?(): void;
  onError?(err: unknown): void;
  roundMs?: number;
}

export async function coordinate(storeUrl: string | null, o: CoordinationOptions): Promise<Coordination> {
  if (!storeUrl) {
    await o.onLeading(true);
    return { leading: true, dataPlaneConnected: async () => o.dataPlane, close: () => o.onLeading(false) };
  }
  const { default: pgModule } = await import('pg');
  const c = new PgCoordination(pgModule, storeUrl, o);
  await c.round();
  c.start();
  return c;
}

class PgCoordination implements Coordination {
  leading = false;
  /** As the last round saw it. */
  private dataPlanePresent: boolean;
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private closed = false;
  /** Leadership changes, run one after another. */
  private handover: Promise<void> = Promise.resolve();

  constructor(private readonly pg: typeof import('pg').default, private readonly url: string, private readonly o: CoordinationOptions) {
    this.dataPlanePresent = o.dataPlane;
  }

  start(): void {
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return; // a round waiting on a store that does not answer: no queue of them behind it
      busy = true;
      this.running = this.round().finally(() => { busy = false; });
    }, this.o.roundMs ?? ROUND_MS);
    this.timer.unref();
  }

  async round(): Promise<void> {
    if (this.closed) return;
    try {
      const client = this.client ?? await this.connect();
      const present = await this.presence(client);
      const gone = this.dataPlanePresent && !present;
      this.dataPlanePresent = present;
      if (gone) this.o.onDataPlaneGone?.();
      const mayLead = this.o.dataPlane || !present;
      if (!this.leading && mayLead) {
        if ((await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [JOBS_LOCK])).rows[0].ok) this.lead(true);
      } else if (this.leading && !mayLead) {
        await client.query('SELECT pg_advisory_unlock($1)', [JOBS_LOCK]);
        this.lead(false);
      }
    } catch (err) {
      this.o.onError?.(err);
      this.drop();
    }
  }

  async dataPlaneConnected(): Promise<boolean> {
    if (this.closed) return this.dataPlanePresent;
    try {
      return await this.presence(this.client ?? await this.connect());
    } catch {
      return true; // unknown: the store is away, and nothing can be written meanwhile anyway
    }
  }

  private async presence(client: pg.Client): Promise<boolean> {
    return (await client.query<{ present: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid = 0 AND objid = $1
      AND objsubid = 1 AND granted) AS present`, [DATA_PLANE_LOCK])).rows[0].present;
  }

  /** One connection attempt at a time (a round and a reconciler's question may both find no connection). */
  private connect(): Promise<pg.Client> {
    this.connecting ??= this.open().finally(() => { this.connecting = null; });
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    const client = new this.pg.Client({ connectionString: this.url, connectionTimeoutMillis: QUERY_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS, keepAlive: true });
    client.on('error', () => this.drop(client));
    client.on('end', () => this.drop(client));
    await openSession(client, async (c) => {
      if (this.o.dataPlane) await c.query('SELECT pg_advisory_lock_shared($1)', [DATA_PLANE_LOCK]);
      if (this.closed) throw new Error('closed');
    });
    this.client = client;
    return client;
  }

  /** The session is gone (or no longer trusted): so are its locks. */
  private drop(client = this.client): void {
    if (!client || client !== this.client) return;
    this.client = null;
    void discard(client);
    if (this.leading) this.lead(false);
  }

  private lead(leading: boolean): void {
    this.leading = leading;
    this.handover = this.handover.then(() => this.o.onLeading(leading)).catch((err: unknown) => this.o.onError?.(err));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.drop();
    await this.handover;
  }
}
