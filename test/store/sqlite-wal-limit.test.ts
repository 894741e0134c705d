import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { openSqlite, WAL_SIZE_LIMIT_BYTES } from '../../src/store/dialects/sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'outband-wal-limit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the WAL file is cut back to its limit when it starts over after a spike', async () => {
  const path = join(dir, 'spike.db');
  const limit = 256 * 1024;
  const { db } = openSqlite(path, { walSizeLimitBytes: limit });
  try {
    const { rows } = await sql<{ journal_size_limit: number }>`pragma journal_size_limit`.execute(db);
    assert.equal(rows[0]!.journal_size_limit, limit);
    // A spike: one transaction of 4 MiB, with no checkpoint in between.
    await sql`pragma wal_autocheckpoint = 0`.execute(db);
    await sql`create table t (id integer primary key, body blob not null)`.execute(db);
    await sql`insert into t (body) select randomblob(16384) from (with recursive n(i) as (select 1 union all select i + 1 from n where i < 256) select i from n)`.execute(db);
    const grown = statSync(`${path}-wal`).size;
    assert.ok(grown > 4 * 2 ** 20, `the WAL holds the spike: ${grown} bytes`);
    // Once every frame is copied, the next write starts the WAL over, and cuts the file back.
    await sql`pragma wal_checkpoint(PASSIVE)`.execute(db);
    await sql`insert into t (body) values (x'00')`.execute(db);
    const after = statSync(`${path}-wal`).size;
    assert.ok(after <= limit, `the WAL is cut back to ${limit} bytes: ${after}`);
    assert.equal(((await sql<{ n: number }>`select count(*) as n from t`.execute(db)).rows[0]!).n, 257, 'nothing lost');
  } finally {
    await db.destroy();
  }
});

test('the server keeps a WAL of up to 64 MiB between restarts', async () => {
  const { db } = openSqlite(join(dir, 'default.db'));
  try {
    const { rows } = await sql<{ journal_size_limit: number }>`pragma journal_size_limit`.execute(db);
    assert.equal(rows[0]!.journal_size_limit, WAL_SIZE_LIMIT_BYTES);
    assert.equal(WAL_SIZE_LIMIT_BYTES, 64 * 2 ** 20);
  } finally {
    await db.destroy();
  }
});
