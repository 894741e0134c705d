import { Type } from 'typebox';
import { EVENT_TYPE_PATTERN, type WebhookEndpoint } from '../../domain/webhooks/endpoint.ts';
import type { WebhookAttempt, WebhookMessage } from '../../store/webhooks.ts';
import { Id, NullableString, Timestamp } from './common.ts';

const iso = (ms: number) => new Date(ms).toISOString();

const url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'Where events are POSTed: an https URL whose host resolves only to public addresses (http and loopback only with the development setting OUTBAND_WEBHOOKS_ALLOW_INSECURE)',
});
const eventTypes = Type.Array(
  Type.String({ maxLength: 100, pattern: EVENT_TYPE_PATTERN, description: 'An event type (verification.approved), a prefix wildcard (verification.*), or * for all' }),
  { maxItems: 50, description: 'The event types sent to this endpoint; empty, absent or containing * means all' },
);
const description = NullableString({ description: 'A note for operators; not sent anywhere', maxLength: 500 });
const enabled = Type.Boolean({ description: 'Whether events are sent; a disabled endpoint queues nothing new, and enabling it sends what it still has queued' });

export const WebhookParams = Type.Object({ id: Id('The webhook endpoint id') });
export const DeliveryParams = Type.Object({ id: Id('The webhook endpoint id'), delivery_id: Id('The delivery id: the webhook-id header its attempts carried') });

export const WebhookCreateBody = Type.Object(
  {
    url,
    event_types: Type.Optional(eventTypes),
    enabled: Type.Optional(Type.Boolean({ description: 'Default true' })),
    description: Type.Optional(description),
  },
  { additionalProperties: false },
);

export const WebhookPatchBody = Type.Object(
  { url: Type.Optional(url), event_types: Type.Optional(eventTypes), enabled: Type.Optional(enabled), description: Type.Optional(description) },
  { additionalProperties: false, minProperties: 1, description: 'The fields to change; the URL is checked again' },
);

const endpointFields = {
  id: Id('The webhook endpoint id'),
  url: Type.String({ description: 'Where events are POSTed' }),
  event_types: Type.Array(Type.String({ description: 'An event type, prefix wildcard or *' }), { description: 'The event types sent to this endpoint; ["*"] for all' }),
  enabled,
  disabled_reason: Type.Union([Type.Null(), Type.String()], {
    description: 'Why it is disabled: admin (by a client), gone (the receiver answered 410), failing (no success for about 3 days); null while enabled',
  }),
  description,
  previous_secret_expires_at: Type.Union([Type.Null(), Timestamp('')], {
    description: 'After a rotation, until when the previous secret still signs beside the new one; null otherwise',
  }),
  created_at: Timestamp('When it was registered'),
  updated_at: Timestamp('When it last changed'),
};

export const WebhookView = Type.Object(endpointFields, { description: 'A webhook endpoint (its secret is never shown again)' });

export const WebhookWithSecretView = Type.Object(
  {
    ...endpointFields,
    secret: Type.String({ description: 'The signing secret, whsec_ + base64: shown this once only. Verify each delivery with it (see docs/webhooks.md)' }),
  },
  { description: 'A webhook endpoint with its new signing secret' },
);

export const WebhookList = Type.Object({ items: Type.Array(WebhookView, { description: "The application's webhook endpoints, oldest first" }) });

const AttemptView = Type.Object({
  attempt: Type.Integer({ description: 'Which attempt of this delivery, from 1' }),
  at: Timestamp('When it was sent (its webhook-timestamp)'),
  status_code: Type.Union([Type.Null(), Type.Integer()], { description: "The receiver's HTTP status; null when it did not answer" }),
  latency_ms: Type.Union([Type.Null(), Type.Integer()], { description: 'How long the attempt took; null when it was refused before sending' }),
  error: Type.Union([Type.Null(), Type.String()], { description: 'Why it failed (HTTP status, timeout, connection error, refused target); null on success' }),
});

export const DeliveryView = Type.Object({
  id: Type.String({ description: 'The delivery id, sent as webhook-id: the same on every attempt (an idempotency key)' }),
  event_id: Type.String({ description: 'The event delivered' }),
  event_type: Type.String({ description: 'Its type' }),
  status: Type.Union([Type.Literal('queued'), Type.Literal('sending'), Type.Literal('delivered'), Type.Literal('failed')], {
    description: 'queued (waiting for its next attempt), sending, delivered (a 2xx answer), failed (every attempt failed, or the receiver answered 410)',
  }),
  next_attempt_at: Type.Union([Type.Null(), Timestamp('')], { description: 'When the next attempt is due, while queued' }),
  created_at: Timestamp('When the event was queued for this endpoint'),
  delivered_at: Type.Union([Type.Null(), Timestamp('')], { description: 'When a 2xx answer arrived' }),
  attempts: Type.Array(AttemptView, { description: 'Every attempt, oldest first' }),
});

export const DeliveryListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Most deliveries to return; default 20' })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const DeliveryList = Type.Object({
  items: Type.Array(DeliveryView, { description: "The endpoint's deliveries, newest first" }),
  next_cursor: Type.Union([Type.Null(), Type.String()], { description: 'Pass as cursor for the next page; null on the last page' }),
});

export function webhookView(e: WebhookEndpoint) {
  return {
    id: e.id,
    url: e.url,
    event_types: e.eventTypes,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    description: e.description,
    previous_secret_expires_at: e.previousSecretExpiresAt === null ? null : iso(e.previousSecretExpiresAt),
    created_at: iso(e.createdAt),
    updated_at: iso(e.updatedAt),
  };
}

export function deliveryView(item: { message: WebhookMessage; attempts: WebhookAttempt[] }) {
  const m = item.message;
  return {
    id: m.id,
    event_id: m.eventId,
    event_type: m.eventType,
    status: m.status,
    next_attempt_at: m.status === 'queued' ? iso(m.nextAttemptAt) : null,
    created_at: iso(m.createdAt),
    delivered_at: m.deliveredAt === null ? null : iso(m.deliveredAt),
    attempts: item.attempts.map((a) => ({ attempt: a.attempt, at: iso(a.at), status_code: a.statusCode, latency_ms: a.latencyMs, error: a.error })),
  };
}
