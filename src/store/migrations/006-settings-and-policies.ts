import type { Kysely } from 'kysely';

/**
 * Issue [4], application settings and policies: a version on each application, so that two
 * settings changes decided on the same state cannot both commit (the second is re-decided on
 * the first's result), and the applications' named verification policies (body: JSON of the
 * policy as the API takes it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('applications').addColumn('version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema
    .createTable('policies')
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('policies_pk', ['application_id', 'name'])
    .execute();
}
