import { applyReceipt, type Delivery } from '../domain/delivery.ts';
import type { DeliveryReceipt } from '../providers/types.ts';
import type { ServiceDeps } from './deps.ts';
import { eventWrite } from './events.ts';

/** How long a receipt waits for its message to be recorded as sent (a receipt can outrun that write). */
const LOOKUP_ROUNDS = 10;
const LOOKUP_PAUSE_MS = 200;

/**
 * Delivery receipts from providers (SMPP deliver_sm receipts, Twilio status callbacks): the
 * message becomes delivered or undelivered, once. Repeats and receipts for unknown messages
 * change nothing.
 */
export function createReceiptService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'logger'>) {
  async function find(receipt: DeliveryReceipt): Promise<Delivery | undefined> {
    for (let round = 0; round < LOOKUP_ROUNDS; round++) {
      const delivery = await deps.store.deliveries.byProviderMessageId(receipt.provider, receipt.providerMessageId);
      if (delivery !== undefined && delivery.status !== 'sending') return delivery;
      await new Promise((resolve) => setTimeout(resolve, LOOKUP_PAUSE_MS));
    }
    return undefined;
  }

  return {
    async record(receipt: DeliveryReceipt): Promise<'applied' | 'ignored' | 'unknown'> {
      const delivery = await find(receipt);
      if (delivery === undefined) {
        deps.logger.warn({ provider: receipt.provider, provider_message_id: receipt.providerMessageId }, 'receipt for an unknown message');
        return 'unknown';
      }
      const now = deps.clock.now();
      const next = applyReceipt(delivery, receipt.status, receipt.error ?? null, now);
      if (next === null) return 'ignored';
      const result = await deps.store.commit({
        writes: [
          { kind: 'delivery.update', delivery: next, before: delivery },
          eventWrite(deps.random, {
            applicationId: next.applicationId,
            type: `delivery.${next.status}`,
            subjectType: 'delivery',
            subjectId: next.id,
            actor: 'system',
            data: { delivery_id: next.id, verification_id: next.verificationId, channel: next.channel, provider: next.provider, status: next.status, error: next.error },
            createdAt: now,
          }),
        ],
      });
      return result.ok ? 'applied' : 'ignored';
    },
  };
}

export type ReceiptService = ReturnType<typeof createReceiptService>;
