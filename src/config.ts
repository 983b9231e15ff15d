// `fulcrum serve` settings: flags, each also FULCRUM_<NAME> in the environment.
import { resolve } from 'node:path';
import type { PrivateNetwork } from './domain/private-networks.js';
import type { SmtpConfig } from './control/alerts-mail.js';
import { normalizeSubnet } from './domain/acls.js';
import type { PemSealer } from './store/pem-seal.js';

export interface ServeConfig {
  listen: { host: string; port: number };
  dataDir: string;
  /** A postgres:// URL shared by several processes; null: the SQLite file in the data dir. */
  store: string | null;
  ipPool: string;
  zones: string[];
  /** The admin secret key (a UUID); generated and stored on first start when unset. */
  secretKey: string | null;
  /** agents: no HAProxy here; `fulcrum agent`s on the nodes run the LBs placed on them (docs/scale-out.md). */
  dataplane: 'haproxy' | 'none' | 'agents';
  logLevel: string;
  /** Requests per second per key (0: no limit) and the burst a key may send at once. */
  rateLimit: { perSecond: number; burst: number };
  /** Serve /metrics without a key. */
  metricsPublic: boolean;
  /** Size-based rotation of each LB's access.log and haproxy.log. */
  logRotation: { maxBytes: number; keep: number };
  /** The same for the admin key; perSecond 0 (the default): not limited, it is the operator's own. */
  adminRateLimit: { perSecond: number; burst: number };
  /** Private networks LBs may attach to (`--private-network ID=CIDR`). */
  privateNetworks: PrivateNetwork[];
  /** The SMTP relay of email alerts (`--smtp-url`, `--smtp-from`); null: email subscribers are refused. */
  smtp: SmtpConfig | null;
  /** Let's Encrypt certificates: the ACME directory, the account's contact, extra CAs for the ACME server's HTTPS. */
  acme?: { directoryUrl: string; email: string | null; caFile: string | null };
  /** Addresses and CIDRs that ACLs with ips_edge_services match (none by default). */
  edgeServicesIps: string[];
  /** Seals certificates' PEMs in a shared store (FULCRUM_PEM_KEY or --pem-key-file); unset: files only. */
  pemSealer?: PemSealer | null;
}

export const DEFAULTS = {
  listen: '127.0.0.1:8080',
  dataDir: './fulcrum-data',
  ipPool: '127.100.0.0/24',
  zone: 'fr-par-1',
  dataplane: 'haproxy',
  logLevel: 'info',
  rateLimit: '100',
  logMaxBytes: String(10 * 1024 * 1024),
  logKeep: '5',
  adminRateLimit: '0',
  acmeDirectory: 'https://acme-v02.api.letsencrypt.org/directory',
  edgeServicesIps: '',
} as const;

const ZONE_RE = /^[a-z]{2}-[a-z]{3,7}-[1-9]$/;

export function parseListen(s: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  if (!m || Number(m[3]) > 65535) throw new Error(`${flag} ${s}: expected HOST:PORT`);
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

export function parseZones(list: string[]): string[] {
  for (const z of list) if (!ZONE_RE.test(z)) throw new Error(`--zone ${z}: a zone looks like fr-par-1 (the SDKs refuse other shapes)`);
  return [...new Set(list)];
}

/**
 * `--rate-limit N` and `--rate-limit-burst N` (or `flag`, e.g. `--admin-rate-limit`): whole numbers; the burst defaults
 * to twice the rate (at least 1).
 */
export function parseRateLimit(rate: string, burst: string | undefined, flag = '--rate-limit'): { perSecond: number; burst: number } {
  const n = (s: string, flag: string) => {
    if (!/^\d{1,9}$/.test(s)) throw new Error(`${flag} ${s}: expected a whole number`);
    return Number(s);
  };
  const perSecond = n(rate, flag);
  const b = burst === undefined ? Math.max(1, perSecond * 2) : n(burst, `${flag}-burst`);
  if (b < 1) throw new Error(`${flag}-burst: at least 1`);
  return { perSecond, burst: b };
}

/** `--log-max-bytes N` (at least 1024) and `--log-keep N` (1 to 99). */
export function parseLogRotation(maxBytes: string, keep: string): { maxBytes: number; keep: number } {
  if (!/^\d{1,12}$/.test(maxBytes) || Number(maxBytes) < 1024) throw new Error(`--log-max-bytes ${maxBytes}: a whole number of bytes, at least 1024`);
  if (!/^\d{1,2}$/.test(keep) || Number(keep) < 1) throw new Error(`--log-keep ${keep}: a whole number from 1 to 99`);
  return { maxBytes: Number(maxBytes), keep: Number(keep) };
}

/** `--edge-services-ips a,b/24`: addresses and CIDRs, comma-separated. */
export function parseEdgeServicesIps(list: string): string[] {
  const items = list.split(',').map((x) => x.trim()).filter((x) => x);
  for (const x of items) if (normalizeSubnet(x) === null) throw new Error(`--edge-services-ips ${x}: not an address or CIDR`);
  return items;
}

export function resolveDataDir(dir: string): string {
  return resolve(dir);
}

/** `--smtp-url smtp[s]://[user:pass@]HOST:PORT` and `--smtp-from ADDR`: both or neither. */
export function parseSmtp(url: string | undefined, from: string | undefined): SmtpConfig | null {
  if (!url && !from) return null;
  if (!url || !from) throw new Error('--smtp-url and --smtp-from go together');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--smtp-url ${url}: expected smtp://HOST:PORT`);
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new Error(`--smtp-url ${url}: expected smtp:// or smtps://`);
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(from)) throw new Error(`--smtp-from ${from}: expected an email address`);
  return { url, from };
}
