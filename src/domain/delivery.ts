import type { Channel } from './application.ts';
import { newId, type RandomSource } from './random.ts';

/**
 * queued → sending → sent → delivered | undelivered (from the provider's receipt), or failed
 * when no try succeeded. A provider without receipts leaves a message at sent. A message not
 * yet sent when its verification ended (or was resent) is cancelled, and its text dropped.
 */
export type DeliveryStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed' | 'cancelled';

export interface Delivery {
  id: string;
  applicationId: string;
  /** The verification whose code it carries; for a security notice about a device (SEC-28), the device. */
  verificationId: string;
  channel: Channel;
  provider: string;
  recipient: string;
  sealedMessage: string | null;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lockedUntil: number | null;
  providerMessageId: string | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
  receiptAt: number | null;
  /** Which step of the verification's workflow this message is (0 for the first message). */
  step: number;
}

/** A new message, queued to go out at `sendAt` (a later workflow step waits for its time). */
export function queuedDelivery(
  input: Pick<Delivery, 'applicationId' | 'verificationId' | 'channel' | 'provider' | 'recipient' | 'sealedMessage'> & { sendAt: number; step?: number },
  now: number,
  random: RandomSource,
): Delivery {
  return {
    id: newId('dlv', random),
    applicationId: input.applicationId,
    verificationId: input.verificationId,
    channel: input.channel,
    provider: input.provider,
    recipient: input.recipient,
    sealedMessage: input.sealedMessage,
    status: 'queued',
    attempts: 0,
    nextAttemptAt: input.sendAt,
    lockedUntil: null,
    providerMessageId: null,
    error: null,
    createdAt: now,
    updatedAt: now,
    sentAt: null,
    receiptAt: null,
    step: input.step ?? 0,
  };
}

/** What a receipt does to a message: null when it changes nothing (a repeat, or a late one). */
export function applyReceipt(d: Delivery, status: 'delivered' | 'undelivered' | 'failed', error: string | null, now: number): Delivery | null {
  if (d.status !== 'sent') return null;
  return { ...d, status: status === 'delivered' ? 'delivered' : 'undelivered', error: status === 'delivered' ? null : error, receiptAt: now, updatedAt: now };
}

/** How many times a message is tried before it fails for good. */
export const MAX_DELIVERY_ATTEMPTS = 5;

/** How long a worker may hold a message it is sending before another may take it over. */
export const DELIVERY_LEASE_MS = 30_000;

/**
 * When to try again after the `attempts`-th try failed: 1 s, 4 s, 16 s, 64 s, with ±20 %
 * jitter (`jitter` in [0, 1)) so that a provider outage does not end in one burst of retries.
 */
export function retryDelayMs(attempts: number, jitter: number): number {
  const base = 1000 * 4 ** Math.max(0, attempts - 1);
  return Math.round(base * (0.8 + 0.4 * jitter));
}

/** What happens to a message after a failed try. */
export function afterFailure(attempts: number, permanent: boolean): 'retry' | 'give_up' {
  return permanent || attempts >= MAX_DELIVERY_ATTEMPTS ? 'give_up' : 'retry';
}
