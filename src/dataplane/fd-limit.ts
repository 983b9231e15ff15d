// File descriptors an LB's HAProxy needs, against what this machine allows. HAProxy 2.6 computes its own need at start
// (2 per connection of the global maxconn, 2 per splicing pipe, one per server for its checks, one per listener, and a
// few for its sockets) and raises its soft limit to it, but it cannot go past the hard limit: it then refuses to start
// or to reload ("Cannot raise FD limit"). Checking first turns that into a refusal that says what to raise.
import { readFileSync } from 'node:fs';

/** Sockets and files of HAProxy besides connections, pipes, servers and listeners (master CLI, admin socket, logs). */
const FIXED_FDS = 25;

export interface FdUsers {
  maxconn: number;
  maxpipes: number;
  servers: number;
  listeners: number;
}

/** 2 per connection, 2 per pipe, 1 per server (its check), 1 per listener, and FIXED_FDS. */
export function fdCount(u: FdUsers): number {
  return 2 * u.maxconn + 2 * u.maxpipes + u.servers + u.listeners + FIXED_FDS;
}

/** What the rendered config needs (fdCount of its global maxconn and maxpipes, server and bind lines). */
export function fdsNeeded(config: string): number {
  const global = config.slice(0, config.indexOf('\ndefaults'));
  const maxconn = Number(/^\s+maxconn (\d+)$/m.exec(global)?.[1] ?? 0);
  const maxpipes = Number(/^\s+maxpipes (\d+)$/m.exec(global)?.[1] ?? 0);
  let servers = 0;
  let listeners = 0;
  for (const line of config.split('\n')) {
    if (line.startsWith('  server ')) servers++;
    else if (line.startsWith('  bind ')) listeners++;
  }
  return fdCount({ maxconn, maxpipes, servers, listeners });
}

/** The hard RLIMIT_NOFILE of this process (which HAProxy inherits), from /proc/self/limits; Infinity if unknown. */
export function hardFdLimit(limits = readFileSync('/proc/self/limits', 'utf8')): number {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(limits);
  return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** null when the config fits under the hard limit, else the reason the LB reads. */
export function fdLimitProblem(config: string, hard = hardFdLimit()): string | null {
  const needed = fdsNeeded(config);
  if (needed <= hard) return null;
  return `this configuration needs ${needed} file descriptors, but the hard limit (RLIMIT_NOFILE) of fulcrum serve is `
    + `${hard}: raise it to at least ${needed} (LimitNOFILE= in its systemd unit, or ulimit -Hn before starting it)`;
}
