import type { Kysely, Transaction } from 'kysely';
import { eventUserId, type DomainEvent } from '../domain/event.ts';
import type { Dialect } from './database.ts';
import type { Tables } from './schema.ts';
import { runStatement, statement } from './statements.ts';
import type { UnitOfWork } from './unit-of-work.ts';

type Executor = Transaction<Tables> | Kysely<Tables>;

const TAKE_NUMBERS = statement(
  'insert into application_sequences (application_id, last) values (?, ?) on conflict (application_id) do update set last = application_sequences.last + ? returning last',
);
const USER_OF_VERIFICATION = statement('select user_id from verifications where id = ?');

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
export async function numberEvents(trx: Executor, dialect: Dialect, unit: UnitOfWork): Promise<Map<string, number>> {
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
    const { rows } = await runStatement<{ last: number | string }>(trx, dialect, TAKE_NUMBERS, [applicationId, events.length, events.length]);
    const last = Number(rows[0]!.last);
    events.forEach((e, i) => numbers.set(e.id, last - events.length + 1 + i));
  }
  return numbers;
}

/** The user an event is about: what the event tells (`eventUserId`), else a delivery's verification's user. */
export async function userIdFor(trx: Executor, dialect: Dialect, event: DomainEvent): Promise<string | null> {
  const known = eventUserId(event);
  if (known !== undefined) return known;
  const verificationId = event.data['verification_id'];
  if (typeof verificationId !== 'string') return null;
  const { rows } = await runStatement<{ user_id: string | null }>(trx, dialect, USER_OF_VERIFICATION, [verificationId]);
  return rows[0]?.user_id ?? null;
}
