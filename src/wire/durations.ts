// The two duration encodings of the Scaleway LB API (spec §3.3):
// - millisecond integers (check_delay, check_timeout, timeout_*) and
// - protobuf duration strings with 0/3/6/9 fraction digits (transient_check_delay, timeout_queue).
// Input is lenient (numbers, numeric strings, "5s", "1.5s", "500ms", "1m"); output is always the canonical form.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/;

/**
 * Parses a duration given as a number or string. A bare number (or numeric string) is read in `bareUnit`,
 * the field's documented unit. Returns milliseconds (rounded to the nearest ms), or null when the text is not a duration.
 */
export function parseDuration(value: unknown, bareUnit: 'ms' | 's'): number | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return null;
    return Math.round(value * UNIT_MS[bareUnit]);
  }
  if (typeof value !== 'string') return null;
  const m = DURATION_RE.exec(value.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? bareUnit];
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

/** Formats milliseconds as a protobuf JSON duration: "0s", "4s", "0.500s" (0, 3, 6 or 9 fraction digits). */
export function formatProtoDuration(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const frac = ms % 1000;
  if (frac === 0) return `${whole}s`;
  return `${whole}.${String(frac).padStart(3, '0')}s`;
}
