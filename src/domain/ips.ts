// Flexible IP domain model: an address from the deployment's pool, optionally attached to one LB.

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
