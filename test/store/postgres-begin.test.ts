import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { openPostgres } from '../../src/store/dialects/postgres.ts';
import { isUniqueViolation } from '../../src/store/unit-of-work.ts';
import { createTestDatabase, dialects } from '../helpers/databases.ts';

// A transaction's BEGIN travels with its first statement (src/store/dialects/postgres.ts): one
// round trip fewer per transaction, and the statement never runs outside the transaction.

/**
 * A TCP relay between the pool and PostgreSQL that counts the round trips the client asks for:
 * each Sync (extended protocol) and each simple Query message ends one.
 */
async function countingRelay(target: URL): Promise<{ server: Server; port: number; roundTrips: () => number; reset: () => void }> {
  let roundTrips = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let started = false;
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // The startup packet has no type byte; every message after it has one.
      for (;;) {
        if (!started) {
          if (pending.length < 4) break;
          const length = pending.readInt32BE(0);
          if (pending.length < length) break;
          pending = pending.subarray(length);
          started = true;
          continue;
        }
        if (pending.length < 5) break;
        const length = pending.readInt32BE(1);
        if (pending.length < 1 + length) break;
        const type = String.fromCharCode(pending[0]!);
        if (type === 'S' || type === 'Q') roundTrips += 1;
        pending = pending.subarray(1 + length);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, port, roundTrips: () => roundTrips, reset: () => (roundTrips = 0) };
}

async function insertTwo(db: Kysely<never>, a: string, b: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('things' as never).values({ id: a, label: 'x' } as never).execute();
    await trx.insertInto('things' as never).values({ id: b, label: 'y' } as never).execute();
  });
}

for (const dialect of dialects().filter((d) => d === 'postgres')) {
  test(`${dialect}: a transaction's BEGIN goes with its first statement; a failure of either statement rolls back both; an empty transaction and a rolled-back one leave nothing open`, async () => {
    const database = await createTestDatabase(dialect);
    const direct = new URL(database.url);
    const relay = await countingRelay(direct);
    const through = new URL(database.url);
    through.hostname = '127.0.0.1';
    through.port = String(relay.port);
    const { db } = openPostgres(through.toString(), 1);
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    const count = async () => Number((await other.query('select count(*) as n from things')).rows[0].n);
    try {
      await sql`create table things (id text primary key, label text not null)`.execute(db);
      // The first transactions prepare BEGIN and the statements on the pool's one connection.
      await insertTwo(db as never, 'w1', 'w2');
      await insertTwo(db as never, 'w3', 'w4');

      relay.reset();
      await insertTwo(db as never, 'a', 'b');
      assert.equal(relay.roundTrips(), 3, 'BEGIN with the first insert, the second insert, COMMIT');
      assert.equal(await count(), 6);

      // A first statement that reads: its rows, not BEGIN's empty answer (the second time paired with it).
      const read = () => db.transaction().execute((trx) => trx.selectFrom('things' as never).selectAll().where('id' as never, '=', 'a' as never).execute());
      assert.deepEqual(await read(), [{ id: 'a', label: 'x' }]);
      relay.reset();
      assert.deepEqual(await read(), [{ id: 'a', label: 'x' }]);
      assert.equal(relay.roundTrips(), 2, 'BEGIN with the select, COMMIT');

      // The first statement fails: the transaction rolls back, nothing is written, the connection goes on.
      await assert.rejects(insertTwo(db as never, 'a', 'c'), (error: unknown) => isUniqueViolation(error));
      assert.equal(await count(), 6);
      assert.equal((await other.query(`select count(*) as n from things where id = 'c'`)).rows[0].n, '0');

      // The second statement fails: the first, sent with BEGIN, is rolled back with it.
      await assert.rejects(insertTwo(db as never, 'f', 'a'), (error: unknown) => isUniqueViolation(error));
      assert.equal((await other.query(`select count(*) as n from things where id = 'f'`)).rows[0].n, '0');
      assert.equal(await count(), 6);

      // A transaction that runs nothing commits nothing, and one that fails before any statement
      // rolls back nothing: no round trip, and no BEGIN left behind for the next statement.
      relay.reset();
      await db.transaction().execute(async () => undefined);
      await assert.rejects(
        db.transaction().execute(async () => {
          throw new Error('changed its mind');
        }),
        /changed its mind/,
      );
      assert.equal(relay.roundTrips(), 0);

      // The next statement outside a transaction is committed at once: seen from another connection.
      await db.insertInto('things' as never).values({ id: 'alone', label: 'z' } as never).execute();
      assert.equal((await other.query(`select count(*) as n from things where id = 'alone'`)).rows[0].n, '1');
      const { rows } = await sql<{ state: string }>`select state from pg_stat_activity where pid = pg_backend_pid()`.execute(db);
      assert.equal(rows[0]!.state, 'active');

      // And the transactions after all that still pair and commit.
      relay.reset();
      await insertTwo(db as never, 'd', 'e');
      assert.equal(relay.roundTrips(), 3);
      assert.equal(await count(), 9);
    } finally {
      await other.end();
      await db.destroy();
      relay.server.close();
      await database.drop();
    }
  });
}
