import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { openPostgres, PREPARED_LIMIT, StatementNames } from '../../src/store/dialects/postgres.ts';
import { transaction } from '../../src/store/transaction.ts';
import { createTestDatabase, dialects } from '../helpers/databases.ts';

// ADR 0024: statements with parameters are prepared once per connection, by name.

test('statement names: one per text, none past the limit, all new after a renewal', () => {
  const names = new StatementNames();
  const first = names.nameOf('select 1 where $1');
  assert.ok(first);
  assert.equal(names.nameOf('select 1 where $1'), first);
  for (let i = 1; i < PREPARED_LIMIT; i++) names.nameOf(`select ${i + 1} where $1`);
  assert.equal(names.size, PREPARED_LIMIT);
  assert.equal(names.nameOf('select -1 where $1'), undefined, 'a text past the limit runs unnamed');
  assert.equal(names.nameOf('select 1 where $1'), first, 'known texts keep their names');
  names.renew();
  const renewed = names.nameOf('select 1 where $1');
  assert.ok(renewed);
  assert.notEqual(renewed, first);
  assert.equal(names.size, 1);
});

for (const dialect of dialects().filter((d) => d === 'postgres')) {
  test(`${dialect}: a statement run again is parsed once on its connection and reused`, async () => {
    const database = await createTestDatabase(dialect);
    const { db } = openPostgres(database.url, 1);
    try {
      await sql`create table things (id text primary key, label text not null)`.execute(db);
      for (let i = 0; i < 5; i++) await db.insertInto('things' as never).values({ id: `t${i}`, label: 'x' } as never).execute();
      for (let i = 0; i < 5; i++) {
        const rows = await db.selectFrom('things' as never).selectAll().where('id' as never, '=', `t${i}` as never).execute();
        assert.equal(rows.length, 1);
      }
      // The pool has one connection: this query sees that connection's prepared statements.
      const { rows } = await sql<{ statement: string; generic_plans: number; custom_plans: number }>`
        select statement, generic_plans, custom_plans from pg_prepared_statements`.execute(db);
      const select = rows.filter((r) => r.statement.startsWith('select * from "things"'));
      const insert = rows.filter((r) => r.statement.startsWith('insert into "things"'));
      assert.equal(select.length, 1, JSON.stringify(rows));
      assert.equal(insert.length, 1, JSON.stringify(rows));
      assert.equal(Number(select[0]!.generic_plans) + Number(select[0]!.custom_plans), 5, 'five runs of one prepared statement');
    } finally {
      await db.destroy();
      await database.drop();
    }
  });

  test(`${dialect}: a column added beside a running node (a prepared select * goes stale): reads and transactions still succeed`, async () => {
    const database = await createTestDatabase(dialect);
    const { db } = openPostgres(database.url, 1);
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await sql`create table things (id text primary key, label text not null)`.execute(db);
      await db.insertInto('things' as never).values({ id: 'a', label: 'x' } as never).execute();
      const read = (executor: typeof db) => executor.selectFrom('things' as never).selectAll().where('id' as never, '=', 'a' as never).execute();
      assert.deepEqual(await read(db), [{ id: 'a', label: 'x' }]);

      // Outside a transaction: answered at once, with the new column.
      await other.query('alter table things add column added_1 text');
      assert.deepEqual(await read(db), [{ id: 'a', label: 'x', added_1: null }]);

      // Inside one: the first attempt fails on the stale statement, the second succeeds.
      await other.query('alter table things add column added_2 text');
      let attempts = 0;
      const inside = await transaction(db, async (trx) => {
        attempts += 1;
        await trx.updateTable('things' as never).set({ label: `y${attempts}` } as never).where('id' as never, '=', 'a' as never).execute();
        return read(trx);
      });
      assert.equal(attempts, 2);
      assert.deepEqual(inside, [{ id: 'a', label: 'y2', added_1: null, added_2: null }]);
      assert.deepEqual(await read(db), [{ id: 'a', label: 'y2', added_1: null, added_2: null }], 'the failed attempt left nothing behind');
    } finally {
      await other.end();
      await db.destroy();
      await database.drop();
    }
  });
}
