// What the installed HAProxy binary can do, read once from `haproxy -vv` when the data plane starts.
import { execFileSync } from 'node:child_process';

export interface HaproxyCapabilities {
  /** Built with QUIC, so it can serve HTTP/3 (Debian's 2.6 is built without: `-QUIC` in its feature list). */
  quic: boolean;
}

/** Reads the capabilities from the text `haproxy -vv` prints. */
export function parseCapabilities(vv: string): HaproxyCapabilities {
  const features = /^Feature list\s*:(.*)$/m.exec(vv)?.[1] ?? '';
  return { quic: /(^|\s)\+QUIC(\s|$)/.test(features) };
}

/** Runs `<bin> -vv`; a binary that cannot run is taken as having no optional capability. */
export function detectCapabilities(bin = 'haproxy'): HaproxyCapabilities {
  try {
    return parseCapabilities(execFileSync(bin, ['-vv'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return { quic: false };
  }
}
