import type { DomainEvent } from '../event.ts';

/** Where an application's events are sent, signed with the endpoint's own secret. */
export interface WebhookEndpoint {
  id: string;
  applicationId: string;
  url: string;
  description: string | null;
  /** Event types it takes: exact types, `prefix.*`, or `*` for all. */
  eventTypes: string[];
  enabled: boolean;
  /** Why it was disabled: `gone` (the receiver answered 410), `failing` (≈3 days without success), `admin`. */
  disabledReason: string | null;
  /** The signing secret (`whsec_…`), sealed with the server key. */
  sealedSecret: string;
  /** The secret before the last rotation: it still signs until `previousSecretExpiresAt`. */
  previousSealedSecret: string | null;
  previousSecretExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  version: number;
}

/** How long the old secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** An event type, a `prefix.*` wildcard, or `*`. */
export const EVENT_TYPE_PATTERN = '^(\\*|[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*(\\.\\*)?)$';

/** The subscriptions that take an event of this type: itself, each of its prefixes with `.*`, and `*`. */
export function matchingSubscriptions(type: string): string[] {
  const parts = type.split('.');
  const out = ['*', type];
  for (let i = 1; i < parts.length; i++) out.push(`${parts.slice(0, i).join('.')}.*`);
  return out;
}

/** Subscriptions as stored: empty or containing `*` means all; duplicates dropped, sorted. */
export function normalizeEventTypes(types: readonly string[] | undefined): string[] {
  if (types === undefined || types.length === 0 || types.includes('*')) return ['*'];
  return [...new Set(types)].sort();
}

/**
 * The body of a webhook (Standard Webhooks "Payload structure"): `type`, `timestamp` and
 * `data`, which holds the event as `GET /v1/events` shows it (with its per-application `seq`
 * and `user_id`). These exact bytes are stored and signed; every retry sends them unchanged.
 */
export function webhookPayload(event: DomainEvent, logged: { seq: number; userId: string | null }): string {
  const timestamp = new Date(event.createdAt).toISOString();
  return JSON.stringify({
    type: event.type,
    timestamp,
    data: {
      id: event.id,
      seq: logged.seq,
      type: event.type,
      subject: { type: event.subjectType, id: event.subjectId },
      user_id: logged.userId,
      actor: event.actor,
      data: event.data,
      created_at: timestamp,
    },
  });
}
