// Section 6b (issue 10, point 7): HAProxy settings that the 2.6 manual ties to moving large amounts of data, each applied
// to the config Fulcrum renders, next to the nginx proxy of section 1 on the same backends and wrk load, in interleaved
// rounds. The lead decides from a quiet run whether the renderer takes one of them.
import { existsSync } from 'node:fs';
import { renderConfig } from '../src/dataplane/render.js';
import { assignServerIds } from '../src/dataplane/server-ids.js';
import { makeBackend, makeFrontend, makeHealthCheck, makeSnapshot } from '../test/fixtures/snapshots.js';
import { freePort } from '../test/helpers/ports.js';
import type { Workload } from './datapath.js';
import { dataPathBackends, Stage, startHandHaproxy, startNginxProxy, STREAM_MODULE, type Proc } from './lib/lab.js';
import { cellOf, interleavedRounds, pathOf, roundRatios, type Cell, type RoundRun, type RoundsOptions, type Target } from './lib/measure.js';
import { log, median, round } from './lib/util.js';

export interface Variant {
  key: string;
  /** Lines added at the end of the `global` section. */
  global?: string[];
  /** Lines added at the end of the `defaults` section (every frontend and backend inherits them; a `no option` there
   *  undoes an option of the rendered config). */
  defaults?: string[];
  /** What the 2.6 manual says it changes for large transfers. */
  why: string;
}

/** The first is the config as rendered: every ratio to "as rendered" is to it. */
export const VARIANTS: readonly Variant[] = [
  { key: 'rendered', why: 'the config Fulcrum writes today (with `option splice-response` since this section measured it)' },
  { key: 'no-splice', defaults: ['no option splice-response'],
    why: 'the config as rendered before: answers copied through HAProxy\'s buffers instead of spliced (socket → kernel pipe → socket)' },
  { key: 'splice-auto', defaults: ['option splice-auto'], why: 'splicing in both directions, when HAProxy\'s heuristics expect a gain' },
  { key: 'splice-pipesize', global: ['tune.pipesize 262144'], defaults: ['option splice-response'],
    why: 'splicing through 256 KiB pipes instead of the kernel\'s 64 KiB: fewer splice() calls when pipes fill up' },
  { key: 'bufsize-32k', global: ['tune.bufsize 32768'], why: '32 KiB buffers instead of 16 KiB: half the reads and sends per answer' },
  { key: 'recv-enough', global: ['tune.recv_enough 65536'],
    why: 'a short read ends the read loop only from 64 KiB on (default 10,136 B): HAProxy reads again before polling, '
      + 'and a splice keeps filling its pipe' },
  { key: 'maxpollevents', global: ['tune.maxpollevents 1024'],
    why: 'more events per poll (default 200); the manual: more bandwidth for some latency' },
];

export const VARIANT_CONTENDERS = ['nginx', ...VARIANTS.map((v) => v.key)] as const;

export type VariantsOptions = RoundsOptions<Workload>;

export type VariantRun = RoundRun<Workload, string>;

/** One variant against nginx, or against the config as rendered, over the rounds. */
export interface VariantRatio {
  /** Median of the per-round ratios to nginx, and their range. */
  vsNginx: number | null;
  vsNginxMin: number | null;
  vsNginxMax: number | null;
  /** Median of the per-round ratios to the config as rendered. */
  vsRendered: number | null;
}

export interface VariantsResult {
  options: VariantsOptions;
  /** Each variant's added lines, by section. */
  variants: { key: string; lines: string[]; why: string }[];
  /** The config as rendered for this run (ports and run dir of the `rendered` contender). */
  renderedConfig: string;
  commands: Record<string, string>;
  runs: VariantRun[];
  cells: Record<string, Record<string, Cell | null>>;
  ratios: Record<string, Record<string, VariantRatio>>;
}

/** The config Fulcrum renders for an LB-S with an http and a tcp frontend on 127.0.0.1, over the same two servers. */
export function renderedConfig(runDir: string, servers: string[], serverPort: number, ports: { http: number; tcp: number }): string {
  // The data path's health check (section 1): tcp, every 3 s.
  const healthCheck = makeHealthCheck({ checkDelayMs: 3000, checkTimeoutMs: 1000, checkMaxRetries: 3, transientCheckDelayMs: 500 });
  const backend = (p: 'http' | 'tcp') => makeBackend(p, 'bench', { forwardProtocol: p, forwardPort: serverPort, pool: servers, healthCheck });
  const snap = makeSnapshot('bench', ['127.0.0.1'], [makeFrontend('http', 'bench', 'http', ports.http), makeFrontend('tcp', 'bench', 'tcp', ports.tcp)],
    [backend('http'), backend('tcp')]);
  return renderConfig(snap, { runDir, serverIds: assignServerIds({}, snap) });
}

/** The variant's lines appended to their sections (which end at a blank line); throws when the config lacks one. */
export function applyVariant(config: string, v: Variant): string {
  const insert = (text: string, section: string, lines: string[] = []) => {
    if (lines.length === 0) return text;
    const head = text.indexOf(`\n${section}\n`);
    if (head < 0) throw new Error(`the rendered config has no ${section} section`);
    const end = text.indexOf('\n\n', head + 1);
    const at = end < 0 ? text.length : end + 1;
    return `${text.slice(0, at)}${lines.map((l) => `  ${l}\n`).join('')}${text.slice(at)}`;
  };
  return insert(insert(config, 'global', v.global), 'defaults', v.defaults);
}

export async function variantsBench(o: VariantsOptions): Promise<VariantsResult> {
  const stage = new Stage();
  try {
    const { ips, port: bport, targets, proc: backends } = await dataPathBackends(stage, '127.247.0');
    const np = { http: await freePort(), tcp: await freePort() };
    const nginx = stage.own(await startNginxProxy(stage.dir('bench-var-nginx-'), targets, np.http, np.tcp));
    const proxies: Record<string, { ports: { http: number; tcp: number }; proc: Proc }> = { nginx: { ports: np, proc: nginx } };
    let baseConfig = '';
    for (const v of VARIANTS) {
      const dir = stage.dir(`bench-var-${v.key}-`);
      const ports = { http: await freePort(), tcp: await freePort() };
      const rendered = renderedConfig(dir, ips, bport, ports);
      if (v === VARIANTS[0]) baseConfig = rendered;
      proxies[v.key] = { ports, proc: stage.own(await startHandHaproxy(dir, applyVariant(rendered, v), ports.http, ports.tcp)) };
    }
    const nginxTcp = existsSync(STREAM_MODULE);
    const target = (w: Workload, c: string): Target | null => {
      const tcp = w.startsWith('tcp');
      if (tcp && c === 'nginx' && !nginxTcp) return null;
      const p = proxies[c];
      return { url: `http://127.0.0.1:${tcp ? p.ports.tcp : p.ports.http}${pathOf(w)}`, pids: p.proc.pids };
    };
    const { runs, commands } = await interleavedRounds('variants', o, VARIANT_CONTENDERS, target, backends.pids);
    const cells: VariantsResult['cells'] = {};
    const ratios: VariantsResult['ratios'] = {};
    for (const w of o.workloads) {
      const of = (c: string) => runs.filter((x) => x.workload === w && x.contender === c);
      cells[w] = Object.fromEntries(VARIANT_CONTENDERS.map((c) => [c, cellOf(of(c))]));
      ratios[w] = {};
      for (const v of VARIANTS) {
        const toNginx = roundRatios(of(v.key), of('nginx'));
        const r3 = (xs: number[], f: (xs: number[]) => number) => (xs.length ? round(f(xs), 3) : null);
        const q: VariantRatio = { vsNginx: r3(toNginx, median), vsNginxMin: r3(toNginx, (xs) => Math.min(...xs)),
          vsNginxMax: r3(toNginx, (xs) => Math.max(...xs)), vsRendered: r3(roundRatios(of(v.key), of(VARIANTS[0].key)), median) };
        ratios[w][v.key] = q;
        log(`variants ${w} ${v.key}: × nginx ${q.vsNginx} (${q.vsNginxMin}–${q.vsNginxMax}), × as rendered ${q.vsRendered}, `
          + `${cells[w][v.key]?.proxyUsPerReq} µs/req`);
      }
    }
    const variants = VARIANTS.map((v) => ({ key: v.key, why: v.why,
      lines: [...(v.global ?? []).map((l) => `global: ${l}`), ...(v.defaults ?? []).map((l) => `defaults: ${l}`)] }));
    return { options: o, variants, renderedConfig: baseConfig, commands, runs, cells, ratios };
  } finally {
    await stage.close();
  }
}
