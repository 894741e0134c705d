import type { Kysely } from 'kysely';

/**
 * The development outbox is read by verification (`GET /v1/outbox?verification_id=…`, the
 * walkthrough and the benchmarks poll it): without an index that read went through every
 * message of the application, so each look cost more as the outbox grew.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // All three columns: with verification_id alone, SQLite's planner keeps to the
  // (application_id, created_at) index for the ORDER BY and still reads every message.
  await db.schema.createIndex('outbox_messages_verification').on('outbox_messages').columns(['application_id', 'verification_id', 'created_at']).execute();
}
