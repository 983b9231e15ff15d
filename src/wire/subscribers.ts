// Alert subscribers on the wire (spec §2.8, §4): `id`, `name`, and one of `email_config` / `webhook_config`.
import { Type, type Static } from '@sinclair/typebox';
import type { Subscriber } from '../domain/subscribers.js';
import { Nullable } from './common.js';

const Config = {
  email_config: Nullable(Type.Object({ email: Nullable(Type.String({ maxLength: 1024 })) })),
  webhook_config: Nullable(Type.Object({ uri: Nullable(Type.String({ maxLength: 4096 })) })),
};

export const SubscriberCreateBody = Type.Object({
  name: Type.String({ maxLength: 1024 }),
  project_id: Nullable(Type.String({ maxLength: 64 })),
  organization_id: Nullable(Type.String({ maxLength: 64 })),
  ...Config,
});
export type SubscriberCreateBody = Static<typeof SubscriberCreateBody>;

export const SubscriberUpdateBody = Type.Object({ name: Type.String({ maxLength: 1024 }), ...Config });
export type SubscriberUpdateBody = Static<typeof SubscriberUpdateBody>;

export const SubscribeBody = Type.Object({ subscriber_id: Type.String({ maxLength: 64 }) });

/** The unset member is absent, as the SDKs' one-of expects (they read a present `null` as unset too). */
export function subscriberToWire(s: Subscriber): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    ...(s.email !== null ? { email_config: { email: s.email } } : {}),
    ...(s.webhookUri !== null ? { webhook_config: { uri: s.webhookUri } } : {}),
  };
}
