// Server administration, a Fulcrum extension beyond Scaleway: per pool server, a weight, an administrative state and a
// slow start. Kept in the backend's stored document (the Scaleway wire shape never shows it).

export const ADMIN_STATES = ['ready', 'drain', 'maintenance'] as const;
export type AdminState = (typeof ADMIN_STATES)[number];

export interface ServerAdmin {
  /** HAProxy's weight, 0–256: a server's share of new sessions; 0 takes none (except sticky ones). */
  weight: number;
  /** ready: normal; drain: only sessions that stickiness sends there; maintenance: no traffic, checks paused. */
  adminState: AdminState;
  /** Ramp of the weight after the server comes back up, in ms; null: none. */
  slowStartMs: number | null;
}

/** What a server runs with when nobody changed it: HAProxy's defaults. */
export const SERVER_ADMIN_DEFAULTS: ServerAdmin = { weight: 1, adminState: 'ready', slowStartMs: null };

export const MAX_WEIGHT = 256;

/** backend pool address → its settings; only addresses that were ever changed are present. */
export type ServerAdminMap = Record<string, ServerAdmin>;

export function serverAdminOf(map: ServerAdminMap | undefined, ip: string): ServerAdmin {
  return map && Object.hasOwn(map, ip) ? map[ip] : SERVER_ADMIN_DEFAULTS;
}

/** The settings of the addresses still in `pool` (an address removed from the pool forgets its settings). */
export function keepPool(map: ServerAdminMap | undefined, pool: readonly string[]): ServerAdminMap | undefined {
  if (!map) return undefined;
  const out: ServerAdminMap = {};
  for (const ip of pool) if (Object.hasOwn(map, ip)) out[ip] = map[ip];
  return out;
}
