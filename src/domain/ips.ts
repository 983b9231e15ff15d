// Flexible IP domain model: an address from the deployment's pool, optionally attached to one LB.
import ipaddr from 'ipaddr.js';

export interface Ip {
  id: string;
  zone: string;
  address: string;
  projectId: string;
  organizationId: string;
  lbId: string | null;
  reverse: string;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

export function isIpv6(address: string): boolean {
  return address.includes(':');
}

/** The reverse DNS name given to an address when the client sets none. */
export function defaultReverse(address: string, region: string): string {
  return `${address.replace(/[.:]/g, '-')}.lb.${region}.fulcrum.internal`;
}

/**
 * A key that sorts addresses the way Scaleway lists flexible IPs: IPv4 in numeric order, then IPv6 in numeric order
 * (shared spec §11.10). Fixed-width hex of the address bytes, after a family prefix.
 */
export function addressSortKey(address: string): string {
  const hex = (bytes: number[]) => bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return isIpv6(address) ? `6${hex(ipaddr.IPv6.parse(address).toByteArray())}` : `4${hex(ipaddr.IPv4.parse(address).toByteArray())}`;
}
