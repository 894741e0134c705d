import type { TObject } from 'typebox';

/** Which message a send belongs to; providers pass it through (the dev outbox keeps it). */
export interface MessageReference {
  deliveryId: string;
  verificationId: string;
  applicationId: string;
}

export interface SmsMessage {
  /** E.164 */
  to: string;
  text: string;
  reference: MessageReference;
}

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  reference: MessageReference;
}

/** A voice call that speaks a message (the code digit by digit). */
export interface VoiceMessage {
  /** E.164 */
  to: string;
  /** The words to speak, plain text. */
  speech: string;
  /** The same as SSML, for providers that take it. */
  ssml: string;
  /** BCP 47 language of the speech, e.g. "nl-NL". */
  language: string;
  reference: MessageReference;
}

/** A call that rings and is not meant to be answered: the caller number carries the code. */
export interface MissedCallMessage {
  /** E.164 */
  to: string;
  /** E.164 caller id, drawn from the operator's pool; its last digits are the code. */
  from: string;
  /** How long the phone rings before the call is dropped. */
  ringSeconds: number;
  reference: MessageReference;
}

export interface SendOptions {
  /** Aborted when the send takes too long or the server shuts down. */
  signal: AbortSignal;
  /** The sender's clock (epoch ms), for what depends on time, such as a push's TTL. */
  now?: number;
}

export interface SendResult {
  /** The provider's id of the message, when it gives one. */
  providerMessageId: string | null;
}

/**
 * A failed send. `permanent` failures are not retried (a rejected recipient, bad credentials);
 * anything else is (timeouts, 5xx, connection errors). `message` may hold the provider's own
 * text: it goes to logs and the delivery record, never into an API error.
 */
export class ProviderError extends Error {
  readonly permanent: boolean;
  constructor(message: string, options: { permanent: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'ProviderError';
    this.permanent = options.permanent;
  }
}

/**
 * A push transport said the device's registration is gone for good (FCM UNREGISTERED or 404,
 * APNs 410, a Web Push 404/410): the device's transport is stale and is not tried again until
 * the authenticator registers a new one. Never retried; never fails the request for the
 * user's other devices.
 */
export class StaleTransportError extends ProviderError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { permanent: true, cause: options.cause });
    this.name = 'StaleTransportError';
  }
}

/** Where a push goes: what the authenticator registered at enrolment (or updated since). */
export type PushTarget =
  | { type: 'webpush'; subscription: { endpoint: string; keys: { p256dh: string; auth: string } } }
  | { type: 'fcm'; token: string }
  | { type: 'apns'; token: string };

/**
 * What a push says. Only the verification id and a generic notice leave through a third-party
 * push service: the authenticator fetches the details over the signed device API.
 */
export interface PushNotice {
  verificationId: string;
  deviceId: string;
  /** A generic, non-sensitive title and body for the system notification. */
  title: string;
  body: string;
  /** Seconds the request can still be answered: the push must not outlive it (SEC-48). */
  ttlSeconds: number;
  reference: MessageReference;
}

/** A push transport (Web Push, FCM, APNs). */
export interface PushProvider {
  readonly name: string;
  send(target: PushTarget, notice: PushNotice, options: SendOptions): Promise<SendResult>;
  check?(): Promise<void>;
  close?(): Promise<void>;
}

export interface SmsProvider {
  readonly name: string;
  send(message: SmsMessage, options: SendOptions): Promise<SendResult>;
  /** Tests the configuration and credentials without sending anything. */
  check?(): Promise<void>;
  close?(): Promise<void>;
}

export interface EmailProvider {
  readonly name: string;
  send(message: EmailMessage, options: SendOptions): Promise<SendResult>;
  check?(): Promise<void>;
  close?(): Promise<void>;
}

export interface VoiceProvider {
  readonly name: string;
  send(message: VoiceMessage, options: SendOptions): Promise<SendResult>;
  check?(): Promise<void>;
  close?(): Promise<void>;
}

export interface CallProvider {
  readonly name: string;
  call(message: MissedCallMessage, options: SendOptions): Promise<SendResult>;
  check?(): Promise<void>;
  close?(): Promise<void>;
}

/** A delivery report from a provider (an SMPP receipt, a Twilio status callback). */
export interface DeliveryReceipt {
  provider: string;
  providerMessageId: string;
  status: 'delivered' | 'undelivered' | 'failed';
  /** The provider's own error code or text, for the delivery record (never shown to API callers verbatim). */
  error?: string;
  at: number;
}

/** An SMS a user sent to one of our numbers (two-way SMS). */
export interface InboundSms {
  provider: string;
  /** E.164 of the sender */
  from: string;
  /** Our number it was sent to */
  to: string;
  text: string;
  /** The provider's id of the inbound message: the same id twice is processed once. */
  providerMessageId: string;
  at: number;
}

/** Where providers report what happens after a send; the composition root supplies it. */
export interface ProviderReports {
  receipt(receipt: DeliveryReceipt): Promise<void>;
  inbound(message: InboundSms): Promise<void>;
}

/** What the dev outbox provider writes to; the composition root supplies it. */
export interface OutboxSink {
  record(message: { channel: 'sms' | 'email' | 'voice' | 'missed_call'; to: string; subject?: string; text: string; html?: string; reference: MessageReference }): Promise<void>;
}

export interface ProviderDeps {
  outbox: OutboxSink;
  reports: ProviderReports;
}

/** An HTTP request from a provider to us (an inbound SMS, a status callback), as received. */
export interface ProviderRequest {
  /** The full URL the provider called, as it sees it (scheme, host, path, query). */
  url: string;
  headers: Record<string, string | undefined>;
  /** The body exactly as received: signatures are computed over it. */
  rawBody: string;
  /** The body parsed as a form, for providers that post forms. */
  form: Record<string, string>;
}

/** Inbound SMS over HTTP: the provider authenticates the request, then reads the message. */
export interface InboundSmsEndpoint {
  /** Whether the request really comes from the provider (its signature over the exact request). */
  authenticate(request: ProviderRequest, now: number): boolean;
  /** The message, or null when the request is not an inbound SMS. */
  parse(request: ProviderRequest, now: number): InboundSms | null;
  /** What to answer the provider once the message is taken (Twilio wants TwiML); default JSON. */
  reply?: { contentType: string; body: string };
}

/** Delivery-status callbacks over HTTP, in the same shape: authenticate, then read. */
export interface StatusCallbackEndpoint {
  /** Whether the request carries the provider's signature over the exact request. */
  authenticate(request: ProviderRequest, now: number): boolean;
  /** The receipt to record, or null: not a status callback, or a status that is not final. */
  parse(request: ProviderRequest, now: number): DeliveryReceipt | null;
}

export interface ProviderInstances {
  sms?: SmsProvider;
  email?: EmailProvider;
  voice?: VoiceProvider;
  call?: CallProvider;
  push?: PushProvider;
  inboundSms?: InboundSmsEndpoint;
  statusCallback?: StatusCallbackEndpoint;
  /**
   * Opens long-lived connections at server start (an SMPP session), so that receipts and
   * inbound messages can arrive before anything is sent. A failure is logged; the provider
   * keeps trying on its own.
   */
  start?(): Promise<void>;
}

/**
 * A provider as the registry knows it. `configSchema` describes every setting: its
 * environment variable (`env`), whether it is a secret (`secret: true`, masked wherever
 * config is shown), and a description; the same schema validates the configuration.
 */
export interface ProviderDefinition<Config = any> {
  readonly name: string;
  readonly description: string;
  readonly configSchema: TObject;
  /** Needs no account: configured with its defaults even when none of its variables is set. */
  readonly alwaysOn?: boolean;
  create(config: Config, deps: ProviderDeps): ProviderInstances;
}
