import { unseal } from '../domain/codes/keys.ts';
import type { WebhookEndpoint } from '../domain/webhooks/endpoint.ts';
import { nextRetryDelayMs, retryAfterMs, shouldDisable, unitFromBytes, verdictOf } from '../domain/webhooks/schedule.ts';
import { signatureHeader } from '../domain/webhooks/signature.ts';
import { createWebhookStore, type WebhookMessage } from '../store/webhooks.ts';
import type { ServiceDeps } from './deps.ts';
import { createClaimLoop } from './claim-loop.ts';
import { eventWrite } from './events.ts';
import { postWebhook, type HostResolver } from './webhook-sender.ts';

export interface WebhookDispatcherOptions {
  allowInsecure: boolean;
  resolver: HostResolver;
  /** One attempt's limit (connect, send, answer). */
  timeoutMs: number;
  userAgent: string;
}

/** Messages in flight at once, per process. */
const BATCH = 32;
/** Longest sleep between looks at the queue (other nodes' events, retries falling due). */
const IDLE_POLL_MS = 1000;

/**
 * Sends queued webhook messages, outside any request: claims due messages under a lease,
 * signs each attempt (Standard Webhooks), posts it, records the attempt, and schedules the
 * next one or gives up. A process that dies mid-send leaves a lease that runs out; the
 * message is then taken again with the same `webhook-id` (at least once).
 */
export function createWebhookDispatcher(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys' | 'logger' | 'metrics'>, options: WebhookDispatcherOptions) {
  const webhooks = createWebhookStore(deps.store.database);
  // The lease outlives the longest attempt, so no other dispatcher takes a message still being sent.
  const leaseMs = options.timeoutMs + 30_000;

  function secretsOf(endpoint: WebhookEndpoint, now: number): string[] {
    const secrets = [unseal(deps.keys.sealKey, endpoint.sealedSecret)];
    if (endpoint.previousSealedSecret !== null && (endpoint.previousSecretExpiresAt ?? 0) > now) {
      secrets.push(unseal(deps.keys.sealKey, endpoint.previousSealedSecret));
    }
    return secrets;
  }

  async function disable(endpointId: string, reason: 'gone' | 'failing'): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const before = await webhooks.endpoints.byIdForWorker(endpointId);
      if (before === undefined || !before.enabled) return;
      const now = deps.clock.now();
      const after: WebhookEndpoint = { ...before, enabled: false, disabledReason: reason, updatedAt: now, version: before.version + 1 };
      const result = await deps.store.commit({
        writes: [
          { kind: 'webhook', write: { op: 'endpoint.update', endpoint: after, expectedVersion: before.version } },
          eventWrite(deps.random, {
            applicationId: after.applicationId,
            type: 'webhook.disabled',
            subjectType: 'webhook',
            subjectId: after.id,
            actor: 'system',
            data: { webhook_id: after.id, host: new URL(after.url).host, reason },
            createdAt: now,
          }),
        ],
      });
      if (result.ok) {
        deps.logger.warn({ webhook_id: endpointId, reason }, 'webhook endpoint disabled');
        return;
      }
    }
  }

  async function attempt(message: WebhookMessage, stopping: AbortSignal): Promise<void> {
    const log = deps.logger.child({ webhook_message_id: message.id, webhook_id: message.endpointId, attempt: message.attempts });
    const guard = { expectedAttempts: message.attempts };
    const endpoint = await webhooks.endpoints.byIdForWorker(message.endpointId);
    if (endpoint === undefined || !endpoint.enabled) {
      // Disabled or deleted after the claim: not an attempt; back to the queue as it was.
      const back: WebhookMessage = { ...message, status: 'queued', attempts: message.attempts - 1, lockedUntil: null };
      await deps.store.commit({ writes: [{ kind: 'webhook', write: { op: 'message.settle', message: back, ...guard } }] });
      return;
    }

    const now = deps.clock.now();
    const timestamp = Math.floor(now / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': options.userAgent,
      'webhook-id': message.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(secretsOf(endpoint, now), message.id, timestamp, message.payload),
    };
    const outcome = await postWebhook(endpoint.url, message.payload, headers, { ...options, signal: stopping });
    const statusCode = outcome.kind === 'answered' ? outcome.statusCode : null;
    const verdict = outcome.kind === 'answered' ? verdictOf(statusCode) : 'retry';
    const error =
      outcome.kind !== 'answered'
        ? outcome.error
        : verdict === 'delivered'
          ? null
          : statusCode !== null && statusCode >= 300 && statusCode <= 399
            ? `HTTP ${statusCode}: redirects are not followed`
            : `HTTP ${statusCode}`;
    const latencyMs = outcome.kind === 'refused' ? null : outcome.latencyMs;
    const settledAt = deps.clock.now();

    let settled: WebhookMessage;
    let disableFor: 'gone' | 'failing' | null = null;
    if (verdict === 'delivered') {
      settled = { ...message, status: 'delivered', lockedUntil: null, lastError: null, updatedAt: settledAt, deliveredAt: settledAt };
    } else {
      const retryAfter = outcome.kind === 'answered' ? retryAfterMs(statusCode, outcome.retryAfter, now) : null;
      const delay = verdict === 'gone' ? null : nextRetryDelayMs(message.attempts, unitFromBytes(deps.random.bytes(4)), retryAfter);
      settled =
        delay === null
          ? { ...message, status: 'failed', lockedUntil: null, lastError: error, updatedAt: settledAt }
          : { ...message, status: 'queued', lockedUntil: null, lastError: error, nextAttemptAt: now + delay, updatedAt: settledAt };
      if (verdict === 'gone') disableFor = 'gone';
    }

    const result = await deps.store.commit({
      writes: [
        {
          kind: 'webhook',
          write: { op: 'attempt.insert', attempt: { messageId: message.id, attempt: message.attempts, at: now, statusCode, latencyMs, error, delivered: verdict === 'delivered' } },
        },
        { kind: 'webhook', write: { op: 'message.settle', message: settled, ...guard } },
      ],
    });
    if (outcome.kind === 'refused') log.warn({ err_message: error }, 'webhook attempt refused: the target is not allowed');
    if (!result.ok) {
      log.warn({ status_code: statusCode }, 'webhook attempt ended after its lease was lost; another dispatcher took the message');
      return;
    }
    deps.metrics.webhookAttempts.inc({ outcome: settled.status === 'queued' ? 'retry' : settled.status });
    if (settled.status === 'delivered') log.info({ status_code: statusCode, latency_ms: latencyMs }, 'webhook delivered');
    else if (settled.status === 'queued') log.info({ status_code: statusCode, err_message: error, retry_at: new Date(settled.nextAttemptAt).toISOString() }, 'webhook attempt failed; will retry');
    else log.warn({ status_code: statusCode, err_message: error }, 'webhook message failed for good');

    if (settled.status === 'failed' && disableFor === null) {
      const first = (await webhooks.messages.firstAttemptAt(message.id)) ?? now;
      if (shouldDisable(first, await webhooks.endpoints.lastSuccessAt(endpoint.id), settledAt)) disableFor = 'failing';
    }
    if (disableFor !== null) await disable(endpoint.id, disableFor);
  }

  const loop = createClaimLoop(
    deps,
    {
      claim: (now, limit) => webhooks.messages.claim(now, limit, leaseMs),
      handle: attempt,
      nextDueAt: () => webhooks.messages.nextDueAt(),
    },
    // At least a short pause: a due message another node holds must not make this loop spin.
    { name: 'webhook dispatcher', batch: BATCH, idlePollMs: IDLE_POLL_MS, minSleepMs: 50 },
  );

  return {
    /** Sends what is due now and waits for it; answers how many messages it took. */
    runOnce: loop.runOnce,
    start: loop.start,
    /** Something was queued (an event was appended): look now. */
    wake: loop.wake,
    /** Stops claiming and waits for attempts under way, cutting them off after `graceMs`. */
    stop: loop.stop,
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
