import type { Generated } from 'kysely';
import type { AgentGrantsTable, AgentsTable, ConsoleSessionsTable } from './agent-schema.ts';
import type { WebhookAttemptsTable, WebhookEndpointTypesTable, WebhookEndpointsTable, WebhookMessagesTable } from './webhook-schema.ts';

// Times are epoch milliseconds in BIGINT columns on both databases: one representation,
// exact comparisons in SQL, and no time-zone conversion anywhere between.

export interface ApplicationsTable {
  id: string;
  name: string;
  plan: string;
  /** JSON of ApplicationSettings */
  settings: string;
  created_at: number;
  /** Bumped by every settings change (optimistic guard); 0 when created. */
  version: Generated<number>;
}

/** An application's named verification policy. */
export interface PoliciesTable {
  application_id: string;
  name: string;
  /** JSON of the policy body, as the API takes it */
  body: string;
  created_at: number;
  updated_at: number;
}

export interface ApiClientsTable {
  id: string;
  application_id: string;
  name: string;
  /** scrypt hash of the client secret; the secret itself is shown once and never stored. */
  secret_hash: string;
  /** space-separated */
  scopes: string;
  created_at: number;
  revoked_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  /** When a newer key replaced it; it still verifies tokens until they have all expired. */
  rotated_at: number | null;
}

export interface UsersTable {
  id: string;
  application_id: string;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  display_name: string | null;
  locale: string | null;
  status: string;
  created_at: number;
  updated_at: number;
  version: number;
  bypass_until: number | null;
}

export interface VerificationsTable {
  id: string;
  application_id: string;
  user_id: string | null;
  channel: string;
  purpose: string;
  recipient: string;
  status: string;
  reason: string | null;
  code_hmac: string;
  code_length: number;
  attempts: number;
  max_attempts: number;
  locale: string;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  resends: number;
  last_sent_at: number;
  /** 1 when the user may also answer by replying to the SMS. */
  two_way: number;
  caller_hmac: string | null;
  version: number;
  device_id: string | null;
  /** JSON: { push?: PushDetails, bypass?: true } */
  details: string | null;
}

export interface DevicesTable {
  id: string;
  application_id: string;
  user_id: string;
  kind: string;
  name: string;
  role: string;
  status: string;
  address: string | null;
  /** JSON of the public JWK */
  public_jwk: string | null;
  /** JSON of the Transport */
  transport: string | null;
  transport_stale_at: number | null;
  /** space-separated */
  capabilities: string;
  activation_hmac: string | null;
  activation_expires_at: number | null;
  pairing_verification_id: string | null;
  created_at: number;
  paired_at: number | null;
  last_used_at: number | null;
  updated_at: number;
  version: number;
  /** The web authenticator's WebAuthn credential (migration 010): id and COSE public key, base64url. */
  webauthn_credential_id: string | null;
  webauthn_public_key: string | null;
  webauthn_counter: number | null;
  /** The registration challenge of a pending enrolment; single use. */
  webauthn_challenge: string | null;
}

/** Device-API request ids (jti) seen, kept until their time window has passed: a replay finds its id. */
export interface DeviceNoncesTable {
  device_id: string;
  jti: string;
  expires_at: number;
}

export interface TemplatesTable {
  application_id: string;
  channel: string;
  purpose: string;
  locale: string;
  subject: string | null;
  title: string | null;
  text: string;
  html: string | null;
  updated_at: number;
}

export interface InboundMessagesTable {
  provider: string;
  provider_message_id: string;
  verification_id: string | null;
  received_at: number;
}

export interface DeliveriesTable {
  id: string;
  application_id: string;
  verification_id: string;
  channel: string;
  provider: string;
  recipient: string;
  /** The message, sealed (AES-GCM) because it holds the code; cleared once it is sent or given up. */
  sealed_message: string | null;
  status: string;
  attempts: number;
  next_attempt_at: number;
  /** A worker's lease on a message it is sending; an expired lease means the worker died. */
  locked_until: number | null;
  provider_message_id: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  /** When the provider's delivery receipt (delivered or not) arrived. */
  receipt_at: number | null;
  step: number;
}

export interface OutboxMessagesTable {
  id: string;
  application_id: string;
  verification_id: string | null;
  channel: string;
  recipient: string;
  sealed_message: string;
  created_at: number;
}

export interface EventsTable {
  seq: Generated<number>;
  id: string;
  application_id: string;
  type: string;
  subject_type: string;
  subject_id: string;
  actor: string | null;
  /** JSON */
  data: string;
  created_at: number;
  /** Per application, gap-free, in commit order (migration 004); the event log's cursor. */
  app_seq: number;
  /** The user the event is about, when there is one. */
  user_id: string | null;
}

/** The last `app_seq` given out per application; its row lock orders the numbers by commit. */
export interface ApplicationSequencesTable {
  application_id: string;
  last: number;
}

/** Verifications per application, subject, channel and UTC day (issue [4]). */
export interface UsageCountersTable {
  application_id: string;
  /** `user:<id>`, `to:<recipient>` or `application` */
  subject: string;
  /** a channel, `*` for all of them, or `pairing` */
  channel: string;
  /** YYYY-MM-DD (UTC), or `all` for a counter that never resets */
  day: string;
  used: number;
  unused: number;
}

/** One occurrence counted in a sliding window under a key (`send:+31…`, `prefix:+31612345`, …). */
export interface FraudMarksTable {
  application_id: string;
  key: string;
  at: number;
}

/** A key refused until a time: a recipient cooling off, a country blocked. */
export interface FraudBlocksTable {
  application_id: string;
  key: string;
  until: number;
  reason: string;
  created_at: number;
}

/** Consecutive failed answers of one authenticator across verifications (NIST 63B-4 §3.2.2). */
export interface AuthenticatorFailuresTable {
  application_id: string;
  /** a phone number, an e-mail address or a device id */
  authenticator: string;
  consecutive: number;
  locked_at: number | null;
  updated_at: number;
}

/** An approved verification spent as the prior authentication of a change, once (SEC-12). */
export interface StepUpsTable {
  application_id: string;
  verification_id: string;
  user_id: string;
  /** What it authorised, e.g. `phone_change`. */
  used_for: string;
  used_at: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface Tables {
  applications: ApplicationsTable;
  api_clients: ApiClientsTable;
  signing_keys: SigningKeysTable;
  users: UsersTable;
  verifications: VerificationsTable;
  deliveries: DeliveriesTable;
  outbox_messages: OutboxMessagesTable;
  events: EventsTable;
  application_sequences: ApplicationSequencesTable;
  meta: MetaTable;
  inbound_messages: InboundMessagesTable;
  templates: TemplatesTable;
  devices: DevicesTable;
  policies: PoliciesTable;
  device_nonces: DeviceNoncesTable;
  schema_migrations: SchemaMigrationsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_endpoint_types: WebhookEndpointTypesTable;
  webhook_messages: WebhookMessagesTable;
  webhook_attempts: WebhookAttemptsTable;
  usage_counters: UsageCountersTable;
  fraud_marks: FraudMarksTable;
  fraud_blocks: FraudBlocksTable;
  authenticator_failures: AuthenticatorFailuresTable;
  step_ups: StepUpsTable;
  agents: AgentsTable;
  agent_grants: AgentGrantsTable;
  console_sessions: ConsoleSessionsTable;
}
