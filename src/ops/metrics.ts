// The control plane's own metrics (prom-client): API requests by route and status with latency, applies and reloads
// (count, duration, failures), LBs by status, store latency, and Node's process metrics. Counted where the work happens
// by thin wrappers (a Fastify hook, proxies around the store and the data plane, the reload callback of haproxy.ts),
// so the code they measure stays unaware of them.
import type { FastifyInstance } from 'fastify';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataPlanePort } from '../control/port.js';
import type { InstanceStatus } from '../domain/lbs.js';
import type { Store } from '../store/store.js';
import type { Exposition } from './exposition.js';

const FAST = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const SLOW = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ControlMetrics {
  readonly registry = new Registry();
  private readonly http = new Histogram({
    name: 'fulcrum_http_request_duration_seconds', help: 'API requests by method, route and status, and their latency',
    labelNames: ['method', 'route', 'status'], buckets: FAST, registers: [this.registry],
  });
  private readonly applies = new Histogram({
    name: 'fulcrum_apply_duration_seconds', help: 'Applies of an LB\'s stored config to its HAProxy, by result',
    labelNames: ['result'], buckets: SLOW, registers: [this.registry],
  });
  private readonly reloads = new Histogram({
    name: 'fulcrum_reload_duration_seconds', help: 'Seamless reloads of an LB\'s HAProxy, by result',
    labelNames: ['result'], buckets: SLOW, registers: [this.registry],
  });
  private readonly store = new Histogram({
    name: 'fulcrum_store_operation_duration_seconds', help: 'Store operations by name, and their latency',
    labelNames: ['operation'], buckets: FAST, registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'fulcrum_' });
  }

  /** Counts every answered request; the route is Fastify's pattern (`/lb/v1/zones/:zone/lbs/:lb_id`), never the URL. */
  observeRequests(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => {
      this.http.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000);
    });
  }

  /** The reload callback for the HAProxy options. */
  readonly onReload = (ok: boolean, seconds: number): void => {
    this.reloads.observe({ result: ok ? 'ok' : 'failed' }, seconds);
  };

  /** The store, with every method timed. */
  meterStore<S extends Store>(store: S): S {
    return timed(store, (name, seconds) => this.store.observe({ operation: name }, seconds));
  }

  /** The data plane, with every apply timed and counted by result. */
  meterDataPlane<D extends DataPlanePort>(dp: D): D {
    const applies = this.applies;
    return new Proxy(dp, {
      get(target, prop, receiver) {
        if (prop !== 'apply') {
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        }
        return async (snapshot: Parameters<DataPlanePort['apply']>[0]) => {
          const end = applies.startTimer();
          const result = await target.apply(snapshot).catch((e: unknown) => { end({ result: 'failed' }); throw e; });
          end({ result: result.ok ? 'ok' : 'failed' });
          return result;
        };
      },
    });
  }

  /** Adds the control plane's metrics and the LBs by status to `into`; `instances` gives the states of an LB's instances. */
  async addTo(into: Exposition, store: Store, instances: (lbId: string) => Promise<InstanceStatus[]>): Promise<string[]> {
    into.add(await this.registry.metrics());
    const ids = await store.allLbIds();
    const byStatus = new Map<string, number>();
    const byInstance = new Map<string, number>();
    for (const id of ids) {
      const lb = await store.getLb(id);
      if (!lb) continue;
      byStatus.set(lb.status, (byStatus.get(lb.status) ?? 0) + 1);
      for (const inst of await instances(id)) byInstance.set(inst, (byInstance.get(inst) ?? 0) + 1);
    }
    for (const [status, n] of byStatus) into.gauge('fulcrum_lbs', 'Load balancers by status', [['status', status]], n);
    for (const [status, n] of byInstance) into.gauge('fulcrum_lb_instances', 'LB instances (HAProxy processes) by status', [['status', status]], n);
    return ids;
  }
}

/** A proxy that reports the duration of every method call (sync or async) of `target`, called on `target` itself. */
function timed<T extends object>(target: T, report: (name: string, seconds: number) => void): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        const start = performance.now();
        const done = () => report(prop, (performance.now() - start) / 1000);
        const out = (v as (...a: unknown[]) => unknown).apply(t, args);
        if (out instanceof Promise) return out.finally(done);
        done();
        return out;
      };
    },
  });
}
