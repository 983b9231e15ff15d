// The private networks a deployment offers (`--private-network ID=CIDR`) and the address rules of an LB's attachment.
import ipaddr from 'ipaddr.js';
import { isUuid } from './validation.js';

export interface PrivateNetwork {
  id: string;
  cidr: string;
}

/** Parses `ID=CIDR` entries; the id is a UUID (Scaleway's private network ids are, and Terraform checks it). */
export function parsePrivateNetworks(entries: string[]): PrivateNetwork[] {
  const out: PrivateNetwork[] = [];
  for (const e of entries.map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=]+)=(.+)$/.exec(e);
    if (!m || !isUuid(m[1].toLowerCase())) throw new Error(`--private-network ${e}: expected ID=CIDR with a UUID as ID`);
    let net: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      net = ipaddr.parseCIDR(m[2]);
    } catch {
      throw new Error(`--private-network ${e}: ${m[2]} is not a CIDR range`);
    }
    const id = m[1].toLowerCase();
    if (out.some((n) => n.id === id)) throw new Error(`--private-network ${e}: network ${id} is declared twice`);
    out.push({ id, cidr: `${network(net)}/${net[1]}` });
  }
  return out;
}

/** The network address of a parsed range (`127.31.0.7/24` → `127.31.0.0`). */
function network([addr, bits]: [ipaddr.IPv4 | ipaddr.IPv6, number]): string {
  return addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${bits}`).toString()
    : ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${bits}`).toString();
}

/** True when `ip` is an address of the range `cidr` (same family). */
export function inRange(ip: string, cidr: string): boolean {
  try {
    const a = ipaddr.parse(ip);
    const range = ipaddr.parseCIDR(cidr);
    return a.kind() === range[0].kind() && a.match(range);
  } catch {
    return false;
  }
}

/** True when `ip` may be a host's address in the range: inside it, and neither its network nor (IPv4) broadcast address. */
export function isHostAddress(ip: string, cidr: string): boolean {
  if (!inRange(ip, cidr)) return false;
  const [addr, bits] = ipaddr.parseCIDR(cidr);
  const normal = ipaddr.parse(ip).toString();
  if (addr.kind() === 'ipv4') {
    if (bits >= 31) return true;
    return normal !== ipaddr.IPv4.networkAddressFromCIDR(cidr).toString() && normal !== ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString();
  }
  return bits >= 127 || normal !== ipaddr.IPv6.networkAddressFromCIDR(cidr).toString();
}

/** The first host address of the range not in `used` (the first 4096 looked at), or null. */
export function freeAddress(cidr: string, used: Set<string>): string | null {
  const [addr] = ipaddr.parseCIDR(cidr);
  const bytes = (addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr)).toByteArray();
  for (let i = 0; i < 4096; i++) {
    const candidate = ipaddr.fromByteArray(bytes).toString();
    if (!inRange(candidate, cidr)) return null;
    if (isHostAddress(candidate, cidr) && !used.has(candidate)) return candidate;
    // The next address, as a big-endian byte string.
    for (let k = bytes.length - 1; k >= 0; k--) {
      bytes[k] = (bytes[k] + 1) & 0xff;
      if (bytes[k] !== 0) break;
    }
  }
  return null;
}
