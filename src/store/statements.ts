import { createQueryId, RawNode, type CompiledQuery, type Kysely, type QueryResult, type Selectable, type Transaction } from 'kysely';
import type { Dialect } from './database.ts';
import type { Tables } from './schema.ts';

type Executor = Transaction<Tables> | Kysely<Tables>;

/**
 * The hot path's statements, written once as SQL and run as they are. Kysely builds and compiles
 * a query on every call: about 20–30 µs of JavaScript for a statement SQLite runs in 10–20, and a
 * verification runs about thirty of them (bench/README.md). These go straight to the connection
 * (inside the caller's transaction when given one), still through Kysely's driver.
 *
 * The SQL uses `?` placeholders and must be valid on both databases; PostgreSQL gets `$1…$n`.
 * No `?` may appear inside a literal.
 */
export interface Statement {
  readonly sqlite: string;
  readonly postgres: string;
  /** Kysely's node for each text, made once (CompiledQuery.raw makes and freezes one per call). */
  readonly nodes: { readonly sqlite: RawNode; readonly postgres: RawNode };
}

export function statement(text: string): Statement {
  let n = 0;
  const postgres = text.replace(/\?/g, () => `$${++n}`);
  return { sqlite: text, postgres, nodes: { sqlite: RawNode.createWithSql(text), postgres: RawNode.createWithSql(postgres) } };
}

/** A statement whose SQLite text says more than the portable one (an index to use, say). */
export function withSqliteText(portable: string, sqlite: string): Statement {
  const s = statement(portable);
  return { ...s, sqlite, nodes: { ...s.nodes, sqlite: RawNode.createWithSql(sqlite) } };
}

/**
 * One id for every written statement: Kysely hands a query's id only to plugins, and the store
 * has none (with a plugin, each query would need its own).
 */
const WRITTEN = createQueryId();

export function runStatement<Row>(db: Executor, dialect: Dialect, s: Statement, parameters: readonly unknown[]): Promise<QueryResult<Row>> {
  const query: CompiledQuery<Row> = { sql: s[dialect], query: s.nodes[dialect], parameters, queryId: WRITTEN };
  return db.executeQuery<Row>(query);
}

/** Rows changed by an insert, update or delete (0 when the driver did not say). */
export function changedRows(result: QueryResult<unknown>): number {
  return Number(result.numAffectedRows ?? 0n);
}

const quoted = (identifier: string) => `"${identifier}"`;
const shapes = new Map<string, Statement>();

/**
 * The statement of a shape made of trusted identifiers (table and column names from our own row
 * types) and placeholders, made once per key: a query whose optional filters or IN list's length
 * vary has one statement per variant. Never put a value into `make`'s text.
 */
export function shaped(key: string, make: () => string): Statement {
  let s = shapes.get(key);
  if (s === undefined) shapes.set(key, (s = statement(make())));
  return s;
}

function definedColumns(row: object): string[] {
  // As Kysely does: a column whose value is undefined is left out (it takes its default).
  return Object.keys(row).filter((k) => (row as Record<string, unknown>)[k] !== undefined);
}

/** `insert into table (columns of row) values (…)`. */
export async function insertRow<T extends keyof Tables & string>(db: Executor, dialect: Dialect, table: T, row: object): Promise<void> {
  const columns = definedColumns(row);
  const s = shaped(`insert ${table} ${columns.join(',')}`, () => `insert into ${quoted(table)} (${columns.map(quoted).join(', ')}) values (${columns.map(() => '?').join(', ')})`);
  await runStatement(db, dialect, s, columns.map((c) => (row as Record<string, unknown>)[c]));
}

/**
 * `update table set (columns of row) where (columns of guard) = …`: answers how many rows it
 * changed, so an optimistic guard (a version, a status) that no longer holds shows as 0.
 */
export async function updateRows<T extends keyof Tables & string>(db: Executor, dialect: Dialect, table: T, row: object, guard: Record<string, string | number>): Promise<number> {
  const columns = definedColumns(row);
  const guards = Object.keys(guard);
  const s = shaped(
    `update ${table} ${columns.join(',')} where ${guards.join(',')}`,
    () => `update ${quoted(table)} set ${columns.map((c) => `${quoted(c)} = ?`).join(', ')} where ${guards.map((g) => `${quoted(g)} = ?`).join(' and ')}`,
  );
  const values = [...columns.map((c) => (row as Record<string, unknown>)[c]), ...guards.map((g) => guard[g])];
  return changedRows(await runStatement(db, dialect, s, values));
}

/** `select * from table where (columns of where) = … [order by …]`: a row by its keys, or a short list. */
export async function selectWhere<T extends keyof Tables & string>(
  db: Executor,
  dialect: Dialect,
  table: T,
  where: Record<string, string | number>,
  orderBy: readonly string[] = [],
): Promise<Selectable<Tables[T]>[]> {
  const columns = Object.keys(where);
  const s = shaped(
    `select ${table} ${columns.join(',')} order ${orderBy.join(',')}`,
    () => `select * from ${quoted(table)} where ${columns.map((c) => `${quoted(c)} = ?`).join(' and ')}${orderBy.length > 0 ? ` order by ${orderBy.map(quoted).join(', ')}` : ''}`,
  );
  return (await runStatement<Selectable<Tables[T]>>(db, dialect, s, columns.map((c) => where[c]))).rows;
}

/** `?, ?, …` for an IN list of `n` values (n ≥ 1). */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}
