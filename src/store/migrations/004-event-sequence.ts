import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

/**
 * Issue [4], the event log and the audit trail: a per-application, gap-free sequence number on
 * events (`app_seq`, drawn from `application_sequences` under the counter row's lock, so it
 * follows commit order; see docs/decisions/0011-event-log-sequence.md), the user an event is
 * about (`user_id`), and indexes for the audit's filters (time, user, actor). Existing events
 * are numbered in their global `seq` order, and their user is taken from the same places the
 * store takes it for new events.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('application_sequences')
    .addColumn('application_id', 'text', (c) => c.primaryKey())
    .addColumn('last', 'bigint', (c) => c.notNull())
    .execute();
  // Nullable only because SQLite cannot add a NOT NULL column without a default; every event
  // the store writes has one, and the backfill below gives every existing event one.
  await db.schema.alterTable('events').addColumn('app_seq', 'bigint').execute();
  await db.schema.alterTable('events').addColumn('user_id', 'text').execute();

  await sql`
    update events set app_seq = numbered.n
    from (select seq, row_number() over (partition by application_id order by seq) as n from events) as numbered
    where events.seq = numbered.seq`.execute(db);
  await sql`
    insert into application_sequences (application_id, last)
    select application_id, max(app_seq) from events group by application_id`.execute(db);

  const userIdInData = dialect === 'postgres' ? sql`(data::json ->> 'user_id')` : sql`json_extract(data, '$.user_id')`;
  const verificationIdInData = dialect === 'postgres' ? sql`(data::json ->> 'verification_id')` : sql`json_extract(data, '$.verification_id')`;
  await sql`update events set user_id = subject_id where subject_type = 'user'`.execute(db);
  await sql`update events set user_id = ${userIdInData} where user_id is null`.execute(db);
  await sql`
    update events set user_id = (select v.user_id from verifications v where v.id = ${verificationIdInData})
    where user_id is null and subject_type = 'delivery'`.execute(db);

  await db.schema.createIndex('events_application_seq').unique().on('events').columns(['application_id', 'app_seq']).execute();
  await db.schema.createIndex('events_application_time').on('events').columns(['application_id', 'created_at']).execute();
  await db.schema.createIndex('events_application_user_time').on('events').columns(['application_id', 'user_id', 'created_at']).execute();
  await db.schema.createIndex('events_application_actor_time').on('events').columns(['application_id', 'actor', 'created_at']).execute();
}
