import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Tables } from '../schema.ts';

export interface SqliteOptions {
  /** FULL (default) survives a power cut; NORMAL survives a process crash only. */
  synchronous?: 'FULL' | 'NORMAL';
}

/** Prepared statements kept per connection; past this the least recently used is dropped. */
const STATEMENT_CACHE_SIZE = 500;

interface PreparedStatement {
  statement: StatementSync;
  reader: boolean;
}

/**
 * Kysely over node:sqlite through the subset of a driver Kysely needs. Parameters are
 * spread after an empty named-parameter bag: otherwise a leading object argument is taken
 * as that bag and binds NULL silently.
 *
 * Kysely asks for a statement on every query; preparing costs as much as running a small one,
 * so statements are kept by their SQL text and reused (a Map in use order: least recently used
 * first). The queries come from a fixed set of shapes (an IN list's length makes a few more),
 * so the bound holds all that recur and keeps rare ones from piling up.
 */
function asKyselySqlite(raw: DatabaseSync): SqliteDatabase {
  const prepared = new Map<string, PreparedStatement>();

  function statementFor(source: string): PreparedStatement {
    const cached = prepared.get(source);
    if (cached !== undefined) {
      prepared.delete(source);
      prepared.set(source, cached);
      return cached;
    }
    // Every transaction of ours writes. BEGIN IMMEDIATE takes the write lock up front, so a
    // second process on the same file (the CLI beside the server) waits out the busy timeout
    // instead of failing at once when a read lock would have to be upgraded.
    const statement = raw.prepare(/^begin$/i.test(source) ? 'begin immediate' : source);
    const entry = { statement, reader: statement.columns().length > 0 };
    prepared.set(source, entry);
    if (prepared.size > STATEMENT_CACHE_SIZE) prepared.delete(prepared.keys().next().value!);
    return entry;
  }

  return {
    close: () => {
      prepared.clear();
      raw.close();
    },
    prepare(source: string) {
      const { statement, reader } = statementFor(source);
      return {
        reader,
        all: (parameters: ReadonlyArray<unknown>) => statement.all({}, ...(parameters as never[])),
        run: (parameters: ReadonlyArray<unknown>) => {
          const result = statement.run({}, ...(parameters as never[]));
          return { changes: Number(result.changes), lastInsertRowid: result.lastInsertRowid };
        },
        iterate: (parameters: ReadonlyArray<unknown>) => statement.iterate({}, ...(parameters as never[])),
      };
    },
  };
}

export function openSqlite(path: string, options: SqliteOptions = {}): { db: Kysely<Tables>; raw: DatabaseSync } {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new DatabaseSync(path, { timeout: 5000 });
  // The page cache is SQLite's default 2,000 pages (8 MiB) otherwise: with millions of rows the
  // indexes the requests walk no longer fit, and each request costs more as the tables grow
  // (bench/table-growth.ts). 64 MiB, taken only as pages are read.
  raw.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous ?? 'FULL'}; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;`);
  return { db: new Kysely<Tables>({ dialect: new SqliteDialect({ database: asKyselySqlite(raw) }) }), raw };
}
