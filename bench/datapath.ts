// Section 1, the data path: wrk through every contender, HTTP and TCP, a small body and 64 KiB, interleaved rounds.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import type { Api } from './lib/fulcrum.js';
import {
  handHaproxyConfig, removeDir, startBackends, startHandHaproxy, startNginxProxy, startNodeProxy, workDir, type Proc,
} from './lib/lab.js';
import { CLK_TCK, haproxyPidsUnder, memorySum, stop, sumTicks, tree, type Memory } from './lib/procs.js';
import { log, median, round } from './lib/util.js';
import { wrk, wrkArgs, type WrkOptions } from './lib/wrk.js';

export const CONTENDERS = ['direct', 'fulcrum', 'haproxy', 'nginx', 'node'] as const;
export type Contender = (typeof CONTENDERS)[number];
export const WORKLOADS = ['http-small', 'http-64k', 'tcp-small', 'tcp-64k'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface DataPathOptions {
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  connections: number;
  threads: number;
  workloads: readonly Workload[];
  /** Rounds of the config-parity check (Fulcrum's own haproxy.cfg started by hand vs the hand-written one). */
  parityRounds: number;
}

export interface Run {
  workload: Workload;
  contender: Contender;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
  /** CPU time of the proxy's processes per request, µs (null for direct). */
  proxyUsPerReq: number | null;
  /** CPU time of the nginx backend per request, µs. */
  backendUsPerReq: number;
}

export interface Cell {
  rps: number;
  p50: number;
  p99: number;
  proxyUsPerReq: number | null;
  backendUsPerReq: number;
  errors: number;
  rounds: number;
}

export interface DataPathResult {
  options: DataPathOptions;
  backend: string;
  commands: Record<string, string>;
  handConfig: string;
  runs: Run[];
  /** Medians over rounds, per workload and contender (null when the contender could not run the workload). */
  cells: Record<string, Record<string, Cell | null>>;
  /** Fulcrum's median req/s over each other contender's (vs_X), and the median of the per-round ratios (vs_X_paired). */
  ratios: Record<string, Record<string, number | null>>;
  memory: Record<string, Memory>;
  /**
   * The config Fulcrum wrote for the LB, started by hand the way the hand-written one is (binds moved to 127.0.0.1,
   * runtime files to a temp dir), interleaved with the hand-written config: the config alone, without the process
   * setup and address around it. Medians per workload.
   */
  parity: Record<string, { fulcrumConfig: ParityCell; handConfig: ParityCell }>;
}

interface ParityCell { rps: number; proxyUsPerReq: number }

const usPerReq = (ticks: number, requests: number): number => round((ticks / CLK_TCK) * 1e6 / Math.max(1, requests), 1);

export async function dataPath(api: Api, o: DataPathOptions): Promise<DataPathResult> {
  const dirs: string[] = [];
  const procs: Proc[] = [];
  const own = (d: string) => { dirs.push(d); return d; };
  const ips = ['127.241.0.11', '127.241.0.12'];
  try {
    const bport = await freePort(ips[0]);
    const targets = ips.map((ip) => `${ip}:${bport}`);
    const backends = await startBackends(own(workDir('bench-nginx-be-')), ips, bport);
    procs.push(backends);

    // Fulcrum: one LB with an http and a tcp frontend, each to a backend over the same two nginx servers.
    const lb = await api.createLb('bench-datapath');
    const hc = { port: bport, check_delay: 3000, check_timeout: 1000, check_max_retries: 3, check_send_proxy: false, tcp_config: {} };
    const beHttp = await api.createBackend(lb.id, { name: 'http', forward_protocol: 'http', forward_port: bport, server_ip: ips, health_check: hc });
    const beTcp = await api.createBackend(lb.id, { name: 'tcp', forward_protocol: 'tcp', forward_port: bport, server_ip: ips, health_check: hc });
    const fHttp = await freePort(lb.ip);
    const fTcp = await freePort(lb.ip);
    await api.createFrontend(lb.id, beHttp, fHttp, 'http');
    await api.createFrontend(lb.id, beTcp, fTcp, 'tcp');
    await api.waitReady(lb.id);
    const fulcrumPids = () => haproxyPidsUnder(api.lbDir(lb.id));

    const hp = { http: await freePort(), tcp: await freePort() };
    const handConfig = handHaproxyConfig(targets, hp.http, hp.tcp);
    const hand = await startHandHaproxy(own(workDir('bench-haproxy-')), handConfig, hp.http, hp.tcp);
    procs.push(hand);
    const np = { http: await freePort(), tcp: await freePort() };
    const nginx = await startNginxProxy(own(workDir('bench-nginx-proxy-')), targets, np.http, np.tcp);
    procs.push(nginx);
    const nodeHttpPort = await freePort();
    const nodeTcpPort = await freePort();
    const nodeHttp = await startNodeProxy('http', nodeHttpPort, targets);
    const nodeTcp = await startNodeProxy('tcp', nodeTcpPort, targets);
    procs.push(nodeHttp, nodeTcp);
    const nginxTcp = (await import('node:fs')).existsSync('/usr/lib/nginx/modules/ngx_stream_module.so');

    const target = (w: Workload, c: Contender): { url: string; pids: () => number[] } | null => {
      const path = w.endsWith('64k') ? '/big' : '/';
      const tcp = w.startsWith('tcp');
      switch (c) {
        case 'direct': return { url: `http://${ips[0]}:${bport}${path}`, pids: () => [] };
        case 'fulcrum': return { url: `http://${lb.ip}:${tcp ? fTcp : fHttp}${path}`, pids: fulcrumPids };
        case 'haproxy': return { url: `http://127.0.0.1:${tcp ? hp.tcp : hp.http}${path}`, pids: hand.pids };
        case 'nginx': return tcp && !nginxTcp ? null : { url: `http://127.0.0.1:${tcp ? np.tcp : np.http}${path}`, pids: nginx.pids };
        case 'node': return tcp ? { url: `http://127.0.0.1:${nodeTcpPort}${path}`, pids: nodeTcp.pids }
          : { url: `http://127.0.0.1:${nodeHttpPort}${path}`, pids: nodeHttp.pids };
      }
    };
    const wo: WrkOptions = { threads: o.threads, connections: o.connections, seconds: o.seconds };
    const commands: Record<string, string> = {};
    for (const w of o.workloads) for (const c of CONTENDERS) {
      const t = target(w, c);
      if (t) commands[`${w} ${c}`] = `wrk ${wrkArgs(t.url, wo).join(' ')}`;
    }

    if (o.warmupSeconds > 0) {
      log(`data path: warm-up ${o.warmupSeconds}s per contender`);
      for (const w of o.workloads) for (const c of CONTENDERS) {
        const t = target(w, c);
        if (t) await wrk(t.url, { ...wo, seconds: o.warmupSeconds });
      }
    }
    const runs: Run[] = [];
    for (let r = 0; r < o.rounds; r++) {
      for (const w of o.workloads) {
        // Rotate the order every round so that no contender always runs right after the same one.
        const order = CONTENDERS.map((_, i) => CONTENDERS[(i + r) % CONTENDERS.length]);
        for (const c of order) {
          const t = target(w, c);
          if (!t) continue;
          const pids = t.pids();
          const bPids = backends.pids();
          const [p0, b0] = [sumTicks(pids), sumTicks(bPids)];
          const res = await wrk(t.url, wo);
          const [p1, b1] = [sumTicks(pids), sumTicks(bPids)];
          runs.push({ workload: w, contender: c, round: r + 1, rps: round(res.rps, 0), p50: res.p50, p99: res.p99,
            errors: res.errors, non2xx: res.non2xx, requests: res.requests,
            proxyUsPerReq: c === 'direct' ? null : usPerReq(p1 - p0, res.requests), backendUsPerReq: usPerReq(b1 - b0, res.requests) });
          log(`data path r${r + 1} ${w} ${c}: ${Math.round(res.rps)} req/s p50 ${res.p50} ms p99 ${res.p99} ms`
            + (res.errors || res.non2xx ? ` errors ${res.errors} non2xx ${res.non2xx}` : ''));
        }
      }
    }
    const cells: DataPathResult['cells'] = {};
    const ratios: DataPathResult['ratios'] = {};
    for (const w of o.workloads) {
      cells[w] = {};
      for (const c of CONTENDERS) {
        const rs = runs.filter((x) => x.workload === w && x.contender === c);
        cells[w][c] = rs.length === 0 ? null : {
          rps: round(median(rs.map((x) => x.rps)), 0), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)),
          proxyUsPerReq: c === 'direct' ? null : median(rs.map((x) => x.proxyUsPerReq!)),
          backendUsPerReq: median(rs.map((x) => x.backendUsPerReq)), errors: rs.reduce((a, x) => a + x.errors + x.non2xx, 0), rounds: rs.length,
        };
      }
      const f = cells[w].fulcrum;
      ratios[w] = {};
      for (const c of CONTENDERS) {
        if (c === 'fulcrum') continue;
        const other = cells[w][c];
        ratios[w][`vs_${c}`] = f && other ? round(f.rps / other.rps, 3) : null;
      }
      // Per round, the contenders ran back to back: the median of the per-round ratios cancels the drift between rounds.
      for (const c of CONTENDERS) {
        if (c === 'fulcrum') continue;
        const paired: number[] = [];
        for (let r = 1; r <= o.rounds; r++) {
          const a = runs.find((x) => x.workload === w && x.contender === 'fulcrum' && x.round === r);
          const b = runs.find((x) => x.workload === w && x.contender === c && x.round === r);
          if (a && b) paired.push(a.rps / b.rps);
        }
        ratios[w][`vs_${c}_paired`] = paired.length ? round(median(paired), 3) : null;
      }
    }
    const parity = await configParity(api.lbDir(lb.id), lb.ip, { http: fHttp, tcp: fTcp }, hand, hp, o, own);
    const memory: Record<string, Memory> = {
      'fulcrum LB HAProxy (master + worker)': memorySum(fulcrumPids()),
      'hand-written HAProxy': memorySum(hand.pids()),
      'nginx proxy (master + worker)': memorySum(nginx.pids()),
      'node proxy (http)': memorySum(nodeHttp.pids()),
    };
    await api.call('DELETE', `/lbs/${lb.id}?release_ip=true`);
    await api.f.waitGone('fr-par-1', lb.id);
    return { options: o, backend: 'nginx, 1 worker, 2 listen addresses', commands, handConfig, runs, cells, ratios, memory, parity };
  } finally {
    for (const p of procs) await stop(p.child);
    for (const d of dirs) removeDir(d);
  }
}

/** See DataPathResult.parity. `hand` is the running hand-written HAProxy, on `handPorts`. */
async function configParity(lbDir: string, lbIp: string, lbPorts: { http: number; tcp: number }, hand: Proc,
  handPorts: { http: number; tcp: number }, o: DataPathOptions, own: (d: string) => string): Promise<DataPathResult['parity']> {
  if (o.parityRounds <= 0) return {};
  const dir = own(workDir('bench-parity-'));
  const ports = { http: await freePort(), tcp: await freePort() };
  writeFileSync(join(dir, 'server-state'), '1\n');
  const config = readFileSync(join(lbDir, 'haproxy.cfg'), 'utf8').split(lbDir).join(dir)
    .split(`bind ${lbIp}:${lbPorts.http}\n`).join(`bind 127.0.0.1:${ports.http}\n`)
    .split(`bind ${lbIp}:${lbPorts.tcp}\n`).join(`bind 127.0.0.1:${ports.tcp}\n`);
  const mine = await startHandHaproxy(dir, config, ports.http, ports.tcp);
  try {
    const samples: Record<string, { f: ParityCell[]; h: ParityCell[] }> = {};
    for (let r = 0; r < o.parityRounds; r++) {
      for (const w of ['http-small', 'tcp-64k'] as const) {
        const path = w.endsWith('64k') ? '/big' : '/';
        const tcp = w.startsWith('tcp');
        // Fulcrum's config runs master-worker: its CPU is the master's and the worker's.
        const pairs: [() => number[], number, 'f' | 'h'][] = [[() => tree(mine.child.pid!), tcp ? ports.tcp : ports.http, 'f'],
          [hand.pids, tcp ? handPorts.tcp : handPorts.http, 'h']];
        if (r % 2 === 1) pairs.reverse();
        for (const [pids, port, k] of pairs) {
          const ps = pids();
          const t0 = sumTicks(ps);
          const res = await wrk(`http://127.0.0.1:${port}${path}`, { threads: o.threads, connections: o.connections, seconds: o.seconds });
          ((samples[w] ??= { f: [], h: [] })[k]).push({ rps: round(res.rps, 0), proxyUsPerReq: usPerReq(sumTicks(ps) - t0, res.requests) });
        }
      }
    }
    const med = (xs: ParityCell[]): ParityCell => ({ rps: median(xs.map((x) => x.rps)), proxyUsPerReq: median(xs.map((x) => x.proxyUsPerReq)) });
    const out: DataPathResult['parity'] = {};
    for (const [w, v] of Object.entries(samples)) {
      out[w] = { fulcrumConfig: med(v.f), handConfig: med(v.h) };
      log(`data path parity ${w}: Fulcrum's config ${out[w].fulcrumConfig.rps} req/s ${out[w].fulcrumConfig.proxyUsPerReq} µs/req, `
        + `hand-written ${out[w].handConfig.rps} req/s ${out[w].handConfig.proxyUsPerReq} µs/req`);
    }
    return out;
  } finally {
    await stop(mine.child);
  }
}
