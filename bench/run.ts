// `npm run bench` (add `-- --quick` for a one-minute smoke run): the data path, the change path, the control plane,
// scale and TLS termination of Fulcrum, side by side with what users would pick instead. Loopback only; every loop is bounded.
// Writes bench/results/latest.json (or quick.json) and, from it, docs/benchmarks.md and its charts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { changePath, type ChangePathOptions } from './changepath.js';
import { controlPlane, type ControlOptions } from './control.js';
import { dataPath, WORKLOADS, type DataPathOptions } from './datapath.js';
import { Api } from './lib/fulcrum.js';
import { removeWorkDirs } from './lib/lab.js';
import { stopAll } from './lib/procs.js';
import { log } from './lib/util.js';
import { generateDocs } from './report.js';
import { rulesBench, type RulesOptions } from './rules.js';
import { scale, type ScaleOptions } from './scale.js';
import { tableChanges, type TableChangesOptions } from './table-changes.js';
import { tlsBench, type TlsOptions } from './tls.js';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

const SECTIONS = ['datapath', 'rules', 'changes', 'table', 'control', 'scale', 'tls'] as const;
type Section = (typeof SECTIONS)[number];

interface Profile {
  datapath: DataPathOptions;
  rules: RulesOptions;
  changes: ChangePathOptions;
  table: TableChangesOptions;
  control: ControlOptions;
  scale: ScaleOptions;
  tls: TlsOptions;
}

const FULL: Profile = {
  datapath: { seconds: 3, rounds: 3, warmupSeconds: 1, connections: 50, threads: 1, workloads: WORKLOADS, parityRounds: 4 },
  rules: { seconds: 3, rounds: 5, connections: 50, threads: 1 },
  changes: { each: 100, mixed: 1000, reloadEach: 100, phaseSeconds: 150, mixedSeconds: 360 },
  table: { changes: 10 },
  control: { seconds: 5, rate: 1000, connections: 10, creates: 200 },
  scale: { backends: 300, frontends: 300, serversPerBackend: 100, lbs: 100, renderRepeats: 5, apiSeconds: 3, parallel: [1, 10] },
  tls: { seconds: 3, rounds: 3, connections: 50, threads: 1 },
};

const QUICK: Profile = {
  datapath: { seconds: 1, rounds: 1, warmupSeconds: 0, connections: 50, threads: 1, workloads: WORKLOADS, parityRounds: 1 },
  rules: { seconds: 1, rounds: 1, connections: 50, threads: 1 },
  changes: { each: 6, mixed: 30, reloadEach: 6, phaseSeconds: 30, mixedSeconds: 30 },
  table: { changes: 3 },
  control: { seconds: 1, rate: 1000, connections: 10, creates: 30 },
  scale: { backends: 10, frontends: 10, serversPerBackend: 100, lbs: 5, renderRepeats: 2, apiSeconds: 1, parallel: [1, 5] },
  tls: { seconds: 1, rounds: 1, connections: 50, threads: 1 },
};

function machine(): Record<string, unknown> {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const sh = (cmd: string, args: string[]) => {
    try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return 'unknown'; }
  };
  return {
    cpu: cpuModel, nproc: Number(sh('nproc', [])), memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    kernel: sh('uname', ['-r']), node: process.version,
    haproxy: sh('haproxy', ['-v']).split('\n')[0], nginx: execNginxVersion(),
    wrk: sh('dpkg-query', ['-W', '-f=${Version}', 'wrk']),
  };
}

function execNginxVersion(): string {
  // nginx prints its version on stderr.
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return `${r.stderr ?? ''}${r.stdout ?? ''}`.trim() || 'unknown';
}

const loads = () => loadavg().map((x) => Number(x.toFixed(2)));

/**
 * An LB at the API's limits needs about 25,000 file descriptors (2 × maxconn, one per server for its checks, the
 * listeners: shared spec pitfall 20), and HAProxy refuses to start below that. The harness raises its own limit,
 * which `fulcrum serve` and HAProxy inherit, when it may (root); the limit in force is recorded with the machine.
 */
function raiseFileLimit(): string {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${NOFILE}:${NOFILE}`], { stdio: 'ignore' });
  } catch { /* not allowed: the scale section reports what HAProxy says */ }
  try {
    return execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--output', 'SOFT,HARD', '--noheadings'], { encoding: 'utf8' })
      .trim().replace(/\s+/g, ' / ');
  } catch {
    return 'unknown';
  }
}
const NOFILE = 65_536;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyArg = args.find((a) => a.startsWith('--only='));
  const only = onlyArg ? onlyArg.slice(7).split(',') as Section[] : [...SECTIONS];
  const docsOnly = args.includes('--docs-only');
  const profile: Profile = structuredClone(quick ? QUICK : FULL);
  // Development overrides: --workloads=a,b --rounds=N --seconds=N (data path), --scale=big|many (scale parts).
  const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (opt('workloads')) profile.datapath.workloads = opt('workloads')!.split(',') as DataPathOptions['workloads'];
  if (opt('rounds')) profile.datapath.rounds = Number(opt('rounds'));
  if (opt('seconds')) profile.datapath.seconds = Number(opt('seconds'));
  if (opt('scale')) profile.scale.parts = opt('scale')!.split(',') as ScaleOptions['parts'];
  const resultsDir = join(ROOT, 'bench', 'results');
  // A run of some sections only (--only) never replaces the full run's results; --out=NAME names its file
  // (bench/results/NAME.json, e.g. a before/after pair).
  const out = join(resultsDir, opt('out') ? `${opt('out')}.json` : quick ? 'quick.json'
    : only.length < SECTIONS.length ? `only-${only.join('-')}.json` : 'latest.json');
  if (docsOnly) {
    generateDocs(JSON.parse(readFileSync(join(resultsDir, 'latest.json'), 'utf8')), ROOT);
    return;
  }
  const started = Date.now();
  const fileLimit = raiseFileLimit();
  const results: Record<string, unknown> = {
    mode: quick ? 'quick' : 'full', startedAt: new Date().toISOString(), machine: { ...machine(), fileLimit }, loadBefore: loads(),
    command: `npm run bench${quick ? ' -- --quick' : ''}`, profile,
  };
  // A hard bound on the whole run: whatever hangs, the harness ends and cleans up.
  const bound = setTimeout(() => {
    log('the run exceeded its time bound; writing what was measured and stopping');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(`${out}.partial`, `${JSON.stringify(results, null, 2)}\n`);
    process.exit(3);
  }, (quick ? 5 : 30) * 60_000);
  bound.unref();
  let api: Api | null = null;
  // Interrupted: the same cleanup as at the end (LBs deleted, processes ended by PID, temp dirs removed).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void (async () => {
        if (api) await api.destroy().catch(() => undefined);
        await stopAll();
        removeWorkDirs();
        process.exit(130);
      })();
    });
  }
  try {
    api = await Api.start('127.244.0.0/16');
    log(`fulcrum serve pid ${api.pid}, data dir ${api.dataDir}`);
    for (const s of only) {
      const t0 = Date.now();
      log(`section ${s}`);
      // A section that fails is recorded as such and the run goes on: the others' numbers are kept.
      try {
        if (s === 'datapath') results.datapath = await dataPath(api, profile.datapath);
        else if (s === 'rules') results.rules = await rulesBench(api, profile.rules);
        else if (s === 'changes') results.changes = await changePath(api, profile.changes);
        else if (s === 'table') results.table = await tableChanges(api, profile.table);
        else if (s === 'control') results.control = await controlPlane(api, profile.control);
        else if (s === 'scale') results.scale = await scale(api, profile.scale);
        else if (s === 'tls') results.tls = await tlsBench(api, profile.tls);
      } catch (e) {
        log(`section ${s} failed: ${(e as Error).stack ?? e}`);
        (results.errors ??= {} as Record<string, string>);
        (results.errors as Record<string, string>)[s] = String((e as Error).message ?? e);
      }
      (results.sectionSeconds ??= {} as Record<string, number>);
      (results.sectionSeconds as Record<string, number>)[s] = Math.round((Date.now() - t0) / 1000);
      results.loadAfter = loads();
      mkdirSync(resultsDir, { recursive: true });
      writeFileSync(`${out}.partial`, `${JSON.stringify(results, null, 2)}\n`);
    }
  } finally {
    if (api) await api.destroy();
    await stopAll();
    removeWorkDirs();
  }
  results.totalSeconds = Math.round((Date.now() - started) / 1000);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  rmSync(`${out}.partial`, { force: true });
  log(`results in ${out} (${results.totalSeconds} s)`);
  if (!quick && !opt('out') && only.length === SECTIONS.length && !results.errors) generateDocs(results, ROOT);
  else if (!opt('out')) generateDocs(results, ROOT, { dryRun: true });
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
