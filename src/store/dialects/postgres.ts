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

/** The pool (and the driver) is made when the first query needs a connection. */
export function openPostgres(url: string, poolSize: number): { db: Kysely<Tables> } {
  const pool = async (): Promise<pg.Pool> => {
    const driver = await loadPg();
    const made = new driver.Pool({ connectionString: url, max: poolSize, types: typesOf(driver) });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    made.on('error', () => {});
    return made;
  };
  return { db: new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }) };
}
