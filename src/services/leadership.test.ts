// The leader lock on its own: one holder among the nodes of a database, the duties stopped as
// soon as the holder's lock connection goes, and the lock taken over by another node. The
// three-node test with real processes and SIGKILL is test/e2e/cluster.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../observability/logger.ts';
import { createTestDatabase, dialects } from '../../test/helpers/databases.ts';
import { cleanupStack, poll } from '../../test/helpers/process.ts';
import { createLeadership, LEADER_LOCK_KEY, type Leadership } from './leadership.ts';

/** A node's leadership with duties that record when they start and stop. */
function node(postgresUrl: string | null) {
  const log: Array<'start' | 'stop'> = [];
  const leadership: Leadership = createLeadership({
    postgresUrl,
    retryMs: 100,
    logger: createLogger('silent'),
    duties: {
      start: () => void log.push('start'),
      stop: async () => void log.push('stop'),
    },
  });
  return { leadership, log };
}

for (const dialect of dialects()) {
  describe(`${dialect}: leader lock`, () => {
    if (dialect === 'sqlite') {
      test('one node on SQLite leads at once, without a lock, and stops its duties when it closes', async () => {
        const only = node(null);
        assert.equal(only.leadership.isLeader(), true);
        assert.deepEqual(only.log, ['start']);
        await only.leadership.close();
        assert.equal(only.leadership.isLeader(), false);
        assert.deepEqual(only.log, ['start', 'stop']);
      });
      return;
    }

    test('one of two nodes leads; when its lock connection is cut it stops at once; closing the leader hands the lock over', async (t) => {
      const defer = cleanupStack(t);
      const database = await createTestDatabase('postgres');
      defer(() => database.drop());
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      defer(() => admin.end());
      const a = node(database.url);
      const b = node(database.url);
      defer(() => Promise.all([a.leadership.close(), b.leadership.close()]));

      // 1. Exactly one leads, and only its duties run.
      const [leader, follower] = await poll('a leader', async () => (a.leadership.isLeader() ? [a, b] : b.leadership.isLeader() ? [b, a] : undefined));
      assert.equal(follower.leadership.isLeader(), false);
      assert.deepEqual(leader.log, ['start']);
      assert.deepEqual(follower.log, []);

      // 2. The server ends the leader's lock session (as when its node dies): the lock is free.
      const holders = await admin.query<{ pid: number }>(
        "select l.pid from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and l.granted and d.datname = current_database() and (l.classid::bigint << 32) + l.objid::bigint = $1",
        [LEADER_LOCK_KEY],
      );
      assert.equal(holders.rows.length, 1, 'one session holds the lock');
      await admin.query('select pg_terminate_backend($1)', [holders.rows[0]!.pid]);

      // 3. The old leader stops its duties at once; then one node leads again (whichever tries
      // first: the old one is back on a new connection).
      await poll('the old leader to stop', async () => (leader.log.at(-1) === 'stop' ? true : undefined));
      const [next, other] = await poll('a new leader', async () => (a.leadership.isLeader() ? [a, b] : b.leadership.isLeader() ? [b, a] : undefined));
      await new Promise((resolve) => setTimeout(resolve, 300)); // three more tries each
      assert.equal(next.leadership.isLeader(), true);
      assert.equal(other.leadership.isLeader(), false, 'one leader at a time');

      // 4. Closing the leader stops its duties and frees the lock: the other node takes it.
      const othersStarts = other.log.filter((e) => e === 'start').length;
      await next.leadership.close();
      assert.equal(next.log.at(-1), 'stop');
      await poll('the other node to lead', async () => (other.leadership.isLeader() ? true : undefined));
      assert.equal(other.log.filter((e) => e === 'start').length, othersStarts + 1);
    });
  });
}
