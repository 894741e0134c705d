import { seal } from '../domain/codes/keys.ts';
import { OutbandError } from '../domain/errors.ts';
import { newId } from '../domain/random.ts';
import { normalizeEventTypes, ROTATION_OVERLAP_MS, type WebhookEndpoint } from '../domain/webhooks/endpoint.ts';
import { newSigningSecret } from '../domain/webhooks/signature.ts';
import type { Write } from '../store/store.ts';
import { createWebhookStore, type WebhookAttempt, type WebhookMessage } from '../store/webhooks.ts';
import type { ServiceDeps } from './deps.ts';
import { eventWrite } from './events.ts';
import type { Principal } from './tokens.ts';
import { checkTarget, type HostResolver } from './webhook-sender.ts';

export interface WebhookInput {
  url: string;
  event_types?: string[] | undefined;
  enabled?: boolean | undefined;
  description?: string | null | undefined;
}

export type WebhookPatch = Partial<WebhookInput>;

export interface WebhookServiceOptions {
  /** Development: http and loopback receivers allowed. */
  allowInsecure: boolean;
  resolver: HostResolver;
  /** Tells the dispatcher that a delivery was queued by hand (no event wakes it then). */
  wake?: () => void;
}

export interface DeliveryPage {
  items: Array<{ message: WebhookMessage; attempts: WebhookAttempt[] }>;
  nextCursor: string | null;
}

/** What an event about an endpoint may say: never its secret, nor its URL (which may carry a token). */
function endpointData(e: WebhookEndpoint): Record<string, unknown> {
  return { webhook_id: e.id, host: new URL(e.url).host, event_types: e.eventTypes, enabled: e.enabled };
}

function encodeCursor(m: WebhookMessage): string {
  return Buffer.from(JSON.stringify([m.createdAt, m.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {
    // answered below
  }
  throw new OutbandError('invalid_request', 'querystring.cursor is not a cursor this API gave out');
}

/**
 * Webhook endpoints of an application: registered (the URL checked against SSRF after DNS
 * resolution), changed, deleted, their secret rotated, and their deliveries listed and
 * retried. Every change is an event; the secret is shown once and never put in an event.
 */
export function createWebhookService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys'>, options: WebhookServiceOptions) {
  const webhooks = createWebhookStore(deps.store.database);
  const actorOf = (p: Principal) => `client:${p.clientId}`;

  async function load(principal: Principal, id: string): Promise<WebhookEndpoint> {
    const endpoint = await webhooks.endpoints.byId(principal.applicationId, id);
    if (endpoint === undefined) throw new OutbandError('webhook_not_found', `no webhook endpoint ${id}`);
    return endpoint;
  }

  async function assertAllowedUrl(url: string): Promise<void> {
    const check = await checkTarget(url, options);
    if (!check.ok) throw new OutbandError('webhook_url_not_allowed', `the webhook URL is not allowed: ${check.detail}`, { reason: check.reason });
  }

  function event(principal: Principal | null, endpoint: WebhookEndpoint, type: string, data: Record<string, unknown>, now: number): Write {
    return eventWrite(deps.random, {
      applicationId: endpoint.applicationId,
      type,
      subjectType: 'webhook',
      subjectId: endpoint.id,
      actor: principal === null ? 'system' : actorOf(principal),
      data,
      createdAt: now,
    });
  }

  /** Applies a change decided on the endpoint as read, again from a fresh read if it moved meanwhile. */
  async function change(
    principal: Principal,
    id: string,
    decide: (before: WebhookEndpoint, now: number) => { after: WebhookEndpoint; events: Write[] } | null,
  ): Promise<WebhookEndpoint> {
    for (let round = 0; round < 5; round++) {
      const before = await load(principal, id);
      const now = deps.clock.now();
      const decided = decide(before, now);
      if (decided === null) return before;
      const result = await deps.store.commit({
        writes: [{ kind: 'webhook', write: { op: 'endpoint.update', endpoint: decided.after, expectedVersion: before.version } }, ...decided.events],
      });
      if (result.ok) return decided.after;
    }
    throw new OutbandError('concurrent_update', 'the webhook endpoint kept changing while this change was applied');
  }

  return {
    async create(principal: Principal, input: WebhookInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      await assertAllowedUrl(input.url);
      const now = deps.clock.now();
      const secret = newSigningSecret(deps.random);
      const endpoint: WebhookEndpoint = {
        id: newId('whk', deps.random),
        applicationId: principal.applicationId,
        url: input.url,
        description: input.description ?? null,
        eventTypes: normalizeEventTypes(input.event_types),
        enabled: input.enabled ?? true,
        disabledReason: input.enabled === false ? 'admin' : null,
        sealedSecret: seal(deps.keys.sealKey, secret, deps.random),
        previousSealedSecret: null,
        previousSecretExpiresAt: null,
        createdAt: now,
        updatedAt: now,
        version: 0,
      };
      const result = await deps.store.commit({
        writes: [{ kind: 'webhook', write: { op: 'endpoint.insert', endpoint } }, event(principal, endpoint, 'webhook.created', endpointData(endpoint), now)],
      });
      if (!result.ok) throw new OutbandError('concurrent_update', 'the webhook endpoint could not be stored; try again');
      return { endpoint, secret };
    },

    async list(principal: Principal): Promise<WebhookEndpoint[]> {
      return webhooks.endpoints.list(principal.applicationId);
    },

    get: load,

    async update(principal: Principal, id: string, patch: WebhookPatch): Promise<WebhookEndpoint> {
      if (patch.url !== undefined) await assertAllowedUrl(patch.url);
      return change(principal, id, (before, now) => {
        const after: WebhookEndpoint = { ...before };
        if (patch.url !== undefined) after.url = patch.url;
        if (patch.event_types !== undefined) after.eventTypes = normalizeEventTypes(patch.event_types);
        if (patch.description !== undefined) after.description = patch.description;
        if (patch.enabled !== undefined) {
          after.enabled = patch.enabled;
          // Enabling clears why it was disabled; a disabled endpoint's queued messages go out again.
          after.disabledReason = patch.enabled ? null : before.enabled ? 'admin' : before.disabledReason;
        }
        const changed: string[] = (['url', 'description', 'enabled'] as const).filter((k) => before[k] !== after[k]);
        if (before.eventTypes.join(' ') !== after.eventTypes.join(' ')) changed.push('event_types');
        if (changed.length === 0) return null;
        const next = { ...after, updatedAt: now, version: before.version + 1 };
        return { after: next, events: [event(principal, next, 'webhook.updated', { ...endpointData(next), changed }, now)] };
      });
    },

    async remove(principal: Principal, id: string): Promise<void> {
      for (let round = 0; round < 5; round++) {
        const endpoint = await load(principal, id);
        const now = deps.clock.now();
        const result = await deps.store.commit({
          writes: [
            { kind: 'webhook', write: { op: 'endpoint.delete', applicationId: principal.applicationId, id, expectedVersion: endpoint.version } },
            event(principal, endpoint, 'webhook.deleted', { webhook_id: id }, now),
          ],
        });
        if (result.ok) return;
      }
      throw new OutbandError('concurrent_update', 'the webhook endpoint kept changing while it was deleted');
    },

    /** A new secret, shown once; the current one keeps signing (beside it) for 24 hours. */
    async rotateSecret(principal: Principal, id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      const secret = newSigningSecret(deps.random);
      const sealed = seal(deps.keys.sealKey, secret, deps.random);
      const endpoint = await change(principal, id, (before, now) => {
        const after: WebhookEndpoint = {
          ...before,
          sealedSecret: sealed,
          previousSealedSecret: before.sealedSecret,
          previousSecretExpiresAt: now + ROTATION_OVERLAP_MS,
          updatedAt: now,
          version: before.version + 1,
        };
        const expires = new Date(now + ROTATION_OVERLAP_MS).toISOString();
        return { after, events: [event(principal, after, 'webhook.secret_rotated', { webhook_id: id, previous_secret_expires_at: expires }, now)] };
      });
      return { endpoint, secret };
    },

    async deliveries(principal: Principal, id: string, page: { limit: number; cursor?: string | undefined }): Promise<DeliveryPage> {
      await load(principal, id);
      const before = page.cursor === undefined ? null : decodeCursor(page.cursor);
      const items = await webhooks.messages.page(principal.applicationId, id, page.limit, before);
      const last = items.at(-1);
      return { items, nextCursor: items.length === page.limit && last !== undefined ? encodeCursor(last.message) : null };
    },

    /** Queues a delivery to go out again now, whatever its state (unless it is being sent). */
    async retry(principal: Principal, id: string, deliveryId: string): Promise<{ message: WebhookMessage; attempts: WebhookAttempt[] }> {
      await load(principal, id);
      const message = await webhooks.messages.byId(principal.applicationId, deliveryId);
      if (message === undefined || message.endpointId !== id) throw new OutbandError('webhook_delivery_not_found', `no delivery ${deliveryId} of webhook ${id}`);
      const now = deps.clock.now();
      const result = await deps.store.commit({ writes: [{ kind: 'webhook', write: { op: 'message.requeue', applicationId: principal.applicationId, id: deliveryId, now } }] });
      if (!result.ok) throw new OutbandError('webhook_delivery_in_progress', `delivery ${deliveryId} is being sent right now`);
      options.wake?.();
      const requeued = (await webhooks.messages.byId(principal.applicationId, deliveryId)) ?? message;
      return { message: requeued, attempts: await webhooks.messages.attempts(deliveryId) };
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
