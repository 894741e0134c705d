import type { Kysely } from 'kysely';

/**
 * Issue [4]: usage counters per application, subject (a user, a raw recipient or the
 * application itself), channel and UTC day; fraud marks (timestamps counted in sliding
 * windows: sends per recipient, verifications per prefix and country, unanswered pushes,
 * failed codes), fraud blocks (a key refused until a time), and consecutive failures per
 * authenticator across verifications.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('usage_counters')
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('used', 'integer', (c) => c.notNull())
    .addColumn('unused', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_counters_pk', ['application_id', 'subject', 'channel', 'day'])
    .execute();
  await db.schema
    .createTable('fraud_marks')
    .addColumn('application_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('fraud_marks_key').on('fraud_marks').columns(['application_id', 'key', 'at']).execute();
  await db.schema.createIndex('fraud_marks_at').on('fraud_marks').column('at').execute();
  await db.schema
    .createTable('fraud_blocks')
    .addColumn('application_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('until', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('fraud_blocks_pk', ['application_id', 'key'])
    .execute();
  await db.schema
    .createTable('authenticator_failures')
    .addColumn('application_id', 'text', (c) => c.notNull())
    .addColumn('authenticator', 'text', (c) => c.notNull())
    .addColumn('consecutive', 'integer', (c) => c.notNull())
    .addColumn('locked_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('authenticator_failures_pk', ['application_id', 'authenticator'])
    .execute();
}
