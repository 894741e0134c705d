// Usage limits (issue [4]): per user, channel and UTC day (used / unused), the trial plan, the
// application's daily cap per channel; exact under concurrency on both databases, reset at 00:00 UTC.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

/** Messages queued for the application: what would be sent (and billed). */
async function queued(server: TestServer, tenant: Tenant): Promise<number> {
  const row = await sql<{ n: number | string }>`select count(*) as n from deliveries where application_id = ${tenant.applicationId}`.execute(server.runtime.store.database.db);
  return Number(row.rows[0]!.n);
}

/** Fraud windows wide open, so that only the usage limits under test refuse anything. */
const openFraud = { recipient_sends: { max: 10_000 }, prefix_velocity: { max: 10_000 }, country_velocity: { max: 10_000 }, recipient_failures: { max: 10_000 } };

for (const dialect of dialects()) {
  describe(`${dialect}: usage limits`, () => {
    test('50 parallel starts against a limit of 10 unused let exactly 10 through; the rest are 429 daily_limit_reached naming the limit, stored blocked, nothing sent', async (t) => {
      const clock = new TestClock(Date.UTC(2026, 11, 1, 18, 0, 0));
      const server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
      t.after(() => server.close());
      const tenant = await server.tenant({ plan: 'licensed' });
      const patched = await tenant.request('PATCH', '/v1/settings', { usage_limits: { sms: { used: 50, unused: 10 } }, fraud: openFraud });
      assert.equal(patched.statusCode, 200, patched.body);
      const user = (await tenant.request('POST', '/v1/users', { phone: '+31612345678' })).json() as { id: string };

      const answers = await Promise.all(Array.from({ length: 50 }, () => tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id })));
      const passed = answers.filter((r) => r.statusCode === 201);
      const refused = answers.filter((r) => r.statusCode !== 201);
      assert.equal(passed.length, 10, 'exactly the limit passes');
      assert.equal(refused.length, 40);
      for (const r of refused) {
        const body = assertProblem(r, 429, 'daily_limit_reached');
        assert.deepEqual(body['limit'], { name: 'user_daily', channel: 'sms', part: 'unused', max: 10 });
        assert.equal(body['retry_after'], 6 * 3600, 'seconds to 00:00 UTC');
        assert.equal(r.headers['retry-after'], String(6 * 3600));
        assert.equal(typeof body['verification_id'], 'string');
      }
      assert.equal(await queued(server, tenant), 10, 'only the admitted verifications queue a message');
      const blocked = (await tenant.request('GET', `/v1/verifications/${(refused[0]!.json() as { verification_id: string }).verification_id}`)).json() as Record<string, unknown>;
      assert.equal(blocked['status'], 'blocked');
      assert.deepEqual(blocked['blocked_reasons'], ['user_daily']);
      assert.deepEqual((blocked['deliveries'] as unknown[]).length, 0);

      const usage = (await tenant.request('GET', `/v1/usage?user_id=${user.id}`)).json() as { date: string; counters: Array<{ scope: string; channel: string; used: number; unused: number; limit: unknown }> };
      assert.equal(usage.date, '2026-12-01');
      assert.deepEqual(
        usage.counters.filter((c) => c.scope === 'user'),
        [{ scope: 'user', channel: 'sms', used: 0, unused: 10, limit: { name: 'user_daily', used: 50, unused: 10 } }],
      );
    });

    test('SEC-36 the application daily cap per channel is exact under concurrency across many numbers (number rotation does not pass it), and resets at 00:00 UTC', async (t) => {
      const clock = new TestClock(Date.UTC(2026, 11, 1, 23, 59, 50));
      const server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
      t.after(() => server.close());
      const tenant = await server.tenant({ plan: 'licensed' });
      assert.equal((await tenant.request('PATCH', '/v1/settings', { daily_caps: { sms: 10 }, fraud: openFraud })).statusCode, 200);

      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => tenant.request('POST', '/v1/verifications', { channel: 'sms', to: `+3161${String(1000000 + i * 7919).slice(-7)}` })),
      );
      assert.equal(answers.filter((r) => r.statusCode === 201).length, 10);
      for (const r of answers.filter((a) => a.statusCode !== 201)) {
        const body = assertProblem(r, 429, 'daily_limit_reached');
        assert.deepEqual(body['limit'], { name: 'application_daily', channel: 'sms', max: 10 });
        assert.equal(body['retry_after'], 10);
      }
      assert.equal(await queued(server, tenant), 10);
      // E-mail has no cap: the sms cap does not touch it.
      assert.equal((await tenant.request('POST', '/v1/verifications', { channel: 'email', to: 'a@example.com' })).statusCode, 201);

      clock.advance(10_000); // 00:00:00 UTC
      const next = await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31687654321' });
      assert.equal(next.statusCode, 201, 'a new UTC day starts the counters again');
      const app = (await tenant.request('GET', '/v1/usage')).json() as { date: string; counters: Array<{ channel: string; unused: number }> };
      assert.equal(app.date, '2026-12-02');
      assert.deepEqual(app.counters.map((c) => [c.channel, c.unused]), [['sms', 1]]);
      const yesterday = (await tenant.request('GET', '/v1/usage?date=2026-12-01')).json() as { counters: Array<{ channel: string; unused: number; used: number }> };
      assert.deepEqual(yesterday.counters.map((c) => [c.channel, c.used, c.unused]), [['email', 0, 1], ['sms', 0, 10]].filter(([ch]) => ch === 'sms'));
    });

    test('a verification counts as unused when it starts and as used from its first answer (a wrong code counts); the used limit refuses the next start', async (t) => {
      const clock = new TestClock(Date.UTC(2026, 11, 1, 12, 0, 0));
      const server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
      t.after(() => server.close());
      const tenant = await server.tenant({ plan: 'licensed', scopes: ['users:read', 'users:write', 'verifications:read', 'verifications:write', 'verifications:code', 'admin'] });
      assert.equal((await tenant.request('PATCH', '/v1/settings', { usage_limits: { sms: { used: 2, unused: 5 } } })).statusCode, 200);
      const user = (await tenant.request('POST', '/v1/users', { phone: '+31612345678' })).json() as { id: string };
      const counters = async () =>
        ((await tenant.request('GET', `/v1/usage?user_id=${user.id}`)).json() as { counters: Array<{ scope: string; channel: string; used: number; unused: number }> }).counters
          .filter((c) => c.scope === 'user' && c.channel === 'sms')
          .map((c) => [c.used, c.unused]);

      const a = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id, return_code: true })).json() as { id: string; code: string };
      assert.deepEqual(await counters(), [[0, 1]]);
      const wrong = a.code === '000000' ? '111111' : '000000';
      await tenant.request('POST', `/v1/verifications/${a.id}/check`, { code: wrong });
      assert.deepEqual(await counters(), [[1, 0]], 'a wrong code is an answer');
      await tenant.request('POST', `/v1/verifications/${a.id}/check`, { code: a.code });
      assert.deepEqual(await counters(), [[1, 0]], 'only the first answer moves it');
      const b = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id, return_code: true })).json() as { id: string; code: string };
      await tenant.request('POST', `/v1/verifications/${b.id}/check`, { code: b.code });
      assert.deepEqual(await counters(), [[2, 0]]);

      const c = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id });
      const body = assertProblem(c, 429, 'daily_limit_reached');
      assert.deepEqual(body['limit'], { name: 'user_daily', channel: 'sms', part: 'used', max: 2 });
      assert.equal(body['retry_after'], 12 * 3600);
    });

    test('the first answer moves every counter the start was counted on: the user\'s on its channel and on any channel (trial), and the application\'s daily cap', async (t) => {
      const clock = new TestClock(Date.UTC(2026, 11, 1, 12, 0, 0));
      const server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
      t.after(() => server.close());
      const tenant = await server.tenant({ plan: 'trial', scopes: ['users:read', 'users:write', 'verifications:read', 'verifications:write', 'verifications:code', 'admin'] });
      assert.equal((await tenant.request('PATCH', '/v1/settings', { usage_limits: { sms: { used: 5, unused: 5 } }, daily_caps: { sms: 10 }, fraud: openFraud })).statusCode, 200);
      const user = (await tenant.request('POST', '/v1/users', { phone: '+31612345678' })).json() as { id: string };
      type Counter = { scope: string; channel: string; used: number; unused: number };
      const counters = async () =>
        ((await tenant.request('GET', `/v1/usage?user_id=${user.id}`)).json() as { counters: Counter[] }).counters.map((c) => [c.scope, c.channel, c.used, c.unused]).sort();

      const a = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id, return_code: true })).json() as { id: string; code: string };
      assert.deepEqual(await counters(), [['application', 'sms', 0, 1], ['user', '*', 0, 1], ['user', 'sms', 0, 1]]);
      await tenant.request('POST', `/v1/verifications/${a.id}/check`, { code: a.code === '000000' ? '111111' : '000000' });
      assert.deepEqual(await counters(), [['application', 'sms', 1, 0], ['user', '*', 1, 0], ['user', 'sms', 1, 0]]);
    });

    test('plan trial: 5 verifications per user per day on any channel, used or unused; licensed lifts it', async (t) => {
      const clock = new TestClock(Date.UTC(2026, 11, 1, 8, 0, 0));
      const server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
      t.after(() => server.close());
      const tenant = await server.tenant();
      const user = (await tenant.request('POST', '/v1/users', { phone: '+31612345678', email: 'a@example.com' })).json() as { id: string };
      for (const channel of ['sms', 'email', 'sms', 'email', 'sms']) {
        const r = await tenant.request('POST', '/v1/verifications', { channel, user_id: user.id });
        assert.equal(r.statusCode, 201, r.body);
      }
      const sixth = await tenant.request('POST', '/v1/verifications', { channel: 'email', user_id: user.id });
      const body = assertProblem(sixth, 429, 'daily_limit_reached');
      assert.deepEqual(body['limit'], { name: 'trial_user_daily', channel: '*', max: 5 });
      // Another user has their own five.
      const other = (await tenant.request('POST', '/v1/users', { email: 'b@example.com' })).json() as { id: string };
      assert.equal((await tenant.request('POST', '/v1/verifications', { channel: 'email', user_id: other.id })).statusCode, 201);

      assert.equal((await tenant.request('PATCH', '/v1/settings', { plan: 'licensed' })).statusCode, 200);
      assert.equal((await tenant.request('POST', '/v1/verifications', { channel: 'email', user_id: user.id })).statusCode, 201, 'licensed: the configured limits (none for e-mail)');
    });

    test('plan trial: at most 100 pairing messages per application in total, and that count does not reset at midnight', async (t) => {
      const clock = new TestClock(Date.UTC(2026, 11, 1, 23, 59, 0));
      const server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
      t.after(() => server.close());
      const tenant = await server.tenant({ settings: { maxDevices: 10 } });
      // 98 pairing messages already counted, the way a pairing counts them.
      const counter = { applicationId: tenant.applicationId, subject: 'application', channel: 'pairing', day: 'all' };
      for (let i = 0; i < 98; i++) {
        assert.deepEqual(await server.runtime.store.commit({ writes: [{ kind: 'usage.reserve', counter, max: { total: 100 }, limit: 'trial_pairing_messages' }] }), { ok: true });
      }
      const user = (await tenant.request('POST', '/v1/users', { phone: '+31612345678' })).json() as { id: string };
      const pair = (phone: string) => tenant.request('POST', `/v1/users/${user.id}/devices`, { kind: 'sms', address: phone });
      assert.equal((await pair('+31612345001')).statusCode, 201);
      assert.equal((await pair('+31612345002')).statusCode, 201);
      clock.advance(120_000); // past 00:00 UTC
      const refused = await pair('+31612345003');
      const body = assertProblem(refused, 429, 'daily_limit_reached');
      assert.deepEqual(body['limit'], { name: 'trial_pairing_messages', channel: 'pairing', max: 100 });
      assert.equal(body['retry_after'], undefined, 'a total does not reset');
    });

    test('GET /v1/usage: a date that is not a UTC day is 400; an unknown user 404', async (t) => {
      const server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
      t.after(() => server.close());
      const tenant = await server.tenant();
      assertProblem(await tenant.request('GET', '/v1/usage?date=2026-02-30'), 400, 'invalid_request');
      assertProblem(await tenant.request('GET', '/v1/usage?date=yesterday'), 400, 'invalid_request');
      assertProblem(await tenant.request('GET', '/v1/usage?user_id=usr_nope'), 404, 'user_not_found');
    });
  });
}
