import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.ts';

/**
 * Every event insert went into seven indexes; three of them served no read of the server's:
 * `events.id`'s uniqueness (ids are 128 random bits, and nothing reads an event by its id),
 * `events_subject` (an event's subject, read only by tests' helpers) and `events_application`
 * (the global `seq` per application, which the event log's `app_seq` replaced in migration 004).
 * Two of them, `id` and `subject_id`, are keyed by random ids: each insert changed a page of its
 * own in each, which a commit writes whole, more so as the table grows (bench/README.md,
 * table-growth). The event log, the audit's filters and the webhooks' fan-out keep theirs.
 *
 * SQLite cannot drop a column's UNIQUE constraint: the table is rebuilt, in this migration's
 * transaction (rows, `seq` and the AUTOINCREMENT counter kept). That copies the whole table
 * once, at the first start of this version (about 10 s a million events here); PostgreSQL drops
 * the constraint in place.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema.dropIndex('events_subject').ifExists().execute();
  await db.schema.dropIndex('events_application').ifExists().execute();
  if (dialect === 'postgres') {
    await sql`alter table events drop constraint if exists events_id_key`.execute(db);
    return;
  }
  const counter = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'events'`.execute(db);
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = 'events' and sql is not null`.execute(db);
  await sql`
    create table events_rebuilt (
      seq integer primary key autoincrement,
      id text not null,
      application_id text not null,
      type text not null,
      subject_type text not null,
      subject_id text not null,
      actor text,
      data text not null,
      created_at bigint not null,
      app_seq bigint,
      user_id text
    )`.execute(db);
  await sql`
    insert into events_rebuilt (seq, id, application_id, type, subject_type, subject_id, actor, data, created_at, app_seq, user_id)
    select seq, id, application_id, type, subject_type, subject_id, actor, data, created_at, app_seq, user_id from events order by seq`.execute(db);
  await sql`drop table events`.execute(db);
  await sql`alter table events_rebuilt rename to events`.execute(db);
  // The counter goes on from the highest number ever given, as it would have.
  const last = counter.rows[0]?.seq;
  if (last !== undefined) {
    await sql`delete from sqlite_sequence where name = 'events'`.execute(db);
    await sql`insert into sqlite_sequence (name, seq) values ('events', ${last})`.execute(db);
  }
  for (const index of indexes.rows) await sql.raw(index.sql).execute(db);
}
