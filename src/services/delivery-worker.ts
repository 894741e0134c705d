import { CHANNEL_DEFINITIONS } from '../channels/index.ts';
import { unseal } from '../domain/codes/keys.ts';
import { afterFailure, DELIVERY_LEASE_MS, retryDelayMs, type Delivery } from '../domain/delivery.ts';
import { decide } from '../domain/verification/verification.ts';
import type { OutgoingMessage } from '../channels/types.ts';
import { ProviderError, StaleTransportError } from '../providers/types.ts';
import type { Write } from '../store/store.ts';
import type { ServiceDeps } from './deps.ts';
import { createClaimLoop } from './claim-loop.ts';
import { eventWrite, verificationEventWrites } from './events.ts';

/** How long one send may take before it counts as a transient failure. */
const SEND_TIMEOUT_MS = 20_000;
const BATCH = 32;
/** Longest sleep between looks at the queue when nothing wakes the worker (other nodes' work, lease expiry). */
const IDLE_POLL_MS = 1000;

/**
 * Sends queued messages. A message is leased while it is sent; if the process dies, the
 * lease runs out and the message is taken again (at least once). A transient failure is
 * retried with backoff; a permanent one (or too many) fails the message and, while it is
 * still pending, the verification with reason `delivery_failed`.
 */
export function createDeliveryWorker(
  deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys' | 'providers' | 'logger' | 'metrics'>,
  options: { leaseMs?: number } = {},
) {
  const leaseMs = options.leaseMs ?? DELIVERY_LEASE_MS;
  // A send must end before its lease does, or another worker could take the message while it is still being sent.
  const sendTimeoutMs = Math.min(SEND_TIMEOUT_MS, leaseMs);
  let staleTransport: ((deviceId: string, reason: string) => Promise<void>) | undefined;

  async function send(delivery: Delivery, stopping: AbortSignal): Promise<void> {
    const log = deps.logger.child({ delivery_id: delivery.id, verification_id: delivery.verificationId, provider: delivery.provider, attempt: delivery.attempts });
    let outcome: { ok: true; providerMessageId: string | null } | { ok: false; error: ProviderError };
    try {
      if (delivery.sealedMessage === null) throw new ProviderError('the message is gone', { permanent: true });
      const message = JSON.parse(unseal(deps.keys.sealKey, delivery.sealedMessage)) as OutgoingMessage;
      const providers = deps.providers.get(delivery.provider);
      if (providers === undefined) throw new ProviderError(`provider "${delivery.provider}" is not configured`, { permanent: true });
      const result = await CHANNEL_DEFINITIONS[delivery.channel].send(
        providers,
        delivery.recipient,
        message,
        { deliveryId: delivery.id, verificationId: delivery.verificationId, applicationId: delivery.applicationId },
        { signal: AbortSignal.any([stopping, AbortSignal.timeout(sendTimeoutMs)]), now: deps.clock.now() },
      );
      outcome = { ok: true, providerMessageId: result.providerMessageId };
    } catch (error) {
      outcome = { ok: false, error: error instanceof ProviderError ? error : new ProviderError(String((error as Error)?.message ?? error), { permanent: false, cause: error }) };
    }

    const now = deps.clock.now();
    // Decided on the claimed row: void if another worker took the delivery over meanwhile.
    const guard = { before: delivery };
    if (outcome.ok) {
      const sent: Delivery = { ...delivery, status: 'sent', sealedMessage: null, lockedUntil: null, providerMessageId: outcome.providerMessageId, error: null, updatedAt: now, sentAt: now };
      const result = await deps.store.commit({ writes: [{ kind: 'delivery.update', delivery: sent, ...guard }, deliveryEvent('delivery.sent', sent, now), wakeFollowers(delivery)] });
      deps.metrics.deliveries.inc({ channel: delivery.channel, provider: delivery.provider, status: 'sent' });
      log.info({ status: result.ok ? 'sent' : 'sent_after_lease_lost' }, 'delivery sent');
      return;
    }

    const error = outcome.error.message.slice(0, 500);
    if (afterFailure(delivery.attempts, outcome.error.permanent) === 'retry') {
      const retry: Delivery = { ...delivery, status: 'queued', lockedUntil: null, error, nextAttemptAt: now + retryDelayMs(delivery.attempts, Math.random()), updatedAt: now };
      await deps.store.commit({ writes: [{ kind: 'delivery.update', delivery: retry, ...guard }] });
      deps.metrics.deliveries.inc({ channel: delivery.channel, provider: delivery.provider, status: 'retry' });
      log.warn({ err_message: error, retry_at: new Date(retry.nextAttemptAt).toISOString() }, 'delivery failed; will retry');
      return;
    }

    const failed: Delivery = { ...delivery, status: 'failed', sealedMessage: null, lockedUntil: null, error, updatedAt: now };
    if (outcome.error instanceof StaleTransportError) {
      await staleTransport?.(delivery.recipient, error).catch((e: unknown) => log.warn({ err: e }, 'could not mark the push transport stale'));
    }
    // One push device out of reach never ends the request: the user's other devices, and this
    // one's own stream, can still answer it until it expires.
    const failsVerification = delivery.channel !== 'push';
    // The verification fails with its message, in the same unit; re-decided if it changed meanwhile.
    for (let round = 0; round < 8; round++) {
      const writes: Write[] = [{ kind: 'delivery.update', delivery: failed, ...guard }, deliveryEvent('delivery.failed', failed, now), wakeFollowers(delivery)];
      const verification = failsVerification ? await deps.store.verifications.byIdForWorker(delivery.verificationId) : undefined;
      if (verification !== undefined) {
        const decision = decide(verification, { type: 'delivery_failed' }, now);
        if (decision.next !== null) {
          writes.push({ kind: 'verification.update', verification: decision.next, before: verification });
          writes.push(...verificationEventWrites(decision.events, { applicationId: delivery.applicationId, verificationId: verification.id, actor: 'system', now, random: deps.random }));
        }
      }
      const result = await deps.store.commit({ writes });
      if (result.ok) break;
      const current = (await deps.store.deliveries.byVerification(delivery.verificationId)).find((d) => d.id === delivery.id);
      if (current?.status !== 'sending' || current.attempts !== delivery.attempts) break; // another worker took over
    }
    deps.metrics.deliveries.inc({ channel: delivery.channel, provider: delivery.provider, status: 'failed' });
    log.warn({ err_message: error, permanent: outcome.error.permanent }, 'delivery failed for good');
  }

  /** A verification's view shows its deliveries: its streams (API and console) hear when one is sent or fails. */
  function wakeFollowers(d: Delivery): Write {
    return { kind: 'wake', subjectId: d.verificationId };
  }

  function deliveryEvent(type: string, d: Delivery, now: number): Write {
    return eventWrite(deps.random, {
      applicationId: d.applicationId,
      type,
      subjectType: 'delivery',
      subjectId: d.id,
      actor: 'system',
      data: { delivery_id: d.id, verification_id: d.verificationId, channel: d.channel, provider: d.provider, status: d.status, attempts: d.attempts, error: d.error },
      createdAt: now,
    });
  }

  const loop = createClaimLoop(
    deps,
    {
      claim: (now, limit) => deps.store.deliveries.claim(now, limit, leaseMs),
      handle: send,
      nextDueAt: () => deps.store.deliveries.nextDueAt(),
    },
    { name: 'delivery worker', batch: BATCH, idlePollMs: IDLE_POLL_MS, minSleepMs: 0 },
  );

  return {
    /** Sends what is due now; answers how many messages it took. */
    runOnce: loop.runOnce,
    /** Who hears that a push service dropped a device's registration (the device service). */
    onStaleTransport(handler: (deviceId: string, reason: string) => Promise<void>): void {
      staleTransport = handler;
    },
    start: loop.start,
    /** A message was queued: look now rather than at the next poll. */
    wake: loop.wake,
    /** Stops taking messages and waits for the sends under way (aborting them after `graceMs`). */
    stop: loop.stop,
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
