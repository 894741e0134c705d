import type { Kysely } from 'kysely';

/**
 * Issue [4], SEC-12 and SEC-30. `step_ups`: each approved verification spent as the prior
 * authentication of a change (a phone number bound under the nist profile), at most once: its
 * key is the verification, so a replay (even a concurrent one) finds it taken. `devices_address`:
 * pairing counts the other users of the application that hold a device on the same address
 * (the device share cap).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('step_ups')
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('verification_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('used_for', 'text', (c) => c.notNull())
    .addColumn('used_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('step_ups_pk', ['application_id', 'verification_id'])
    .execute();
  await db.schema.createIndex('devices_address').on('devices').columns(['application_id', 'address']).execute();
}
