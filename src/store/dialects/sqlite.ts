import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Tables } from '../schema.ts';

export interface SqliteOptions {
  /** FULL (default) survives a power cut; NORMAL survives a process crash only. */
  synchronous?: 'FULL' | 'NORMAL';
}

/**
 * Kysely over node:sqlite through the subset of a driver Kysely needs. Parameters are
 * spread after an empty named-parameter bag: otherwise a leading object argument is taken
 * as that bag and binds NULL silently.
 */
function asKyselySqlite(raw: DatabaseSync): SqliteDatabase {
  return {
    close: () => raw.close(),
    prepare(source: string) {
      // Every transaction of ours writes. BEGIN IMMEDIATE takes the write lock up front, so a
      // second process on the same file (the CLI beside the server) waits out the busy timeout
      // instead of failing at once when a read lock would have to be upgraded.
      const statement = raw.prepare(/^begin$/i.test(source) ? 'begin immediate' : source);
      return {
        reader: statement.columns().length > 0,
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
  raw.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous ?? 'FULL'}; PRAGMA foreign_keys = ON;`);
  return { db: new Kysely<Tables>({ dialect: new SqliteDialect({ database: asKyselySqlite(raw) }) }), raw };
}
