import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { Kysely, SqliteAdapter, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDatabase, type SqliteDialectConfig } from 'kysely';
import type { Tables } from '../schema.ts';

export interface SqliteOptions {
  /** FULL (default) survives a power cut; NORMAL survives a process crash only. */
  synchronous?: 'FULL' | 'NORMAL';
  /** The WAL file is cut back to this size when it starts over (default WAL_SIZE_LIMIT_BYTES). */
  walSizeLimitBytes?: number;
}

/**
 * The WAL file keeps the size of its longest stretch between checkpoints unless told otherwise:
 * one bulk import or sweep would hold its gigabyte of disk for good. Cut back when the WAL
 * starts over, to a size an everyday load never reaches (its WAL stays under about 25 MiB), so
 * the file is not shrunk and grown again at every restart.
 */
export const WAL_SIZE_LIMIT_BYTES = 64 * 2 ** 20;

/** Prepared statements kept per connection; past this the oldest is dropped. */
const STATEMENT_CACHE_SIZE = 500;

interface PreparedStatement {
  statement: StatementSync;
  reader: boolean;
  /** May change the database: anything but a read, a pragma or a transaction's control. */
  changes: boolean;
}

/**
 * Statements that change nothing by themselves. A transaction that only read (a claim that found
 * nothing due) then commits without a WAL sync; its BEGIN and COMMIT are no write. Anything not
 * listed counts as a write, `insert … returning` read through `all` included.
 */
const CHANGES_NOTHING = /^\s*(select|begin|commit|end|rollback|savepoint|release|pragma|explain)\b/i;

/**
 * Kysely over node:sqlite through the subset of a driver Kysely needs. Parameters are
 * spread after an empty named-parameter bag: otherwise a leading object argument is taken
 * as that bag and binds NULL silently.
 *
 * Kysely asks for a statement on every query; preparing costs as much as running a small one,
 * so statements are kept by their SQL text and reused. The queries come from a fixed set of
 * shapes (an IN list's length makes a few more), so the bound holds all that recur and keeps
 * rare ones from piling up; past it the oldest prepared goes (a hit does not reorder the Map:
 * that cost more than the rare re-prepare it would save).
 */
function asKyselySqlite(raw: DatabaseSync, writes: { since: boolean }): SqliteDatabase {
  const prepared = new Map<string, PreparedStatement>();

  function statementFor(source: string): PreparedStatement {
    const cached = prepared.get(source);
    if (cached !== undefined) return cached;
    // Nearly every transaction of ours writes (a claim that finds nothing does not). BEGIN
    // IMMEDIATE takes the write lock up front, so a second process on the same file (the CLI
    // beside the server) waits out the busy timeout instead of failing at once when a read lock
    // would have to be upgraded.
    const statement = raw.prepare(/^begin$/i.test(source) ? 'begin immediate' : source);
    const entry = { statement, reader: statement.columns().length > 0, changes: !CHANGES_NOTHING.test(source) };
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
      const { statement, reader, changes } = statementFor(source);
      return {
        reader,
        all: (parameters: ReadonlyArray<unknown>) => {
          if (changes) writes.since = true;
          return statement.all({}, ...(parameters as never[]));
        },
        run: (parameters: ReadonlyArray<unknown>) => {
          if (changes) writes.since = true;
          const result = statement.run({}, ...(parameters as never[]));
          return { changes: Number(result.changes), lastInsertRowid: result.lastInsertRowid };
        },
        iterate: (parameters: ReadonlyArray<unknown>) => {
          if (changes) writes.since = true;
          return statement.iterate({}, ...(parameters as never[]));
        },
      };
    },
  };
}

/** One holder at a time, the others served in arrival order, one woken per release. */
class FifoLock {
  #held = false;
  readonly #waiting: Array<() => void> = [];

  acquire(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#held = false;
    else next();
  }
}

/**
 * Kysely's SQLite dialect with the one connection handed out first come, first served. Kysely's
 * own lock for single-connection dialects wakes every waiter at each release and all but one wait
 * again: with n queries queued that is n wake-ups per query, quadratic under a burst (thousands
 * of woken waiters re-reading at once). The adapter tells Kysely the connection may be shared so
 * that its lock stays out; this driver's lock is the one that keeps it exclusive.
 */
class FifoSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #durable: WalSync | null;

  constructor(config: SqliteDialectConfig, durable: WalSync | null) {
    super(config);
    this.#config = config;
    this.#durable = durable;
  }

  override createDriver(): Driver {
    return new FifoSqliteDriver(this.#config, this.#durable);
  }

  override createAdapter(): SqliteAdapter {
    return new FifoSqliteAdapter();
  }
}

class FifoSqliteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

class FifoSqliteDriver extends SqliteDriver {
  readonly #lock = new FifoLock();
  readonly #durable: WalSync | null;

  constructor(config: SqliteDialectConfig, durable: WalSync | null) {
    super(config);
    this.#durable = durable;
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire();
    return super.acquireConnection();
  }

  /** What was written is made durable before the next holder (a write or a read) can see it. */
  override async releaseConnection(): Promise<void> {
    try {
      if (this.#durable !== null) await this.#durable.sync();
    } finally {
      await super.releaseConnection();
      this.#lock.release();
    }
  }

  override async destroy(): Promise<void> {
    await super.destroy();
    await this.#durable?.close();
  }
}

interface WalSync {
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `synchronous = FULL` without its fsync on the event loop (ADR 0023). SQLite runs with NORMAL,
 * which keeps the database consistent through a power cut and syncs the WAL at checkpoints, but
 * not at each commit; FULL adds exactly that sync of the WAL after each commit. Here the same sync
 * (fdatasync of the WAL file) runs on libuv's thread pool once the connection's holder is done and
 * before the connection is handed on. A holder's query or transaction resolves only after it, so a
 * commit is acknowledged only once durable, and no later query (a read included) sees a write
 * before it is durable: what FULL promises. The event loop serves requests meanwhile.
 */
function walSync(walPath: string, writes: { since: boolean }): WalSync {
  let handle: FileHandle | null = null;
  return {
    async sync() {
      if (!writes.since) return;
      // Nothing writes while this runs: the connection is not handed on before it ends.
      writes.since = false;
      try {
        handle ??= await open(walPath, 'r');
        await handle.datasync();
      } catch (error) {
        writes.since = true; // the next holder's release tries again
        throw error;
      }
    },
    async close() {
      await handle?.close();
      handle = null;
    },
  };
}

export function openSqlite(path: string, options: SqliteOptions = {}): { db: Kysely<Tables>; raw: DatabaseSync } {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new DatabaseSync(path, { timeout: 5000 });
  // The page cache is SQLite's default 2,000 pages (8 MiB) otherwise: with millions of rows the
  // indexes the requests walk no longer fit, and each request costs more as the tables grow
  // (bench/table-growth.ts). 64 MiB, taken only as pages are read.
  // FULL on a file: NORMAL in SQLite, and the commit's sync of the WAL done off the event loop (walSync).
  // temp_store = MEMORY keeps each savepoint's journal (a group commit opens one per unit) in
  // memory: otherwise past 64 KiB it goes to a temporary file, two writes per page a unit changes
  // (a third of the writes a commit made). It is emptied as each unit's savepoint is released.
  const offLoopSync = (options.synchronous ?? 'FULL') === 'FULL' && path !== ':memory:';
  raw.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${offLoopSync ? 'NORMAL' : (options.synchronous ?? 'FULL')}; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = ${Math.trunc(options.walSizeLimitBytes ?? WAL_SIZE_LIMIT_BYTES)};`);
  const writes = { since: false };
  const durable = offLoopSync ? walSync(`${resolve(path)}-wal`, writes) : null;
  return { db: new Kysely<Tables>({ dialect: new FifoSqliteDialect({ database: asKyselySqlite(raw, writes) }, durable) }), raw };
}
