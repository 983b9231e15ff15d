// Section 5, TLS termination: HTTPS requests on kept-alive connections, and a new connection (a full TLS handshake)
// per request, through Fulcrum vs a hand-written HAProxy and nginx, all with the same ECDSA P-256 certificate, in front
// of the same nginx backends, interleaved rounds. `node dist/bench/tls.js` runs it alone (bench/results/tls.json).
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pki } from '../test/fixtures/pki.js';
import { freePort } from '../test/helpers/ports.js';
import { Api } from './lib/fulcrum.js';
import { handHaproxyTlsConfig, removeDir, startBackends, startHandHaproxy, startNginxTlsProxy, workDir, type Proc } from './lib/lab.js';
import { haproxyPidsUnder, stop, stopAll, sumTicks, CLK_TCK } from './lib/procs.js';
import { log, median, round } from './lib/util.js';
import { wrk, type WrkOptions } from './lib/wrk.js';

export const TLS_CONTENDERS = ['fulcrum', 'haproxy', 'nginx'] as const;
export const TLS_WORKLOADS = ['https-keepalive', 'tls-handshake'] as const;
type Contender = (typeof TLS_CONTENDERS)[number];
type Workload = (typeof TLS_WORKLOADS)[number];

export interface TlsOptions {
  seconds: number;
  rounds: number;
  connections: number;
  threads: number;
}

export interface TlsResult {
  options: TlsOptions;
  certificate: string;
  /** Median req/s, p99 ms and proxy CPU µs per request, per workload and contender. */
  cells: Record<string, Record<string, { rps: number; p99: number; proxyUsPerReq: number; errors: number }>>;
  /** Fulcrum's median req/s over the other contender's. */
  ratios: Record<string, Record<string, number>>;
}

export async function tlsBench(api: Api, o: TlsOptions): Promise<TlsResult> {
  const procs: Proc[] = [];
  const dirs: string[] = [];
  const pki = await Pki.create();
  try {
    const ips = ['127.242.0.11', '127.242.0.12'];
    const bport = await freePort(ips[0]);
    const targets = ips.map((ip) => `${ip}:${bport}`);
    const be = workDir('bench-tls-be-');
    dirs.push(be);
    procs.push(await startBackends(be, ips, bport));
    const leaf = await pki.leaf(['bench.example.com'], { key: 'ec-pkcs8' });
    const dir = workDir('bench-tls-');
    dirs.push(dir);
    const [certFile, keyFile, pemFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem'), join(dir, 'all.pem')];
    writeFileSync(certFile, `${leaf.cert}${pki.intermediateCert}`);
    writeFileSync(keyFile, leaf.key);
    writeFileSync(pemFile, leaf.chain);

    const lb = await api.createLb('bench-tls');
    const cert = (await api.call('POST', `/lbs/${lb.id}/certificates`, { name: 'bench', custom_certificate: { certificate_chain: leaf.chain } })).json;
    const hc = { port: bport, check_delay: 3000, check_timeout: 1000, check_max_retries: 3, check_send_proxy: false, tcp_config: {} };
    const backendId = await api.createBackend(lb.id, { name: 'https', forward_protocol: 'http', forward_port: bport, server_ip: ips, health_check: hc });
    const fport = await freePort(lb.ip);
    await api.call('POST', `/lbs/${lb.id}/frontends`, { name: 'https', inbound_port: fport, backend_id: backendId, certificate_ids: [cert.id],
      enable_http3: false, enable_access_logs: false });
    await api.waitReady(lb.id);
    const hport = await freePort();
    const hand = await startHandHaproxy(dir, handHaproxyTlsConfig(targets, hport, pemFile), hport);
    const nport = await freePort();
    const nginxDir = workDir('bench-tls-nginx-');
    dirs.push(nginxDir);
    const nginx = await startNginxTlsProxy(nginxDir, targets, nport, certFile, keyFile);
    procs.push(hand, nginx);

    const target: Record<Contender, { url: string; pids: () => number[] }> = {
      fulcrum: { url: `https://${lb.ip}:${fport}/`, pids: () => haproxyPidsUnder(api.lbDir(lb.id)) },
      haproxy: { url: `https://127.0.0.1:${hport}/`, pids: hand.pids },
      nginx: { url: `https://127.0.0.1:${nport}/`, pids: nginx.pids },
    };
    const samples: Record<string, Record<string, { rps: number; p99: number; us: number; errors: number }[]>> = {};
    for (let r = 0; r < o.rounds; r++) {
      for (const w of TLS_WORKLOADS) {
        const wo: WrkOptions = { threads: o.threads, connections: o.connections, seconds: o.seconds,
          header: w === 'tls-handshake' ? 'Connection: close' : undefined };
        const order = TLS_CONTENDERS.map((_, i) => TLS_CONTENDERS[(i + r) % TLS_CONTENDERS.length]);
        for (const c of order) {
          const pids = target[c].pids();
          const t0 = sumTicks(pids);
          const res = await wrk(target[c].url, wo);
          const us = ((sumTicks(pids) - t0) / CLK_TCK) * 1e6 / Math.max(1, res.requests);
          ((samples[w] ??= {})[c] ??= []).push({ rps: res.rps, p99: res.p99, us, errors: res.errors + res.non2xx });
          log(`tls r${r + 1} ${w} ${c}: ${Math.round(res.rps)} req/s p99 ${res.p99} ms ${round(us, 1)} µs/req`);
        }
      }
    }
    const cells: TlsResult['cells'] = {};
    const ratios: TlsResult['ratios'] = {};
    for (const w of TLS_WORKLOADS) {
      cells[w] = {};
      for (const c of TLS_CONTENDERS) {
        const xs = samples[w][c];
        cells[w][c] = { rps: round(median(xs.map((x) => x.rps)), 0), p99: median(xs.map((x) => x.p99)),
          proxyUsPerReq: round(median(xs.map((x) => x.us)), 1), errors: xs.reduce((a, x) => a + x.errors, 0) };
      }
      ratios[w] = { vs_haproxy: round(cells[w].fulcrum.rps / cells[w].haproxy.rps, 3), vs_nginx: round(cells[w].fulcrum.rps / cells[w].nginx.rps, 3) };
    }
    await api.call('DELETE', `/lbs/${lb.id}?release_ip=true`);
    await api.f.waitGone('fr-par-1', lb.id);
    return { options: o, certificate: 'ECDSA P-256 leaf + intermediate, TLS 1.3 negotiated (wrk/OpenSSL 3)', cells, ratios };
  } finally {
    for (const p of procs) await stop(p.child);
    for (const d of dirs) removeDir(d);
    pki.close();
  }
}

/** The markdown table of a result (docs/benchmarks.md, section 5). */
export function tlsTable(r: TlsResult): string {
  const rows = TLS_WORKLOADS.flatMap((w) => TLS_CONTENDERS.map((c) => {
    const x = r.cells[w][c];
    const ratio = c === 'fulcrum' ? '' : ` ${r.ratios[w][`vs_${c}`]}`;
    return `| ${w} | ${c} | ${x.rps} | ${x.p99} | ${x.proxyUsPerReq} | ${x.errors} |${ratio} |`;
  }));
  return ['| workload | contender | req/s (median) | p99 ms | proxy CPU µs/req | errors | Fulcrum / it |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const o: TlsOptions = quick ? { seconds: 1, rounds: 1, connections: 50, threads: 1 } : { seconds: 3, rounds: 3, connections: 50, threads: 1 };
  void (async () => {
    const api = await Api.start('127.243.0.0/16');
    try {
      const r = await tlsBench(api, o);
      const out = join(fileURLToPath(import.meta.url), '../../../bench/results');
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, quick ? 'tls-quick.json' : 'tls.json'), `${JSON.stringify(r, null, 2)}\n`);
      console.log(tlsTable(r));
    } finally {
      await api.destroy();
      await stopAll();
    }
  })().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
