import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { sql, type Kysely } from 'kysely';
import type { Tables } from '../../src/store/schema.ts';
import { backgroundCheckpoints } from '../../src/store/dialects/sqlite-checkpoints.ts';
import { openSqlite } from '../../src/store/dialects/sqlite.ts';

// In test/timed (run last, one file at a time): the WAL's bound is a race between a writer and
// the checkpointer's thread, which other suites' work on the same two cores would tilt.
const dir = mkdtempSync(join(tmpdir(), 'outband-checkpoints-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function autocheckpoint(db: Kysely<Tables>): Promise<number> {
  const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(db);
  return rows[0]!.wal_autocheckpoint;
}

/**
 * `transactions` commits of one 16 KiB row each, the event loop given a turn after each (as
 * requests give it); at most `rowsPerSecond` when given, else as fast as the disk takes them.
 */
async function write(db: Kysely<Tables>, transactions: number, rowsPerSecond?: number): Promise<void> {
  await sql`create table if not exists t (id integer primary key, body blob not null)`.execute(db);
  const started = performance.now();
  for (let i = 0; i < transactions; i++) {
    await sql`insert into t (body) values (randomblob(16384))`.execute(db);
    const due = rowsPerSecond === undefined ? 0 : started + ((i + 1) * 1000) / rowsPerSecond - performance.now();
    if (due >= 1) await new Promise((resolve) => setTimeout(resolve, due));
    else await turn();
  }
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

test('an idle database never starts the checkpoint worker; SQLite checkpoints in its commits meanwhile', async () => {
  const path = join(dir, 'idle.db');
  const { db } = openSqlite(path, { synchronous: 'NORMAL' });
  const checkpoints = backgroundCheckpoints(db, path);
  try {
    await write(db, 20);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(checkpoints.state(), 'watching');
    assert.equal(await autocheckpoint(db), 1000);
  } finally {
    await checkpoints.stop();
    await db.destroy();
  }
});

test('under steady writes the worker takes over the checkpoints and the WAL stays bounded; every row is kept', async (t) => {
  const path = join(dir, 'busy.db');
  const { db } = openSqlite(path, { synchronous: 'NORMAL' });
  const checkpoints = backgroundCheckpoints(db, path);
  const transactions = 6000; // about 100 MiB of pages: without checkpoints the WAL would hold them all
  // 40 MiB/s of rows, about 50 MiB/s of WAL with their overflow pages: twice what the server
  // appends at its busiest (otp-cycle at c64: 43 MiB/s to disk, the WAL and the checkpoints' copies
  // together). Unthrottled, this thread wrote about 80 MiB/s, and the bound became a race against
  // the disk's syncs that it lost now and then (51.8 MiB once, in a whole run of the suite).
  const rowsPerSecond = 2560;
  let largestWal = 0;
  const sampler = setInterval(() => {
    try {
      largestWal = Math.max(largestWal, statSync(`${path}-wal`).size);
    } catch {
      // no WAL yet
    }
  }, 10);
  try {
    await write(db, 300);
    await until(() => checkpoints.state() === 'running', 5000);
    assert.equal(checkpoints.state(), 'running');
    await until(() => false, 100);
    assert.equal(await autocheckpoint(db), 0, 'the server connection no longer checkpoints in its commits');
    await write(db, transactions - 300, rowsPerSecond);
  } finally {
    clearInterval(sampler);
    await checkpoints.stop();
  }
  assert.equal(checkpoints.state(), 'stopped');
  t.diagnostic(`largest WAL ${(largestWal / 1048576).toFixed(1)} MiB`);
  assert.ok(largestWal < 48 * 1024 * 1024, `the WAL stayed under half of what was written, 48 MiB (largest ${(largestWal / 1048576).toFixed(1)} MiB) while ${transactions} × 16 KiB were written`);
  const { rows } = await sql<{ n: number }>`select count(*) as n from t`.execute(db);
  assert.equal(rows[0]!.n, transactions);
  await db.destroy();
  const reopened = openSqlite(path);
  try {
    const again = await sql<{ n: number; ok: string }>`select count(*) as n, (select integrity_check from pragma_integrity_check) as ok from t`.execute(reopened.db);
    assert.deepEqual({ ...again.rows[0] }, { n: transactions, ok: 'ok' });
  } finally {
    await reopened.db.destroy();
  }
});

test('a worker that fails: the error is reported and SQLite checkpoints in its commits again', async () => {
  const path = join(dir, 'failing.db');
  const failing = join(dir, 'failing-worker.mjs');
  writeFileSync(failing, "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage('ready');\nsetTimeout(() => { throw new Error('checkpoint worker broke'); }, 50);\n");
  const { db } = openSqlite(path, { synchronous: 'NORMAL' });
  const errors: string[] = [];
  const checkpoints = backgroundCheckpoints(db, path, { worker: pathToFileURL(failing), onError: (error) => errors.push(error.message) });
  try {
    await write(db, 300);
    await until(() => checkpoints.state() === 'fallen back', 5000);
    assert.equal(checkpoints.state(), 'fallen back');
    assert.match(errors.join('; '), /checkpoint worker broke/);
    await until(() => false, 100);
    assert.equal(await autocheckpoint(db), 1000);
  } finally {
    await checkpoints.stop();
    await db.destroy();
  }
});
