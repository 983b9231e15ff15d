// TLS and ACME parts of the rendered config, called from render.ts:
// - a frontend with certificates binds `ssl crt-list <file>`: one crt-list per frontend, its certificates in
//   certificate_ids order. HAProxy takes each certificate's names (CN and DNS SANs, wildcards included) for SNI, and
//   the first line of the list serves clients without SNI or with a name no certificate covers;
// - the LB's ssl_compatibility_level picks the Mozilla server-side TLS profile (versions and ciphers) of its binds;
// - HTTP-01 answers come from a map the runtime API updates (`add map` / `del map`), so a challenge goes live without a
//   reload: the first rule of every HTTP frontend on port 80, or a temporary listener on port 80 while an ACME order
//   runs and the LB has no frontend there.
// The crt-list file name carries a hash of its text, so that any change of the list changes the config text (a reload)
// and a file in use is never rewritten.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Backend } from '../domain/backends.js';
import { certificateFileName, type Certificate } from '../domain/certificates.js';
import type { Frontend } from '../domain/frontends.js';
import type { SslCompatibilityLevel } from '../domain/lbs.js';
import type { LbSnapshot } from '../domain/snapshot.js';
import { checkId } from './names.js';
import { hostPort, safeToken } from './tokens.js';

/** Mozilla server-side TLS profiles (guidelines 5.7), as HAProxy 2.6 bind keywords. */
const PROFILES: Record<'modern' | 'intermediate' | 'old', string[]> = {
  modern: ['ssl-min-ver', 'TLSv1.3', 'ciphersuites', 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256'],
  intermediate: ['ssl-min-ver', 'TLSv1.2', 'ciphers',
    'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:'
    + 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:'
    + 'DHE-RSA-CHACHA20-POLY1305',
    'ciphersuites', 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256'],
  // TLS 1.0 and 1.1 sign the handshake with SHA-1, which OpenSSL 3 allows only at security level 0.
  old: ['ssl-min-ver', 'TLSv1.0', 'ciphers',
    'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:'
    + 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:'
    + 'DHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:'
    + 'ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:'
    + 'DHE-RSA-AES256-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:'
    + 'DES-CBC3-SHA:@SECLEVEL=0',
    'ciphersuites', 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256'],
};

/** `unknown` (and anything unset) reads as the default, intermediate. */
export function tlsProfile(level: SslCompatibilityLevel): string[] {
  if (level === 'ssl_compatibility_level_modern') return PROFILES.modern;
  if (level === 'ssl_compatibility_level_old') return PROFILES.old;
  return PROFILES.intermediate;
}

export interface TlsPaths {
  /** Directory of the certificates' PEM files (store/certificate-files.ts). */
  certDir: string;
  /** The LB's run directory (crt-lists and the challenge map live there). */
  runDir: string;
}

export interface CrtList {
  path: string;
  text: string;
}

/** The crt-list of a frontend, or null when it terminates no TLS. Certificates not ready (no PEM yet) are left out. */
export function crtListOf(f: Frontend, snapshot: LbSnapshot, p: TlsPaths): CrtList | null {
  if (f.certificateIds.length === 0) return null;
  const certs = new Map((snapshot.certificates ?? []).map((c) => [c.id, c]));
  const usable = f.certificateIds.map((id) => certs.get(id)).filter((c): c is Certificate => !!c && c.pemSha256 !== null);
  // Plain text on a port meant for TLS would be worse than no listener: refuse the config.
  if (usable.length === 0) throw new Error(`frontend ${f.id} has no issued certificate`);
  const text = usable.map((c) => `${safeToken('certificate path', join(p.certDir, certificateFileName(c.id)))}\n`).join('');
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { path: join(p.runDir, 'tls', `${checkId('frontend', f.id)}-${hash}.crtlist`), text };
}

/** Every crt-list the snapshot's config names (the instance writes them before validating the config). */
export function crtListsOf(snapshot: LbSnapshot, p: TlsPaths): CrtList[] {
  return snapshot.frontends.map((f) => crtListOf(f, snapshot, p)).filter((l): l is CrtList => l !== null);
}

/** The map HTTP-01 answers are read from: token → key authorization. */
export const challengeMapPath = (runDir: string): string => join(runDir, 'acme-challenges.map');

/** First rule of a frontend that answers HTTP-01: the key authorization of a known token, as text. */
function challengeRule(runDir: string): string {
  const key = `path,field(4,/),map(${safeToken('map path', challengeMapPath(runDir))})`;
  return `http-request return status 200 content-type text/plain lf-string "%[${key}]" `
    + `if { path_beg /.well-known/acme-challenge/ } { ${key} -m found }`;
}

export const ACME_PORT = 80;

/** What the TLS/ACME part adds to a frontend: words after each bind address, and rules that go before all others. */
export interface FrontendTls {
  bind: string;
  firstRules: string[];
}

export function frontendTls(f: Frontend, b: Backend, snapshot: LbSnapshot, p: TlsPaths | null): FrontendTls {
  const http = b.forwardProtocol === 'http';
  const firstRules = http && f.inboundPort === ACME_PORT && p ? [challengeRule(p.runDir)] : [];
  if (f.certificateIds.length === 0) return { bind: '', firstRules };
  if (!p) throw new Error(`frontend ${f.id} terminates TLS but the render options name no certificate directory`);
  const list = crtListOf(f, snapshot, p)!;
  const words = ['ssl', 'crt-list', safeToken('crt-list path', list.path), ...tlsProfile(snapshot.lb.sslCompatibilityLevel)];
  // HTTP backends speak HTTP/2 or HTTP/1.1 to clients, by ALPN; tcp ones pass the bytes, so no ALPN is offered.
  if (http) words.push('alpn', 'h2,http/1.1');
  return { bind: ` ${words.join(' ')}`, firstRules };
}

/**
 * A listener on port 80 that answers HTTP-01 only, while an ACME order of the LB runs and no frontend holds port 80.
 * (A tcp frontend on port 80 holds it too: its orders fail with the ACME server's reason.)
 */
export function acmeListener(snapshot: LbSnapshot, addresses: string[], p: TlsPaths | null): string[] {
  const ordering = (snapshot.certificates ?? []).some((c) => c.orderActive);
  if (!ordering || !p || snapshot.frontends.some((f) => f.inboundPort === ACME_PORT)) return [];
  return ['frontend acme_http01', '  mode http', ...addresses.map((a) => `  bind ${hostPort(a, ACME_PORT)}`),
    '  timeout client 10s', '  no log', `  ${challengeRule(p.runDir)}`, '  http-request deny deny_status 404', ''];
}
