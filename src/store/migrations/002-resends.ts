import { sql, type Kysely } from 'kysely';

/** Resend bookkeeping on verifications (issue [2]): how often, when last, and how long a code to send. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('verifications').addColumn('resends', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('verifications').addColumn('last_sent_at', 'bigint').execute();
  await db.schema.alterTable('verifications').addColumn('code_length', 'integer', (c) => c.notNull().defaultTo(6)).execute();
  await db.updateTable('verifications').set({ last_sent_at: sql`created_at` }).execute();
}
