import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { defaultSettings, type Application } from '../../src/domain/application.ts';
import { DELIVERY_LEASE_MS, type Delivery } from '../../src/domain/delivery.ts';
import type { DomainEvent } from '../../src/domain/event.ts';
import { newId, type RandomSource } from '../../src/domain/random.ts';
import type { User } from '../../src/domain/user.ts';
import { createVerification, decide, type Verification } from '../../src/domain/verification/verification.ts';
import { openDatabase } from '../../src/store/database.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import type { WebhookEndpoint } from '../../src/domain/webhooks/endpoint.ts';
import { createPostgresNotifier } from '../../src/events/notifier.ts';
import { WEBHOOKS_QUEUED } from '../../src/store/webhooks.ts';
import { createStore, type CommitResult, type Store, type UnitOfWork, type Write } from '../../src/store/store.ts';
import { createTestDatabase, dialects, type TestDatabase } from '../helpers/databases.ts';

// The contract every store dialect keeps. Each test gets a database of its own, dropped
// when the test ends, so no test sees another's rows.

const random: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };
const CODE_KEY = new Uint8Array(32).fill(3);
const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);

interface Fixture {
  db: TestDatabase;
  store: Store;
  /** Another store on the same database, opened on demand: a second node. */
  secondStore(): Store;
}

async function freshStore(t: TestContext, dialect: 'sqlite' | 'postgres'): Promise<Fixture> {
  const db = await createTestDatabase(dialect);
  const stores: Store[] = [];
  const open = () => {
    const store = createStore(openDatabase(db.url));
    stores.push(store);
    return store;
  };
  t.after(async () => {
    for (const store of stores) await store.close();
    await db.drop();
  });
  const store = open();
  await store.migrate();
  return { db, store, secondStore: open };
}

async function newApplication(store: Store): Promise<Application> {
  return store.applications.create({ id: newId('app', random), name: `app-${newId('n', random)}`, plan: 'trial', settings: defaultSettings(), createdAt: T0 });
}

function newVerification(app: Application, now = T0): { verification: Verification; code: string } {
  const { verification, code } = createVerification(
    { applicationId: app.id, userId: null, channel: 'sms', purpose: 'authentication', recipient: '+31612345678', locale: 'en', ttlSeconds: 600, codeLength: 6, maxAttempts: 3 },
    now,
    random,
    CODE_KEY,
  );
  return { verification, code };
}

function newDelivery(app: Application, verification: Verification, overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: newId('dlv', random),
    applicationId: app.id,
    verificationId: verification.id,
    channel: 'sms',
    provider: 'outbox',
    recipient: verification.recipient,
    sealedMessage: 'v1.sealed',
    status: 'queued',
    attempts: 0,
    nextAttemptAt: T0,
    lockedUntil: null,
    providerMessageId: null,
    error: null,
    createdAt: T0,
    updatedAt: T0,
    sentAt: null,
    receiptAt: null,
    step: 0,
    ...overrides,
  };
}

function newUser(app: Application, overrides: Partial<User> = {}): User {
  return {
    id: newId('usr', random),
    applicationId: app.id,
    externalId: null,
    email: null,
    phone: null,
    displayName: null,
    locale: null,
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
    version: 0,
    bypassUntil: null,
    ...overrides,
  };
}

function newEvent(app: Application, subjectId: string, type = 'test.happened'): DomainEvent {
  return { id: newId('evt', random), applicationId: app.id, type, subjectType: 'verification', subjectId, actor: 'system', data: { n: 1 }, createdAt: T0 };
}

const append = (event: DomainEvent): Write => ({ kind: 'event.append', event });

/** A verification and one delivery for it, committed: the state a started verification leaves. */
async function started(store: Store, app: Application, delivery: Partial<Delivery> = {}): Promise<{ verification: Verification; delivery: Delivery }> {
  const { verification } = newVerification(app);
  const d = newDelivery(app, verification, delivery);
  assert.deepEqual(await store.commit({ writes: [{ kind: 'verification.insert', verification }, { kind: 'delivery.insert', delivery: d }] }), { ok: true });
  return { verification, delivery: d };
}

function storeContract(dialect: 'sqlite' | 'postgres'): void {
  describe(`${dialect}: store contract`, () => {
    describe('migrations', () => {
      test('apply on an empty database, and running them again changes nothing', async (t) => {
        const db = await createTestDatabase(dialect);
        const store = createStore(openDatabase(db.url));
        t.after(async () => {
          await store.close();
          await db.drop();
        });
        const all = MIGRATIONS.map((m) => m.version);
        assert.deepEqual(await store.migrate(), all);
        assert.deepEqual(await store.migrate(), []);
        const recorded = await store.database.db.selectFrom('schema_migrations').select(['version', 'name']).orderBy('version').execute();
        assert.deepEqual(recorded.map((r) => ({ ...r })), MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
        // The schema is usable after the second run.
        await newApplication(store);
      });

      test('nodes that migrate at the same time apply each migration once', async (t) => {
        const db = await createTestDatabase(dialect);
        const nodes = dialect === 'postgres' ? [0, 1, 2] : [0];
        const stores = nodes.map(() => createStore(openDatabase(db.url)));
        t.after(async () => {
          for (const s of stores) await s.close();
          await db.drop();
        });
        const runs = await Promise.all([...stores, ...stores].map((s) => s.migrate()));
        assert.deepEqual(runs.flat().sort((a, b) => a - b), MIGRATIONS.map((m) => m.version));
      });
    });

    describe('commit', () => {
      test('a unit of work commits all its writes together', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const { verification } = newVerification(app);
        const delivery = newDelivery(app, verification);
        const user = newUser(app, { externalId: 'alice', email: 'alice@example.com' });
        const message = { id: newId('obx', random), applicationId: app.id, verificationId: verification.id, channel: 'sms', recipient: verification.recipient, sealedMessage: 'v1.x', createdAt: T0 };
        const event = newEvent(app, verification.id, 'verification.started');

        const result = await store.commit({
          writes: [
            { kind: 'user.insert', user },
            { kind: 'verification.insert', verification },
            { kind: 'delivery.insert', delivery },
            { kind: 'outbox.insert', message },
            append(event),
          ],
        });

        assert.deepEqual(result, { ok: true });
        assert.deepEqual(await store.users.byId(app.id, user.id), user);
        assert.deepEqual(await store.verifications.byId(app.id, verification.id), verification);
        assert.deepEqual(await store.deliveries.byVerification(verification.id), [delivery]);
        assert.deepEqual(await store.outbox.list(app.id, { limit: 10 }), [message]);
        const events = await store.events.forSubject(verification.id);
        assert.deepEqual(events.map(({ seq: _seq, appSeq: _appSeq, userId: _userId, ...e }) => e), [event]);
      });

      test('a guarded update applies when the version is the one it was decided on', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const { verification, code } = newVerification(app);
        await store.commit({ writes: [{ kind: 'verification.insert', verification }] });
        const next = decide(verification, { type: 'check', code, codeKey: CODE_KEY }, T0 + 1).next!;
        assert.deepEqual(await store.commit({ writes: [{ kind: 'verification.update', verification: next, before: verification }] }), { ok: true });
        assert.deepEqual(await store.verifications.byId(app.id, verification.id), next);
      });

      test('a stale expectedVersion voids the whole unit: conflict, and none of its writes remain', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const { verification } = newVerification(app);
        await store.commit({ writes: [{ kind: 'verification.insert', verification }] });
        const cancelled = decide(verification, { type: 'cancel' }, T0 + 1).next!;
        await store.commit({ writes: [{ kind: 'verification.update', verification: cancelled, before: verification }] });

        // Decided on version 0, which has moved on to 1. The writes before the guard must go too.
        const stale = decide(verification, { type: 'delivery_failed' }, T0 + 2).next!;
        const event = newEvent(app, verification.id, 'verification.failed');
        const user = newUser(app, { externalId: 'bob' });
        const result = await store.commit({
          writes: [append(event), { kind: 'user.insert', user }, { kind: 'verification.update', verification: stale, before: verification }],
        });

        assert.deepEqual(result, { ok: false, reason: 'conflict' });
        assert.deepEqual(await store.verifications.byId(app.id, verification.id), cancelled);
        assert.deepEqual(await store.events.forSubject(verification.id), []);
        assert.equal(await store.users.byId(app.id, user.id), undefined);
      });

      test('guarded user updates and deletes conflict on a stale version', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const user = newUser(app, { externalId: 'carol' });
        await store.commit({ writes: [{ kind: 'user.insert', user }] });
        const renamed = { ...user, displayName: 'Carol', version: 1 };
        assert.deepEqual(await store.commit({ writes: [{ kind: 'user.update', user: renamed, expectedVersion: 0 }] }), { ok: true });
        assert.deepEqual(await store.commit({ writes: [{ kind: 'user.update', user: { ...user, displayName: 'Old', version: 1 }, expectedVersion: 0 }] }), { ok: false, reason: 'conflict' });
        assert.deepEqual(await store.commit({ writes: [{ kind: 'user.delete', applicationId: app.id, id: user.id, expectedVersion: 0 }] }), { ok: false, reason: 'conflict' });
        assert.deepEqual(await store.users.byId(app.id, user.id), renamed);
        assert.deepEqual(await store.commit({ writes: [{ kind: 'user.delete', applicationId: app.id, id: user.id, expectedVersion: 1 }] }), { ok: true });
        assert.equal(await store.users.byId(app.id, user.id), undefined);
      });

      test('a guarded write never reaches into another application', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const other = await newApplication(store);
        const user = newUser(app);
        await store.commit({ writes: [{ kind: 'user.insert', user }] });
        const result = await store.commit({ writes: [{ kind: 'user.delete', applicationId: other.id, id: user.id, expectedVersion: 0 }] });
        assert.deepEqual(result, { ok: false, reason: 'conflict' });
        assert.deepEqual(await store.users.byId(app.id, user.id), user);
      });

      test('a taken external_id in the same application is a duplicate; another application may use it', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const other = await newApplication(store);
        await store.commit({ writes: [{ kind: 'user.insert', user: newUser(app, { externalId: 'dave' }) }] });

        const second = newUser(app, { externalId: 'dave' });
        const event = newEvent(app, second.id, 'user.created');
        assert.deepEqual(await store.commit({ writes: [{ kind: 'user.insert', user: second }, append(event)] }), { ok: false, reason: 'duplicate' });
        assert.equal(await store.users.byId(app.id, second.id), undefined);
        assert.deepEqual(await store.events.forSubject(second.id), []);

        assert.deepEqual(await store.commit({ writes: [{ kind: 'user.insert', user: newUser(other, { externalId: 'dave' }) }] }), { ok: true });
        // Users without an external_id never collide.
        assert.deepEqual(await store.commit({ writes: [{ kind: 'user.insert', user: newUser(app) }, { kind: 'user.insert', user: newUser(app) }] }), { ok: true });
      });

      test('a taken primary key is a duplicate', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const { verification } = newVerification(app);
        await store.commit({ writes: [{ kind: 'verification.insert', verification }] });
        assert.deepEqual(await store.commit({ writes: [{ kind: 'verification.insert', verification }] }), { ok: false, reason: 'duplicate' });
      });

      test('in a burst of concurrent commits, a duplicate and a conflict fail alone and every other unit lands', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        await store.commit({ writes: [{ kind: 'user.insert', user: newUser(app, { externalId: 'taken' }) }] });
        const { verification } = newVerification(app);
        await store.commit({ writes: [{ kind: 'verification.insert', verification }] });

        // 1. Twenty units at once: 18 good ones, one duplicate external_id, one stale update.
        const good = Array.from({ length: 18 }, (_, i) => newUser(app, { externalId: `burst-${i}` }));
        const duplicate = newUser(app, { externalId: 'taken' });
        const stale = { ...verification, status: 'cancelled' as const, version: 5 };
        const units: UnitOfWork[] = good.map((user) => ({ writes: [{ kind: 'user.insert', user }, append(newEvent(app, user.id, 'user.created'))] }));
        units.splice(7, 0, { writes: [{ kind: 'user.insert', user: duplicate }, append(newEvent(app, duplicate.id, 'user.created'))] });
        units.splice(13, 0, { writes: [append(newEvent(app, verification.id)), { kind: 'verification.update', verification: stale, before: { ...verification, version: 4 } }] });
        const results = await Promise.all(units.map((unit) => store.commit(unit)));

        // 2. Each unit got its own answer.
        assert.deepEqual(results[7], { ok: false, reason: 'duplicate' });
        assert.deepEqual(results[13], { ok: false, reason: 'conflict' });
        assert.deepEqual(results.filter((r): r is CommitResult => r.ok).length, 18);

        // 3. The good units' rows and events are there, the failed ones' are not.
        for (const user of good) {
          assert.deepEqual(await store.users.byId(app.id, user.id), user);
          assert.equal((await store.events.forSubject(user.id)).length, 1);
        }
        assert.equal(await store.users.byId(app.id, duplicate.id), undefined);
        assert.deepEqual(await store.events.forSubject(duplicate.id), []);
        assert.deepEqual(await store.events.forSubject(verification.id), []);
        assert.deepEqual(await store.verifications.byId(app.id, verification.id), verification);
      });

      test('SEC-10 concurrent updates decided on the same version: exactly one wins', async (t) => {
        // Threat: two checks read the same verification and both apply, so an attempt limit
        // or the single approval can be exceeded by racing requests.
        const { store, secondStore } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const { verification, code } = newVerification(app);
        await store.commit({ writes: [{ kind: 'verification.insert', verification }] });
        const stores = dialect === 'postgres' ? [store, secondStore()] : [store];
        const approved = decide(verification, { type: 'check', code, codeKey: CODE_KEY }, T0 + 1).next!;
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            stores[i % stores.length]!.commit({
              writes: [
                { kind: 'verification.update', verification: approved, before: verification },
                append(newEvent(app, verification.id, 'verification.approved')),
              ],
            }),
          ),
        );
        assert.equal(results.filter((r) => r.ok).length, 1);
        assert.ok(results.every((r) => r.ok || r.reason === 'conflict'));
        assert.equal((await store.events.forSubject(verification.id)).length, 1);
      });

      test('a write that breaks a foreign key rejects the commit and leaves nothing behind', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const orphan = newUser({ ...app, id: 'app_missing' });
        const user = newUser(app);
        await assert.rejects(store.commit({ writes: [{ kind: 'user.insert', user }, { kind: 'user.insert', user: orphan }] }));
        assert.equal(await store.users.byId(app.id, user.id), undefined);
        // The store still commits afterwards.
        assert.deepEqual(await store.commit({ writes: [{ kind: 'user.insert', user }] }), { ok: true });
      });
    });

    describe('fraud marks', () => {
      test('several marks of one unit all count, in order with a clear among them', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const mark = (key: string, at: number): Write => ({ kind: 'fraud.mark', applicationId: app.id, key, at });
        const writes: Write[] = [mark('a', T0), mark('b', T0 + 1), mark('a', T0 + 2), { kind: 'fraud.clear', applicationId: app.id, key: 'a' }, mark('a', T0 + 3), mark('c', T0 + 4)];
        assert.deepEqual(await store.commit({ writes }), { ok: true });
        const counts = await store.fraud.counts(app.id, ['a', 'b', 'c', 'd'].map((key) => ({ key, since: T0 - 1 })));
        assert.deepEqual(Object.fromEntries(counts), {
          a: { count: 1, oldest: T0 + 3 },
          b: { count: 1, oldest: T0 + 1 },
          c: { count: 1, oldest: T0 + 4 },
          d: { count: 0, oldest: null },
        });
      });
    });

    describe('push requests', () => {
      /** A user with a device, and `sent`: a verification with its delivery to `recipient`, stored. */
      async function userWithDevice(t: TestContext) {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const user = newUser(app);
        const otherUser = newUser(app);
        assert.deepEqual(await store.commit({ writes: [{ kind: 'user.insert', user }, { kind: 'user.insert', user: otherUser }] }), { ok: true });
        const device = { id: newId('dev', random), userId: user.id };
        const sent = async (createdAt: number, recipient: string, changes: Partial<Verification> = {}): Promise<Verification> => {
          const channel = changes.channel ?? 'push';
          const verification: Verification = { ...newVerification(app, createdAt).verification, userId: user.id, channel, ...changes };
          const delivery = newDelivery(app, verification, { channel, recipient, createdAt });
          assert.deepEqual(await store.commit({ writes: [{ kind: 'verification.insert', verification }, { kind: 'delivery.insert', delivery }] }), { ok: true });
          return verification;
        };
        return { store, device, otherUser, sent };
      }

      test("a device's pending push requests: pending, not expired, sent to it, oldest first; not its user's others", async (t) => {
        const { store, device, sent } = await userWithDevice(t);
        const now = T0 + 3_000;
        const second = await sent(T0 + 2_000, device.id);
        const first = await sent(T0 + 1_000, device.id);
        await sent(T0, newId('dev', random)); // to the user's other device
        await sent(T0, device.id, { status: 'approved', decidedAt: T0 + 10 });
        await sent(T0 - 600_000, device.id); // expired at T0, still pending in the table
        await sent(T0, '+31612345678', { channel: 'sms' });
        assert.deepEqual(
          (await store.verifications.pendingForDevice(device, now)).map((v) => v.id),
          [first.id, second.id],
        );
      });

      test('the pending verifications a device is part of (cancelled at its unpairing): pushes sent to it and its own pairing, expired too; nothing else', async (t) => {
        const { store, device, otherUser, sent } = await userWithDevice(t);
        const push = await sent(T0 + 1_000, device.id);
        const expiredPush = await sent(T0 - 600_000, device.id);
        const pairing = await sent(T0 + 2_000, '+31612345678', { channel: 'sms', purpose: 'pairing', deviceId: device.id });
        await sent(T0, newId('dev', random)); // to the user's other device
        await sent(T0, device.id, { status: 'denied', decidedAt: T0 + 10 });
        await sent(T0, '+31612345678', { channel: 'sms' });
        await sent(T0, newId('dev', random), { userId: otherUser.id });
        assert.deepEqual(
          (await store.verifications.pendingInvolving(device)).map((v) => v.id),
          [expiredPush.id, push.id, pairing.id],
        );
      });
    });

    describe('onCommitted', () => {
      test('listeners hear the events of committed units only', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const { verification } = newVerification(app);
        const heard: DomainEvent[][] = [];
        const stop = store.onCommitted((events) => heard.push(events));
        t.after(stop);

        const started = newEvent(app, verification.id, 'verification.started');
        await store.commit({ writes: [{ kind: 'verification.insert', verification }, append(started)] });
        const failed = newEvent(app, verification.id, 'verification.failed');
        await store.commit({ writes: [append(failed), { kind: 'verification.update', verification, before: { ...verification, version: 9 } }] });
        const duplicateEvent = newEvent(app, 'usr_x', 'user.created');
        await store.commit({ writes: [append(duplicateEvent), { kind: 'verification.insert', verification }] });
        await store.commit({ writes: [{ kind: 'user.insert', user: newUser(app) }] });

        assert.deepEqual(heard, [[started]]);
      });

      test('the webhook dispatcher is woken by a unit that queued webhook messages, not by every event', async (t) => {
        const { db, store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const other = await newApplication(store);
        // On PostgreSQL the leader's dispatcher may run on another node: it hears through NOTIFY.
        let heardElsewhere = 0;
        const notifier = dialect === 'postgres' ? createPostgresNotifier(db.url, (error) => assert.fail(error)) : null;
        if (notifier !== null) {
          await notifier.ready;
          notifier.subscribe(WEBHOOKS_QUEUED, () => heardElsewhere++);
        }
        const endpoint: WebhookEndpoint = {
          id: newId('whe', random),
          applicationId: app.id,
          url: 'https://hooks.example.com/outband',
          description: null,
          eventTypes: ['verification.*'],
          enabled: true,
          disabledReason: null,
          sealedSecret: 'v1.sealed',
          previousSealedSecret: null,
          previousSecretExpiresAt: null,
          createdAt: T0,
          updatedAt: T0,
          version: 0,
        };
        assert.deepEqual(await store.commit({ writes: [{ kind: 'webhook', write: { op: 'endpoint.insert', endpoint } }] }), { ok: true });
        const woken: boolean[] = [];
        t.after(store.onCommitted((_events, subjects) => woken.push(subjects.has(WEBHOOKS_QUEUED))));

        // An application without endpoints, then a type the endpoint does not take: nothing queued.
        await store.commit({ writes: [append(newEvent(other, 'vrf_a', 'verification.started'))] });
        await store.commit({ writes: [append(newEvent(app, 'usr_a', 'user.created'))] });
        // A type it takes: one message, and the wake-up.
        await store.commit({ writes: [append(newEvent(app, 'vrf_b', 'verification.started'))] });
        assert.deepEqual(woken, [false, false, true]);
        if (notifier !== null) {
          // Notifications arrive in commit order: had the first two sent one, it would be counted here.
          for (let i = 0; i < 250 && heardElsewhere === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
          assert.equal(heardElsewhere, 1);
          await notifier.close(); // before the database is dropped under it
        }
      });

      test('a listener that unsubscribes hears nothing more', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        let count = 0;
        const stop = store.onCommitted(() => count++);
        await store.commit({ writes: [append(newEvent(app, 'vrf_a'))] });
        stop();
        await store.commit({ writes: [append(newEvent(app, 'vrf_a'))] });
        assert.equal(count, 1);
      });
    });

    describe('events', () => {
      test('seq increases in commit order, per subject and per application', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const other = await newApplication(store);
        const written: DomainEvent[] = [];
        for (let i = 0; i < 5; i++) {
          const units = [newEvent(app, 'vrf_a'), newEvent(other, 'vrf_b'), newEvent(app, 'vrf_b')];
          written.push(...units);
          await store.commit({ writes: units.map(append) });
        }
        // Concurrent units too: each lands whole, and seq never goes back.
        await Promise.all(Array.from({ length: 10 }, () => store.commit({ writes: [append(newEvent(app, 'vrf_c')), append(newEvent(app, 'vrf_c'))] })));

        const all = await store.events.list(app.id, 0, 1000);
        assert.equal(all.length, 10 + 20);
        const seqs = all.map((e) => e.seq);
        assert.ok(seqs.every((s, i) => Number.isSafeInteger(s) && (i === 0 || s > seqs[i - 1]!)), `seq ${seqs.join(',')}`);
        assert.deepEqual(
          all.slice(0, 10).map((e) => e.id),
          written.filter((e) => e.applicationId === app.id).map((e) => e.id),
        );
        assert.equal((await store.events.forSubject('vrf_c')).length, 20);

        // Paging from a seq continues after it, and stays within the application.
        const page = await store.events.list(app.id, all[4]!.seq, 3);
        assert.deepEqual(page.map((e) => e.id), all.slice(5, 8).map((e) => e.id));
        assert.ok((await store.events.list(other.id, 0, 100)).every((e) => e.applicationId === other.id));
      });

      test('an event reads back as it was written', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const event: DomainEvent = { ...newEvent(app, 'vrf_a'), actor: null, data: { nested: { a: [1, 'two', null] }, unicode: 'é✓' } };
        await store.commit({ writes: [append(event)] });
        const [stored] = await store.events.forSubject('vrf_a');
        assert.ok(stored !== undefined && stored.seq > 0);
        const { seq: _seq, appSeq, userId, ...rest } = stored;
        assert.deepEqual(rest, event);
        // The application's first event; a verification event without data.user_id is about no user.
        assert.equal(appSeq, 1);
        assert.equal(userId, null);
      });
    });

    describe('deliveries.claim', () => {
      test('leases due messages: status sending, attempts + 1, locked for the lease', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const { delivery } = await started(store, app, { nextAttemptAt: T0 });
        const { delivery: later } = await started(store, app, { nextAttemptAt: T0 + 5_000 });

        const claimed = await store.deliveries.claim(T0 + 1, 10);
        assert.deepEqual(claimed, [{ ...delivery, status: 'sending', attempts: 1, lockedUntil: T0 + 1 + DELIVERY_LEASE_MS, updatedAt: T0 + 1 }]);
        assert.deepEqual(await store.deliveries.claim(T0 + 2, 10), [], 'a leased message is not claimed again while the lease holds');
        assert.deepEqual((await store.deliveries.claim(T0 + 5_000, 10)).map((d) => d.id), [later.id]);
      });

      test('takes at most `limit`, oldest due first', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const ids: string[] = [];
        for (const at of [T0 + 3, T0 + 1, T0 + 2]) ids.push((await started(store, app, { nextAttemptAt: at })).delivery.id);
        assert.deepEqual((await store.deliveries.claim(T0 + 10, 2)).map((d) => d.id), [ids[1], ids[2]]);
        assert.deepEqual((await store.deliveries.claim(T0 + 10, 2)).map((d) => d.id), [ids[0]]);
      });

      test('never takes sent or failed messages', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        await started(store, app, { status: 'sent', attempts: 1, lockedUntil: null });
        await started(store, app, { status: 'failed', attempts: 5, lockedUntil: T0 });
        assert.deepEqual(await store.deliveries.claim(T0 + DELIVERY_LEASE_MS * 10, 10), []);
      });

      test('a sending message whose lease ran out is claimed again with attempts + 1', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const { delivery } = await started(store, app);
        const [first] = await store.deliveries.claim(T0, 10);
        assert.equal(first?.attempts, 1);

        // 1. Still leased one millisecond before the lease ends.
        assert.deepEqual(await store.deliveries.claim(T0 + DELIVERY_LEASE_MS - 1, 10), []);
        // 2. The worker died: once the lease has passed, another worker takes the message over.
        const takeover = T0 + DELIVERY_LEASE_MS;
        const [second] = await store.deliveries.claim(takeover, 10);
        assert.deepEqual(second, { ...delivery, status: 'sending', attempts: 2, lockedUntil: takeover + DELIVERY_LEASE_MS, updatedAt: takeover });
        // 3. The first worker wakes up and reports; its write was decided on attempt 1 and is void.
        const late = await store.commit({
          writes: [{ kind: 'delivery.update', delivery: { ...first!, status: 'sent', sealedMessage: null, updatedAt: takeover + 1 }, before: first! }],
        });
        assert.deepEqual(late, { ok: false, reason: 'conflict' });
        const current = await store.commit({
          writes: [{ kind: 'delivery.update', delivery: { ...second!, status: 'sent', sealedMessage: null, lockedUntil: null, updatedAt: takeover + 1 }, before: second! }],
        });
        assert.deepEqual(current, { ok: true });
        assert.deepEqual((await store.deliveries.byVerification(delivery.verificationId)).map((d) => [d.status, d.attempts]), [['sent', 2]]);
      });

      test('concurrent claims never return the same message', async (t) => {
        const { store, secondStore } = await freshStore(t, dialect);
        const app = await newApplication(store);
        const total = 40;
        for (let i = 0; i < total; i++) await started(store, app, { nextAttemptAt: T0 + i });
        // On PostgreSQL the claimers are separate nodes (pools); on SQLite one process owns the file.
        const claimers = dialect === 'postgres' ? [store, secondStore(), secondStore(), store] : [store, store, store, store];
        const rounds = await Promise.all(
          claimers.map(async (claimer) => {
            const got: Delivery[] = [];
            for (let batch = await claimer.deliveries.claim(T0 + total, 3); batch.length > 0; batch = await claimer.deliveries.claim(T0 + total, 3)) {
              got.push(...batch);
            }
            return got;
          }),
        );
        const ids = rounds.flat().map((d) => d.id);
        assert.equal(ids.length, total, 'every due message was claimed');
        assert.equal(new Set(ids).size, total, 'no message was claimed twice');
        assert.ok(rounds.flat().every((d) => d.attempts === 1 && d.status === 'sending'));
      });

      test('nextDueAt is the earliest retry time or lease end, or null', async (t) => {
        const { store } = await freshStore(t, dialect);
        const app = await newApplication(store);
        assert.equal(await store.deliveries.nextDueAt(), null);
        await started(store, app, { nextAttemptAt: T0 + 500 });
        await started(store, app, { status: 'sending', attempts: 1, nextAttemptAt: T0, lockedUntil: T0 + 200 });
        await started(store, app, { status: 'sent', attempts: 1, nextAttemptAt: T0 - 1_000 });
        assert.equal(await store.deliveries.nextDueAt(), T0 + 200);
      });
    });

    describe('meta.setIfAbsent', () => {
      test('keeps the first value and answers it to every later caller', async (t) => {
        const { store } = await freshStore(t, dialect);
        assert.equal(await store.meta.get('instance_id'), undefined);
        assert.equal(await store.meta.setIfAbsent('instance_id', 'first'), 'first');
        assert.equal(await store.meta.setIfAbsent('instance_id', 'second'), 'first');
        assert.equal(await store.meta.get('instance_id'), 'first');
      });

      test('concurrent callers all get the one value that was stored', async (t) => {
        const { store, secondStore } = await freshStore(t, dialect);
        const stores = dialect === 'postgres' ? [store, secondStore()] : [store];
        const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => stores[i % stores.length]!.meta.setIfAbsent('secret', `value-${i}`)));
        assert.equal(new Set(answers).size, 1);
        assert.equal(await store.meta.get('secret'), answers[0]);
      });
    });
  });
}

for (const dialect of dialects()) storeContract(dialect);
