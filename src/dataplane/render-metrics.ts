// Each LB's HAProxy serves its built-in Prometheus exporter on a unix socket in its run dir (no port to allocate, not
// reachable from the network); `fulcrum serve` scrapes every LB's socket and merges them into /metrics (src/ops).
import { safeToken } from './tokens.js';

/** The exporter's frontend; its own samples are dropped from /metrics. */
export const METRICS_FRONTEND = 'fulcrum_metrics';
/** File name of the exporter's socket in the LB's run dir (short: unix socket paths are bounded). */
export const METRICS_SOCKET = 'prom.sock';

export function metricsSection(runDir: string): string[] {
  return [`frontend ${METRICS_FRONTEND}`, `  bind ${safeToken('runDir', runDir)}/${METRICS_SOCKET} mode 600`, '  mode http', '  no log',
    '  http-request use-service prometheus-exporter', ''];
}
