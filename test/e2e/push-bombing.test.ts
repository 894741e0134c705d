// Push bombing (issue [4], SEC-21): unanswered or denied pushes per user are capped in a window;
// an approval resets the budget; "This wasn't me" (report_fraud) starts the cool-off at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDeviceClient, enroll, type DeviceClient } from '../../src/authenticator/client.ts';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { freePort, startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

for (const dialect of dialects()) {
  describe(`${dialect}: push bombing`, () => {
    let server: TestServer;
    let tenant: Tenant;
    let clock: TestClock;

    before(async () => {
      const port = await freePort();
      clock = new TestClock(Date.now());
      server = await startTestServer({ dialect, clock, env: { PUBLIC_URL: `http://127.0.0.1:${port}`, PORT: String(port), OUTBAND_WORKERS: 'false' } });
      await server.runtime.app.listen({ port, host: '127.0.0.1' });
      tenant = await server.tenant({ plan: 'licensed' });
    });
    after(() => server.close());

    async function enrolled(): Promise<{ userId: string; client: DeviceClient }> {
      const userId = ((await tenant.request('POST', '/v1/users', { email: `u${Math.random().toString(36).slice(2)}@example.com` })).json() as { id: string }).id;
      const res = await tenant.request('POST', `/v1/users/${userId}/devices`, { kind: 'push' });
      assert.equal(res.statusCode, 201, res.body);
      const { authenticator } = await enroll(res.json().enrolment.link, { capabilities: ['push', 'pin'] });
      return { userId, client: createDeviceClient(authenticator) };
    }
    const push = (userId: string) => tenant.request('POST', '/v1/verifications', { channel: 'push', user_id: userId, user_verification: 'required' });

    test('report_fraud ("This wasn\'t me") records verification.reported_fraud and starts the cool-off at once', async () => {
      const { userId, client } = await enrolled();
      const p = (await push(userId)).json() as { id: string };
      assert.equal((await client.respond(p.id, { decision: 'report_fraud', userVerification: 'none' })).status, 'denied');
      const types = (await server.runtime.store.events.forSubject(p.id)).map((e) => e.type);
      assert.ok(types.includes('verification.reported_fraud'), types.join());
      const body = assertProblem(await push(userId), 429, 'push_cooldown');
      assert.deepEqual(body['reasons'], ['push_cooldown', 'reported_fraud']);
      assert.equal(body['retry_after'], 600);
      // Another user is not affected.
      const other = await enrolled();
      assert.equal((await push(other.userId)).statusCode, 201);
    });

    test('SEC-21 three unanswered or denied pushes in 10 min: the 4th is 429 push_cooldown, recorded blocked, nothing sent; an approval resets the budget; the window frees up', async () => {
      const { userId, client } = await enrolled();
      const first = (await push(userId)).json() as { id: string };
      const second = (await push(userId)).json() as { id: string };
      assert.equal((await client.respond(second.id, { decision: 'deny', userVerification: 'pin' })).status, 'denied');
      assert.equal((await push(userId)).statusCode, 201);
      const refused = await push(userId);
      const body = assertProblem(refused, 429, 'push_cooldown');
      assert.ok(typeof body['retry_after'] === 'number' && body['retry_after'] > 0 && body['retry_after'] <= 600);
      const blocked = (await tenant.request('GET', `/v1/verifications/${body['verification_id']}`)).json() as { status: string; blocked_reasons: string[]; deliveries: unknown[] };
      assert.deepEqual([blocked.status, blocked.blocked_reasons, blocked.deliveries.length], ['blocked', ['push_cooldown'], 0]);
      assert.equal((await client.requests()).length, 2, 'the device holds only the two pending requests');

      // The user approves one: the budget starts again.
      assert.equal((await client.respond(first.id, { decision: 'approve', userVerification: 'pin' })).status, 'approved');
      for (let i = 0; i < 3; i++) assert.equal((await push(userId)).statusCode, 201);
      assertProblem(await push(userId), 429, 'push_cooldown');
      clock.advance(600_000 + 1);
      assert.equal((await push(userId)).statusCode, 201, 'the window has passed');
    });
  });
}
