import { sql, type Kysely, type Transaction } from 'kysely';
import type { Delivery, DeliveryStatus } from '../domain/delivery.ts';
import type { Device } from '../domain/device/device.ts';
import type { DomainEvent } from '../domain/event.ts';
import type { User } from '../domain/user.ts';
import type { Verification } from '../domain/verification/verification.ts';
import type { Dialect } from './database.ts';
import { fromDelivery, fromDevice, fromUser, fromVerification } from './rows.ts';
import type { Tables } from './schema.ts';

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
 * One write of a unit of work. Every update names the state it was decided on
 * (`expectedVersion`, `expected…`); if the row moved on meanwhile, the whole unit is void.
 */
export type Write =
  | { kind: 'verification.insert'; verification: Verification }
  | { kind: 'verification.update'; verification: Verification; expectedVersion: number }
  | { kind: 'delivery.insert'; delivery: Delivery }
  | { kind: 'delivery.update'; delivery: Delivery; expectedStatus: DeliveryStatus; expectedAttempts: number }
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
  /** A provider's inbound message, once: a second insert of the same id is a `duplicate`. */
  | { kind: 'inbound.insert'; provider: string; providerMessageId: string; verificationId: string | null; receivedAt: number };

/** Writes that commit together or not at all: the domain's decision plus what must follow it. */
export interface UnitOfWork {
  writes: Write[];
}

export type CommitResult =
  | { ok: true }
  /** A guarded row had changed: re-read, decide again. */
  | { ok: false; reason: 'conflict' }
  /** A unique key was taken. */
  | { ok: false; reason: 'duplicate' };

export class ConflictError extends Error {
  constructor(what: string) {
    super(`${what} changed concurrently`);
  }
}

export const NOTIFY_CHANNEL = 'outband_events';

/** Applies a unit's writes in order inside an open transaction; throws ConflictError on a stale guard. */
export async function applyWrites(trx: Transaction<Tables> | Kysely<Tables>, unit: UnitOfWork, dialect: Dialect): Promise<void> {
  for (const write of unit.writes) {
    switch (write.kind) {
      case 'verification.insert':
        await trx.insertInto('verifications').values(fromVerification(write.verification)).execute();
        break;
      case 'verification.update': {
        const { id, ...row } = fromVerification(write.verification);
        const result = await trx
          .updateTable('verifications')
          .set(row)
          .where('id', '=', id)
          .where('version', '=', write.expectedVersion)
          .executeTakeFirst();
        if (result.numUpdatedRows !== 1n) throw new ConflictError(`verification ${id}`);
        break;
      }
      case 'delivery.insert':
        await trx.insertInto('deliveries').values(fromDelivery(write.delivery)).execute();
        break;
      case 'delivery.update': {
        const { id, ...row } = fromDelivery(write.delivery);
        const result = await trx
          .updateTable('deliveries')
          .set(row)
          .where('id', '=', id)
          .where('status', '=', write.expectedStatus)
          .where('attempts', '=', write.expectedAttempts)
          .executeTakeFirst();
        if (result.numUpdatedRows !== 1n) throw new ConflictError(`delivery ${id}`);
        break;
      }
      case 'delivery.cancelQueued':
        await trx
          .updateTable('deliveries')
          .set({ status: 'cancelled', sealed_message: null, updated_at: write.now })
          .where('verification_id', '=', write.verificationId)
          .where('status', '=', 'queued')
          .execute();
        break;
      case 'outbox.insert': {
        const m = write.message;
        await trx
          .insertInto('outbox_messages')
          .values({
            id: m.id,
            application_id: m.applicationId,
            verification_id: m.verificationId,
            channel: m.channel,
            recipient: m.recipient,
            sealed_message: m.sealedMessage,
            created_at: m.createdAt,
          })
          .execute();
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
      case 'wake':
        if (dialect === 'postgres') {
          await sql`select pg_notify(${NOTIFY_CHANNEL}, ${JSON.stringify({ subject_id: write.subjectId })})`.execute(trx);
        }
        break;
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
      case 'inbound.insert':
        await trx
          .insertInto('inbound_messages')
          .values({ provider: write.provider, provider_message_id: write.providerMessageId, verification_id: write.verificationId, received_at: write.receivedAt })
          .execute();
        break;
      case 'event.append': {
        const e = write.event;
        await trx
          .insertInto('events')
          .values({
            id: e.id,
            application_id: e.applicationId,
            type: e.type,
            subject_type: e.subjectType,
            subject_id: e.subjectId,
            actor: e.actor,
            data: JSON.stringify(e.data),
            created_at: e.createdAt,
          })
          .execute();
        if (dialect === 'postgres') {
          // Delivered to every node's listener at COMMIT, and never if the unit rolls back.
          const payload = JSON.stringify({ application_id: e.applicationId, subject_id: e.subjectId, type: e.type });
          await sql`select pg_notify(${NOTIFY_CHANNEL}, ${payload})`.execute(trx);
        }
        break;
      }
    }
  }
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
    if (w.kind === 'event.append') ids.add(w.event.subjectId);
    else if (w.kind === 'wake') ids.add(w.subjectId);
  }
  return ids;
}
