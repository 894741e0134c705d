// Tables of signed webhooks (migration 005); part of `Tables` in schema.ts.

export interface WebhookEndpointsTable {
  id: string;
  application_id: string;
  url: string;
  description: string | null;
  /** 1 or 0 */
  enabled: number;
  disabled_reason: string | null;
  /** The `whsec_…` signing secret, sealed (AES-GCM) with the server key. */
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: number | null;
  created_at: number;
  updated_at: number;
  version: number;
}

/** An endpoint's subscriptions, one row each (`*`, `prefix.*` or a type): matched in SQL with IN. */
export interface WebhookEndpointTypesTable {
  endpoint_id: string;
  event_type: string;
}

export interface WebhookMessagesTable {
  /** The `webhook-id`: one per event and endpoint, the same on every retry. */
  id: string;
  endpoint_id: string;
  application_id: string;
  event_id: string;
  event_type: string;
  /** The exact bytes that are signed and sent. */
  payload: string;
  /** queued | sending | delivered | failed */
  status: string;
  attempts: number;
  next_attempt_at: number;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export interface WebhookAttemptsTable {
  message_id: string;
  attempt: number;
  at: number;
  /** The receiver's HTTP status; null when there was no answer (refused, timed out, connection error). */
  status_code: number | null;
  latency_ms: number | null;
  error: string | null;
  /** 1 when the attempt delivered the message (a 2xx). */
  delivered: number;
}
