// Traffic helpers shared by the e2e tests: tallies, requests held in flight on a server, and a request loop.
import { waitFor, type HttpAnswer, type HttpTestServer } from '../../fixtures/servers.js';
import type { Service } from './lb.js';

/** How many times each value occurs. */
export function tally(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

export interface InFlight {
  /** The answer, once the server finished the request. */
  answer: Promise<HttpAnswer>;
  /** The server holding the request. */
  holder: HttpTestServer;
}

/**
 * Starts a `/slow/<ms>` request through the service and resolves once one of `servers` holds it (it is then in
 * flight there). Concurrent slow requests are told apart by their `ms`, which must differ.
 */
export async function holdSlow(svc: Service, servers: HttpTestServer[], ms: number): Promise<InFlight> {
  const path = `/slow/${ms}`;
  const answer = svc.get(path, {}, ms + 5000);
  answer.catch(() => undefined); // awaited by the caller; not an unhandled rejection meanwhile
  const holder = await waitFor(`a server to hold ${path}`, () => servers.find((s) => s.lastPath === path), 3000, 5);
  return { answer, holder };
}

/** Times one promise: its value (or error) and how long it took. */
export async function timed<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    return { value: await p, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}
