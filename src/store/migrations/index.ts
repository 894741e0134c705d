import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.ts';
import type { Tables } from '../schema.ts';
import * as initial from './001-initial.ts';
import * as resendsAndReceipts from './002-resends-and-receipts.ts';
import * as devicesAndPush from './003-devices-and-push.ts';
import * as eventSequence from './004-event-sequence.ts';
import * as webhooks from './005-webhooks.ts';
import * as settingsAndPolicies from './006-settings-and-policies.ts';
import * as usageAndFraud from './007-usage-and-fraud.ts';
import * as stepUpsAndSharedDevices from './008-step-ups-and-shared-devices.ts';
import * as agents from './009-agents.ts';
import * as webauthn from './010-webauthn.ts';
import * as outboxByVerification from './011-outbox-by-verification.ts';
import * as pushDeliveriesByTime from './012-push-deliveries-by-time.ts';
import * as noDeliveriesByRecipient from './014-no-deliveries-by-recipient.ts';
import * as pendingByUser from './013-pending-by-user.ts';
import * as eventsWrittenLighter from './015-events-written-lighter.ts';

interface Migration {
  version: number;
  name: string;
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

/** Forward only: a released migration is never edited; a change is a new one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', up: initial.up },
  { version: 2, name: 'resends-and-receipts', up: resendsAndReceipts.up },
  { version: 3, name: 'devices-and-push', up: devicesAndPush.up },
  { version: 4, name: 'event-sequence', up: eventSequence.up },
  { version: 5, name: 'webhooks', up: webhooks.up },
  { version: 6, name: 'settings-and-policies', up: settingsAndPolicies.up },
  { version: 7, name: 'usage-and-fraud', up: usageAndFraud.up },
  { version: 8, name: 'step-ups-and-shared-devices', up: stepUpsAndSharedDevices.up },
  { version: 9, name: 'agents', up: agents.up },
  { version: 10, name: 'webauthn', up: webauthn.up },
  { version: 11, name: 'outbox-by-verification', up: outboxByVerification.up },
  { version: 12, name: 'push-deliveries-by-time', up: pushDeliveriesByTime.up },
  { version: 13, name: 'pending-by-user', up: pendingByUser.up },
  { version: 14, name: 'no-deliveries-by-recipient', up: noDeliveriesByRecipient.up },
  { version: 15, name: 'events-written-lighter', up: eventsWrittenLighter.up },
];

/** What migrate tells as it goes: a migration about to be applied, and one applied (with its time). */
export interface MigrationProgress {
  applying?(migration: { version: number; name: string }): void;
  applied?(migration: { version: number; name: string; ms: number }): void;
}

/**
 * Applies the missing migrations, each in its own transaction. On PostgreSQL an advisory
 * lock makes nodes that start together take turns, so each migration runs once. `progress`
 * hears of each one applied here (a long one, such as 015 on a large SQLite file, shows).
 */
export async function migrate(db: Kysely<Tables>, dialect: Dialect, progress: MigrationProgress = {}): Promise<number[]> {
  await db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
    await trx.schema
      .createTable('schema_migrations')
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
  });
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    let started = 0;
    const done = await db.transaction().execute(async (trx) => {
      if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
      const existing = await trx.selectFrom('schema_migrations').select('version').where('version', '=', migration.version).executeTakeFirst();
      if (existing !== undefined) return false;
      progress.applying?.({ version: migration.version, name: migration.name });
      started = performance.now(); // after the lock: the time is the migration's own
      await migration.up(trx, dialect);
      await trx.insertInto('schema_migrations').values({ version: migration.version, name: migration.name, applied_at: Date.now() }).execute();
      return true;
    });
    if (done) {
      applied.push(migration.version);
      progress.applied?.({ version: migration.version, name: migration.name, ms: Math.round(performance.now() - started) });
    }
  }
  return applied;
}

const MIGRATION_LOCK = 0x6f7574626e64; // "outbnd"
