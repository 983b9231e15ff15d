// Certificates on the wire (shared spec §2.7, §4; scaleway-recorded-more.md "Certificates").
import { Type, type Static } from '@sinclair/typebox';
import { CERT_LIMITS, type Certificate } from '../domain/certificates.js';
import { Nullable } from './common.js';

/** What the real API shows for a time that is not set (a pending certificate's validity). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export const CertificateCreateBody = Type.Object({
  name: Type.String({ maxLength: 1024 }),
  letsencrypt: Nullable(Type.Object({
    common_name: Type.String({ maxLength: 1024 }),
    subject_alternative_name: Nullable(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 1000 })),
  })),
  custom_certificate: Nullable(Type.Object({
    // Twice the accepted length, so that a longer chain gets the sentence of domain/certificates.ts, not the schema's.
    certificate_chain: Type.String({ maxLength: CERT_LIMITS.chainLength * 2 }),
  })),
});
export type CertificateCreateBody = Static<typeof CertificateCreateBody>;

export const CertificateUpdateBody = Type.Object({ name: Type.String({ maxLength: 1024 }) });
export type CertificateUpdateBody = Static<typeof CertificateUpdateBody>;

/** The certificate with its LB; `lb` is the full wire LB. Never anything of the PEM. */
export function certificateToWire(c: Certificate, lb: Record<string, unknown>): Record<string, unknown> {
  return {
    type: c.type,
    id: c.id,
    common_name: c.commonName,
    subject_alternative_name: c.subjectAlternativeName,
    fingerprint: c.fingerprint,
    not_valid_before: c.notValidBefore ?? ZERO_TIME,
    not_valid_after: c.notValidAfter ?? ZERO_TIME,
    status: c.status,
    lb,
    name: c.name,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    status_details: c.statusDetails,
  };
}
