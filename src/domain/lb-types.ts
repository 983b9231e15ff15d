// The offers of this deployment (`lb-types`) and the HAProxy resource profile each one stands for. An LB's type drives
// its HAProxy's global section; migrating an LB moves it to another profile with one seamless reload.

export interface LbProfile {
  /** Worker threads of the LB's HAProxy (`nbthread`). */
  nbthread: number;
  /**
   * Concurrent connections the LB's HAProxy accepts (`maxconn`); it needs about twice as many file descriptors, and is
   * capped where the machine's open-file limit allows fewer (dataplane/render-profile.ts).
   */
  maxconn: number;
  /** New connections each thread accepts per event-loop turn (`tune.maxaccept`): more favours bursts of new clients. */
  maxaccept: number;
}

export interface LbType {
  name: string;
  description: string;
  profile: LbProfile;
}

const describe = (size: string, p: LbProfile): string =>
  `Fulcrum load balancer, ${size}: HAProxy with ${p.nbthread} thread${p.nbthread > 1 ? 's' : ''}, ` +
  `${p.maxconn} concurrent connections, ${p.maxaccept} accepts per thread per loop`;

const offer = (name: string, size: string, profile: LbProfile): LbType => ({ name, description: describe(size, profile), profile });

/** Names as the CLI and Terraform use them; the API matches them case-insensitively and echoes them lower-case. */
export const LB_TYPES: LbType[] = [
  offer('LB-S', 'small', { nbthread: 1, maxconn: 4096, maxaccept: 64 }),
  offer('LB-GP-M', 'general purpose medium', { nbthread: 2, maxconn: 8192, maxaccept: 64 }),
  offer('LB-GP-L', 'general purpose large', { nbthread: 4, maxconn: 16384, maxaccept: 128 }),
];
export const DEFAULT_LB_TYPE = 'lb-s';

/** The offer named `name` (any case), or undefined. */
export function findLbType(name: string): LbType | undefined {
  const n = name.toLowerCase();
  return LB_TYPES.find((t) => t.name.toLowerCase() === n);
}

/** The profile an LB runs with: the type it migrates to while a migration applies, else its own. */
export function profileOf(lb: { type: string; migratingTo?: string | null }): LbProfile {
  return (findLbType(lb.migratingTo ?? lb.type) ?? findLbType(DEFAULT_LB_TYPE)!).profile;
}
