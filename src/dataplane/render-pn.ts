// What an LB's private-network attachments add to its config: its frontends also bind its address on each network,
// and connections to backend servers inside an attached network leave from the LB's address there (`source`).
import type { Lb } from '../domain/lbs.js';
import { inRange } from '../domain/private-networks.js';
import { safeIp } from './tokens.js';

export function pnBindAddresses(lb: Lb): string[] {
  return (lb.privateNetworks ?? []).map((a) => safeIp('private network address', a.address));
}

/** ` source <address>` for a server inside one of the LB's networks (the first attached), else ''. */
export function pnSourceArgs(lb: Lb, serverIp: string): string {
  const a = (lb.privateNetworks ?? []).find((n) => inRange(serverIp, n.cidr));
  return a ? ` source ${safeIp('private network address', a.address)}` : '';
}

/** The LB whose private addresses its servers connect from, or null when they leave from the node's own (agents). */
export function pnSourceLb(lb: Lb, pnSource = true): Lb | null {
  return pnSource ? lb : null;
}
