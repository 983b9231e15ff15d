// Subscribers: who is alerted about an LB's server state changes and instance errors (control/alerts.ts).

export interface Subscriber {
  id: string;
  zone: string;
  projectId: string;
  organizationId: string;
  name: string;
  /** Exactly one of `email` and `webhookUri` is set. */
  email: string | null;
  webhookUri: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A mailbox address as a relay takes it: one `@`, no whitespace or angle brackets, at most 254 characters. */
export function isEmail(s: string): boolean {
  return s.length <= 254 && /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(s);
}

/** A webhook URI: absolute http(s), no credentials in it, at most 2048 characters. */
export function isWebhookUri(s: string): boolean {
  if (s.length > 2048) return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password && u.hostname !== '';
  } catch {
    return false;
  }
}
