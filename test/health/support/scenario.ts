// The life of one health-check kind against real servers, the same for every kind: a healthy server is reported
// running/passed and takes all the traffic while the failing ones are stopped/failed; a fault on the healthy server is
// reported within check_delay × check_max_retries (+ margin) and the LB then serves nothing; the repair is reported
// within check_delay × rise (+ margin) and traffic comes back. Times are measured from the fault and the repair.
import assert from 'node:assert/strict';
import type { Lab, LabBackend } from './lab.js';
import { measure } from './lab.js';

/** Slack on every timing bound: the machine is shared and noisy. */
export const MARGIN_MS = 2000;
/** Passing checks a server needs to come back (render.ts CHECK_RISE; Scaleway has no field for it). */
export const RISE = 2;

export interface Timing {
  checkDelayMs: number;
  checkMaxRetries: number;
  checkTimeoutMs: number;
  transientCheckDelayMs: number;
}

/** The timing of support/lab.ts healthCheck() defaults. */
export const TEST_TIMING: Timing = { checkDelayMs: 1000, checkMaxRetries: 3, checkTimeoutMs: 1000, transientCheckDelayMs: 500 };

const describe = (t: Timing) => `check_delay ${t.checkDelayMs} ms × ${t.checkMaxRetries}, transient ${t.transientCheckDelayMs} ms, timeout ${t.checkTimeoutMs} ms`;

/** How long a working server may take to be reported down: every retry may wait a full check_delay. */
export const detectionBound = (t: Timing) => t.checkDelayMs * t.checkMaxRetries + MARGIN_MS;
/** A server that has been failing since it was configured: it may also wait for check timeouts. */
export const settleBound = (t: Timing) => (t.checkDelayMs + t.checkTimeoutMs) * t.checkMaxRetries + MARGIN_MS;
/** How long a repaired server may take to be reported up again. */
export const recoveryBound = (t: Timing) => t.checkDelayMs * RISE + MARGIN_MS;

export interface KindLife {
  kind: string;
  lab: Lab;
  backend: LabBackend;
  timing?: Timing;
  /** The real, healthy server. */
  healthy: string;
  /** Servers that must fail this kind of check, and why (for messages and measurements). */
  failing: Array<{ ip: string; why: string }>;
  /** One request or connection through the LB; returns what answered it. */
  traffic(): Promise<string>;
  /** What the healthy server answers. */
  answer: string | RegExp;
  /** True when a connection through the LB got no answer at all. */
  nothingServed(): Promise<boolean>;
  fault: { why: string; start(): Promise<void>; end(): Promise<void> };
  /** Requests per traffic round. */
  rounds?: number;
}

const matches = (got: string, want: string | RegExp) => (typeof want === 'string' ? got === want : want.test(got));

async function allTrafficToHealthy(k: KindLife, when: string): Promise<void> {
  const n = k.rounds ?? 6;
  for (let i = 0; i < n; i++) {
    const got = await k.traffic().catch((e: unknown) => `error: ${String(e)}`);
    assert.ok(matches(got, k.answer), `${k.kind} ${when}: request ${i + 1}/${n} was answered by the healthy server (got ${JSON.stringify(got.slice(0, 200))})`);
  }
}

/** Runs the whole life; returns the measured detection and recovery times. */
export async function proveKind(k: KindLife): Promise<{ detectMs: number; recoverMs: number }> {
  const t = k.timing ?? TEST_TIMING;
  const id = k.backend.id;
  for (const f of k.failing) {
    await k.lab.waitState(id, f.ip, 'stopped', 'failed', settleBound(t)).catch((e: Error) => {
      throw new Error(`${k.kind}, ${f.why}: ${e.message}`);
    });
  }
  await k.lab.waitState(id, k.healthy, 'running', 'passed', settleBound(t));
  await allTrafficToHealthy(k, 'with failing servers in the pool');

  const t0 = performance.now();
  await k.fault.start();
  const down = await k.lab.waitState(id, k.healthy, 'stopped', 'failed', detectionBound(t), t0);
  const detectMs = measure(`${k.kind} check, ${k.fault.why} → stopped/failed (${describe(t)})`, down.ms);
  assert.ok(await k.nothingServed(), `${k.kind}: with every server down the LB serves nothing`);

  const t1 = performance.now();
  await k.fault.end();
  const up = await k.lab.waitState(id, k.healthy, 'running', 'passed', recoveryBound(t), t1);
  const recoverMs = measure(`${k.kind} check, repaired → running/passed`, up.ms);
  assert.ok(up.stat.changedAt && down.stat.changedAt && up.stat.changedAt > down.stat.changedAt,
    `${k.kind}: server_state_changed_at moved on recovery (${down.stat.changedAt?.toISOString()} → ${up.stat.changedAt?.toISOString()})`);
  await allTrafficToHealthy(k, 'after recovery');
  for (const f of k.failing) {
    const s = await k.lab.stat(id, f.ip);
    assert.deepEqual([s.state, s.check], ['stopped', 'failed'], `${k.kind}, ${f.why}: still down`);
  }
  return { detectMs, recoverMs };
}
