// Names and numbers of the agents' world that reach keepalived.conf and haproxy.cfg: node names, interfaces, VRIDs and
// peer ports. Each is checked here, once, by the CLI and the cluster store, and again by the renderers.
import { isIPv4 } from 'node:net';

/** A node name: also the HAProxy peer name and part of keepalived's router_id. */
const NODE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A Linux interface name (IFNAMSIZ is 16 with the NUL). */
const IFACE = /^[A-Za-z0-9_.-]{1,15}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** VRRP's virtual router id is one byte, 0 reserved: at most 255 LBs on one layer-2 segment. */
export const MAX_VRID = 255;
/** An LB's HAProxy peers listen on PEER_PORT_BASE + its VRID on each of its two nodes' addresses. */
export const PEER_PORT_BASE = 41000;

export function checkNodeName(name: string): string {
  if (!NODE_NAME.test(name)) throw new Error(`node name ${JSON.stringify(name)}: lowercase letters, digits and dashes, at most 63`);
  return name;
}

export function checkInterface(name: string): string {
  if (!IFACE.test(name)) throw new Error(`interface ${JSON.stringify(name)} is not an interface name`);
  return name;
}

export function checkNodeAddress(address: string): string {
  if (!isIPv4(address)) throw new Error(`node address ${JSON.stringify(address)} is not an IPv4 address`);
  return address;
}

export function checkVrid(vrid: number): number {
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > MAX_VRID) throw new Error(`VRID ${vrid} is not in 1..${MAX_VRID}`);
  return vrid;
}

export const peerPort = (vrid: number): number => PEER_PORT_BASE + checkVrid(vrid);

/** An agent's `--private-network ID=IFACE` entries: private network id (a UUID, lowercased) → this node's interface on it. */
export function parsePnInterfaces(entries: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries.map((s) => s.trim()).filter(Boolean)) {
    const m = /^([0-9a-fA-F-]{36})=(.+)$/.exec(e);
    if (!m || !UUID.test(m[1].toLowerCase())) throw new Error(`--private-network ${e}: expected ID=INTERFACE with a UUID as ID`);
    const id = m[1].toLowerCase();
    if (out.has(id)) throw new Error(`--private-network ${e}: network ${id} is given twice`);
    out.set(id, checkInterface(m[2]));
  }
  return out;
}
