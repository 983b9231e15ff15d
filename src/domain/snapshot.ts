// What the data plane needs to run one load balancer: the LB, its addresses and its children, read in one transaction.
import type { Acl } from './acls.js';
import type { Backend } from './backends.js';
import type { Certificate } from './certificates.js';
import type { Frontend } from './frontends.js';
import type { Lb } from './lbs.js';
import type { Route } from './routes.js';

export interface LbSnapshot {
  lb: Lb;
  /** Addresses of the flexible IPs attached to the LB (IPv4 and/or IPv6); frontends bind on each. */
  addresses: string[];
  frontends: Frontend[];
  backends: Backend[];
  /** The LB's certificates (absent: none). */
  certificates?: Certificate[];
  /** Absent in snapshots saved before routes and ACLs existed: read as none. */
  routes?: Route[];
  acls?: Acl[];
  /**
   * HTTP-01 answers of the LB's running ACME orders, when they travel through a shared store (agents, several API
   * servers); absent otherwise (the ACME job then sets them on its own data plane).
   */
  challenges?: AcmeChallenge[];
}

export interface AcmeChallenge {
  token: string;
  keyAuthorization: string;
}
