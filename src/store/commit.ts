import type { Kysely } from 'kysely';
import type { Dialect } from './database.ts';
import type { Tables } from './schema.ts';
import { runStatement, shaped, type Statement } from './statements.ts';
import { transaction } from './transaction.ts';
import { applyWrites, ConflictError, isUniqueViolation, LimitError, type Applied, type CommitResult, type UnitOfWork } from './unit-of-work.ts';

/** A unit's commit: refused with its reason, or done with what applying it did. */
export type CommitOutcome = Exclude<CommitResult, { ok: true }> | ({ ok: true } & Applied);

export type Committer = (unit: UnitOfWork) => Promise<CommitOutcome>;

function classify(error: unknown): CommitOutcome {
  if (error instanceof ConflictError) return { ok: false, reason: 'conflict' };
  if (error instanceof LimitError) return { ok: false, reason: 'limit', limit: error.limit };
  if (isUniqueViolation(error)) return { ok: false, reason: 'duplicate' };
  throw error;
}

/**
 * PostgreSQL: one transaction per unit. Concurrent commits are grouped by the server itself.
 */
export function transactionPerUnit(db: Kysely<Tables>, dialect: Dialect): Committer {
  return async (unit) => {
    try {
      return { ok: true, ...(await transaction(db, (trx) => applyWrites(trx, unit, dialect))) };
    } catch (error) {
      return classify(error);
    }
  };
}

/** A unit's savepoint statement (`u<i>`, its place in the group), made once like any written statement. */
function savepoint(verb: 'savepoint' | 'rollback to savepoint' | 'release savepoint', i: number): Statement {
  return shaped(`${verb} u${i}`, () => `${verb} u${i}`);
}

/** Most units a group commit takes at once. */
const MAX_GROUP = 256;

/**
 * SQLite: group commit. A durable commit costs one fsync (≈0.4 ms here) whatever it holds,
 * so the units that arrive while one group commits are committed together as the next group,
 * each inside its own SAVEPOINT: one unit failing rolls back alone, and every unit is
 * acknowledged only after the fsync of its group. The savepoint statements are written SQL, not
 * built by Kysely (three a unit: see ADR 0020).
 */
export function groupCommit(db: Kysely<Tables>, dialect: Dialect): Committer {
  type Waiting = { unit: UnitOfWork; resolve: (r: CommitOutcome) => void; reject: (e: unknown) => void };
  let queue: Waiting[] = [];
  let draining = false;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const group = queue.slice(0, MAX_GROUP);
      queue = queue.slice(group.length);
      try {
        const results = await db.transaction().execute(async (trx) => {
          const out: CommitOutcome[] = [];
          for (const [i, waiting] of group.entries()) {
            await runStatement(trx, dialect, savepoint('savepoint', i), []);
            try {
              out.push({ ok: true, ...(await applyWrites(trx, waiting.unit, dialect)) });
            } catch (error) {
              await runStatement(trx, dialect, savepoint('rollback to savepoint', i), []);
              try {
                out.push(classify(error));
              } catch (unexpected) {
                out.push({ ok: false, reason: 'conflict' });
                waiting.reject(unexpected);
              }
            }
            await runStatement(trx, dialect, savepoint('release savepoint', i), []);
          }
          return out;
        });
        group.forEach((waiting, i) => waiting.resolve(results[i] ?? { ok: false, reason: 'conflict' }));
      } catch (error) {
        for (const waiting of group) waiting.reject(error);
      }
    }
    draining = false;
  }

  return (unit) =>
    new Promise<CommitOutcome>((resolve, reject) => {
      queue.push({ unit, resolve, reject });
      if (!draining) {
        draining = true;
        // Let the requests of this turn of the event loop join the group first.
        setImmediate(() => void drain());
      }
    });
}
