// Per-key request rate limit: a token bucket per secret key (and one per client address for requests whose key is
// refused), refilled at `perSecond` tokens a second up to `burst`. Over the limit a request gets 429
// `too_many_requests` in the shape the TypeScript SDK turns into its TooManyRequestsError, plus Retry-After.
import { ApiError } from '../wire/errors.js';

export interface RateLimitOptions {
  /** Sustained requests per second per key; 0 turns the limit off. */
  perSecond: number;
  /** Requests a key may send at once after a quiet period. */
  burst: number;
}

export const DEFAULT_RATE_LIMIT = 100;
export const defaultBurst = (perSecond: number): number => perSecond * 2;

/** Above this many buckets, full ones (the same as absent) are dropped, so idle keys and addresses cost no memory. */
const PRUNE_AT = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(readonly opts: RateLimitOptions) {
    if (!(opts.perSecond >= 0) || !(opts.burst >= 1)) throw new Error('rate limit: perSecond >= 0 and burst >= 1');
  }

  get enabled(): boolean {
    return this.opts.perSecond > 0;
  }

  /** Takes one token from `key`'s bucket; returns 0 when the request may go, else the milliseconds until it could. */
  take(key: string, now = performance.now()): number {
    if (!this.enabled) return 0;
    const { perSecond, burst } = this.opts;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= PRUNE_AT) this.prune(now);
      this.buckets.set(key, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / perSecond) * 1000;
  }

  /** Throws 429 when `key` is over its limit. */
  check(key: string, setHeader: (name: string, value: string) => void): void {
    const waitMs = this.take(key);
    if (waitMs === 0) return;
    const resetSeconds = Math.max(1, Math.ceil(waitMs / 1000));
    setHeader('retry-after', String(resetSeconds));
    throw tooManyRequests(this.opts, resetSeconds);
  }

  private prune(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.opts.perSecond >= this.opts.burst) this.buckets.delete(k);
    }
  }
}

/** The TS SDK needs a string `help_message`; `limit.quota`, `limit.window_seconds` and `reset_seconds` are read too. */
export function tooManyRequests(o: RateLimitOptions, resetSeconds: number): ApiError {
  return new ApiError(429, {
    type: 'too_many_requests',
    message: 'too many requests',
    help_message: `this key may send ${o.perSecond} requests per second (bursts of ${o.burst}); slow down and retry`,
    limit: { quota: o.perSecond, window_seconds: 1 },
    reset_seconds: resetSeconds,
  });
}
