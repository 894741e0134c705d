import type { Kysely, Transaction } from 'kysely';
import { isStalePlan } from './dialects/postgres.ts';
import type { Tables } from './schema.ts';

/**
 * Runs `work` in a transaction; when PostgreSQL failed it for a statement that went stale (a
 * schema change beside a running node, ADR 0024), once more: by then every statement is prepared
 * anew. `work` must be safe to run again (it is, for a transaction that rolled back).
 */
export async function transaction<T>(db: Kysely<Tables>, work: (trx: Transaction<Tables>) => Promise<T>): Promise<T> {
  try {
    return await db.transaction().execute(work);
  } catch (error) {
    if (!isStalePlan(error)) throw error;
    return db.transaction().execute(work);
  }
}
