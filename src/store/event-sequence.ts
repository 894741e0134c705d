import { sql, type Kysely, type Transaction } from 'kysely';
import { eventUserId, type DomainEvent } from '../domain/event.ts';
import type { Tables } from './schema.ts';
import type { UnitOfWork } from './unit-of-work.ts';

type Executor = Transaction<Tables> | Kysely<Tables>;

/**
 * Numbers a unit's events per application (`app_seq`): the application's counter row is bumped
 * by the unit's count in one upsert, and the unit's events take the numbers in their order.
 *
 * Why this is gap-free and in commit order (ADR 0011): the bump writes the counter row, whose lock
 * is held to the end of the transaction, so a second unit of the same application waits until the
 * first has committed (and is visible) or rolled back (and its numbers are given again). A reader
 * that has seen number n therefore has seen every number below it: nothing committing later can
 * take a smaller one. On SQLite the group commit runs units one after another in one transaction,
 * each in a savepoint whose rollback also takes back its bump.
 *
 * It runs last in a unit (applyWrites), after every guarded row, so the lock is held only over the
 * events' inserts and the commit; counters are taken in application-id order (ADR 0011).
 */
export async function numberEvents(trx: Executor, unit: UnitOfWork): Promise<Map<string, number>> {
  const byApplication = new Map<string, DomainEvent[]>();
  for (const w of unit.writes) {
    if (w.kind !== 'event.append') continue;
    const list = byApplication.get(w.event.applicationId) ?? [];
    list.push(w.event);
    byApplication.set(w.event.applicationId, list);
  }
  const numbers = new Map<string, number>();
  for (const applicationId of [...byApplication.keys()].sort()) {
    const events = byApplication.get(applicationId)!;
    const row = await trx
      .insertInto('application_sequences')
      .values({ application_id: applicationId, last: events.length })
      .onConflict((oc) => oc.column('application_id').doUpdateSet({ last: sql<number>`application_sequences.last + ${events.length}` }))
      .returning('last')
      .executeTakeFirstOrThrow();
    const last = Number(row.last);
    events.forEach((e, i) => numbers.set(e.id, last - events.length + 1 + i));
  }
  return numbers;
}

/** The user an event is about: what the event tells (`eventUserId`), else a delivery's verification's user. */
export async function userIdFor(trx: Executor, event: DomainEvent): Promise<string | null> {
  const known = eventUserId(event);
  if (known !== undefined) return known;
  const verificationId = event.data['verification_id'];
  if (typeof verificationId !== 'string') return null;
  const row = await trx.selectFrom('verifications').select('user_id').where('id', '=', verificationId).executeTakeFirst();
  return row?.user_id ?? null;
}
