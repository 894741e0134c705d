import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DomainEvent } from '../domain/event.ts';
import { matchingSubscriptions, webhookPayload, type WebhookEndpoint } from '../domain/webhooks/endpoint.ts';
import type { Database, Dialect } from './database.ts';
import type { Tables } from './schema.ts';
import { transaction } from './transaction.ts';
import { ConflictError } from './unit-of-work.ts';
import { runStatement, statement } from './statements.ts';

// The SQL of signed webhooks: its writes (applied inside a unit of work), the fan-out of an
// event into messages, and the reads and the claim of the dispatcher.

export type WebhookMessageStatus = 'queued' | 'sending' | 'delivered' | 'failed';

export interface WebhookMessage {
  id: string;
  endpointId: string;
  applicationId: string;
  eventId: string;
  eventType: string;
  payload: string;
  status: WebhookMessageStatus;
  attempts: number;
  nextAttemptAt: number;
  lockedUntil: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

export interface WebhookAttempt {
  messageId: string;
  attempt: number;
  at: number;
  statusCode: number | null;
  latencyMs: number | null;
  error: string | null;
  delivered: boolean;
}

/** One write of webhooks, applied in a unit of work with the others (see unit-of-work.ts). */
export type WebhookWrite =
  | { op: 'endpoint.insert'; endpoint: WebhookEndpoint }
  /** Replaces the endpoint (and its subscriptions) if it is still at `expectedVersion`. */
  | { op: 'endpoint.update'; endpoint: WebhookEndpoint; expectedVersion: number }
  /** Deletes the endpoint with its subscriptions, messages and attempts. */
  | { op: 'endpoint.delete'; applicationId: string; id: string; expectedVersion: number }
  /** The outcome of an attempt, if the message is still `sending` at `expectedAttempts` (the sender's lease holds). */
  | { op: 'message.settle'; message: WebhookMessage; expectedAttempts: number }
  | { op: 'attempt.insert'; attempt: WebhookAttempt }
  /** Back to the queue, due at `now` (a manual retry), unless it is being sent right now. */
  | { op: 'message.requeue'; applicationId: string; id: string; now: number };

type Db = Transaction<Tables> | Kysely<Tables>;

function endpointRow(e: WebhookEndpoint): Selectable<Tables['webhook_endpoints']> {
  return {
    id: e.id,
    application_id: e.applicationId,
    url: e.url,
    description: e.description,
    enabled: e.enabled ? 1 : 0,
    disabled_reason: e.disabledReason,
    secret_sealed: e.sealedSecret,
    previous_secret_sealed: e.previousSealedSecret,
    previous_secret_expires_at: e.previousSecretExpiresAt,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
    version: e.version,
  };
}

function toEndpoint(row: Selectable<Tables['webhook_endpoints']>, types: string[]): WebhookEndpoint {
  return {
    id: row.id,
    applicationId: row.application_id,
    url: row.url,
    description: row.description,
    eventTypes: types,
    enabled: Number(row.enabled) === 1,
    disabledReason: row.disabled_reason,
    sealedSecret: row.secret_sealed,
    previousSealedSecret: row.previous_secret_sealed,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

function toMessage(row: Selectable<Tables['webhook_messages']>): WebhookMessage {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    applicationId: row.application_id,
    eventId: row.event_id,
    eventType: row.event_type,
    payload: row.payload,
    status: row.status as WebhookMessageStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lockedUntil: row.locked_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
  };
}

function toAttempt(row: Selectable<Tables['webhook_attempts']>): WebhookAttempt {
  return {
    messageId: row.message_id,
    attempt: row.attempt,
    at: row.at,
    statusCode: row.status_code,
    latencyMs: row.latency_ms,
    error: row.error,
    delivered: Number(row.delivered) === 1,
  };
}

async function insertTypes(trx: Db, endpointId: string, types: readonly string[]): Promise<void> {
  if (types.length === 0) return;
  await trx
    .insertInto('webhook_endpoint_types')
    .values(types.map((t) => ({ endpoint_id: endpointId, event_type: t })))
    .execute();
}

export async function applyWebhookWrite(trx: Db, write: WebhookWrite): Promise<void> {
  switch (write.op) {
    case 'endpoint.insert':
      await trx.insertInto('webhook_endpoints').values(endpointRow(write.endpoint)).execute();
      await insertTypes(trx, write.endpoint.id, write.endpoint.eventTypes);
      return;
    case 'endpoint.update': {
      const { id, ...row } = endpointRow(write.endpoint);
      const result = await trx
        .updateTable('webhook_endpoints')
        .set(row)
        .where('id', '=', id)
        .where('application_id', '=', write.endpoint.applicationId)
        .where('version', '=', write.expectedVersion)
        .executeTakeFirst();
      if (result.numUpdatedRows !== 1n) throw new ConflictError(`webhook endpoint ${id}`);
      await trx.deleteFrom('webhook_endpoint_types').where('endpoint_id', '=', id).execute();
      await insertTypes(trx, id, write.endpoint.eventTypes);
      return;
    }
    case 'endpoint.delete': {
      const result = await trx
        .deleteFrom('webhook_endpoints')
        .where('id', '=', write.id)
        .where('application_id', '=', write.applicationId)
        .where('version', '=', write.expectedVersion)
        .executeTakeFirst();
      if (result.numDeletedRows !== 1n) throw new ConflictError(`webhook endpoint ${write.id}`);
      await trx.deleteFrom('webhook_endpoint_types').where('endpoint_id', '=', write.id).execute();
      await trx
        .deleteFrom('webhook_attempts')
        .where('message_id', 'in', (eb) => eb.selectFrom('webhook_messages').select('id').where('endpoint_id', '=', write.id))
        .execute();
      await trx.deleteFrom('webhook_messages').where('endpoint_id', '=', write.id).execute();
      return;
    }
    case 'message.settle': {
      const m = write.message;
      const result = await trx
        .updateTable('webhook_messages')
        .set({
          status: m.status,
          attempts: m.attempts,
          next_attempt_at: m.nextAttemptAt,
          locked_until: m.lockedUntil,
          last_error: m.lastError,
          updated_at: m.updatedAt,
          delivered_at: m.deliveredAt,
        })
        .where('id', '=', m.id)
        .where('status', '=', 'sending')
        .where('attempts', '=', write.expectedAttempts)
        .executeTakeFirst();
      if (result.numUpdatedRows !== 1n) throw new ConflictError(`webhook message ${m.id}`);
      return;
    }
    case 'attempt.insert': {
      const a = write.attempt;
      await trx
        .insertInto('webhook_attempts')
        .values({
          message_id: a.messageId,
          attempt: a.attempt,
          at: a.at,
          status_code: a.statusCode,
          latency_ms: a.latencyMs,
          error: a.error,
          delivered: a.delivered ? 1 : 0,
        })
        .execute();
      return;
    }
    case 'message.requeue': {
      const result = await trx
        .updateTable('webhook_messages')
        .set({ status: 'queued', next_attempt_at: write.now, locked_until: null, updated_at: write.now })
        .where('id', '=', write.id)
        .where('application_id', '=', write.applicationId)
        .where('status', '!=', 'sending')
        .executeTakeFirst();
      if (result.numUpdatedRows !== 1n) throw new ConflictError(`webhook message ${write.id}`);
      return;
    }
  }
}

/** Whether an application has an enabled endpoint: most have none, and then no payload is built. */
export async function hasEnabledEndpoint(trx: Db, dialect: Dialect, applicationId: string): Promise<boolean> {
  return (await runStatement(trx, dialect, ANY_ENABLED_ENDPOINT, [applicationId])).rows.length > 0;
}

const ANY_ENABLED_ENDPOINT = statement('select id from webhook_endpoints where application_id = ? and enabled = 1 limit 1');

/**
 * The subject woken when a committed unit queued webhook messages: the dispatcher listens to it
 * alone, not to every event (an application without endpoints costs it nothing). Not an id: ids
 * are a prefix, an underscore and base32.
 */
export const WEBHOOKS_QUEUED = 'webhook_messages:queued';

/**
 * Queues one message per enabled endpoint of the event's application that subscribes to its
 * type, in the event's own transaction: the event and its webhooks commit together or not at
 * all (SEC-43). The message id joins the event's and the endpoint's random parts, so it is
 * unique per pair and needs no randomness here. Answers how many it queued.
 */
export async function fanOutWebhooks(trx: Db, event: DomainEvent, seq: number, userId: string | null): Promise<number> {
  const subscriptions = matchingSubscriptions(event.type);
  const payload = webhookPayload(event, { seq, userId });
  const now = event.createdAt;
  const result = await trx
    .insertInto('webhook_messages')
    .columns(['id', 'endpoint_id', 'application_id', 'event_id', 'event_type', 'payload', 'status', 'attempts', 'next_attempt_at', 'created_at', 'updated_at'])
    .expression(
      trx
        .selectFrom('webhook_endpoints as e')
        .select([
          sql<string>`'msg_' || substr(cast(${event.id} as text), 5) || substr(e.id, 5)`.as('id'),
          'e.id as endpoint_id',
          'e.application_id',
          sql<string>`cast(${event.id} as text)`.as('event_id'),
          sql<string>`cast(${event.type} as text)`.as('event_type'),
          sql<string>`cast(${payload} as text)`.as('payload'),
          sql<string>`'queued'`.as('status'),
          sql<number>`0`.as('attempts'),
          sql<number>`cast(${now} as bigint)`.as('next_attempt_at'),
          sql<number>`cast(${now} as bigint)`.as('created_at'),
          sql<number>`cast(${now} as bigint)`.as('updated_at'),
        ])
        .where('e.application_id', '=', event.applicationId)
        .where('e.enabled', '=', 1)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('webhook_endpoint_types as t')
              .select('t.endpoint_id')
              .whereRef('t.endpoint_id', '=', 'e.id')
              .where('t.event_type', 'in', subscriptions),
          ),
        ),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

/** Reads of webhooks, and the dispatcher's claim. */
export function createWebhookStore(database: Database) {
  const { db, dialect } = database;

  async function typesOf(endpointIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(endpointIds.map((id) => [id, []]));
    if (endpointIds.length === 0) return out;
    const rows = await db.selectFrom('webhook_endpoint_types').selectAll().where('endpoint_id', 'in', endpointIds).orderBy('event_type').execute();
    for (const r of rows) out.get(r.endpoint_id)?.push(r.event_type);
    return out;
  }

  async function withTypes(rows: Selectable<Tables['webhook_endpoints']>[]): Promise<WebhookEndpoint[]> {
    const types = await typesOf(rows.map((r) => r.id));
    return rows.map((r) => toEndpoint(r, types.get(r.id) ?? []));
  }

  return {
    dialect: dialect satisfies Dialect,
    endpoints: {
      async list(applicationId: string): Promise<WebhookEndpoint[]> {
        const rows = await db.selectFrom('webhook_endpoints').selectAll().where('application_id', '=', applicationId).orderBy('created_at').orderBy('id').execute();
        return withTypes(rows);
      },
      async byId(applicationId: string, id: string): Promise<WebhookEndpoint | undefined> {
        const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).where('application_id', '=', applicationId).executeTakeFirst();
        return row === undefined ? undefined : (await withTypes([row]))[0];
      },
      /** The endpoint a claimed message goes to; not scoped to an application. */
      async byIdForWorker(id: string): Promise<WebhookEndpoint | undefined> {
        const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
        return row === undefined ? undefined : (await withTypes([row]))[0];
      },
      /** When an attempt to this endpoint last delivered, or null. */
      async lastSuccessAt(endpointId: string): Promise<number | null> {
        const row = await db
          .selectFrom('webhook_attempts as a')
          .innerJoin('webhook_messages as m', 'm.id', 'a.message_id')
          .select((eb) => eb.fn.max('a.at').as('at'))
          .where('m.endpoint_id', '=', endpointId)
          .where('a.delivered', '=', 1)
          .executeTakeFirst();
        return row?.at === null || row?.at === undefined ? null : Number(row.at);
      },
    },
    messages: {
      async byId(applicationId: string, id: string): Promise<WebhookMessage | undefined> {
        const row = await db.selectFrom('webhook_messages').selectAll().where('id', '=', id).where('application_id', '=', applicationId).executeTakeFirst();
        return row && toMessage(row);
      },
      /**
       * An endpoint's messages, newest first, with their attempts; `before` is the
       * (created_at, id) of the last message of the previous page.
       */
      async page(
        applicationId: string,
        endpointId: string,
        limit: number,
        before: { createdAt: number; id: string } | null,
      ): Promise<Array<{ message: WebhookMessage; attempts: WebhookAttempt[] }>> {
        let query = db.selectFrom('webhook_messages').selectAll().where('application_id', '=', applicationId).where('endpoint_id', '=', endpointId);
        if (before !== null) {
          query = query.where((eb) =>
            eb.or([eb('created_at', '<', before.createdAt), eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)])]),
          );
        }
        const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
        const ids = rows.map((r) => r.id);
        const attempts =
          ids.length === 0 ? [] : await db.selectFrom('webhook_attempts').selectAll().where('message_id', 'in', ids).orderBy('message_id').orderBy('attempt').execute();
        return rows.map((r) => ({ message: toMessage(r), attempts: attempts.filter((a) => a.message_id === r.id).map(toAttempt) }));
      },
      async attempts(messageId: string): Promise<WebhookAttempt[]> {
        const rows = await db.selectFrom('webhook_attempts').selectAll().where('message_id', '=', messageId).orderBy('attempt').execute();
        return rows.map(toAttempt);
      },
      /** When a message's first recorded attempt was, or null. */
      async firstAttemptAt(messageId: string): Promise<number | null> {
        const row = await db.selectFrom('webhook_attempts').select((eb) => eb.fn.min('at').as('at')).where('message_id', '=', messageId).executeTakeFirst();
        return row?.at === null || row?.at === undefined ? null : Number(row.at);
      },
      /**
       * Leases up to `limit` due messages of enabled endpoints (queued and due, or sending
       * under a lease that ran out because its dispatcher died) and counts the attempt. On
       * PostgreSQL, SKIP LOCKED lets several nodes claim side by side.
       */
      async claim(now: number, limit: number, leaseMs: number): Promise<WebhookMessage[]> {
        return transaction(db, async (trx) => {
          let due = trx
            .selectFrom('webhook_messages')
            .select('id')
            .where((eb) =>
              eb.or([
                eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
                eb.and([eb('status', '=', 'sending'), eb('locked_until', '<=', now)]),
              ]),
            )
            .where('endpoint_id', 'in', (eb) => eb.selectFrom('webhook_endpoints').select('id').where('enabled', '=', 1))
            .orderBy('next_attempt_at')
            .limit(limit);
          if (dialect === 'postgres') due = due.forUpdate().skipLocked();
          const ids = (await due.execute()).map((r) => r.id);
          if (ids.length === 0) return [];
          const rows = await trx
            .updateTable('webhook_messages')
            .set((eb) => ({ status: 'sending', locked_until: now + leaseMs, attempts: eb('attempts', '+', 1), updated_at: now }))
            .where('id', 'in', ids)
            .returningAll()
            .execute();
          return rows.map(toMessage);
        });
      },
      /** When the next message of an enabled endpoint falls due (or a lease runs out), to sleep until then. */
      async nextDueAt(): Promise<number | null> {
        const row = await db
          .selectFrom('webhook_messages')
          .select((eb) => eb.fn.min(eb.case().when('status', '=', 'queued').then(eb.ref('next_attempt_at')).else(eb.ref('locked_until')).end()).as('at'))
          .where('status', 'in', ['queued', 'sending'])
          .where('endpoint_id', 'in', (eb) => eb.selectFrom('webhook_endpoints').select('id').where('enabled', '=', 1))
          .executeTakeFirst();
        return row?.at === null || row?.at === undefined ? null : Number(row.at);
      },
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
