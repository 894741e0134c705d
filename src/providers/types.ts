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

export interface SendOptions {
  /** Aborted when the send takes too long or the server shuts down. */
  signal: AbortSignal;
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

/** What the dev outbox provider writes to; the composition root supplies it. */
export interface OutboxSink {
  record(message: { channel: 'sms' | 'email'; to: string; subject?: string; text: string; html?: string; reference: MessageReference }): Promise<void>;
}

export interface ProviderDeps {
  outbox: OutboxSink;
}

export interface ProviderInstances {
  sms?: SmsProvider;
  email?: EmailProvider;
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
  create(config: Config, deps: ProviderDeps): ProviderInstances;
}
