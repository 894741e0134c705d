import type { Kysely, Transaction } from 'kysely';
import type { Application } from '../domain/application.ts';
import type { Delivery } from '../domain/delivery.ts';
import type { Device } from '../domain/device/device.ts';
import type { DomainEvent } from '../domain/event.ts';
import type { User } from '../domain/user.ts';
import type { Verification } from '../domain/verification/verification.ts';
import type { Dialect } from './database.ts';
import { numberEvents, userIdFor } from './event-sequence.ts';
import { fromDelivery, fromDevice, fromUser, fromVerification } from './rows.ts';
import { applyWebhookWrite, fanOutWebhooks, hasEnabledEndpoint, WEBHOOKS_QUEUED, type WebhookWrite } from './webhooks.ts';
import type { Tables } from './schema.ts';
import { changedRows, insertRow, runStatement, shaped, statement, updateRows } from './statements.ts';

export interface StoredTemplate {
  applicationId: string;
  channel: string;
  purpose: string;
  locale: string;
  subject: string | null;
  title: string | null;
  text: string;
  html: string | null;
  updatedAt: number;
}

export interface StoredPolicy {
  applicationId: string;
  name: string;
  /** The policy as the API takes it (snake_case), validated before it is stored. */
  body: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface OutboxMessage {
  id: string;
  applicationId: string;
  verificationId: string | null;
  channel: string;
  recipient: string;
  sealedMessage: string;
  createdAt: number;
}

/**
 * One write of a unit of work. Every update names the state it was decided on (`before`, the
 * row as read, or `expectedVersion`); if the row moved on meanwhile, the whole unit is void.
 */
export type Write =
  | { kind: 'verification.insert'; verification: Verification }
  /** Guarded by `before`'s version; only the columns that differ from `before` are written (`changedOnly`). */
  | { kind: 'verification.update'; verification: Verification; before: Verification }
  | { kind: 'delivery.insert'; delivery: Delivery }
  /** Guarded by `before`'s status and attempts; only the columns that differ from `before` are written. */
  | { kind: 'delivery.update'; delivery: Delivery; before: Delivery }
  /** Messages of a verification not yet taken for sending: cancelled and their text dropped. */
  | { kind: 'delivery.cancelQueued'; verificationId: string; now: number }
  | { kind: 'outbox.insert'; message: OutboxMessage }
  | { kind: 'user.insert'; user: User }
  | { kind: 'user.update'; user: User; expectedVersion: number }
  | { kind: 'user.delete'; applicationId: string; id: string; expectedVersion: number }
  /**
   * Bumps a user's version without changing it: device changes guard on it, so that two
   * pairings of one user are decided one after the other (roles, names, the device limit).
   */
  | { kind: 'user.bump'; applicationId: string; id: string; expectedVersion: number }
  | { kind: 'device.insert'; device: Device }
  | { kind: 'device.update'; device: Device; expectedVersion: number }
  | { kind: 'device.delete'; applicationId: string; id: string; expectedVersion: number }
  /** A device-API request id, once: a second insert of the same id is a `duplicate` (a replay). */
  | { kind: 'nonce.insert'; deviceId: string; jti: string; expiresAt: number }
  /** Wakes whoever waits on a subject (a device's stream) when the unit commits, on every node. */
  | { kind: 'wake'; subjectId: string }
  | { kind: 'event.append'; event: DomainEvent }
  /** An application's own template for a channel, purpose and locale: created or replaced. */
  | { kind: 'template.put'; template: StoredTemplate }
  | { kind: 'template.delete'; applicationId: string; channel: string; purpose: string; locale: string }
  /** An application's plan and settings, guarded by its version (two settings changes never both win). */
  | { kind: 'application.update'; application: Application; expectedVersion: number }
  /** A named policy of an application: created or replaced. */
  | { kind: 'policy.put'; policy: StoredPolicy }
  | { kind: 'policy.delete'; applicationId: string; name: string }
  /** A provider's inbound message, once: a second insert of the same id is a `duplicate`. */
  | { kind: 'inbound.insert'; provider: string; providerMessageId: string; verificationId: string | null; receivedAt: number }
  /** Signed webhooks: endpoints, and the dispatcher's records of its attempts (src/store/webhooks.ts). */
  | { kind: 'webhook'; write: WebhookWrite }
  /**
   * Counts a new verification as unused on a usage counter, only while the counter is under
   * its limits: checked and incremented in one statement, so concurrent starts never pass a
   * limit together. Over a limit, the whole unit fails with reason `limit`.
   */
  | { kind: 'usage.reserve'; counter: UsageCounterKey; max: UsageMax; limit: string }
  /** A verification's first answer: moves it from unused to used on a counter (if counted there). */
  | { kind: 'usage.answer'; counter: UsageCounterKey }
  /** One occurrence under a fraud key, counted in sliding windows. */
  | { kind: 'fraud.mark'; applicationId: string; key: string; at: number }
  /** Forgets a key's occurrences (a push approved clears the user's unanswered pushes). */
  | { kind: 'fraud.clear'; applicationId: string; key: string }
  /** Refuses a key until a time (the later of an existing block and this one holds). */
  | { kind: 'fraud.block'; applicationId: string; key: string; until: number; reason: string; now: number }
  /** A failed answer of an authenticator: its consecutive count grows and, at `cap`, it is locked. */
  | { kind: 'authenticator.failure'; applicationId: string; authenticator: string; cap: number; now: number }
  /** A successful answer clears the count of an authenticator that is not locked. */
  | { kind: 'authenticator.success'; applicationId: string; authenticator: string }
  /** An admin re-binds a locked authenticator: its count and lock are gone. */
  | { kind: 'authenticator.unlock'; applicationId: string; authenticator: string }
  /** An approved verification spent as a step-up (SEC-12): a second spend of it is a `duplicate`. */
  | { kind: 'stepUp.consume'; applicationId: string; verificationId: string; userId: string; usedFor: string; at: number };

/** One usage counter: an application's subject (`user:<id>`, `to:<recipient>`, `application`), channel and day. */
export interface UsageCounterKey {
  applicationId: string;
  subject: string;
  channel: string;
  day: string;
}

/** What a counter may hold before a reservation: unused below `unused`, used below `used`, both together below `total`. */
export interface UsageMax {
  used?: number;
  unused?: number;
  total?: number;
}

/** Writes that commit together or not at all: the domain's decision plus what must follow it. */
export interface UnitOfWork {
  writes: Write[];
}

export type CommitResult =
  | { ok: true }
  /** A guarded row had changed: re-read, decide again. */
  | { ok: false; reason: 'conflict' }
  /** A unique key was taken. */
  | { ok: false; reason: 'duplicate' }
  /** A usage counter was at its limit (named by the reservation). */
  | { ok: false; reason: 'limit'; limit: string };

export class ConflictError extends Error {
  constructor(what: string) {
    super(`${what} changed concurrently`);
  }
}

/** A usage reservation found its counter at a limit. */
export class LimitError extends Error {
  readonly limit: string;
  constructor(limit: string) {
    super(`usage limit ${limit} reached`);
    this.limit = limit;
  }
}

export const NOTIFY_CHANNEL = 'outband_events';

/** What applying a unit did beyond its writes, for the wake-ups after its commit. */
export interface Applied {
  /** Its events queued webhook messages (the dispatcher's wake-up, WEBHOOKS_QUEUED). */
  webhooksQueued: boolean;
}

/** Applies a unit's writes in order inside an open transaction; throws ConflictError on a stale guard. */
export async function applyWrites(trx: Transaction<Tables> | Kysely<Tables>, unit: UnitOfWork, dialect: Dialect): Promise<Applied> {
  const writes = unit.writes;
  for (let i = 0; i < writes.length; i++) {
    const write = writes[i]!;
    switch (write.kind) {
      // The statements of every verification are run as written SQL (src/store/statements.ts).
      case 'verification.insert':
        await insertRow(trx, dialect, 'verifications', fromVerification(write.verification));
        break;
      case 'verification.update': {
        const { id, ...row } = fromVerification(write.verification);
        const set = changedOnly(row, fromVerification(write.before));
        if ((await updateRows(trx, dialect, 'verifications', set, { id, version: write.before.version })) !== 1) throw new ConflictError(`verification ${id}`);
        break;
      }
      case 'delivery.insert':
        await insertRow(trx, dialect, 'deliveries', fromDelivery(write.delivery));
        break;
      case 'delivery.update': {
        const { id, ...row } = fromDelivery(write.delivery);
        const guard = { id, status: write.before.status, attempts: write.before.attempts };
        const set = changedOnly(row, fromDelivery(write.before));
        if ((await updateRows(trx, dialect, 'deliveries', set, guard)) !== 1) throw new ConflictError(`delivery ${id}`);
        break;
      }
      case 'delivery.cancelQueued':
        await runStatement(trx, dialect, CANCEL_QUEUED_DELIVERIES, [write.now, write.verificationId]);
        break;
      case 'outbox.insert': {
        const m = write.message;
        await insertRow(trx, dialect, 'outbox_messages', {
          id: m.id,
          application_id: m.applicationId,
          verification_id: m.verificationId,
          channel: m.channel,
          recipient: m.recipient,
          sealed_message: m.sealedMessage,
          created_at: m.createdAt,
        });
        break;
      }
      case 'user.insert':
        await trx.insertInto('users').values(fromUser(write.user)).execute();
        break;
      case 'user.update': {
        const { id, ...row } = fromUser(write.user);
        const result = await trx
          .updateTable('users')
          .set(row)
          .where('id', '=', id)
          .where('application_id', '=', write.user.applicationId)
          .where('version', '=', write.expectedVersion)
          .executeTakeFirst();
        if (result.numUpdatedRows !== 1n) throw new ConflictError(`user ${id}`);
        break;
      }
      case 'user.delete': {
        const result = await trx
          .deleteFrom('users')
          .where('id', '=', write.id)
          .where('application_id', '=', write.applicationId)
          .where('version', '=', write.expectedVersion)
          .executeTakeFirst();
        if (result.numDeletedRows !== 1n) throw new ConflictError(`user ${write.id}`);
        break;
      }
      case 'user.bump': {
        const result = await trx
          .updateTable('users')
          .set({ version: write.expectedVersion + 1 })
          .where('id', '=', write.id)
          .where('application_id', '=', write.applicationId)
          .where('version', '=', write.expectedVersion)
          .executeTakeFirst();
        if (result.numUpdatedRows !== 1n) throw new ConflictError(`user ${write.id}`);
        break;
      }
      case 'device.insert':
        await trx.insertInto('devices').values(fromDevice(write.device)).execute();
        break;
      case 'device.update': {
        const { id, ...row } = fromDevice(write.device);
        const result = await trx
          .updateTable('devices')
          .set(row)
          .where('id', '=', id)
          .where('application_id', '=', write.device.applicationId)
          .where('version', '=', write.expectedVersion)
          .executeTakeFirst();
        if (result.numUpdatedRows !== 1n) throw new ConflictError(`device ${id}`);
        break;
      }
      case 'device.delete': {
        const result = await trx
          .deleteFrom('devices')
          .where('id', '=', write.id)
          .where('application_id', '=', write.applicationId)
          .where('version', '=', write.expectedVersion)
          .executeTakeFirst();
        if (result.numDeletedRows !== 1n) throw new ConflictError(`device ${write.id}`);
        break;
      }
      case 'nonce.insert':
        await trx.insertInto('device_nonces').values({ device_id: write.deviceId, jti: write.jti, expires_at: write.expiresAt }).execute();
        break;
      case 'wake': {
        // A unit's wake-ups, one after the other (an outbox message wakes two): one statement.
        const wakes = runOf(writes, i, 'wake');
        if (dialect === 'postgres') await notifySubjects(trx, dialect, wakes.map((w) => w.subjectId));
        i += wakes.length - 1;
        break;
      }
      case 'template.put': {
        const t = write.template;
        const row = { subject: t.subject, title: t.title, text: t.text, html: t.html, updated_at: t.updatedAt };
        await trx
          .insertInto('templates')
          .values({ application_id: t.applicationId, channel: t.channel, purpose: t.purpose, locale: t.locale, ...row })
          .onConflict((oc) => oc.columns(['application_id', 'channel', 'purpose', 'locale']).doUpdateSet(row))
          .execute();
        break;
      }
      case 'template.delete': {
        const result = await trx
          .deleteFrom('templates')
          .where('application_id', '=', write.applicationId)
          .where('channel', '=', write.channel)
          .where('purpose', '=', write.purpose)
          .where('locale', '=', write.locale)
          .executeTakeFirst();
        if (result.numDeletedRows !== 1n) throw new ConflictError(`template ${write.channel}/${write.purpose}/${write.locale}`);
        break;
      }
      case 'application.update': {
        const a = write.application;
        const result = await trx
          .updateTable('applications')
          .set({ plan: a.plan, settings: JSON.stringify(a.settings), version: write.expectedVersion + 1 })
          .where('id', '=', a.id)
          .where('version', '=', write.expectedVersion)
          .executeTakeFirst();
        if (result.numUpdatedRows !== 1n) throw new ConflictError(`application ${a.id}`);
        break;
      }
      case 'policy.put': {
        const p = write.policy;
        await trx
          .insertInto('policies')
          .values({ application_id: p.applicationId, name: p.name, body: JSON.stringify(p.body), created_at: p.createdAt, updated_at: p.updatedAt })
          .onConflict((oc) => oc.columns(['application_id', 'name']).doUpdateSet({ body: JSON.stringify(p.body), updated_at: p.updatedAt }))
          .execute();
        break;
      }
      case 'policy.delete': {
        const result = await trx.deleteFrom('policies').where('application_id', '=', write.applicationId).where('name', '=', write.name).executeTakeFirst();
        if (result.numDeletedRows !== 1n) throw new ConflictError(`policy ${write.name}`);
        break;
      }
      case 'webhook':
        await applyWebhookWrite(trx, write.write);
        break;
      case 'inbound.insert':
        await trx
          .insertInto('inbound_messages')
          .values({ provider: write.provider, provider_message_id: write.providerMessageId, verification_id: write.verificationId, received_at: write.receivedAt })
          .execute();
        break;
      case 'usage.reserve': {
        const c = write.counter;
        const { max } = write;
        // The counter takes one more unused verification only while it is under every limit given.
        const limits = (['unused', 'used', 'total'] as const).filter((kind) => max[kind] !== undefined);
        const s = shaped(`usage.reserve ${limits.join(',')}`, () => {
          const guards = limits.map((kind) =>
            kind === 'total' ? 'usage_counters.used + usage_counters.unused < ?' : `usage_counters.${kind} < ?`,
          );
          return (
            'insert into usage_counters (application_id, subject, channel, day, used, unused) values (?, ?, ?, ?, 0, 1) ' +
            'on conflict (application_id, subject, channel, day) do update set unused = usage_counters.unused + 1' +
            (guards.length > 0 ? ` where ${guards.join(' and ')}` : '')
          );
        });
        const counted = await runStatement(trx, dialect, s, [c.applicationId, c.subject, c.channel, c.day, ...limits.map((kind) => max[kind])]);
        if (changedRows(counted) !== 1) throw new LimitError(write.limit);
        break;
      }
      case 'usage.answer': {
        // An answer moves its three counters (the recipient's, on its channel and on any, and the
        // application's), one after the other: one statement.
        const answers = runOf(writes, i, 'usage.answer');
        await runStatement(trx, dialect, usageAnswered(answers.length), answers.flatMap(({ counter: c }) => [c.applicationId, c.subject, c.channel, c.day]));
        i += answers.length - 1;
        break;
      }
      case 'fraud.mark': {
        // A start leaves several marks, one after the other: one statement for them all.
        const marks = runOf(writes, i, 'fraud.mark');
        const s = shaped(`fraud marks ${marks.length}`, () => `insert into fraud_marks (application_id, "key", at) values ${marks.map(() => '(?, ?, ?)').join(', ')}`);
        await runStatement(trx, dialect, s, marks.flatMap((m) => [m.applicationId, m.key, m.at]));
        i += marks.length - 1;
        break;
      }
      case 'fraud.clear':
        await trx.deleteFrom('fraud_marks').where('application_id', '=', write.applicationId).where('key', '=', write.key).execute();
        break;
      case 'fraud.block':
        await trx
          .insertInto('fraud_blocks')
          .values({ application_id: write.applicationId, key: write.key, until: write.until, reason: write.reason, created_at: write.now })
          .onConflict((oc) =>
            oc.columns(['application_id', 'key']).doUpdateSet({ until: write.until, reason: write.reason, created_at: write.now }).where('fraud_blocks.until', '<', write.until),
          )
          .execute();
        break;
      case 'authenticator.failure':
        await trx
          .insertInto('authenticator_failures')
          .values({
            application_id: write.applicationId,
            authenticator: write.authenticator,
            consecutive: 1,
            locked_at: write.cap <= 1 ? write.now : null,
            updated_at: write.now,
          })
          .onConflict((oc) =>
            oc.columns(['application_id', 'authenticator']).doUpdateSet((eb) => ({
              consecutive: eb('authenticator_failures.consecutive', '+', 1),
              locked_at: eb
                .case()
                .when('authenticator_failures.locked_at', 'is not', null)
                .then(eb.ref('authenticator_failures.locked_at'))
                .when(eb('authenticator_failures.consecutive', '+', 1), '>=', write.cap)
                .then(write.now)
                .else(null)
                .end(),
              updated_at: write.now,
            })),
          )
          .execute();
        break;
      case 'authenticator.success':
        await runStatement(trx, dialect, AUTHENTICATOR_SUCCEEDED, [write.applicationId, write.authenticator]);
        break;
      case 'authenticator.unlock':
        await trx.deleteFrom('authenticator_failures').where('application_id', '=', write.applicationId).where('authenticator', '=', write.authenticator).execute();
        break;
      case 'stepUp.consume':
        await trx
          .insertInto('step_ups')
          .values({ application_id: write.applicationId, verification_id: write.verificationId, user_id: write.userId, used_for: write.usedFor, used_at: write.at })
          .execute();
        break;
      case 'event.append':
        break; // after every other write, below
    }
  }
  return { webhooksQueued: await appendEvents(trx, unit, dialect) };
}

/**
 * The unit's events, last: numbered per application (ADR 0011), stored, fanned out to webhooks
 * and announced. The counter row's lock is held to the commit, so it is taken as late as possible:
 * units of one application wait for each other only over this tail and the commit, not over
 * their whole work. No cycle can form: a unit holding a counter waits for nothing but other
 * counters, which every unit takes in application-id order.
 */
async function appendEvents(trx: Transaction<Tables> | Kysely<Tables>, unit: UnitOfWork, dialect: Dialect): Promise<boolean> {
  const events = eventsOf(unit);
  if (events.length === 0) return false;
  let queued = 0;
  // Reads first, outside the lock.
  const userIds = new Map<string, string | null>();
  for (const e of events) userIds.set(e.id, await userIdFor(trx, dialect, e));
  const appSeqs = await numberEvents(trx, dialect, unit);
  const row = (e: DomainEvent) => ({
    id: e.id,
    application_id: e.applicationId,
    type: e.type,
    subject_type: e.subjectType,
    subject_id: e.subjectId,
    actor: e.actor,
    data: JSON.stringify(e.data),
    created_at: e.createdAt,
    app_seq: appSeqs.get(e.id)!,
    user_id: userIds.get(e.id) ?? null,
  });
  // The endpoints are read after the counter: on PostgreSQL a unit that added an endpoint and took
  // a smaller number has committed by now, so events numbered after it reach the new endpoint.
  if (dialect === 'postgres') {
    for (const e of events) {
      const r = row(e);
      // Delivered to every node's listener at COMMIT, and never if the unit rolls back.
      const payload = JSON.stringify({ application_id: e.applicationId, subject_id: e.subjectId, type: e.type });
      const { rows } = await runStatement<{ fan_out: boolean }>(trx, dialect, EVENT_NOTIFIED, [
        r.id, r.application_id, r.type, r.subject_type, r.subject_id, r.actor, r.data, r.created_at, r.app_seq, r.user_id, NOTIFY_CHANNEL, payload,
      ]);
      if (rows[0]!.fan_out) queued += await fanOutWebhooks(trx, e, r.app_seq, r.user_id);
    }
    // The leader's dispatcher may run on another node: it hears of the messages at the COMMIT.
    if (queued > 0) await notifySubjects(trx, dialect, [WEBHOOKS_QUEUED]);
    return queued > 0;
  }
  const fannedOut = new Set<string>();
  for (const applicationId of new Set(events.map((e) => e.applicationId))) if (await hasEnabledEndpoint(trx, dialect, applicationId)) fannedOut.add(applicationId);
  for (const e of events) {
    const r = row(e);
    await insertRow(trx, dialect, 'events', r);
    if (fannedOut.has(e.applicationId)) queued += await fanOutWebhooks(trx, e, r.app_seq, r.user_id);
  }
  return queued > 0;
}

/** The writes of one kind that follow each other from `i` on (at least `writes[i]`, which is of that kind). */
function runOf<K extends Write['kind']>(writes: readonly Write[], i: number, kind: K): Array<Extract<Write, { kind: K }>> {
  let end = i + 1;
  while (writes[end]?.kind === kind) end++;
  return writes.slice(i, end) as Array<Extract<Write, { kind: K }>>;
}

/** PostgreSQL: wakes subjects on every node at the COMMIT (an event's own NOTIFY is in EVENT_NOTIFIED). */
async function notifySubjects(trx: Transaction<Tables> | Kysely<Tables>, dialect: Dialect, subjectIds: readonly string[]): Promise<void> {
  const s = shaped(`notify ${subjectIds.length}`, () => `select ${subjectIds.map(() => 'pg_notify(?, ?)').join(', ')}`);
  await runStatement(trx, dialect, s, subjectIds.flatMap((subjectId) => [NOTIFY_CHANNEL, JSON.stringify({ subject_id: subjectId })]));
}

/** A right answer starts an authenticator's run of failures over, unless it is locked already. */
const AUTHENTICATOR_SUCCEEDED = statement('update authenticator_failures set consecutive = 0 where application_id = ? and authenticator = ? and locked_at is null');
/** A counted verification's first answer: one of each counter's unused becomes used (n counters, by their keys). */
function usageAnswered(n: number) {
  return shaped(
    `usage answered ${n}`,
    () =>
      'update usage_counters set unused = unused - 1, used = used + 1 where unused > 0 and (' +
      Array.from({ length: n }, () => '(application_id = ? and subject = ? and channel = ? and day = ?)').join(' or ') +
      ')',
  );
}
/** A verification's messages still queued are not sent: it ended, or a resend replaces them. */
const CANCEL_QUEUED_DELIVERIES = statement("update deliveries set status = 'cancelled', sealed_message = null, updated_at = ? where verification_id = ? and status = 'queued'");

/**
 * PostgreSQL: an event's insert, its NOTIFY and whether its application has an enabled endpoint,
 * in one round trip where they took three. They run under the application's counter
 * lock (ADR 0011), which every other unit of the application waits for until this one commits:
 * a round trip saved here is saved for all of them.
 */
const EVENT_NOTIFIED = statement(
  'with inserted as (insert into events (id, application_id, type, subject_type, subject_id, actor, data, created_at, app_seq, user_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning application_id) ' +
    'select pg_notify(?, ?) as notified, exists (select 1 from webhook_endpoints w, inserted i where w.application_id = i.application_id and w.enabled = 1) as fan_out from inserted',
);

/**
 * The columns of `row` whose value differs from `before`'s. SQLite rewrites the entry of every
 * index that names a column of an UPDATE's SET list, changed or not: setting the whole row made
 * each update of a verification or a delivery write a page of each of its indexes, among them
 * ones keyed by random ids (bench/README.md, the WAL's pages per cycle). The guard holds the row
 * to the state `before` was read in (a verification's version; a delivery's status and attempts),
 * so the row comes out as the whole-row write made it; a column some other writer changed
 * outside the guard is left as it is instead of written back. Nothing changed still runs the
 * guarded statement (a conflict must show), setting one column to its value.
 */
export function changedOnly<R extends object>(row: R, before: R): Partial<R> {
  const changed: Partial<R> = {};
  let any = false;
  for (const key of Object.keys(row) as Array<keyof R>) {
    if (row[key] !== before[key]) {
      changed[key] = row[key];
      any = true;
    }
  }
  if (any) return changed;
  const first = Object.keys(row)[0] as keyof R;
  return { [first]: row[first] } as Partial<R>;
}

/** Whether a driver error is a unique-key violation (SQLite or PostgreSQL). */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e.code === '23505') return true;
  // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555)
  return e.errcode === 2067 || e.errcode === 1555;
}

export function eventsOf(unit: UnitOfWork): DomainEvent[] {
  return unit.writes.flatMap((w) => (w.kind === 'event.append' ? [w.event] : []));
}

/** Every subject a unit wakes: its events' subjects and its explicit wake-ups. */
export function wokenBy(unit: UnitOfWork): Set<string> {
  const ids = new Set<string>();
  for (const w of unit.writes) {
    if (w.kind === 'event.append') {
      ids.add(w.event.subjectId);
      // The application too: its event-log streams wake on any of its events.
      ids.add(w.event.applicationId);
    } else if (w.kind === 'wake') ids.add(w.subjectId);
  }
  return ids;
}
