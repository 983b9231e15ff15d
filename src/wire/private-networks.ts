// An LB's private-network attachments on the wire (spec §2.8, scaleway-recorded-more.md "Private networks").
import { Type, type Static } from '@sinclair/typebox';
import type { PnAttachment } from '../domain/lbs.js';
import { Nullable } from './common.js';

const Id = Type.String({ maxLength: 64 });

export const AttachPnBody = Type.Object({
  private_network_id: Id,
  ipam_ids: Nullable(Type.Array(Id, { maxItems: 1 })),
  static_config: Nullable(Type.Object({ ip_address: Nullable(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1 })) })),
  dhcp_config: Nullable(Type.Object({ ip_id: Nullable(Id) })),
  ipam_config: Nullable(Type.Object({})),
});
export type AttachPnBody = Static<typeof AttachPnBody>;

export const DetachPnBody = Type.Object({ private_network_id: Id });

export type PnStatus = 'pending' | 'ready' | 'error';

/**
 * One attachment. Only the config member that applies is present: `static_config` for a given address, else
 * `dhcp_config` with the IPAM id standing for the address (as the real API answers for `ipam_ids` attachments).
 */
export function pnToWire(a: PnAttachment, lb: Record<string, unknown>, status: PnStatus): Record<string, unknown> {
  return {
    lb,
    ipam_ids: a.ipamIds,
    ...(a.mode === 'static' ? { static_config: { ip_address: [a.address] } } : { dhcp_config: { ip_id: a.ipamIds[0] ?? null } }),
    private_network_id: a.privateNetworkId,
    status,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}
