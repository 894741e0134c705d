// Threat: a guesser asks for new codes to reset the attempt counter, or an old code stays valid
// beside the new one (NIST 63B-4 §3.1.3.2: a new secret SHALL NOT reset the failure count).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

for (const dialect of dialects()) {
  describe(`${dialect}: resend`, () => {
    let server: TestServer;
    const clock = new TestClock();
    before(async () => {
      server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    /** Every code sent for a verification, oldest first, as the user received them. */
    async function codes(tenant: Tenant, id: string): Promise<string[]> {
      await server.runtime.worker.runOnce();
      const items = (await tenant.request('GET', `/v1/outbox?verification_id=${id}`)).json().items as Array<{ body: string }>;
      return items.map((m) => m.body.match(/code is (\d+)/)?.[1] ?? '').reverse();
    }

    const check = (tenant: Tenant, id: string, code: string) => tenant.request('POST', `/v1/verifications/${id}/check`, { code });
    const resend = (tenant: Tenant, id: string, body?: unknown) => tenant.request('POST', `/v1/verifications/${id}/resend`, body);

    test('SEC-07 a resend sends a new code, the old one stops working, and the failure count is kept', async () => {
      const tenant = await server.tenant();
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json();
      const [first] = await codes(tenant, v.id);
      assert.ok(first);
      const wrong = first.replace(/^./, (d) => String((Number(d) + 1) % 10));
      assert.equal((await check(tenant, v.id, wrong)).json().attempts_left, 2);

      clock.advance(31_000);
      const resent = await resend(tenant, v.id);
      assert.equal(resent.statusCode, 200, resent.body);
      assert.equal(resent.json().attempts_left, 2, 'a resend does not give attempts back');
      assert.equal(resent.json().expires_at, v.expires_at, 'a resend does not move the expiry');
      const [, second] = await codes(tenant, v.id);
      assert.ok(second);

      const old = await check(tenant, v.id, first);
      assert.equal(old.json().valid, false, 'the old code is refused');
      assert.equal(old.json().attempts_left, 1, 'and the refusal counts');
      const last = await check(tenant, v.id, wrong === second ? first : wrong);
      assert.equal(last.json().status, 'failed');
      const late = await check(tenant, v.id, second);
      assert.equal(late.statusCode, 409, 'the new code does not revive a failed verification');
      assert.equal(late.json().code, 'max_attempts_reached');
    });

    test('the new code approves; only one code is valid at a time', async () => {
      const tenant = await server.tenant();
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', code_length: 8 })).json();
      await server.runtime.worker.runOnce();
      clock.advance(31_000);
      assert.equal((await resend(tenant, v.id, {})).statusCode, 200);
      const [first, second] = await codes(tenant, v.id);
      assert.ok(first && second && first !== second);
      assert.match(second, /^\d{8}$/, 'the new code has the length of the first');
      assert.equal((await check(tenant, v.id, second)).json().status, 'approved');
      const types = (await server.runtime.store.events.forSubject(v.id)).map((e) => e.type);
      assert.deepEqual(types, ['verification.started', 'verification.resent', 'verification.approved']);
    });

    test('a resend within the cooldown answers 429 with retry_after; after three the cap holds', async () => {
      const tenant = await server.tenant();
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json();
      clock.advance(10_000);
      const early = await resend(tenant, v.id);
      assert.equal(early.statusCode, 429);
      assert.equal(early.json().code, 'resend_cooldown');
      assert.equal(early.json().retry_after, 20);
      assert.equal(early.headers['retry-after'], '20');
      for (let i = 0; i < 3; i++) {
        await server.runtime.worker.runOnce();
        clock.advance(30_000);
        assert.equal((await resend(tenant, v.id)).statusCode, 200);
      }
      clock.advance(30_000);
      const capped = await resend(tenant, v.id);
      assert.equal(capped.statusCode, 429);
      assert.equal(capped.json().code, 'resend_limit_reached');
      assert.equal((await codes(tenant, v.id)).length, 4, 'the first message and three resends, nothing more');
    });

    test("a resend on another channel goes to the user's address there", async () => {
      const tenant = await server.tenant();
      const user = (await tenant.request('POST', '/v1/users', { phone: '+31612345678', email: 'ann@example.com' })).json();
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id })).json();
      await server.runtime.worker.runOnce();
      clock.advance(31_000);
      const moved = await resend(tenant, v.id, { channel: 'email' });
      assert.equal(moved.statusCode, 200, moved.body);
      assert.equal(moved.json().channel, 'email');
      assert.equal(moved.json().to, 'a•••@example.com');
      await server.runtime.worker.runOnce();
      const items = (await tenant.request('GET', `/v1/outbox?verification_id=${v.id}`)).json().items as Array<{ channel: string; to: string }>;
      assert.deepEqual(items.map((m) => [m.channel, m.to]), [['email', 'ann@example.com'], ['sms', '+31612345678']]);

      const raw = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json();
      clock.advance(31_000);
      const nowhere = await resend(tenant, raw.id, { channel: 'email' });
      assert.equal(nowhere.statusCode, 422);
      assert.equal(nowhere.json().code, 'recipient_missing');
    });

    test('a message still queued with the old code is cancelled by a resend, not sent', async () => {
      const tenant = await server.tenant();
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json();
      clock.advance(31_000);
      assert.equal((await resend(tenant, v.id)).statusCode, 200);
      const sent = await codes(tenant, v.id);
      assert.equal(sent.length, 1, 'only the message with the new code went out');
      const deliveries = (await tenant.request('GET', `/v1/verifications/${v.id}`)).json().deliveries as Array<{ status: string }>;
      assert.deepEqual(deliveries.map((d) => d.status), ['cancelled', 'sent']);
    });

    test('a final verification is not resent', async () => {
      const tenant = await server.tenant();
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json();
      await tenant.request('POST', `/v1/verifications/${v.id}/cancel`);
      clock.advance(31_000);
      const res = await resend(tenant, v.id);
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().verification_status, 'cancelled');
    });
  });
}
