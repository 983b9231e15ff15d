// docs/benchmarks.md from the results JSON: the template (bench/benchmarks.template.md, where the prose lives) with its
// {{block:NAME}} tables and {{path.to.value}} numbers filled in, plus the two SVG charts next to it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTENDERS, WORKLOADS } from './datapath.js';
import { dataPathChart, latencyChart } from './svg.js';
import { tlsTable } from './tls.js';
import { VARIANT_CONTENDERS, VARIANTS } from './variants.js';

type Any = any; // the results JSON, as written by run.ts

const LABELS: Record<string, string> = {
  direct: 'direct → nginx (the limit)', fulcrum: 'Fulcrum LB (HAProxy)', haproxy: 'hand-written HAProxy', nginx: 'nginx proxy',
  node: 'Node.js proxy (http-proxy / socket pipe)',
};
const WORKLOAD_LABELS: Record<string, string> = {
  'http-small': 'HTTP, 3-byte body', 'http-64k': 'HTTP, 64 KiB body', 'tcp-small': 'TCP, 3-byte body', 'tcp-64k': 'TCP, 64 KiB body',
};

export const num = (v: unknown, digits?: number): string => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v === null || v === undefined ? '–' : String(v);
  if (digits !== undefined) return v.toFixed(digits);
  if (Number.isInteger(v) && Math.abs(v) >= 10_000) return v.toLocaleString('en-US');
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
};
const mb = (kb: number): string => (kb / 1024).toFixed(1);
const table = (head: string[], rows: string[][]): string =>
  [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const verdict = (ok: boolean | null): string => (ok === null ? 'not measured' : ok ? '**met**' : '**missed**');

/** The numbers every goal is held against, with a verdict; used in the summary and by the template. */
export function goals(r: Any): { goal: string; measured: string; ok: boolean | null }[] {
  const out: { goal: string; measured: string; ok: boolean | null }[] = [];
  const dp = r.datapath;
  if (dp) {
    // Judged on the median of the per-round ratios (each round ran the contenders back to back).
    for (const w of Object.keys(dp.ratios)) {
      const q = dp.ratios[w];
      const hp = q.vs_haproxy_paired ?? q.vs_haproxy;
      out.push({ goal: `${WORKLOAD_LABELS[w]}: Fulcrum ≥ 0.97× hand-written HAProxy`,
        measured: `${num(hp, 3)}× (ratio of the medians ${num(q.vs_haproxy, 3)}×)`, ok: hp === null ? null : hp >= 0.97 });
      const ng = q.vs_nginx_paired ?? q.vs_nginx;
      const nd = q.vs_node_paired ?? q.vs_node;
      out.push({ goal: `${WORKLOAD_LABELS[w]}: Fulcrum ahead of nginx and of the Node proxy`,
        measured: `${num(ng, 2)}× nginx, ${num(nd, 2)}× Node`, ok: ng === null || nd === null ? null : ng > 1 && nd > 1 });
    }
  }
  const c = r.changes;
  if (c) {
    out.push({ goal: 'pool change visible in traffic, p99 ≤ 50 ms (remove: last request on the removed server)',
      measured: `p50 ${num(c.removeTraffic.p50)} ms, p99 ${num(c.removeTraffic.p99)} ms`, ok: c.removeTraffic.p99 <= 50 });
    out.push({ goal: 'pool change applied, p99 ≤ 50 ms (add: server registered and enabled in the worker, checks pending)',
      measured: `p50 ${num(c.addRuntime.p50)} ms, p99 ${num(c.addRuntime.p99)} ms`, ok: c.addRuntime.p99 <= 50 });
    out.push({ goal: 'reload-class change visible in traffic, p99 ≤ 500 ms',
      measured: `p50 ${num(c.reloadTraffic.p50)} ms, p99 ${num(c.reloadTraffic.p99)} ms`, ok: c.reloadTraffic.p99 <= 500 });
    out.push({ goal: `zero failed requests across ${c.mixed.changes} mixed changes`,
      measured: `${num(c.mixed.failed)} failed of ${num(c.mixed.requests)}`, ok: c.mixed.failed === 0 });
  }
  const ru = r.rules;
  if (ru) {
    out.push({ goal: '10,000-subnet ACL: traffic costs at most a few percent (≥ 0.95× no rule)',
      measured: `${num(ru.cells['acl-10000'].vsNone, 3)}×`, ok: ru.cells['acl-10000'].vsNone >= 0.95 });
    out.push({ goal: '10,000-subnet list replaced within a second (PUT → LB ready)', measured: `${num(ru.subnetUpdateMs)} ms`,
      ok: ru.subnetUpdateMs < 1000 });
  }
  const k = r.control;
  if (k) {
    const reads = Object.entries(k.runs as Record<string, Any>).filter(([key]) => /^(get|list)@\d+$/.test(key));
    for (const [key, v] of reads) {
      out.push({ goal: `API ${v.label}: p99 ≤ 5 ms`, measured: `p99 ${num(v.result.p99)} ms at ${num(v.result.rps)} req/s achieved`,
        ok: v.result.p99 <= 5 && v.result.rps >= 0.95 * Number(key.split('@')[1]) });
    }
  }
  return out;
}

function blocks(r: Any): Record<string, string> {
  const b: Record<string, string> = {};
  const m = r.machine;
  b.machine = table(['', ''], [
    ['CPU', `${m.cpu}, ${m.nproc} vCPU (nproc)`], ['memory', `${m.memoryGiB} GiB`], ['kernel', m.kernel], ['Node.js', m.node],
    ['HAProxy', m.haproxy], ['nginx', m.nginx], ['wrk', m.wrk], ['open files limit of the run (soft / hard)', m.fileLimit ?? 'unknown'],
    ['load average (1/5/15 min) before → after', `${r.loadBefore.join(' / ')} → ${(r.loadAfter ?? []).join(' / ')}`],
    ['run', `${r.mode}, ${r.startedAt}, ${r.totalSeconds} s (${Object.entries(r.sectionSeconds ?? {}).map(([k, v]) => `${k} ${v} s`).join(', ')})`],
  ]);
  const peak = Math.max(...r.loadBefore, ...(r.loadAfter ?? []));
  b.note_shared = peak > m.nproc * 0.75
    ? `**This run shared the machine.** The load average reached ${num(peak)} on ${m.nproc} vCPUs around the run (other engineers' test suites were running), so absolute numbers are lower and noisier than on an idle machine; the interleaving keeps the comparisons fair, and CPU per request is less affected than requests/s.`
    : 'The machine was otherwise idle during the run (load average below the core count before and after).';
  const ru = r.rules;
  const RULE_LABELS: Record<string, string> = {
    none: 'no rule', 'acl-10': 'one ACL, 10 subnets', 'acl-10000': 'one ACL, 10,000 subnets', 'routes-100': '100 host routes',
  };
  b.rules = ru ? table(['frontend', 'req/s', 'p50 ms', 'p99 ms', '× no rule (median of per-round ratios)'],
    Object.entries(ru.cells as Record<string, Any>).map(([c, v]) => [RULE_LABELS[c] ?? c, num(v.rps), num(v.p50), num(v.p99), num(v.vsNone, 3)]))
    + `\n\nMeasured ${ru.startedAt} (load average ${ru.load.map((l: number[]) => l.join(' / ')).join(' → ')}); `
    + `a 10,000-subnet list replaced → LB ready: ${num(ru.subnetUpdateMs)} ms (median).`
    : 'Not measured in this run.';
  b.goals = table(['goal', 'measured', 'verdict'], goals(r).map((g) => [g.goal, g.measured, verdict(g.ok)]));
  const dp = r.datapath;
  if (dp) {
    b.datapath = WORKLOADS.filter((w) => dp.cells[w]).map((w) => {
      const cells = dp.cells[w];
      const f = cells.fulcrum;
      const rows = CONTENDERS.map((c) => {
        const x = cells[c];
        if (!x) return [LABELS[c], 'not run', '', '', '', '', ''];
        return [c === 'fulcrum' ? `**${LABELS[c]}**` : LABELS[c], num(x.rps), f && c !== 'fulcrum' ? `${num(f.rps / x.rps, 2)}×` : '',
          num(x.p50), num(x.p99), x.proxyUsPerReq === null ? '–' : num(x.proxyUsPerReq), num(x.backendUsPerReq)];
      });
      return `**${WORKLOAD_LABELS[w]}**\n\n${table(['path', 'req/s (median)', 'Fulcrum ÷ it', 'p50 ms', 'p99 ms', 'proxy CPU µs/req', 'backend CPU µs/req'], rows)}`;
    }).join('\n\n');
    b.datapath_runs = table(['workload', 'round', ...CONTENDERS], WORKLOADS.filter((w) => dp.cells[w]).flatMap((w) =>
      Array.from({ length: dp.options.rounds }, (_, i) => [w, String(i + 1), ...CONTENDERS.map((c) => {
        const run = dp.runs.find((x: Any) => x.workload === w && x.contender === c && x.round === i + 1);
        return run ? num(run.rps) : '–';
      })])));
    b.datapath_commands = '```\n' + Object.entries(dp.commands as Record<string, string>).map(([k, v]) => `# ${k}\n${v}`).join('\n') + '\n```';
    b.hand_config = '```\n' + dp.handConfig.trim() + '\n```';
    b.parity = dp.parity && Object.keys(dp.parity).length ? table(['workload', 'Fulcrum\'s config, started by hand: req/s', 'µs CPU/req', 'hand-written config: req/s', 'µs CPU/req', 'ratio'],
      Object.entries(dp.parity as Record<string, Any>).map(([w, v]) => [WORKLOAD_LABELS[w], num(v.fulcrumConfig.rps), num(v.fulcrumConfig.proxyUsPerReq),
        num(v.handConfig.rps), num(v.handConfig.proxyUsPerReq), `${num(v.fulcrumConfig.rps / v.handConfig.rps, 3)}×`])) : '(not run)';
    b.datapath_memory = table(['process', 'RSS MB', 'PSS MB'], Object.entries(dp.memory as Record<string, Any>).map(([k, v]) => [k, mb(v.rss), mb(v.pss)]));
  }
  const c = r.changes;
  if (c) {
    const row = (label: string, d: Any, goal: string) => [label, String(d.n), num(d.p50), num(d.p99), num(d.max), goal];
    b.changes = table(['change → observed', 'n', 'p50 ms', 'p99 ms', 'max ms', 'goal (p99)'], [
      row('add a server → registered and enabled in the worker (runtime API; the part without checks)', c.addRuntime, '≤ 50 ms'),
      row('add a server → its first request (held DOWN until 2 passing checks)', c.addTraffic, 'bounded by the checks'),
      row('remove a server → its last request', c.removeTraffic, '≤ 50 ms'),
      row('pool change (add or remove) → LB `ready` (runtime, then the file)', c.poolReady, '–'),
      row('reload-class change (algorithm + timeout) → traffic follows it', c.reloadTraffic, '≤ 500 ms'),
      row('reload-class change → LB `ready` (reload confirmed by `show proc`)', c.reloadReady, '–'),
    ]);
    b.mixed = table(['changes', 'add / remove / set servers / reload-class', 'duration s', 'requests', 'failed'],
      [[String(c.mixed.changes), `${c.mixed.byKind.add} / ${c.mixed.byKind.remove} / ${c.mixed.byKind.set} / ${c.mixed.byKind.reload}`,
        num(c.mixed.seconds), num(c.mixed.requests), `**${c.mixed.failed}**`]]);
    b.mixed_errors = c.mixed.errors.length ? `First failures seen: ${c.mixed.errors.map((e: string) => `\`${e.replace(/\s+/g, ' ').slice(0, 80)}\``).join(', ')}.` : '';
  }
  const k = r.control;
  if (k) {
    b.control = table(['request', 'req/s achieved', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx', 'serve CPU µs/req'],
      Object.values(k.runs as Record<string, Any>).map((v) => [v.label, num(v.result.rps), num(v.result.p50), num(v.result.p90),
        num(v.result.p99), num(v.result.max), num(v.result.non2xx + v.result.errors), num(v.result.serveUsPerReq)]));
    b.control_commands = '```\n' + Object.values(k.runs as Record<string, Any>).map((v) => v.command).join('\n') + '\n```';
    b.control_memory = table(['process', 'RSS MB', 'PSS MB'], Object.entries(k.memory as Record<string, Any>).map(([n, v]) => [n, mb(v.rss), mb(v.pss)]));
  }
  const s = r.scale;
  if (s) {
    const g = s.big;
    b.scale_big = table(['what', 'measured'], [
      [`config at ${g.renderedSize ?? g.size}`, `${num(g.configLines)} lines, ${mb(g.configBytes / 1024)} MB`],
      ['render it (pure function, median)', `${num(g.renderMs)} ms`], ['`haproxy -c` on it', g.validateMs.map((x: number) => `${num(x)} ms`).join(', ')],
      ['size of the LB built through the API', g.size], ...(g.fdNote ? [['why not the full size', g.fdNote]] : []),
      ['building it through the API (backends with their servers, then frontends)', `${num(g.buildSeconds)} s`],
      ['last API call → LB ready', `${num(g.firstApplyMs)} ms`],
      ['reload-class change → ready (render, reload)', g.reloadReadyMs.map((x: number) => `${num(x)} ms`).join(', ')],
      ['pool change → ready (runtime, then the file)', g.poolReadyMs.map((x: number) => `${num(x)} ms`).join(', ')],
      ...Object.entries(g.memory as Record<string, Any>).map(([n, v]) => [`memory: ${n}`, `RSS ${mb(v.rss)} MB, PSS ${mb(v.pss)} MB`]),
    ]);
    b.scale_api = table(['request at that size', 'req/s achieved', 'p50 ms', 'p99 ms', 'serve CPU µs/req'],
      Object.values(g.api as Record<string, Any>).map((v) => [v.label, num(v.result.rps), num(v.result.p50), num(v.result.p99), num(v.result.serveUsPerReq)]));
    b.fd_note = g.fdNote ? `${g.fdNote}.` : 'Every size asked for fit this machine\'s file-descriptor limit.';
    // One column per run (LBs created one at a time, then several at once); older results hold a single run.
    const runs: Any[] = [s.many].flat();
    const row = (what: string, f: (n: Any) => string) => [what, ...runs.map(f)];
    b.scale_many = table(['what', ...runs.map((n) => `${n.parallel ?? 1} created at once`)], [
      row('LBs (1 frontend, 1 backend × 2 servers, tcp checks every 3 s)', (n) => String(n.lbs)),
      row('first API call of an LB → ready', (n) => `p50 ${num(n.startMs.p50)} ms, p99 ${num(n.startMs.p99)} ms`),
      row('first create → all ready', (n) => `${num(n.allReadySeconds)} s`),
      row('answered 200', (n) => `${n.answered200} of ${n.lbs}`),
      row('HAProxy processes', (n) => String(n.processes)),
      row('HAProxy memory, total', (n) => `RSS ${mb(n.memoryHaproxyTotal.rss)} MB, PSS ${mb(n.memoryHaproxyTotal.pss)} MB`),
      row('HAProxy memory per LB', (n) => `RSS ${mb(n.memoryPerLb.rss)} MB, PSS ${mb(n.memoryPerLb.pss)} MB`),
      row('fulcrum serve memory', (n) => `RSS ${mb(n.memoryServe.rss)} MB, PSS ${mb(n.memoryServe.pss)} MB`),
      row('idle CPU of all their HAProxy over 5 s', (n) => `${num(n.idleCpuCoreSecondsPer5s)} core-seconds`),
      row('deleting them all', (n) => `${num(n.deleteSeconds)} s`),
    ]);
  }
  if (r.tls) b.tls = tlsTable(r.tls);
  b.variants_list = table(['variant', 'lines added to the rendered config', 'what it changes (HAProxy 2.6 manual)'], VARIANTS.map((v) => [v.key,
    [...(v.global ?? []).map((l) => `global: \`${l}\``), ...(v.defaults ?? []).map((l) => `defaults: \`${l}\``)].join(', ') || '–', v.why]));
  b.variants = r.variants ? variantsBlock(r.variants)
    : 'Not measured in this run: `npm run bench -- --only=variants` measures it.';
  return b;
}

/**
 * Section 6b: every variant's median ratio to nginx (range over the rounds) per workload, then per workload the req/s,
 * the ratio to the config as rendered, p99 and the proxy's CPU per request.
 */
function variantsBlock(v: Any): string {
  const ws = WORKLOADS.filter((w) => v.cells[w]);
  const label = (key: string) => {
    const x = v.variants.find((y: Any) => y.key === key);
    return x ? `${key}${x.lines.length ? ` (${x.lines.map((l: string) => `\`${l.replace(/^\w+: /, '')}\``).join(', ')})` : ''}` : `${key} proxy`;
  };
  const summary = table(['HAProxy variant', ...ws.map((w) => `${WORKLOAD_LABELS[w]}: × nginx (range)`)],
    v.variants.map((x: Any) => [label(x.key), ...ws.map((w) => {
      const q = v.ratios[w][x.key];
      return q.vsNginx === null ? '–' : `${num(q.vsNginx, 2)} (${num(q.vsNginxMin, 2)}–${num(q.vsNginxMax, 2)})`;
    })]));
  const details = ws.map((w) => `**${WORKLOAD_LABELS[w]}**\n\n${table(['contender', 'req/s (median)', '× as rendered (per round, median)', 'p99 ms',
    'proxy CPU µs/req'], VARIANT_CONTENDERS.map((c) => {
    const x = v.cells[w][c];
    if (!x) return [label(c), 'not run', '', '', ''];
    return [label(c), num(x.rps), c === 'nginx' ? '' : `${num(v.ratios[w][c].vsRendered, 3)}×`, num(x.p99), num(x.proxyUsPerReq)];
  }))}`);
  const o = v.options;
  return [`wrk -t${o.threads} -c${o.connections}, ${o.seconds} s per run, ${o.rounds} interleaved rounds.`, summary, ...details].join('\n\n');
}

function lookup(r: Any, path: string): unknown {
  let v: Any = r;
  for (const k of path.split('.')) v = v?.[k];
  return v;
}

export function fill(template: string, r: Any): string {
  const b = blocks(r);
  return template
    .replace(/\{\{block:([\w-]+)\}\}/g, (_, name: string) => b[name] ?? `(no ${name} in these results)`)
    // {{a.b.c}}, {{a.b.c|2}} (2 decimals), {{a.b.c|mb}} (kB as MB).
    .replace(/\{\{([\w.@-]+)(?:\|(\w+))?\}\}/g, (_, path: string, f?: string) => {
      const v = lookup(r, path);
      if (f === 'mb') return typeof v === 'number' ? mb(v) : num(v);
      return num(v, f === undefined ? undefined : Number(f));
    });
}

export function charts(r: Any): { datapath: string | null; changes: string | null } {
  const dp = r.datapath;
  const c = r.changes;
  return {
    datapath: dp ? dataPathChart(WORKLOADS.filter((w) => dp.cells[w]).map((w) => ({
      name: WORKLOAD_LABELS[w],
      bars: CONTENDERS.map((k) => ({ key: k, label: LABELS[k].replace(/ \(.*\)$/, ''), value: dp.cells[w][k]?.rps ?? null })),
    })), `Data path: requests/s, median of ${dp.options.rounds} interleaved rounds (wrk -t${dp.options.threads} -c${dp.options.connections} -d${dp.options.seconds}s)`) : null,
    changes: c ? latencyChart([
      { label: 'add → in the worker (runtime API)', p50: c.addRuntime.p50, p99: c.addRuntime.p99, goal: 50 },
      { label: 'add → first request (2 checks at 100 ms)', p50: c.addTraffic.p50, p99: c.addTraffic.p99 },
      { label: 'remove → last request', p50: c.removeTraffic.p50, p99: c.removeTraffic.p99, goal: 50 },
      { label: 'pool change → LB ready', p50: c.poolReady.p50, p99: c.poolReady.p99 },
      { label: 'reload-class → traffic follows', p50: c.reloadTraffic.p50, p99: c.reloadTraffic.p99, goal: 500 },
      { label: 'reload-class → LB ready', p50: c.reloadReady.p50, p99: c.reloadReady.p99 },
    ], 'Change path: from the API answer to traffic (log scale)') : null,
  };
}

/** Writes docs/benchmarks.md and its charts (or, for a dry run, the same under bench/results/quick/). */
export function generateDocs(r: Any, root: string, o: { dryRun?: boolean } = {}): void {
  const template = readFileSync(join(root, 'bench', 'benchmarks.template.md'), 'utf8');
  const dir = o.dryRun ? join(root, 'bench', 'results', 'quick') : join(root, 'docs');
  mkdirSync(dir, { recursive: true });
  const ch = charts(r);
  if (ch.datapath) writeFileSync(join(dir, 'benchmarks-datapath.svg'), ch.datapath);
  if (ch.changes) writeFileSync(join(dir, 'benchmarks-changes.svg'), ch.changes);
  writeFileSync(join(dir, 'benchmarks.md'), fill(template, r));
}
