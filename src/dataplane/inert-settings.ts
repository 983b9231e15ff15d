// Settings that Scaleway accepts and Fulcrum stores and echoes, but that have no effect on this LB's traffic. They
// are logged once per apply (dataplane.ts) so that an operator can tell why, e.g., a tcp backend does not stick.
import type { LbSnapshot } from '../domain/snapshot.js';
import { http3Blocker } from './render-http3.js';

export function inertSettings(s: LbSnapshot, quic: boolean): string[] {
  const notes: string[] = [];
  const backends = new Map(s.backends.map((b) => [b.id, b]));
  for (const b of s.backends) {
    if (b.forwardProtocol !== 'tcp') continue;
    if (b.stickySessions === 'cookie') notes.push(`backend ${b.id}: sticky_sessions cookie has no effect on a tcp backend (use table)`);
    if (b.failoverHost) notes.push(`backend ${b.id}: failover_host has no effect on a tcp backend`);
  }
  for (const f of s.frontends) {
    const http = backends.get(f.backendId)?.forwardProtocol === 'http';
    // Whether the frontend terminates TLS is all that matters here, not its bind words.
    const why = http3Blocker(f, { quic, http, tls: f.certificateIds.length ? 'ssl' : null });
    if (why) notes.push(`frontend ${f.id}: enable_http3 has no effect: ${why}`);
  }
  return notes;
}
