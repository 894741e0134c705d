import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { loadPg } from './pg.ts';
import type { Tables } from '../schema.ts';

const INT8 = 20;

// Times and counters are BIGINT; all of ours stay far below 2^53, so read them as numbers.
// The parser is set per pool rather than globally, so nothing else in the process is changed.
function typesOf(driver: typeof pg): pg.CustomTypesConfig {
  const getTypeParser = (oid: number, format?: string) => (oid === INT8 ? (value: string) => Number(value) : driver.types.getTypeParser(oid, format as 'text'));
  return { getTypeParser } as pg.CustomTypesConfig;
}

/** Distinct statement texts a node prepares by name; past this, new texts run unnamed (ADR 0024). */
export const PREPARED_LIMIT = 500;

/**
 * The names under which a node's statements are prepared, one per distinct SQL text, shared by
 * every connection of its pool. A name carries the generation it was given in: when a schema
 * change makes a prepared `select *` stale, every name is dropped at once and the next use of
 * each text prepares it again under a new name, so a transaction retried once meets no stale
 * statement (the old ones stay prepared, unused, until their connection closes).
 */
export class StatementNames {
  readonly #names = new Map<string, string>();
  #generation = 0;
  #given = 0;

  /** The name `text` is prepared under, or undefined when it should run unnamed. */
  nameOf(text: string): string | undefined {
    const known = this.#names.get(text);
    if (known !== undefined || this.#names.size >= PREPARED_LIMIT) return known;
    const name = `outband_${this.#generation}_${++this.#given}`;
    this.#names.set(text, name);
    return name;
  }

  /** A prepared statement went stale (a schema change): every text is prepared again. */
  renew(): void {
    this.#names.clear();
    this.#generation += 1;
  }

  get size(): number {
    return this.#names.size;
  }
}

/**
 * PostgreSQL's answer to a prepared statement whose result columns changed since it was
 * prepared (a column added to a table it reads with `*`): SQLSTATE 0A000 with this message.
 */
export function isStalePlan(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return e !== null && typeof e === 'object' && e.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change result type');
}

/** The name `begin` is prepared under on every connection, so that it can travel without a Parse. */
const BEGIN_NAME = 'outband_begin';

/** What pg keeps per connection of the statements it has parsed there (not in its types). */
type ParsedOn = pg.Connection & { parsedStatements: Record<string, string> };

/** The answer Kysely gets for a BEGIN, COMMIT or ROLLBACK that had nothing to send. */
const nothingSent = (command: string) => ({ command, rowCount: null, rows: [], fields: [] });

/**
 * pg's Client with each statement that has parameters prepared once per connection by name:
 * PostgreSQL then parses and plans it once instead of at every run (Kysely passes no names).
 * A stale statement outside a transaction is run again at once under a new name; inside one, the
 * transaction has failed and `transaction` (src/store/transaction.ts) runs it again.
 *
 * A transaction's BEGIN travels with its first statement, in one write and one round trip: pg
 * sends a query only once the last has answered, so a BEGIN of its own cost a round trip of every
 * transaction (about five a verification cycle, bench/README.md). Both go before one Sync, so if
 * the BEGIN failed the statement is not run at all; nothing can run outside the transaction.
 * They pair when both are prepared on the connection (no Parse between them: pg's bookkeeping of
 * a Parse answers the query it sent, not the BEGIN); otherwise the BEGIN goes first, on its own,
 * and prepares itself for the next time.
 */
function preparingClient(driver: typeof pg, names: StatementNames): typeof pg.Client {
  /** A prepared statement run right after the prepared BEGIN, answered as the statement alone. */
  class AfterBegin extends driver.Query {
    override submit = (connection: pg.Connection): void => {
      connection.stream.cork();
      try {
        connection.bind({ portal: '', statement: BEGIN_NAME, values: [] } as never, false);
        connection.execute({ portal: '', rows: 0 } as never, false);
        Reflect.apply(driver.Query.prototype.submit, this, [connection]);
      } finally {
        connection.stream.uncork();
      }
    };
  }

  return class PreparingClient extends driver.Client {
    /** Kysely asked for BEGIN and nothing was sent yet: the next statement takes it along. */
    #beginPending = false;

    // The override keeps pg's every overload; only (text, values) without a callback is named.
    override query(...args: unknown[]): never {
      const [text, values, callback] = args;
      const plain = typeof text === 'string' && callback === undefined && (values === undefined || (Array.isArray(values) && values.length === 0));
      if (plain && text === 'begin' && !this.#beginPending && this.getTransactionStatus() === 'I') {
        this.#beginPending = true;
        return Promise.resolve(nothingSent('BEGIN')) as never;
      }
      const name = typeof text === 'string' && Array.isArray(values) && values.length > 0 && callback === undefined ? names.nameOf(text) : undefined;
      let run: Promise<unknown>;
      let outside = false;
      if (this.#beginPending) {
        this.#beginPending = false;
        // A transaction that ran no statement: there is nothing to commit or roll back.
        if (plain && (text === 'commit' || text === 'rollback')) return Promise.resolve(nothingSent(text.toUpperCase())) as never;
        const parsed = (this.connection as ParsedOn).parsedStatements;
        if (name === undefined || parsed[BEGIN_NAME] === undefined || parsed[name] === undefined) {
          const begun = Reflect.apply(super.query, this, [{ name: BEGIN_NAME, text: 'begin' }]) as Promise<unknown>;
          return begun.then(() => Reflect.apply(this.query, this, args)) as never;
        }
        run = this.#afterBegin(name, text as string, values as unknown[]);
      } else {
        if (name === undefined) return Reflect.apply(super.query, this, args) as never;
        outside = this.getTransactionStatus() === 'I';
        run = Reflect.apply(super.query, this, [{ name, text, values }]) as Promise<unknown>;
      }
      return run.catch((error: unknown) => {
        if (!isStalePlan(error)) throw error;
        names.renew();
        if (!outside) throw error;
        return Reflect.apply(this.query, this, args);
      }) as never;
    }

    /** The first statement of a transaction, sent with its BEGIN. */
    #afterBegin(name: string, text: string, values: unknown[]): Promise<unknown> {
      return new Promise((resolve, reject) => {
        const query = new AfterBegin({ name, text, values }, (error: Error | undefined, result: unknown) => {
          // pg answers a list when a query completed more than one command: BEGIN's, then ours.
          if (error !== undefined && error !== null) reject(error);
          else resolve(Array.isArray(result) ? result.at(-1) : result);
        });
        Reflect.apply(super.query, this, [query]);
      });
    }
  };
}

/** The pool (and the driver) is made when the first query needs a connection. */
export function openPostgres(url: string, poolSize: number): { db: Kysely<Tables> } {
  const names = new StatementNames();
  const pool = async (): Promise<pg.Pool> => {
    const driver = await loadPg();
    const made = new driver.Pool({ connectionString: url, max: poolSize, types: typesOf(driver), Client: preparingClient(driver, names) });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    made.on('error', () => {});
    return made;
  };
  return { db: new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }) };
}
