// Every LB's traffic metrics: a scrape of each HAProxy's exporter socket (render-metrics.ts), relabelled with Scaleway
// ids — `lb_id` on everything, `proxy` → `frontend_id` / `backend_id` (plus `failover="true"` for a failover
// backend), `server` → `server_ip` — and merged into one exposition.
import { request } from 'node:http';
import { join } from 'node:path';
import { lbPaths } from '../dataplane/haproxy.js';
import { backendIdOf, frontendIdOf, ipOfServer } from '../dataplane/names.js';
import { METRICS_FRONTEND, METRICS_SOCKET } from '../dataplane/render-metrics.js';
import type { Exposition, Relabel } from './exposition.js';

/** Bound of one LB's scrape: a stuck HAProxy costs the scrape this long, not more. */
const SCRAPE_TIMEOUT_MS = 2000;

export function scrapeSocket(socketPath: string, timeoutMs = SCRAPE_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/metrics', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8'))
        : reject(new Error(`exporter answered ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The relabelling of one LB's exporter samples, on the label text. HAProxy's names are derived from ids and addresses
 * (names.ts), which hold no quote or backslash, so each `proxy="…"` and `server="…"` pair is found and replaced as
 * text; anything else is kept as HAProxy wrote it.
 */
export function relabelFor(lbId: string): Relabel {
  const head = `lb_id="${lbId}"`;
  return (text) => {
    let out = head;
    for (const pair of text ? text.split('",') : []) {
      const eq = pair.indexOf('="');
      if (eq < 0) continue; // a trailing comma
      const key = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 2).replace(/"$/, '');
      if (key === 'proxy') {
        if (value === METRICS_FRONTEND) return null;
        const fe = frontendIdOf(value);
        const be = backendIdOf(value);
        if (fe) out += `,frontend_id="${fe}"`;
        else if (be) out += `,backend_id="${be}"`;
        else if (value.startsWith('be_') && value.endsWith('_failover')) out += `,backend_id="${value.slice(3, -'_failover'.length)}",failover="true"`;
        else out += `,proxy="${value}"`;
      } else if (key === 'server') {
        const ip = ipOfServer(value);
        out += ip ? `,server_ip="${ip}"` : `,server="${value}"`;
      } else out += `,${key}="${value}"`;
    }
    return out;
  };
}

/** Scrapes every LB in parallel into `into`; `fulcrum_lb_exporter_up` says which ones answered. */
export async function addLbMetrics(into: Exposition, dataDir: string, lbIds: string[]): Promise<void> {
  const texts = await Promise.all(lbIds.map((id) =>
    scrapeSocket(join(lbPaths(dataDir, id).dir, METRICS_SOCKET)).catch(() => null)));
  lbIds.forEach((id, i) => {
    const text = texts[i];
    into.gauge('fulcrum_lb_exporter_up', 'Whether the LB\'s HAProxy exporter answered this scrape (1) or not (0)', [['lb_id', id]], text === null ? 0 : 1);
    if (text !== null) into.add(text, relabelFor(id));
  });
}
