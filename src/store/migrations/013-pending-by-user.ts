import { sql, type Kysely } from 'kysely';

/**
 * A device's pending push requests (its stream, at every push sent to it, and its list) were
 * read from its push deliveries of the last half hour, each looked up for being still pending: a
 * device with many pushes in that half hour (a shared or busy device, or one under a push flood)
 * paid for all of them at every new one. Now they are read from its user's pending
 * verifications, which this index holds alone: rows leave it when they are decided, so it stays
 * as small as the verifications under way, at any table size. The `status = 'pending'` literal
 * in the reads is what lets both databases use it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index verifications_user_pending on verifications (user_id) where status = 'pending'`.execute(db);
}
