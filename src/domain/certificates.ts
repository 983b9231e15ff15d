// Certificates: the domain model, and the checks of a custom PEM (parse, key ↔ leaf, chain order, validity).
// Pure: node:crypto parses, nothing is read or written here. The PEM itself never sits in this model: it is a file
// (store/certificate-files.ts), and the model carries only its hash so the data plane can tell a renewal.
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { isHostname } from './validation.js';

export const CERTIFICATE_TYPES = ['custom', 'letsencrypt'] as const;
export type CertificateType = (typeof CERTIFICATE_TYPES)[number];
export type CertificateStatus = 'pending' | 'ready' | 'error';

export interface Certificate {
  id: string;
  lbId: string;
  name: string;
  type: CertificateType;
  commonName: string;
  subjectAlternativeName: string[];
  /** SHA-1 of the leaf, lowercase hex; "" for custom certificates (as the real API answers) and while pending. */
  fingerprint: string;
  /** RFC 3339 without fractions; null while nothing is issued (the wire shows 0001-01-01T00:00:00Z). */
  notValidBefore: string | null;
  notValidAfter: string | null;
  status: CertificateStatus;
  statusDetails: string | null;
  /** SHA-256 of the PEM file HAProxy loads; null while there is none. Changes on renewal. */
  pemSha256: string | null;
  /** Let's Encrypt only: an ACME order (first issuance or renewal) is running, so HTTP-01 must be answered. */
  orderActive: boolean;
  /** Let's Encrypt only: when the next order may start (renewal time, or backoff after a failure). */
  nextOrderAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** File name of a certificate's PEM (leaf, intermediates, key) inside the certificates directory. */
export function certificateFileName(id: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(id)) throw new Error(`certificate id ${JSON.stringify(id)} is not usable as a file name`);
  return `${id}.pem`;
}

export const CERT_LIMITS = { chainLength: 65_536, chainCertificates: 10, sans: 100 } as const;

/** What a valid custom PEM yields. `pem` is normalized: leaf, intermediates, then the key (PKCS#8), no blank line. */
export interface ParsedChain {
  pem: string;
  commonName: string;
  subjectAlternativeName: string[];
  notValidBefore: string;
  notValidAfter: string;
  /** SHA-1 of the leaf (kept for Let's Encrypt certificates; custom ones show "" on the wire). */
  sha1: string;
}

export class ChainError extends Error {}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const KEY_BLOCKS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);

/** `Jul 21 10:33:06 2026 GMT` → `2026-07-21T10:33:06Z` (the wire has no fractions). */
export function x509Date(s: string): string {
  return new Date(s).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** DNS names of the subjectAltName extension, in order (IP and other kinds left out, as the real API does). */
function dnsNames(cert: X509Certificate): string[] {
  const out: string[] = [];
  // Node quotes an entry holding a comma or a quote as a JSON string.
  for (const m of (cert.subjectAltName ?? '').matchAll(/(?:^|, )DNS:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    out.push(m[1].startsWith('"') ? JSON.parse(m[1]) as string : m[1]);
  }
  return out;
}

function subjectCn(cert: X509Certificate): string {
  return /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? '';
}

/** Names as the real API shows them: the first DNS SAN is the common name (else the subject CN), the others follow. */
export function namesOf(cert: X509Certificate): { commonName: string; subjectAlternativeName: string[] } {
  const dns = dnsNames(cert);
  return dns.length ? { commonName: dns[0], subjectAlternativeName: dns.slice(1) } : { commonName: subjectCn(cert), subjectAlternativeName: [] };
}

/**
 * Checks a `custom_certificate.certificate_chain`: one private key (RSA or ECDSA; PKCS#1, PKCS#8 or SEC1, not
 * encrypted), the leaf it belongs to first, each further certificate the issuer of the one before, the leaf not expired.
 * Throws ChainError with a sentence for the user (never quoting the key).
 */
export function parseCustomChain(text: string, now = new Date()): ParsedChain {
  if (text.length > CERT_LIMITS.chainLength) throw new ChainError(`must be at most ${CERT_LIMITS.chainLength} characters`);
  const certs: X509Certificate[] = [];
  let key: KeyObject | null = null;
  let keys = 0;
  for (const m of text.matchAll(BLOCK)) {
    const kind = m[1];
    if (kind === 'CERTIFICATE') {
      try {
        certs.push(new X509Certificate(m[0]));
      } catch {
        throw new ChainError(`certificate ${certs.length + 1} of the chain cannot be parsed`);
      }
    } else if (KEY_BLOCKS.has(kind)) {
      keys++;
      try {
        key = createPrivateKey(m[0]);
      } catch {
        throw new ChainError('the private key cannot be parsed');
      }
    } else if (kind === 'ENCRYPTED PRIVATE KEY') {
      throw new ChainError('the private key is encrypted; give it without a passphrase');
    } else if (kind !== 'EC PARAMETERS') {
      throw new ChainError(`unexpected PEM block "${kind}": expected certificates and one private key`);
    }
  }
  if (keys !== 1 || !key) throw new ChainError(`must hold exactly one private key (found ${keys})`);
  if (certs.length === 0) throw new ChainError('must hold the certificate (found none)');
  if (certs.length > CERT_LIMITS.chainCertificates) throw new ChainError(`must hold at most ${CERT_LIMITS.chainCertificates} certificates`);
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') {
    throw new ChainError(`the private key must be RSA or ECDSA (found ${key.asymmetricKeyType})`);
  }
  const leaf = certs[0];
  if (!leaf.checkPrivateKey(key)) {
    const owner = certs.findIndex((c) => c.checkPrivateKey(key!));
    throw new ChainError(owner > 0
      ? `the certificate of the private key must come first (it is certificate ${owner + 1})`
      : 'the private key does not belong to the certificate');
  }
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i].checkIssued(certs[i + 1]) || !certs[i].verify(certs[i + 1].publicKey)) {
      throw new ChainError(`certificate ${i + 2} of the chain is not the issuer of certificate ${i + 1}: order the chain leaf first, then each issuer`);
    }
  }
  if (new Date(leaf.validTo).getTime() <= now.getTime()) throw new ChainError(`the certificate expired on ${x509Date(leaf.validTo)}`);
  const names = namesOf(leaf);
  if (!isCertName(names.commonName)) throw new ChainError('the certificate names no DNS name (subject CN or DNS subjectAltName)');
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pem = `${certs.map((c) => c.toString().trim()).join('\n')}\n${keyPem.trim()}\n`;
  return {
    pem, ...names, notValidBefore: x509Date(leaf.validFrom), notValidAfter: x509Date(leaf.validTo),
    sha1: leaf.fingerprint.replaceAll(':', '').toLowerCase(),
  };
}

/** A name a certificate may cover: a DNS name, or a wildcard `*.` in front of one. */
export function isCertName(s: string): boolean {
  return isHostname(s.startsWith('*.') ? s.slice(2) : s);
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
