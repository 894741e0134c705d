import type { Kysely } from 'kysely';

/**
 * A device's pending push requests are read from its push deliveries (the device stream and
 * its list). By (recipient, channel) alone that read went through every push the device ever
 * had, so a device cost more the longer it was in use; with created_at in the index it reads
 * only the deliveries young enough to belong to a verification still pending.
 * The new index serves every read the old one did (its columns lead).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('deliveries_recipient_time').on('deliveries').columns(['recipient', 'channel', 'created_at']).execute();
  await db.schema.dropIndex('deliveries_recipient').execute();
}
