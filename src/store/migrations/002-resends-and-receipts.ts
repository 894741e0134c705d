import { sql, type Kysely } from 'kysely';

/**
 * Issue [2]: resend bookkeeping on verifications (how often, when last, how long a code to send),
 * delivery receipts (when a message was sent and when its receipt came, found by the provider's
 * message id; which workflow step a message is), and two-way SMS (the flag, and a record of each inbound message so that a
 * repeated delivery of it is processed once; its text, which holds a code, is not kept), and
 * an application's own message templates per channel, purpose and locale.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('verifications').addColumn('resends', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('verifications').addColumn('last_sent_at', 'bigint').execute();
  await db.schema.alterTable('verifications').addColumn('code_length', 'integer', (c) => c.notNull().defaultTo(6)).execute();
  await db.updateTable('verifications').set({ last_sent_at: sql`created_at` }).execute();
  await db.schema.alterTable('deliveries').addColumn('sent_at', 'bigint').execute();
  await db.schema.alterTable('deliveries').addColumn('receipt_at', 'bigint').execute();
  await db.schema.alterTable('deliveries').addColumn('step', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('verifications').addColumn('two_way', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('verifications').addColumn('caller_hmac', 'text').execute();
  await db.schema.createIndex('verifications_two_way_pending').on('verifications').columns(['recipient', 'status', 'two_way']).execute();
  await db.schema
    .createTable('inbound_messages')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('provider_message_id', 'text', (c) => c.notNull())
    .addColumn('verification_id', 'text')
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('inbound_messages_pk', ['provider', 'provider_message_id'])
    .execute();
  await db.schema
    .createTable('templates')
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('title', 'text')
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('html', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('templates_pk', ['application_id', 'channel', 'purpose', 'locale'])
    .execute();
  await db.schema.createIndex('deliveries_provider_message').on('deliveries').columns(['provider', 'provider_message_id']).execute();
}
