// Section "rules": what ACLs and routes cost in traffic. One LB, one HTTP frontend per case over the same backend
// (two nginx servers), measured back to back in rotating order each round: no rule; one ACL of 10 subnets; one ACL
// of 10,000 subnets; 100 host routes. No rule matches the benchmark's requests, so every request evaluates all of
// them (the worst case). Also: the time from a PUT replacing the 10,000 subnets to the LB ready again (runtime API).
import { loadavg } from 'node:os';
import { freePort } from '../test/helpers/ports.js';
import type { Api } from './lib/fulcrum.js';
import { removeDir, startBackends, workDir, type Proc } from './lib/lab.js';
import { stop } from './lib/procs.js';
import { log, median, round } from './lib/util.js';
import { wrk, type WrkOptions } from './lib/wrk.js';

export const RULE_CASES = ['none', 'acl-10', 'acl-10000', 'routes-100'] as const;
export type RuleCase = (typeof RULE_CASES)[number];

export interface RulesOptions {
  seconds: number;
  rounds: number;
  connections: number;
  threads: number;
}

export interface RulesResult {
  options: RulesOptions;
  /** When this section ran, and the machine's load then (it may have run apart from the other sections). */
  startedAt: string;
  load: number[][];
  runs: { case: RuleCase; round: number; rps: number; p50: number; p99: number; errors: number }[];
  /** Median req/s per case, and the median of each round's ratio to the no-rule case. */
  cells: Record<RuleCase, { rps: number; p50: number; p99: number; vsNone: number }>;
  /** PUT of a 10,000-subnet list → LB ready again, ms (median of the replacements). */
  subnetUpdateMs: number;
}

/** `n` subnets that never match a loopback client (10.x.y.0/24). */
const subnets = (n: number, salt = 0): string[] => Array.from({ length: n }, (_, i) => `10.${(i >> 8) & 255}.${(i + salt) & 255}.0/24`);

const denyAcl = (list: string[]) => ({ name: 'bench', index: 1, description: '', action: { type: 'deny' },
  match: { ip_subnet: list, ips_edge_services: false, http_filter: 'acl_http_filter_none', invert: false } });

export async function rulesBench(api: Api, o: RulesOptions): Promise<RulesResult> {
  const dirs: string[] = [];
  const procs: Proc[] = [];
  const ips = ['127.242.0.11', '127.242.0.12'];
  const startedAt = new Date().toISOString();
  const load = [loadavg()];
  try {
    const bport = await freePort(ips[0]);
    const backendDir = workDir('bench-rules-be-');
    dirs.push(backendDir);
    procs.push(await startBackends(backendDir, ips, bport));
    const lb = await api.createLb('bench-rules');
    const hc = { port: bport, check_delay: 3000, check_timeout: 1000, check_max_retries: 3, check_send_proxy: false, tcp_config: {} };
    const be = await api.createBackend(lb.id, { name: 'web', forward_protocol: 'http', forward_port: bport, server_ip: ips, health_check: hc });
    const other = await api.createBackend(lb.id, { name: 'other', forward_protocol: 'http', forward_port: bport, server_ip: ips, health_check: hc });
    const ports = {} as Record<RuleCase, number>;
    const fronts = {} as Record<RuleCase, string>;
    for (const c of RULE_CASES) {
      ports[c] = await freePort(lb.ip);
      fronts[c] = await api.createFrontend(lb.id, be, ports[c], c);
    }
    await api.call('POST', `/frontends/${fronts['acl-10']}/acls`, denyAcl(subnets(10)));
    const big = (await api.call('POST', `/frontends/${fronts['acl-10000']}/acls`, denyAcl(subnets(10_000)))).json.id as string;
    for (let i = 0; i < 100; i++) {
      await api.call('POST', '/routes', { frontend_id: fronts['routes-100'], backend_id: other,
        match: { host_header: `site${i}.example.com`, match_subdomains: i % 2 === 0 } });
    }
    await api.waitReady(lb.id);

    const wo: WrkOptions = { threads: o.threads, connections: o.connections, seconds: o.seconds };
    const runs: RulesResult['runs'] = [];
    for (let r = 0; r < o.rounds; r++) {
      const order = RULE_CASES.map((_, i) => RULE_CASES[(i + r) % RULE_CASES.length]);
      for (const c of order) {
        const res = await wrk(`http://${lb.ip}:${ports[c]}/`, wo);
        runs.push({ case: c, round: r + 1, rps: round(res.rps, 0), p50: res.p50, p99: res.p99, errors: res.errors + res.non2xx });
        log(`rules r${r + 1} ${c}: ${Math.round(res.rps)} req/s p50 ${res.p50} ms p99 ${res.p99} ms`);
      }
    }
    const cells = {} as RulesResult['cells'];
    for (const c of RULE_CASES) {
      const rs = runs.filter((x) => x.case === c);
      const paired = rs.map((x) => x.rps / runs.find((y) => y.case === 'none' && y.round === x.round)!.rps);
      cells[c] = { rps: round(median(rs.map((x) => x.rps)), 0), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)),
        vsNone: round(median(paired), 3) };
    }

    const updates: number[] = [];
    for (let r = 0; r < Math.max(3, o.rounds); r++) {
      const t0 = performance.now();
      await api.call('PUT', `/acls/${big}`, denyAcl(subnets(10_000, r + 1)));
      updates.push((await api.waitReady(lb.id)) - t0);
    }
    const subnetUpdateMs = round(median(updates), 0);
    log(`rules: 10,000-subnet list replaced -> ready in ${subnetUpdateMs} ms (median of ${updates.length})`);
    await api.call('DELETE', `/lbs/${lb.id}?release_ip=true`);
    await api.f.waitGone('fr-par-1', lb.id);
    load.push(loadavg());
    return { options: o, startedAt, load: load.map((l) => l.map((x) => round(x, 2))), runs, cells, subnetUpdateMs };
  } finally {
    for (const p of procs) await stop(p.child);
    for (const d of dirs) removeDir(d);
  }
}
