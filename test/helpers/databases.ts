import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  /** "sqlite" or "postgres": use it in test names. */
  name: 'sqlite' | 'postgres';
  url: string;
  /** Drops the database (PostgreSQL) or deletes the files (SQLite). */
  drop(): Promise<void>;
}

/**
 * The dialects every store and API test runs on: SQLite always, PostgreSQL when
 * TEST_DATABASE_URL is set (a server URL; a fresh database is created per call and dropped
 * after, so tests never share state).
 */
export function dialects(): Array<'sqlite' | 'postgres'> {
  return process.env['TEST_DATABASE_URL'] ? ['sqlite', 'postgres'] : ['sqlite'];
}

export async function createTestDatabase(dialect: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'outband-test-'));
    return { name: 'sqlite', url: `sqlite:${join(dir, 'outband.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = process.env['TEST_DATABASE_URL'];
  if (!admin) throw new Error('TEST_DATABASE_URL is not set');
  const name = `outband_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    name: 'postgres',
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
