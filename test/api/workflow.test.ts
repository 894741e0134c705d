import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

for (const dialect of dialects()) {
  describe(`${dialect}: fallback workflows`, () => {
    let server: TestServer;
    const clock = new TestClock();
    before(async () => {
      server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    async function outbox(tenant: Tenant, id: string) {
      await server.runtime.worker.runOnce();
      return ((await tenant.request('GET', `/v1/outbox?verification_id=${id}`)).json().items as Array<{ channel: string; body: string }>).reverse();
    }
    const codeIn = (body: string) => body.match(/code is (\d+)/)?.[1];

    async function startWithUser(tenant: Tenant, workflow: unknown[]) {
      const user = (await tenant.request('POST', '/v1/users', { phone: '+31612345678', email: 'wf@example.com' })).json();
      const res = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id, workflow });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    }

    test('an unanswered step is followed by the next, with the same code; either message approves', async () => {
      const tenant = await server.tenant();
      const id = await startWithUser(tenant, [{ channel: 'sms', timeout_seconds: 60 }, { channel: 'email' }]);
      const first = await outbox(tenant, id);
      assert.deepEqual(first.map((m) => m.channel), ['sms'], 'only the first step goes out at once');

      clock.advance(59_000);
      assert.equal((await outbox(tenant, id)).length, 1, 'nothing more before the step times out');
      clock.advance(2_000);
      const both = await outbox(tenant, id);
      assert.deepEqual(both.map((m) => m.channel), ['sms', 'email']);
      const [smsCode, emailCode] = both.map((m) => codeIn(m.body));
      assert.ok(smsCode);
      assert.equal(emailCode, smsCode, 'every step carries the same code');

      const view = (await tenant.request('GET', `/v1/verifications/${id}`)).json();
      assert.deepEqual(view.deliveries.map((d: { step: number; channel: string; status: string }) => [d.step, d.channel, d.status]), [
        [0, 'sms', 'sent'],
        [1, 'email', 'sent'],
      ]);
      assert.equal((await tenant.request('POST', `/v1/verifications/${id}/check`, { code: smsCode })).json().status, 'approved');
    });

    test('a verification approved before the next step cancels it: nothing more is sent', async () => {
      const tenant = await server.tenant();
      const id = await startWithUser(tenant, [{ channel: 'sms', timeout_seconds: 60 }, { channel: 'email' }]);
      const [sms] = await outbox(tenant, id);
      assert.ok(sms);
      await tenant.request('POST', `/v1/verifications/${id}/check`, { code: codeIn(sms.body) });
      clock.advance(120_000);
      assert.equal((await outbox(tenant, id)).length, 1);
      const view = (await tenant.request('GET', `/v1/verifications/${id}`)).json();
      assert.equal(view.deliveries[1].status, 'cancelled');
    });

    test('workflows that cannot run are refused with 422 invalid_workflow', async () => {
      const tenant = await server.tenant();
      const user = (await tenant.request('POST', '/v1/users', { phone: '+31612345678', email: 'wf@example.com' })).json();
      const cases: Array<[unknown, string]> = [
        [[{ channel: 'email', timeout_seconds: 60 }, { channel: 'sms' }], 'invalid_workflow'],
        [[{ channel: 'sms' }, { channel: 'email' }], 'invalid_workflow'],
        [[{ channel: 'sms', timeout_seconds: 400 }, { channel: 'email', timeout_seconds: 300 }, { channel: 'sms' }], 'invalid_workflow'],
      ];
      for (const [workflow, code] of cases) {
        const res = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id, workflow });
        assert.equal(res.statusCode, 422, JSON.stringify(workflow));
        assert.equal(res.json().code, code);
      }
      const raw = await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', workflow: [{ channel: 'sms', timeout_seconds: 60 }, { channel: 'email' }] });
      assert.equal(raw.statusCode, 422);
      assert.equal(raw.json().code, 'recipient_missing');
      const one = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id, workflow: [{ channel: 'sms' }] });
      assert.equal(one.statusCode, 400, 'a workflow has at least two steps');
    });
  });
}
