// HAProxy peers between the two nodes of an LB's HA pair: the stick tables of table-sticky backends are pushed to the
// other node's HAProxy as they change, so a client keeps its server when the other node takes the LB's addresses.
// Each instance names itself with `localpeer` (the node name) and listens on its node address and the LB's peer port.
import type { LbSnapshot } from '../domain/snapshot.js';
import { safeIp, safePort } from './tokens.js';

export const PEERS_SECTION = 'fulcrum_pair';

export interface Peer {
  name: string;
  address: string;
  port: number;
}

export interface PeerSet {
  /** This node's peer name (one of `peers`). */
  local: string;
  peers: Peer[];
}

const PEER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The `peers` section, or nothing when no backend sticks by table or the LB has no pair. */
export function peersLines(s: LbSnapshot, set: PeerSet | null): string[] {
  if (!set || set.peers.length < 2 || !s.backends.some((b) => b.stickySessions === 'table')) return [];
  if (!set.peers.some((p) => p.name === set.local)) throw new Error(`local peer ${set.local} is not among the peers`);
  const lines = set.peers.map((p) => {
    if (!PEER_NAME.test(p.name)) throw new Error(`peer name ${JSON.stringify(p.name)} cannot be written into the HAProxy config`);
    return `  peer ${p.name} ${safeIp('peer address', p.address)}:${safePort('peer port', p.port)}`;
  });
  return [`peers ${PEERS_SECTION}`, ...lines];
}

/** The global line naming this instance among the peers (empty when peersLines renders nothing). */
export const localPeerLines = (s: LbSnapshot, set: PeerSet | null): string[] =>
  (peersLines(s, set).length ? [`  localpeer ${set!.local}`] : []);
