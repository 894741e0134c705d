import type pg from 'pg';

let loading: Promise<typeof pg> | undefined;

/**
 * The pg driver, loaded with the first PostgreSQL connection: a server on SQLite never loads
 * it (about 4 MiB of a start's memory, bench/startup.ts).
 */
export function loadPg(): Promise<typeof pg> {
  return (loading ??= import('pg').then((module) => module.default));
}
