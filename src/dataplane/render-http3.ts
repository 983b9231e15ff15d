// HTTP/3 for frontends with `enable_http3`: a QUIC listener on UDP beside the TCP one, advertised with `alt-svc` in the
// HTTP answers. Only when the HAProxy binary was built with QUIC (capabilities.ts) and the frontend terminates TLS
// (QUIC is always TLS 1.3, with the frontend's certificates); otherwise the frontend serves HTTP/1.1 and HTTP/2 only
// and inert-settings.ts says so in the log.
import type { Frontend } from '../domain/frontends.js';
import type { FrontendTls } from './render-tls.js';
import { hostPort, safePort } from './tokens.js';

/** Alt-Svc lifetime: a day, so clients keep using HTTP/3 between visits. */
export const ALT_SVC_MAX_AGE_S = 86_400;

export interface Http3Context {
  /** The HAProxy binary serves QUIC. */
  quic: boolean;
  /** The frontend's backend is http: a tcp frontend has no HTTP answers to advertise in, and QUIC carries HTTP only. */
  http: boolean;
  /** The TLS words of the frontend's TCP bind (`ssl crt-list …`), rendered by the TLS code; null without TLS. */
  tls: string | null;
}

/** The TLS words of a QUIC bind: the TCP bind's, less its ALPN (QUIC offers `h3` only); null without TLS. */
export function quicTls(tls: FrontendTls): string | null {
  return tls.bind ? tls.bind.trim().replace(/\s+alpn\s+\S+$/, '') : null;
}

/** Why an `enable_http3` frontend gets no HTTP/3 here; null when it does (or does not ask for it). */
export function http3Blocker(f: Pick<Frontend, 'enableHttp3'>, c: Http3Context): string | null {
  if (!f.enableHttp3) return null;
  if (!c.quic) return 'this HAProxy build has no QUIC support; HTTP/1.1 and HTTP/2 are served as usual';
  if (!c.http) return 'HTTP/3 needs an http backend; the frontend is tcp';
  if (!c.tls) return 'HTTP/3 needs TLS termination (certificate_ids) on the frontend';
  return null;
}

/** Frontend lines for HTTP/3: one QUIC bind per address and the alt-svc header. Empty when it cannot be served. */
export function http3Lines(f: Frontend, addresses: string[], c: Http3Context): string[] {
  if (!f.enableHttp3 || http3Blocker(f, c) !== null) return [];
  const port = safePort('inbound_port', f.inboundPort);
  return [
    ...addresses.map((a) => `bind ${a.includes(':') ? 'quic6' : 'quic4'}@${hostPort(a, port)} ${c.tls} alpn h3`),
    `http-after-response set-header alt-svc 'h3=":${port}"; ma=${ALT_SVC_MAX_AGE_S}'`,
  ];
}
