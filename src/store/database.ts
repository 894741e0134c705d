import type { Kysely } from 'kysely';
import { openPostgres } from './dialects/postgres.ts';
import { backgroundCheckpoints } from './dialects/sqlite-checkpoints.ts';
import { openSqlite, type SqliteOptions } from './dialects/sqlite.ts';
import type { Tables } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<Tables>;
  dialect: Dialect;
  /** The connection string of a PostgreSQL database, for a LISTEN client of its own. */
  postgresUrl: string | null;
  /** SQLite: commit concurrent units in one transaction (src/store/commit.ts). PostgreSQL groups concurrent commits itself. */
  groupCommit: boolean;
  close(): Promise<void>;
}

export interface DatabaseOptions extends SqliteOptions {
  poolSize?: number;
  /** SQLite only; default true. */
  groupCommit?: boolean;
  /** SQLite only: the background checkpoints failed and SQLite's own are back on. */
  onCheckpointError?: (error: Error) => void;
}

/**
 * `postgres://…` or `postgresql://…` opens PostgreSQL; `sqlite:<path>` (or `sqlite::memory:`)
 * opens SQLite. A bare path is taken as a SQLite file.
 */
export function openDatabase(url: string, options: DatabaseOptions = {}): Database {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { db } = openPostgres(url, options.poolSize ?? 10);
    return { db, dialect: 'postgres', postgresUrl: url, groupCommit: false, close: () => db.destroy() };
  }
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  const { db } = openSqlite(path, options);
  // Checkpoints on a worker thread instead of in commits (ADR 0022).
  const checkpoints = path !== ':memory:' ? backgroundCheckpoints(db, path, { ...(options.onCheckpointError ? { onError: options.onCheckpointError } : {}) }) : null;
  const close = async () => {
    await checkpoints?.stop();
    await db.destroy();
  };
  return { db, dialect: 'sqlite', postgresUrl: null, groupCommit: options.groupCommit ?? true, close };
}
