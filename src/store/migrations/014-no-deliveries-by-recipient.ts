import type { Kysely } from 'kysely';

/**
 * The deliveries' index by recipient served one read left: the pending verifications a device
 * is part of, when it is unpaired. That read now goes through its user's pending verifications
 * (migration 013's index), as a device's own list of push requests does. The index went with
 * every delivery insert to a place set by the recipient (a phone number, an address, a device
 * id), a page of its own in a large table (bench/README.md, table-growth). A node of the
 * previous version still running beside this one during an upgrade reads by scanning instead,
 * once per unpairing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deliveries_recipient_time').execute();
}
