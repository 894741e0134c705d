import { sql, type Selectable } from 'kysely';
import type { Application, ApplicationSettings, Plan } from '../domain/application.ts';
import { DELIVERY_LEASE_MS, type Delivery } from '../domain/delivery.ts';
import type { DomainEvent, StoredEvent } from '../domain/event.ts';
import type { User } from '../domain/user.ts';
import type { Verification } from '../domain/verification/verification.ts';
import type { Device } from '../domain/device/device.ts';
import { groupCommit, transactionPerUnit, type Committer } from './commit.ts';
import type { Database } from './database.ts';
import { transaction } from './transaction.ts';
import { createAgentStore } from './agents.ts';
import { createEventLog } from './event-log.ts';
import { migrate, type MigrationProgress } from './migrations/index.ts';
import { toApplication, toDelivery, toDevice, toEvent, toUser, toVerification } from './rows.ts';
import type { ApiClientsTable, SigningKeysTable, Tables } from './schema.ts';
import { placeholders, runStatement, selectWhere, shaped, statement, withSqliteText, type Statement } from './statements.ts';
import { eventsOf, wokenBy, type CommitResult, type OutboxMessage, type StoredPolicy, type StoredTemplate, type UnitOfWork } from './unit-of-work.ts';
import { WEBHOOKS_QUEUED } from './webhooks.ts';

export type { CommitResult, OutboxMessage, StoredPolicy, StoredTemplate, UnitOfWork, Write } from './unit-of-work.ts';

export interface ApiClient {
  id: string;
  applicationId: string;
  name: string;
  secretHash: string;
  scopes: string[];
  createdAt: number;
  revokedAt: number | null;
}

export interface SigningKey {
  kid: string;
  alg: string;
  privateJwk: string;
  publicJwk: string;
  createdAt: number;
  rotatedAt: number | null;
}

export interface UsageCounter {
  subject: string;
  channel: string;
  day: string;
  used: number;
  unused: number;
}

/** A sliding window of fraud marks: those under `key` after `since`, counted up to `cap` when it has one. */
export interface FraudWindow {
  key: string;
  since: number;
  cap?: number;
}

export interface AuthenticatorFailures {
  authenticator: string;
  consecutive: number;
  lockedAt: number | null;
  updatedAt: number;
}

/**
 * A user's pending verifications that `condition` picks, oldest first. `status = 'pending'` is a
 * literal: a bound value would not let the planners use the partial index. SQLite is told the
 * indexes: without statistics (ANALYZE is never run) it took the index of every pending
 * verification by expiry and, for the delivery, all of the device's.
 */
function userPending(condition: (indexedBy: (index: string) => string) => string): Statement {
  const sql = (indexedBy: (index: string) => string) =>
    `select v.* from verifications v${indexedBy('verifications_user_pending')} where v.user_id = ? and v.status = 'pending' and ${condition(indexedBy)} ` +
    'order by v.created_at, v.id';
  return withSqliteText(sql(() => ''), sql((index) => ` indexed by ${index}`));
}

/** Sent to the device (its id, a parameter) as a push request. */
const pushedTo = (indexedBy: (index: string) => string) =>
  `exists (select 1 from deliveries d${indexedBy('deliveries_verification')} where d.verification_id = v.id and d.recipient = ? and d.channel = 'push')`;

/** Push requests a device can still answer: parameters user, now, device. */
const PENDING_FOR_DEVICE = userPending((indexedBy) => `v.expires_at > ? and ${pushedTo(indexedBy)}`);
/** As PENDING_FOR_DEVICE, and the device's own pairing; expired ones too (unpairing cancels them): user, device, device. */
const PENDING_INVOLVING = userPending((indexedBy) => `(v.device_id = ? or ${pushedTo(indexedBy)})`);

/**
 * Messages due to be sent: queued and past their retry time, or sending under a lease that ran
 * out (its worker died), oldest first. On PostgreSQL, SKIP LOCKED lets several nodes claim side
 * by side without taking the same message twice.
 */
const DUE_DELIVERIES_SQL =
  "select id from deliveries where (status = 'queued' and next_attempt_at <= ?) or (status = 'sending' and locked_until <= ?) order by next_attempt_at limit ?";
const DUE_DELIVERIES: Statement = withSqliteText(`${DUE_DELIVERIES_SQL} for update skip locked`, DUE_DELIVERIES_SQL);
const NEXT_QUEUED = statement("select min(next_attempt_at) as at from deliveries where status = 'queued'");
const NEXT_LEASE_END = statement("select min(locked_until) as at from deliveries where status = 'sending'");

export type UserLookup = { email: string } | { phone: string } | { externalId: string };

/**
 * The one owner of SQL. Reads are plain queries; every change goes through `commit`,
 * which applies a unit of work atomically and tells listeners of the events it appended.
 */
export function createStore(database: Database) {
  const { db, dialect } = database;
  const committer: Committer = dialect === 'sqlite' && database.groupCommit ? groupCommit(db, dialect) : transactionPerUnit(db, dialect);
  const listeners = new Set<(events: DomainEvent[], woken: Set<string>) => void>();

  return {
    dialect,
    database,

    migrate: (progress?: MigrationProgress) => migrate(db, dialect, progress),
    close: () => database.close(),
    async ping(): Promise<void> {
      await sql`select 1`.execute(db);
    },

    /** Commits a unit of work; on success, listeners hear of its events (after the commit). */
    async commit(unit: UnitOfWork): Promise<CommitResult> {
      const outcome = await committer(unit);
      if (!outcome.ok) return outcome;
      const woken = wokenBy(unit);
      if (outcome.webhooksQueued) woken.add(WEBHOOKS_QUEUED);
      if (woken.size > 0) {
        const events = eventsOf(unit);
        for (const listener of listeners) listener(events, woken);
      }
      return { ok: true };
    },
    /** Hears every committed unit that appended events or wakes subjects (with all of them). */
    onCommitted(listener: (events: DomainEvent[], woken: Set<string>) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    applications: {
      async create(app: { id: string; name: string; plan: Plan; settings: ApplicationSettings; createdAt: number }): Promise<Application> {
        await db
          .insertInto('applications')
          .values({ id: app.id, name: app.name, plan: app.plan, settings: JSON.stringify(app.settings), created_at: app.createdAt })
          .execute();
        return { ...app, version: 0 };
      },
      async byId(id: string): Promise<Application | undefined> {
        const [row] = await selectWhere(db, dialect, 'applications', { id });
        return row && toApplication(row);
      },
      async byName(name: string): Promise<Application | undefined> {
        const row = await db.selectFrom('applications').selectAll().where('name', '=', name).executeTakeFirst();
        return row && toApplication(row);
      },
      async list(): Promise<Application[]> {
        return (await db.selectFrom('applications').selectAll().orderBy('created_at').execute()).map(toApplication);
      },
    },

    clients: {
      async create(client: ApiClient): Promise<void> {
        await db
          .insertInto('api_clients')
          .values({
            id: client.id,
            application_id: client.applicationId,
            name: client.name,
            secret_hash: client.secretHash,
            scopes: client.scopes.join(' '),
            created_at: client.createdAt,
            revoked_at: client.revokedAt,
          } satisfies ApiClientsTable)
          .execute();
      },
      async byId(id: string): Promise<ApiClient | undefined> {
        const row = await db.selectFrom('api_clients').selectAll().where('id', '=', id).executeTakeFirst();
        if (row === undefined) return undefined;
        return {
          id: row.id,
          applicationId: row.application_id,
          name: row.name,
          secretHash: row.secret_hash,
          scopes: row.scopes.split(' ').filter(Boolean),
          createdAt: row.created_at,
          revokedAt: row.revoked_at,
        };
      },
    },

    signingKeys: {
      async insert(key: SigningKey): Promise<void> {
        await db
          .insertInto('signing_keys')
          .values({
            kid: key.kid,
            alg: key.alg,
            private_jwk: key.privateJwk,
            public_jwk: key.publicJwk,
            created_at: key.createdAt,
            rotated_at: key.rotatedAt,
          } satisfies SigningKeysTable)
          .execute();
      },
      /** Newest first. */
      async list(): Promise<SigningKey[]> {
        const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid').execute();
        return rows.map((r) => ({ kid: r.kid, alg: r.alg, privateJwk: r.private_jwk, publicJwk: r.public_jwk, createdAt: r.created_at, rotatedAt: r.rotated_at }));
      },
      /** Adds `key` as the active key and marks every older one rotated, in one transaction. */
      async rotate(key: SigningKey): Promise<void> {
        await transaction(db, async (trx) => {
          await trx.updateTable('signing_keys').set({ rotated_at: key.createdAt }).where('rotated_at', 'is', null).execute();
          await trx
            .insertInto('signing_keys')
            .values({ kid: key.kid, alg: key.alg, private_jwk: key.privateJwk, public_jwk: key.publicJwk, created_at: key.createdAt, rotated_at: null })
            .execute();
        });
      },
    },

    users: {
      async byId(applicationId: string, id: string): Promise<User | undefined> {
        const [row] = await selectWhere(db, dialect, 'users', { id, application_id: applicationId });
        return row && toUser(row);
      },
      async find(applicationId: string, lookup: UserLookup, limit = 50): Promise<User[]> {
        let query = db.selectFrom('users').selectAll().where('application_id', '=', applicationId);
        if ('email' in lookup) query = query.where('email', '=', lookup.email);
        else if ('phone' in lookup) query = query.where('phone', '=', lookup.phone);
        else query = query.where('external_id', '=', lookup.externalId);
        return (await query.orderBy('created_at').orderBy('id').limit(limit).execute()).map(toUser);
      },
    },

    verifications: {
      async byId(applicationId: string, id: string): Promise<Verification | undefined> {
        const [row] = await selectWhere(db, dialect, 'verifications', { id, application_id: applicationId });
        return row && toVerification(row);
      },
      /** The newest pending two-way SMS verification to this number, in any application: where a reply goes. */
      async newestTwoWayPending(recipient: string, now: number): Promise<Verification | undefined> {
        const row = await db
          .selectFrom('verifications')
          .selectAll()
          .where('recipient', '=', recipient)
          .where('status', '=', 'pending')
          .where('two_way', '=', 1)
          .where('expires_at', '>', now)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        return row && toVerification(row);
      },
      /** Caller hashes of this recipient's missed calls still pending: callers not to use again yet. */
      async pendingCallerHmacs(recipient: string, now: number): Promise<Set<string>> {
        const rows = await db
          .selectFrom('verifications')
          .select('caller_hmac')
          .where('recipient', '=', recipient)
          .where('status', '=', 'pending')
          .where('expires_at', '>', now)
          .where('caller_hmac', 'is not', null)
          .execute();
        return new Set(rows.map((r) => r.caller_hmac as string));
      },
      /** Pending verifications whose time is up, oldest first: the sweeper's work list. */
      async overdue(now: number, limit: number): Promise<Verification[]> {
        const rows = await db
          .selectFrom('verifications')
          .selectAll()
          .where('status', '=', 'pending')
          .where('expires_at', '<=', now)
          .orderBy('expires_at')
          .limit(limit)
          .execute();
        return rows.map(toVerification);
      },
      /**
       * Push requests a device can still answer: pending, not expired, and sent to it. Oldest
       * first. Read from its user's pending verifications (migration 013's partial index): as
       * many as are under way, however many pushes the device had.
       */
      async pendingForDevice(device: { id: string; userId: string }, now: number): Promise<Verification[]> {
        const { rows } = await runStatement<Selectable<Tables['verifications']>>(db, dialect, PENDING_FOR_DEVICE, [device.userId, now, device.id]);
        return rows.map(toVerification);
      },
      /**
       * Pending verifications that involve a device: push requests sent to it and its own
       * pairing, expired or not (they are cancelled when it is unpaired). Read from its user's
       * pending verifications, as pendingForDevice is.
       */
      async pendingInvolving(device: { id: string; userId: string }): Promise<Verification[]> {
        const { rows } = await runStatement<Selectable<Tables['verifications']>>(db, dialect, PENDING_INVOLVING, [device.userId, device.id, device.id]);
        return rows.map(toVerification);
      },
      /** The verification a worker acts on; not scoped to an application. */
      async byIdForWorker(id: string): Promise<Verification | undefined> {
        const [row] = await selectWhere(db, dialect, 'verifications', { id });
        return row && toVerification(row);
      },
    },

    devices: {
      async byId(applicationId: string, id: string): Promise<Device | undefined> {
        const [row] = await selectWhere(db, dialect, 'devices', { id, application_id: applicationId });
        return row && toDevice(row);
      },
      /** A device as the device API finds it: by its id alone, in any application. */
      async byIdForDevice(id: string): Promise<Device | undefined> {
        const [row] = await selectWhere(db, dialect, 'devices', { id });
        return row && toDevice(row);
      },
      /** A user's devices, oldest first. */
      async forUser(applicationId: string, userId: string): Promise<Device[]> {
        return (await selectWhere(db, dialect, 'devices', { application_id: applicationId, user_id: userId }, ['created_at', 'id'])).map(toDevice);
      },
      /** Some devices of one kind in an application, oldest first: what disabling a channel unpairs. */
      async ofKind(applicationId: string, kind: string, limit: number): Promise<Device[]> {
        const rows = await db
          .selectFrom('devices')
          .selectAll()
          .where('application_id', '=', applicationId)
          .where('kind', '=', kind)
          .orderBy('created_at')
          .orderBy('id')
          .limit(limit)
          .execute();
        return rows.map(toDevice);
      },
      /**
       * The users other than `exceptUserId` that hold a device (pending or paired, of any kind) on
       * `address` in the application, at most `limit` of them: the device share cap (SEC-30).
       */
      async otherUsersOnAddress(applicationId: string, address: string, exceptUserId: string, limit: number): Promise<string[]> {
        const rows = await db
          .selectFrom('devices')
          .select('user_id')
          .distinct()
          .where('application_id', '=', applicationId)
          .where('address', '=', address)
          .where('user_id', '!=', exceptUserId)
          .orderBy('user_id')
          .limit(limit)
          .execute();
        return rows.map((r) => r.user_id);
      },
      /** The pending push enrolment an activation token belongs to, by the token's HMAC. */
      async byActivationHmac(hmac: string): Promise<Device | undefined> {
        const row = await db.selectFrom('devices').selectAll().where('activation_hmac', '=', hmac).executeTakeFirst();
        return row && toDevice(row);
      },
    },

    nonces: {
      /** Forgets request ids whose window has passed: a replay of them is refused by its time already. */
      async purge(now: number): Promise<number> {
        const result = await db.deleteFrom('device_nonces').where('expires_at', '<', now).executeTakeFirst();
        return Number(result.numDeletedRows);
      },
    },

    deliveries: {
      async byVerification(verificationId: string): Promise<Delivery[]> {
        return (await selectWhere(db, dialect, 'deliveries', { verification_id: verificationId }, ['created_at'])).map(toDelivery);
      },
      /**
       * Takes up to `limit` messages that are due (queued and past their retry time, or
       * sending under a lease that ran out because its worker died) and leases them to the
       * caller. On PostgreSQL, SKIP LOCKED lets several nodes claim side by side without
       * taking the same message twice. The lease lasts `leaseMs`.
       */
      async claim(now: number, limit: number, leaseMs: number = DELIVERY_LEASE_MS): Promise<Delivery[]> {
        return transaction(db, async (trx) => {
          const due = await runStatement<{ id: string }>(trx, dialect, DUE_DELIVERIES, [now, now, limit]);
          const ids = due.rows.map((r) => r.id);
          if (ids.length === 0) return [];
          const lease = shaped(
            `lease deliveries ${ids.length}`,
            () => `update deliveries set status = 'sending', locked_until = ?, attempts = attempts + 1, updated_at = ? where id in (${placeholders(ids.length)}) returning *`,
          );
          const { rows } = await runStatement<Selectable<Tables['deliveries']>>(trx, dialect, lease, [now + leaseMs, now, ...ids]);
          return rows.map(toDelivery);
        });
      },
      /** The message a provider's receipt is about. */
      async byProviderMessageId(provider: string, providerMessageId: string): Promise<Delivery | undefined> {
        const row = await db
          .selectFrom('deliveries')
          .selectAll()
          .where('provider', '=', provider)
          .where('provider_message_id', '=', providerMessageId)
          .executeTakeFirst();
        return row && toDelivery(row);
      },
      /** When the next message falls due, to sleep until then. */
      async nextDueAt(): Promise<number | null> {
        const row = (await runStatement<{ at: number | string | null }>(db, dialect, NEXT_QUEUED, [])).rows[0];
        const leased = (await runStatement<{ at: number | string | null }>(db, dialect, NEXT_LEASE_END, [])).rows[0];
        const times = [row?.at, leased?.at].filter((t): t is number => typeof t === 'number' || typeof t === 'string').map(Number);
        return times.length > 0 ? Math.min(...times) : null;
      },
    },

    outbox: {
      /** Newest first; `before` is the created_at/id cursor of the last item of a previous page. */
      async list(applicationId: string, options: { limit: number; verificationId?: string; to?: string }): Promise<OutboxMessage[]> {
        // Written SQL, one statement per filter combination: the benchmark's and tests' clients poll this.
        const { verificationId, to } = options;
        const s = shaped(
          `outbox ${verificationId !== undefined} ${to !== undefined}`,
          () =>
            `select * from outbox_messages where application_id = ?${verificationId !== undefined ? ' and verification_id = ?' : ''}` +
            `${to !== undefined ? ' and recipient = ?' : ''} order by created_at desc, id desc limit ?`,
        );
        const parameters = [applicationId, ...(verificationId !== undefined ? [verificationId] : []), ...(to !== undefined ? [to] : []), options.limit];
        const { rows } = await runStatement<Selectable<Tables['outbox_messages']>>(db, dialect, s, parameters);
        return rows.map((r) => ({
          id: r.id,
          applicationId: r.application_id,
          verificationId: r.verification_id,
          channel: r.channel,
          recipient: r.recipient,
          sealedMessage: r.sealed_message,
          createdAt: r.created_at,
        }));
      },
    },

    /** The event log by application number, and the audit's filtered reads. */
    eventLog: createEventLog(db),

    /** Console agents, their grants and sessions, and the console's person search (src/store/agents.ts). */
    agents: createAgentStore(db),

    events: {
      async forSubject(subjectId: string): Promise<StoredEvent[]> {
        return (await db.selectFrom('events').selectAll().where('subject_id', '=', subjectId).orderBy('seq').execute()).map(toEvent);
      },
      async list(applicationId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
        const rows = await db
          .selectFrom('events')
          .selectAll()
          .where('application_id', '=', applicationId)
          .where('seq', '>', afterSeq)
          .orderBy('seq')
          .limit(limit)
          .execute();
        return rows.map(toEvent);
      },
    },

    templates: {
      /** An application's own templates, optionally for one channel. */
      async list(applicationId: string, channel?: string): Promise<StoredTemplate[]> {
        const s = shaped(
          `templates ${channel !== undefined}`,
          () => `select * from templates where application_id = ?${channel !== undefined ? ' and channel = ?' : ''} order by channel, purpose, locale`,
        );
        const { rows } = await runStatement<Selectable<Tables['templates']>>(db, dialect, s, channel === undefined ? [applicationId] : [applicationId, channel]);
        return rows.map((r) => ({
          applicationId: r.application_id,
          channel: r.channel,
          purpose: r.purpose,
          locale: r.locale,
          subject: r.subject,
          title: r.title,
          text: r.text,
          html: r.html,
          updatedAt: r.updated_at,
        }));
      },
    },

    policies: {
      /** An application's own policies, by name. */
      async list(applicationId: string): Promise<StoredPolicy[]> {
        const rows = await db.selectFrom('policies').selectAll().where('application_id', '=', applicationId).orderBy('name').execute();
        return rows.map((r) => ({ applicationId: r.application_id, name: r.name, body: JSON.parse(r.body) as Record<string, unknown>, createdAt: r.created_at, updatedAt: r.updated_at }));
      },
      async byName(applicationId: string, name: string): Promise<StoredPolicy | undefined> {
        const r = await db.selectFrom('policies').selectAll().where('application_id', '=', applicationId).where('name', '=', name).executeTakeFirst();
        return r && { applicationId: r.application_id, name: r.name, body: JSON.parse(r.body) as Record<string, unknown>, createdAt: r.created_at, updatedAt: r.updated_at };
      },
    },

    usage: {
      /** A subject's counters of one day (and the `all`-time ones of the application). */
      async counters(applicationId: string, subjects: string[], day: string): Promise<UsageCounter[]> {
        if (subjects.length === 0) return [];
        const rows = await db
          .selectFrom('usage_counters')
          .selectAll()
          .where('application_id', '=', applicationId)
          .where('subject', 'in', subjects)
          .where('day', 'in', [day, 'all'])
          .orderBy('subject')
          .orderBy('channel')
          .execute();
        return rows.map((r) => ({ subject: r.subject, channel: r.channel, day: r.day, used: Number(r.used), unused: Number(r.unused) }));
      },
    },

    fraud: {
      /**
       * Occurrences under each key since its time, and the oldest of them (when a window frees
       * up); one query for all. A window with a `cap` is counted only up to it: a guard needs to
       * know whether its limit is reached, not by how much, so its cost stays bounded by the
       * limit however busy the key is. The oldest is still exact: the scan runs oldest first.
       */
      async counts(applicationId: string, windows: FraudWindow[]): Promise<Map<string, { count: number; oldest: number | null }>> {
        const out = new Map<string, { count: number; oldest: number | null }>(windows.map((w) => [w.key, { count: 0, oldest: null }]));
        if (windows.length === 0) return out;
        type Counted = { key: string; n: number | string; oldest: number | string | null };
        // One statement for all the windows; a window with a cap counts no further than it.
        const s = shaped(`fraud counts ${windows.length}`, () =>
          windows
            .map(() => 'select cast(? as text) as key, count(*) as n, min(at) as oldest from (select at from fraud_marks where application_id = ? and key = ? and at > ? order by at limit ?) as w')
            .join(' union all '),
        );
        const parameters = windows.flatMap((w) => [w.key, applicationId, w.key, w.since, w.cap ?? Number.MAX_SAFE_INTEGER]);
        const { rows } = await runStatement<Counted>(db, dialect, s, parameters);
        for (const r of rows) out.set(r.key, { count: Number(r.n), oldest: r.oldest == null ? null : Number(r.oldest) });
        return out;
      },
      /** The blocks among `keys` still in force at `now`. */
      async blocks(applicationId: string, keys: string[], now: number): Promise<Array<{ key: string; until: number; reason: string }>> {
        if (keys.length === 0) return [];
        const s = shaped(`fraud blocks ${keys.length}`, () => `select "key", "until", "reason" from fraud_blocks where application_id = ? and "key" in (${placeholders(keys.length)}) and "until" > ?`);
        const { rows } = await runStatement<{ key: string; until: number | string; reason: string }>(db, dialect, s, [applicationId, ...keys, now]);
        return rows.map((r) => ({ key: r.key, until: Number(r.until), reason: r.reason }));
      },
      /** Forgets marks older than `before` and blocks over by then: the sweeper's housekeeping. */
      async purge(before: number): Promise<number> {
        const marks = await db.deleteFrom('fraud_marks').where('at', '<', before).executeTakeFirst();
        const blocks = await db.deleteFrom('fraud_blocks').where('until', '<', before).executeTakeFirst();
        return Number(marks.numDeletedRows) + Number(blocks.numDeletedRows);
      },
    },

    authenticators: {
      async failures(applicationId: string, authenticator: string): Promise<AuthenticatorFailures | undefined> {
        const row = await db
          .selectFrom('authenticator_failures')
          .selectAll()
          .where('application_id', '=', applicationId)
          .where('authenticator', '=', authenticator)
          .executeTakeFirst();
        return row && { authenticator: row.authenticator, consecutive: Number(row.consecutive), lockedAt: row.locked_at === null ? null : Number(row.locked_at), updatedAt: Number(row.updated_at) };
      },
      /** The locked ones among `authenticators`. */
      async locked(applicationId: string, authenticators: string[]): Promise<string[]> {
        if (authenticators.length === 0) return [];
        const s = shaped(
          `locked authenticators ${authenticators.length}`,
          () => `select authenticator from authenticator_failures where application_id = ? and authenticator in (${placeholders(authenticators.length)}) and locked_at is not null`,
        );
        const { rows } = await runStatement<{ authenticator: string }>(db, dialect, s, [applicationId, ...authenticators]);
        return rows.map((r) => r.authenticator);
      },
    },

    stepUps: {
      /** Whether a verification was spent as a step-up already (SEC-12). */
      async used(applicationId: string, verificationId: string): Promise<boolean> {
        const row = await db.selectFrom('step_ups').select('verification_id').where('application_id', '=', applicationId).where('verification_id', '=', verificationId).executeTakeFirst();
        return row !== undefined;
      },
    },

    meta: {
      async get(key: string): Promise<string | undefined> {
        return (await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst())?.value;
      },
      /** Sets `key` unless it is already set; answers the value that holds. */
      async setIfAbsent(key: string, value: string): Promise<string> {
        await db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
        return (await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirstOrThrow()).value;
      },
    },
  };
}

export type Store = ReturnType<typeof createStore>;
