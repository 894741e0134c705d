import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { openSqlite } from './sqlite.ts';

// The WAL's fdatasync, observed: each call is recorded (with the file) and held for a while, so
// that what waits for it shows. The sync itself still runs.
const dir = mkdtempSync(join(tmpdir(), 'outband-durability-'));
const timeline: string[] = [];
let holdMs = 0;
let onSyncStart: (() => void) | null = null;
let restore = () => {};

before(async () => {
  const probe = await open(join(dir, 'probe'), 'w');
  const prototype = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const datasync = prototype.datasync;
  prototype.datasync = async function (this: unknown) {
    timeline.push('sync start');
    onSyncStart?.();
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    await datasync.call(this);
    timeline.push('sync end');
  };
  restore = () => (prototype.datasync = datasync);
});
after(() => {
  restore();
  rmSync(dir, { recursive: true, force: true });
});

test('FULL (the default): a commit resolves only after the WAL is synced, and a read asked meanwhile waits for it', async () => {
  const { db } = openSqlite(join(dir, 'full.db'));
  try {
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);
    assert.equal(rows[0]!.synchronous, 1, 'SQLite itself runs with NORMAL: the commit sync is ours');
    await sql`create table t (id integer primary key, v text)`.execute(db);
    timeline.length = 0;
    holdMs = 100;
    let read: Promise<number> | undefined;
    onSyncStart = () => {
      onSyncStart = null;
      // Asked after the commit, while its sync is under way.
      read = sql<{ n: number }>`select count(*) as n from t`.execute(db).then((r) => {
        timeline.push('read answered');
        return r.rows[0]!.n;
      });
    };
    await db.transaction().execute(async (trx) => {
      await sql`insert into t (v) values ('a')`.execute(trx);
    });
    timeline.push('commit acknowledged');
    assert.ok(read !== undefined, 'the sync started');
    assert.equal(await read, 1);
    assert.deepEqual(timeline, ['sync start', 'sync end', 'commit acknowledged', 'read answered']);

    // A write outside a transaction (autocommit) is synced the same way; a read alone is not.
    timeline.length = 0;
    holdMs = 0;
    await sql`insert into t (v) values ('b')`.execute(db);
    assert.deepEqual(timeline, ['sync start', 'sync end']);
    timeline.length = 0;
    await sql`select * from t`.execute(db);
    assert.deepEqual(timeline, []);

    // A transaction that only read (a claim that found nothing due) has nothing to sync; one
    // whose only write is read back (`update … returning`) is synced.
    await db.transaction().execute(async (trx) => void (await sql`select * from t where v = 'none'`.execute(trx)));
    assert.deepEqual(timeline, [], 'a read-only transaction');
    const returned = await db.transaction().execute(async (trx) => (await sql<{ v: string }>`update t set v = 'c' where v = 'b' returning v`.execute(trx)).rows);
    assert.deepEqual(returned.map((r) => r.v), ['c']);
    assert.deepEqual(timeline, ['sync start', 'sync end'], 'update … returning');
  } finally {
    onSyncStart = null;
    await db.destroy();
  }
});

test('NORMAL (opt-in): SQLite NORMAL, no sync at commits; :memory: has nothing to sync', async () => {
  for (const [path, synchronous] of [[join(dir, 'normal.db'), 'NORMAL'], [':memory:', 'FULL']] as const) {
    const { db } = openSqlite(path, { synchronous });
    try {
      await sql`create table t (id integer primary key)`.execute(db);
      timeline.length = 0;
      await db.transaction().execute(async (trx) => void (await sql`insert into t default values`.execute(trx)));
      assert.deepEqual(timeline, [], path);
    } finally {
      await db.destroy();
    }
  }
});

test('savepoint journals (one per unit of a group commit) are kept in memory, not spilled to a temporary file', async () => {
  const { db } = openSqlite(join(dir, 'temp-store.db'));
  try {
    const { rows } = await sql<{ temp_store: number }>`pragma temp_store`.execute(db);
    assert.equal(rows[0]!.temp_store, 2, 'temp_store = MEMORY');
  } finally {
    await db.destroy();
  }
});
