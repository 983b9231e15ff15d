// wrk runs and the parsing of its text report.
import { execFile } from 'node:child_process';

export interface WrkResult {
  rps: number;
  requests: number;
  /** ms */
  p50: number;
  /** ms */
  p99: number;
  errors: number;
  non2xx: number;
  seconds: number;
}

/** wrk prints `1.23ms`, `456.00us`, `1.02s`. */
export function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

export function parseWrk(out: string): WrkResult {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  const lat = (pct: string) => toMs(new RegExp(`^\\s+${pct}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(out);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: total ? Number(total[1]) : Number.NaN,
    seconds: total ? toMs(`${total[2]}${total[3]}`) / 1000 : Number.NaN,
    p50: lat('50'),
    p99: lat('99'),
    errors: errs ? errs.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0,
  };
}

export interface WrkOptions {
  threads: number;
  connections: number;
  seconds: number;
  /** One extra request header, e.g. `Connection: close` (a new connection, and TLS handshake, per request). */
  header?: string;
}

export const wrkArgs = (url: string, o: WrkOptions): string[] =>
  [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, '--latency', ...(o.header ? ['-H', o.header] : []), url];

/** Runs wrk against a loopback URL; bounded by its own duration plus a margin. */
export function wrk(url: string, o: WrkOptions): Promise<WrkResult> {
  if (!/^https?:\/\/127\./.test(url)) throw new Error(`wrk only against loopback, not ${url}`);
  return new Promise((resolve, reject) => {
    execFile('wrk', wrkArgs(url, o), { timeout: (o.seconds + 15) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk ${url}: ${err.message} ${stderr}`));
      const r = parseWrk(stdout);
      if (!Number.isFinite(r.rps)) return reject(new Error(`wrk ${url}: cannot parse\n${stdout}`));
      resolve(r);
    });
  });
}
