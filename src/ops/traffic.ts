// GET /fulcrum/v1/zones/{zone}/lbs/{lb_id}/traffic: one LB's traffic counters (from its HAProxy exporter, the same
// source as /metrics) per frontend, backend and server, for any key that sees the LB. The dashboard turns two readings
// into request and error rates. Counters are since the current HAProxy worker started (a reload restarts them).
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { loadLb, type ApiContext } from '../api/context.js';
import { lbPaths } from '../dataplane/haproxy.js';
import { METRICS_SOCKET } from '../dataplane/render-metrics.js';
import { parseLabels, samplesOf } from './exposition.js';
import { relabelFor, scrapeSocket } from './lb-metrics.js';

const Counters = {
  sessions_total: Type.Number({ description: 'connections (TCP) or sessions (HTTP) handled' }),
  requests_total: Type.Number({ description: 'HTTP responses, any status' }),
  errors_total: Type.Number({ description: 'HTTP 5xx responses, plus connection and response errors towards servers' }),
};
const TrafficAnswer = Type.Object({
  lb_id: Type.String(),
  /** False when the LB's HAProxy did not answer (every list is then empty). */
  running: Type.Boolean(),
  read_at: Type.String(),
  frontends: Type.Array(Type.Object({ frontend_id: Type.String(), ...Counters })),
  backends: Type.Array(Type.Object({ backend_id: Type.String(), ...Counters })),
  servers: Type.Array(Type.Object({
    backend_id: Type.String(), ip: Type.String(), ...Counters,
    status: Type.String({ description: 'HAProxy\'s: UP, DOWN, MAINT, DRAIN or NOLB' }), weight: Type.Number(),
  })),
});
type TrafficAnswer = typeof TrafficAnswer.static;
type Row = { sessions_total: number; requests_total: number; errors_total: number; status?: string; weight?: number };

const LbParams = Type.Object({ zone: Type.String(), lb_id: Type.String() });

/** Folds the exporter's samples into per-object counters. */
export function trafficOf(lbId: string, text: string): Omit<TrafficAnswer, 'read_at' | 'running'> {
  const rows = new Map<string, Row & { labels: Record<string, string> }>();
  const relabel = relabelFor(lbId);
  for (const s of samplesOf(text)) {
    const m = /^haproxy_(frontend|backend|server)_(.+)$/.exec(s.name);
    if (!m) continue;
    const labels = relabel(s.labelText);
    if (labels === null) continue;
    const l = Object.fromEntries(parseLabels(labels));
    if (l.failover) continue;
    const key = m[1] === 'frontend' ? `f ${l.frontend_id}` : m[1] === 'backend' ? `b ${l.backend_id}` : `s ${l.backend_id} ${l.server_ip}`;
    if ((m[1] === 'frontend' && !l.frontend_id) || (m[1] !== 'frontend' && !l.backend_id) || (m[1] === 'server' && !l.server_ip)) continue;
    let row = rows.get(key);
    if (!row) rows.set(key, row = { labels: l, sessions_total: 0, requests_total: 0, errors_total: 0 });
    const v = Number(s.rest.split(' ')[0]);
    if (!Number.isFinite(v)) continue;
    switch (m[2]) {
      case 'sessions_total': row.sessions_total = v; break;
      case 'http_responses_total':
        row.requests_total += v;
        if (l.code === '5xx') row.errors_total += v;
        break;
      case 'connection_errors_total': case 'response_errors_total': row.errors_total += v; break;
      case 'status': if (v === 1) row.status = l.state; break;
      case 'weight': row.weight = v; break;
      default: break;
    }
  }
  const counters = (r: Row) => ({ sessions_total: r.sessions_total, requests_total: r.requests_total, errors_total: r.errors_total });
  const all = [...rows.entries()];
  return {
    lb_id: lbId,
    frontends: all.filter(([k]) => k.startsWith('f ')).map(([, r]) => ({ frontend_id: r.labels.frontend_id, ...counters(r) })),
    backends: all.filter(([k]) => k.startsWith('b ')).map(([, r]) => ({ backend_id: r.labels.backend_id, ...counters(r) })),
    servers: all.filter(([k]) => k.startsWith('s ')).map(([, r]) => ({
      backend_id: r.labels.backend_id, ip: r.labels.server_ip, ...counters(r), status: r.status ?? 'UNKNOWN', weight: r.weight ?? 0,
    })),
  };
}

export function trafficRoute(app: FastifyInstance, ctx: ApiContext, dataDir: string | null): void {
  app.get<{ Params: typeof LbParams.static }>('/lbs/:lb_id/traffic', {
    schema: { params: LbParams, response: { 200: TrafficAnswer }, tags: ['fulcrum'],
      summary: 'Traffic counters of one LB per frontend, backend and server (the dashboard\'s rates)' },
  }, async (req): Promise<TrafficAnswer> => {
    const lb = await loadLb(ctx, req.principal, req.params.zone, req.params.lb_id);
    const read_at = new Date().toISOString();
    const text = dataDir === null ? null
      : await scrapeSocket(join(lbPaths(dataDir, lb.id).dir, METRICS_SOCKET)).catch(() => null);
    if (text === null) return { lb_id: lb.id, running: false, read_at, frontends: [], backends: [], servers: [] };
    return { ...trafficOf(lb.id, text), running: true, read_at };
  });
}
