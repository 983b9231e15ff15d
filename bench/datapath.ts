// Section 1, the data path: wrk through every contender, HTTP and TCP, a small body and 64 KiB, interleaved rounds.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import type { Api } from './lib/fulcrum.js';
import {
  dataPathBackends, handHaproxyConfig, Stage, startHandHaproxy, startNginxProxy, startNodeProxy, STREAM_MODULE, type Proc,
} from './lib/lab.js';
import { cellOf, interleavedRounds, measure, pathOf, roundRatios, type Cell, type RoundRun, type RoundsOptions, type Target } from './lib/measure.js';
import { haproxyPidsUnder, memorySum, stop, type Memory } from './lib/procs.js';
import { log, median, round } from './lib/util.js';

export const CONTENDERS = ['direct', 'fulcrum', 'haproxy', 'nginx', 'node'] as const;
export type Contender = (typeof CONTENDERS)[number];
export const WORKLOADS = ['http-small', 'http-64k', 'tcp-small', 'tcp-64k'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface DataPathOptions extends RoundsOptions<Workload> {
  /** Rounds of the config-parity check (Fulcrum's own haproxy.cfg started by hand vs the hand-written one). */
  parityRounds: number;
}

/** proxyUsPerReq is null for direct. */
export type Run = RoundRun<Workload, Contender>;

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

export async function dataPath(api: Api, o: DataPathOptions): Promise<DataPathResult> {
  const stage = new Stage();
  try {
    const { ips, port: bport, targets, proc: backends } = await dataPathBackends(stage, '127.241.0');

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
    const hand = stage.own(await startHandHaproxy(stage.dir('bench-haproxy-'), handConfig, hp.http, hp.tcp));
    const np = { http: await freePort(), tcp: await freePort() };
    const nginx = stage.own(await startNginxProxy(stage.dir('bench-nginx-proxy-'), targets, np.http, np.tcp));
    const nodeHttpPort = await freePort();
    const nodeTcpPort = await freePort();
    const nodeHttp = stage.own(await startNodeProxy('http', nodeHttpPort, targets));
    const nodeTcp = stage.own(await startNodeProxy('tcp', nodeTcpPort, targets));
    const nginxTcp = existsSync(STREAM_MODULE);

    const target = (w: Workload, c: Contender): Target | null => {
      const path = pathOf(w);
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
    const { runs, commands } = await interleavedRounds('data path', o, CONTENDERS, target, backends.pids);
    const cells: DataPathResult['cells'] = {};
    const ratios: DataPathResult['ratios'] = {};
    for (const w of o.workloads) {
      cells[w] = {};
      const of = (c: Contender) => runs.filter((x) => x.workload === w && x.contender === c);
      for (const c of CONTENDERS) cells[w][c] = cellOf(of(c));
      const f = cells[w].fulcrum;
      ratios[w] = {};
      for (const c of CONTENDERS) {
        if (c === 'fulcrum') continue;
        const other = cells[w][c];
        ratios[w][`vs_${c}`] = f && other ? round(f.rps / other.rps, 3) : null;
      }
      for (const c of CONTENDERS) {
        if (c === 'fulcrum') continue;
        const paired = roundRatios(of('fulcrum'), of(c));
        ratios[w][`vs_${c}_paired`] = paired.length ? round(median(paired), 3) : null;
      }
    }
    const parity = await configParity(api.lbDir(lb.id), lb.ip, { http: fHttp, tcp: fTcp }, hand, hp, o, stage);
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
    await stage.close();
  }
}

/** See DataPathResult.parity. `hand` is the running hand-written HAProxy, on `handPorts`. */
async function configParity(lbDir: string, lbIp: string, lbPorts: { http: number; tcp: number }, hand: Proc,
  handPorts: { http: number; tcp: number }, o: DataPathOptions, stage: Stage): Promise<DataPathResult['parity']> {
  if (o.parityRounds <= 0) return {};
  const dir = stage.dir('bench-parity-');
  const ports = { http: await freePort(), tcp: await freePort() };
  const config = readFileSync(join(lbDir, 'haproxy.cfg'), 'utf8').split(lbDir).join(dir)
    .split(`bind ${lbIp}:${lbPorts.http}\n`).join(`bind 127.0.0.1:${ports.http}\n`)
    .split(`bind ${lbIp}:${lbPorts.tcp}\n`).join(`bind 127.0.0.1:${ports.tcp}\n`);
  const mine = await startHandHaproxy(dir, config, ports.http, ports.tcp);
  try {
    const samples: Record<string, { f: ParityCell[]; h: ParityCell[] }> = {};
    for (let r = 0; r < o.parityRounds; r++) {
      for (const w of ['http-small', 'tcp-64k'] as const) {
        const tcp = w.startsWith('tcp');
        const pairs: [Proc, number, 'f' | 'h'][] = [[mine, tcp ? ports.tcp : ports.http, 'f'], [hand, tcp ? handPorts.tcp : handPorts.http, 'h']];
        if (r % 2 === 1) pairs.reverse();
        for (const [proc, port, k] of pairs) {
          const s = await measure(`http://127.0.0.1:${port}${pathOf(w)}`, { threads: o.threads, connections: o.connections, seconds: o.seconds },
            proc.pids());
          ((samples[w] ??= { f: [], h: [] })[k]).push({ rps: s.rps, proxyUsPerReq: s.proxyUsPerReq! });
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
