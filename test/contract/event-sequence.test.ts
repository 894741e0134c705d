// The per-application event number (migration 004, ADR 0011): gap-free, and in commit order, so
// that a reader paging with `after=<seq>` never misses an event that commits later.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { defaultSettings, type Application } from '../../src/domain/application.ts';
import type { DomainEvent } from '../../src/domain/event.ts';
import { newId, type RandomSource } from '../../src/domain/random.ts';
import { openDatabase } from '../../src/store/database.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { createStore, type Store, type Write } from '../../src/store/store.ts';
import { applyWrites } from '../../src/store/unit-of-work.ts';
import { createTestDatabase, dialects } from '../helpers/databases.ts';

const random: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };
const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);

async function fresh(t: TestContext, dialect: 'sqlite' | 'postgres'): Promise<Store> {
  const db = await createTestDatabase(dialect);
  const store = createStore(openDatabase(db.url));
  t.after(async () => {
    await store.close();
    await db.drop();
  });
  await store.migrate();
  return store;
}

async function newApplication(store: Store): Promise<Application> {
  return store.applications.create({ id: newId('app', random), name: `app-${newId('n', random)}`, plan: 'trial', settings: defaultSettings(), createdAt: T0 });
}

function append(app: Application, subjectId = 'usr_x', data: Record<string, unknown> = {}): Write {
  const event: DomainEvent = { id: newId('evt', random), applicationId: app.id, type: 'test.happened', subjectType: 'user', subjectId, actor: 'system', data, createdAt: T0 };
  return { kind: 'event.append', event };
}

/** A database as migration `version` left it (the later ones not applied), closed and dropped after the test. */
async function migratedTo(t: TestContext, dialect: 'sqlite' | 'postgres', version: number): Promise<{ opened: ReturnType<typeof openDatabase>; db: Kysely<any> }> {
  const database = await createTestDatabase(dialect);
  const opened = openDatabase(database.url);
  t.after(async () => {
    await opened.close();
    await database.drop();
  });
  const db = opened.db as unknown as Kysely<any>;
  await db.schema.createTable('schema_migrations').addColumn('version', 'integer', (c) => c.primaryKey()).addColumn('name', 'text', (c) => c.notNull()).addColumn('applied_at', 'bigint', (c) => c.notNull()).execute();
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) {
    await m.up(db, dialect);
    await db.insertInto('schema_migrations').values({ version: m.version, name: m.name, applied_at: T0 }).execute();
  }
  return { opened, db };
}

async function numbers(store: Store, app: Application): Promise<number[]> {
  return (await store.eventLog.page(app.id, { after: 0, limit: 10_000 })).map((e) => e.appSeq);
}

for (const dialect of dialects()) {
  describe(`${dialect}: per-application event numbers`, () => {
    test('a unit that fails gives its numbers back: no gaps, even in a burst where some units conflict', async (t) => {
      const store = await fresh(t, dialect);
      const app = await newApplication(store);
      // Every third unit carries a guarded write that cannot hold, after its event.
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.commit({
            writes: [
              append(app),
              append(app),
              ...(i % 3 === 0 ? [{ kind: 'user.bump', applicationId: app.id, id: 'usr_missing', expectedVersion: 0 } satisfies Write] : []),
            ],
          }),
        ),
      );
      assert.equal(results.filter((r) => r.ok).length, 20);
      assert.deepEqual(await numbers(store, app), Array.from({ length: 40 }, (_, i) => i + 1));
      assert.equal(await store.eventLog.last(app.id), 40);
      // One unit's events are numbered together, in their order.
      await store.commit({ writes: [append(app, 'usr_a'), append(app, 'usr_b'), append(app, 'usr_c')] });
      const last3 = (await store.eventLog.page(app.id, { after: 40, limit: 10 })).map((e) => [e.appSeq, e.subjectId]);
      assert.deepEqual(last3, [[41, 'usr_a'], [42, 'usr_b'], [43, 'usr_c']]);
    });

    if (dialect === 'postgres') {
      test('a unit that took a number and has not committed holds back every later unit of its application: numbers follow commit order', async (t) => {
        const store = await fresh(t, dialect);
        const app = await newApplication(store);
        const other = await newApplication(store);
        let release = () => {};
        const gate = new Promise<void>((resolve) => (release = resolve));
        let numbered = () => {};
        const hasNumber = new Promise<void>((resolve) => (numbered = resolve));
        // A slow unit: numbered, then kept open (as a unit doing more work, or waiting on its commit).
        const slow = store.database.db.transaction().execute(async (trx) => {
          await applyWrites(trx, { writes: [append(app, 'usr_slow')] }, 'postgres');
          numbered();
          await gate;
        });
        await hasNumber;
        let fastDone = false;
        const fast = store.commit({ writes: [append(app, 'usr_fast')] }).then((r) => {
          fastDone = true;
          return r;
        });
        // Another application is not held back.
        assert.deepEqual(await store.commit({ writes: [append(other)] }), { ok: true });
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(fastDone, false, 'a later unit committed while an earlier number was still open');
        assert.deepEqual(await numbers(store, app), [], 'a reader sees nothing while number 1 is uncommitted');
        release();
        await slow;
        assert.deepEqual(await fast, { ok: true });
        const events = await store.eventLog.page(app.id, { after: 0, limit: 10 });
        assert.deepEqual(events.map((e) => [e.appSeq, e.subjectId]), [[1, 'usr_slow'], [2, 'usr_fast']]);
      });
    }

    test('migration 004 numbers existing events per application in their order and finds their users', async (t) => {
      const { opened, db } = await migratedTo(t, dialect, 3);
      const apps = ['app_one', 'app_two'];
      for (const id of apps) await db.insertInto('applications').values({ id, name: id, plan: 'trial', settings: '{}', created_at: T0 }).execute();
      await db
        .insertInto('verifications')
        .values({ id: 'vrf_v', application_id: 'app_one', user_id: 'usr_v', channel: 'sms', purpose: 'authentication', recipient: '+31612345678', status: 'pending', code_hmac: 'x', attempts: 0, max_attempts: 3, locale: 'en', created_at: T0, expires_at: T0 + 1, version: 0 })
        .execute();
      const old = [
        ['app_one', 'user', 'usr_a', '{}'],
        ['app_two', 'user', 'usr_b', '{}'],
        ['app_one', 'verification', 'vrf_v', '{"user_id":"usr_v","channel":"sms"}'],
        ['app_one', 'delivery', 'dlv_d', '{"verification_id":"vrf_v"}'],
        ['app_two', 'application', 'app_two', '{"channel":"sms"}'],
        ['app_one', 'verification', 'vrf_raw', '{"user_id":null}'],
      ];
      for (const [i, [application_id, subject_type, subject_id, data]] of old.entries()) {
        await db.insertInto('events').values({ id: `evt_${i}`, application_id, type: 'old.event', subject_type, subject_id, actor: 'system', data, created_at: T0 + i }).execute();
      }

      const store = createStore(opened);
      await store.migrate();
      const rows = await db.selectFrom('events').select(['id', 'application_id', 'app_seq', 'user_id']).orderBy('seq').execute();
      assert.deepEqual(
        rows.map((r) => ({ ...r, app_seq: Number(r.app_seq) })),
        [
          { id: 'evt_0', application_id: 'app_one', app_seq: 1, user_id: 'usr_a' },
          { id: 'evt_1', application_id: 'app_two', app_seq: 1, user_id: 'usr_b' },
          { id: 'evt_2', application_id: 'app_one', app_seq: 2, user_id: 'usr_v' },
          { id: 'evt_3', application_id: 'app_one', app_seq: 3, user_id: 'usr_v' },
          { id: 'evt_4', application_id: 'app_two', app_seq: 2, user_id: null },
          { id: 'evt_5', application_id: 'app_one', app_seq: 4, user_id: null },
        ],
      );
      // New events go on from there.
      const one = (await store.applications.byId('app_one'))!;
      await store.commit({ writes: [append(one)] });
      assert.deepEqual(await numbers(store, one), [1, 2, 3, 4, 5]);
      // The numbers are unique per application: the index refuses a second 5.
      await assert.rejects(sql`insert into events (id, application_id, type, subject_type, subject_id, actor, data, created_at, app_seq) values ('evt_dup', 'app_one', 'x', 'user', 'u', null, '{}', 0, 5)`.execute(db));
    });

    test('migration 015 keeps every event, its numbers and the sequence, with only the indexes the server reads by', async (t) => {
      // With events of two applications.
      const { opened, db } = await migratedTo(t, dialect, 14);
      const store = createStore(opened);
      const [one, two] = [await newApplication(store), await newApplication(store)];
      for (const [i, app] of [one, two, one, one, two].entries()) await store.commit({ writes: [append(app!, `usr_${i}`, { i })] });
      const everything = async () => (await db.selectFrom('events').selectAll().orderBy('seq').execute()).map((r) => ({ ...r, seq: Number(r.seq), app_seq: Number(r.app_seq), created_at: Number(r.created_at) }));
      const before = await everything();
      assert.equal(before.length, 5);

      assert.deepEqual(await store.migrate(), [15]);
      assert.deepEqual(await everything(), before, 'every event kept as it was');
      const indexes =
        dialect === 'postgres'
          ? (await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'events'`.execute(db)).rows
          : (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'events'`.execute(db)).rows;
      assert.deepEqual(
        indexes.map((r) => r.name).sort(),
        ['events_application_actor_time', 'events_application_seq', 'events_application_time', 'events_application_user_time', ...(dialect === 'postgres' ? ['events_pkey'] : [])],
      );
      // The sequences go on: the next event follows the highest seq, and its application's number.
      await store.commit({ writes: [append(one!, 'usr_after')] });
      const after = await everything();
      assert.equal(after.length, 6);
      assert.ok(after[5]!.seq > before[4]!.seq);
      assert.deepEqual(await numbers(store, one!), [1, 2, 3, 4]);
      assert.deepEqual(await numbers(store, two!), [1, 2]);
      // The audit's and the event log's reads still go through their indexes.
      assert.deepEqual((await store.eventLog.audit({ applicationId: one!.id, userId: 'usr_after', limit: 10 })).map((e) => e.subjectId), ['usr_after']);
      await assert.rejects(sql`insert into events (id, application_id, type, subject_type, subject_id, actor, data, created_at, app_seq) values ('evt_dup', ${one!.id}, 'x', 'user', 'u', null, '{}', 0, 4)`.execute(db));
    });
  });
}
