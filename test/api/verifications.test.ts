import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { codeFromOutbox, startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

function wrongCode(code: string): string {
  return code.replace(/^./, (d) => String((Number(d) + 1) % 10));
}

async function eventTypes(server: TestServer, verificationId: string): Promise<string[]> {
  return (await server.runtime.store.events.forSubject(verificationId)).map((e) => e.type);
}

async function start(tenant: Tenant, body: Record<string, unknown> = {}) {
  const res = await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', ...body });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as { id: string; status: string; attempts_left: number; expires_at: string; code?: string };
}

for (const dialect of dialects()) {
  describe(`${dialect}: verifications`, () => {
    let server: TestServer;
    const clock = new TestClock();
    before(async () => {
      server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    test('SEC-02 a code is invalid once its TTL has passed; TTL above the maximum is refused', async () => {
      const tenant = await server.tenant();
      const v = await start(tenant);
      const code = await codeFromOutbox(tenant, v.id, server.runtime.worker);
      assert.equal(new Date(v.expires_at).getTime() - clock.now(), 600_000, 'default TTL is 600 s');
      clock.advance(600_000 + 1000);
      const late = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code });
      assert.equal(late.statusCode, 409);
      assert.equal(late.json().code, 'verification_expired');
      assert.equal((await tenant.request('GET', `/v1/verifications/${v.id}`)).json().status, 'expired');
      const events = await eventTypes(server, v.id);
      assert.ok(!events.includes('verification.approved'));
      assert.ok(events.includes('verification.expired'));
      const tooLong = await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', ttl_seconds: 1801 });
      assert.equal(tooLong.statusCode, 400);
      assert.equal(tooLong.json().code, 'invalid_request');
    });

    test('the sweeper records expiry of verifications nobody reads', async () => {
      const tenant = await server.tenant();
      const v = await start(tenant, { ttl_seconds: 60 });
      clock.advance(61_000);
      const expired = await server.runtime.verifications.expireOverdue(1000);
      assert.ok(expired >= 1);
      const row = await server.runtime.store.verifications.byId(tenant.applicationId, v.id);
      assert.equal(row?.status, 'expired');
      assert.deepEqual((await eventTypes(server, v.id)).filter((t) => t === 'verification.expired'), ['verification.expired']);
    });

    test('SEC-03 a code is accepted once: a second check of an approved verification answers 409', async () => {
      const tenant = await server.tenant();
      const v = await start(tenant);
      const code = await codeFromOutbox(tenant, v.id, server.runtime.worker);
      assert.equal((await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code })).json().status, 'approved');
      const again = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code });
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().code, 'verification_not_pending');
      assert.equal(again.json().verification_status, 'approved');
      assert.equal((await tenant.request('GET', `/v1/verifications/${v.id}`)).json().status, 'approved');
      assert.deepEqual((await eventTypes(server, v.id)).filter((t) => t === 'verification.approved'), ['verification.approved']);
    });

    test('SEC-04 a code is bound to its verification, also across tenants', async () => {
      const tenant = await server.tenant();
      const a = await start(tenant);
      const b = await start(tenant);
      const codeA = await codeFromOutbox(tenant, a.id, server.runtime.worker);
      const codeB = await codeFromOutbox(tenant, b.id, server.runtime.worker);
      if (codeA !== codeB) {
        const onB = await tenant.request('POST', `/v1/verifications/${b.id}/check`, { code: codeA });
        assert.equal(onB.json().valid, false);
        assert.equal(onB.json().attempts_left, 2, "A's code counts as a failed attempt on B");
      }
      const other = await server.tenant();
      const foreign = await other.request('POST', `/v1/verifications/${a.id}/check`, { code: codeA });
      assert.equal(foreign.statusCode, 404);
      assert.equal((await tenant.request('POST', `/v1/verifications/${a.id}/check`, { code: codeA })).json().status, 'approved');
    });

    test('SEC-05 after the last wrong attempt even the right code fails', async () => {
      const tenant = await server.tenant();
      const v = await start(tenant);
      const code = await codeFromOutbox(tenant, v.id, server.runtime.worker);
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push((await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code: wrongCode(code) })).json());
      assert.deepEqual(
        answers.map((a) => [a.status, a.attempts_left, a.valid]),
        [
          ['pending', 2, false],
          ['pending', 1, false],
          ['failed', 0, false],
        ],
      );
      const right = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code });
      assert.equal(right.statusCode, 409);
      assert.equal(right.json().code, 'max_attempts_reached');
      assert.equal((await tenant.request('GET', `/v1/verifications/${v.id}`)).json().reason, 'max_attempts');
      assert.deepEqual((await eventTypes(server, v.id)).filter((t) => t === 'verification.failed'), ['verification.failed']);
    });

    test('SEC-10 50 parallel right checks approve exactly once', async () => {
      const tenant = await server.tenant();
      const v = await start(tenant);
      const code = await codeFromOutbox(tenant, v.id, server.runtime.worker);
      const results = await Promise.all(Array.from({ length: 50 }, () => tenant.request('POST', `/v1/verifications/${v.id}/check`, { code })));
      const statuses = results.map((r) => r.statusCode);
      assert.equal(statuses.filter((s) => s === 200).length, 1, `one approval: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 409).length, 49);
      assert.deepEqual((await eventTypes(server, v.id)).filter((t) => t === 'verification.approved'), ['verification.approved']);
    });

    test('SEC-10 50 parallel wrong checks count exactly the attempts allowed', async () => {
      const tenant = await server.tenant();
      const v = await start(tenant);
      const code = await codeFromOutbox(tenant, v.id, server.runtime.worker);
      const results = await Promise.all(
        Array.from({ length: 50 }, () => tenant.request('POST', `/v1/verifications/${v.id}/check`, { code: wrongCode(code) })),
      );
      const counted = results.filter((r) => r.statusCode === 200);
      assert.equal(counted.length, 3, 'exactly max_attempts checks are counted');
      assert.ok(results.every((r) => r.statusCode === 200 || (r.statusCode === 409 && r.json().code === 'max_attempts_reached')));
      const row = await server.runtime.store.verifications.byId(tenant.applicationId, v.id);
      assert.equal(row?.attempts, 3);
      assert.equal(row?.status, 'failed');
      assert.equal((await eventTypes(server, v.id)).filter((t) => t === 'verification.check_failed').length, 3);
    });

    test('cancel ends a pending verification; a check afterwards answers 409', async () => {
      const tenant = await server.tenant();
      const v = await start(tenant);
      const cancelled = await tenant.request('POST', `/v1/verifications/${v.id}/cancel`);
      assert.equal(cancelled.statusCode, 200, cancelled.body);
      assert.equal(cancelled.json().status, 'cancelled');
      const check = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code: '123456' });
      assert.equal(check.statusCode, 409);
      assert.equal(check.json().verification_status, 'cancelled');
      assert.equal((await tenant.request('POST', `/v1/verifications/${v.id}/cancel`)).statusCode, 409);
    });

    test('return_code returns the code once, only with the verifications:code scope', async () => {
      const withScope = await server.tenant();
      const v = await start(withScope, { return_code: true, code_length: 8 });
      assert.match(v.code ?? '', /^\d{8}$/);
      assert.equal((await withScope.request('GET', `/v1/verifications/${v.id}`)).json().code, undefined);
      assert.equal((await withScope.request('POST', `/v1/verifications/${v.id}/check`, { code: v.code })).json().status, 'approved');
      const without = await server.tenant({ scopes: ['verifications:write', 'verifications:read'] });
      const refused = await without.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', return_code: true });
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json().code, 'return_code_not_allowed');
      const plain = await start(withScope);
      assert.equal(plain.code, undefined);
    });
  });

  describe(`${dialect}: long-poll`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    test('a long-poll started before the check answers with the new status as soon as the check commits', async (t) => {
      const tenant = await server.tenant();
      const v = await start(tenant);
      const code = await codeFromOutbox(tenant, v.id, server.runtime.worker);
      let answeredAt = 0;
      const poll = tenant.request('GET', `/v1/verifications/${v.id}?wait=10`).then((r) => {
        answeredAt = performance.now();
        return r;
      });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(answeredAt, 0, 'still waiting while pending');
      const checked = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code });
      const checkedAt = performance.now();
      const res = await poll;
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().status, 'approved');
      assert.equal(checked.json().status, 'approved');
      // Reported, not asserted: these machines are noisy.
      t.diagnostic(`long-poll answered ${(answeredAt - checkedAt).toFixed(2)} ms after the check's response (${dialect})`);
    });

    test('a long-poll with nothing happening answers after its wait with the current state', async () => {
      const tenant = await server.tenant();
      const v = await start(tenant);
      const res = await tenant.request('GET', `/v1/verifications/${v.id}?wait=1`);
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().status, 'pending');
    });

    test('a long-poll answers when the verification expires during the wait', async () => {
      const tenant = await server.tenant();
      const v = await start(tenant, { ttl_seconds: 30 });
      // Move the row's expiry close, as if 29 s had passed.
      const row = await server.runtime.store.verifications.byId(tenant.applicationId, v.id);
      assert.ok(row);
      await server.runtime.store.commit({
        writes: [{ kind: 'verification.update', verification: { ...row, expiresAt: Date.now() + 300, version: row.version + 1 }, before: row }],
      });
      const res = await tenant.request('GET', `/v1/verifications/${v.id}?wait=10`);
      assert.equal(res.json().status, 'expired');
    });
  });
}

if (dialects().includes('postgres')) {
  describe('postgres: two nodes on one database', () => {
    test('a long-poll on node A wakes when node B approves (LISTEN/NOTIFY)', async (t) => {
      const a = await startTestServer({ dialect: 'postgres', env: { OUTBAND_WORKERS: 'false' } });
      t.after(() => a.close());
      const b = await startTestServer({ database: a.database, env: { OUTBAND_WORKERS: 'false' } });
      t.after(() => b.close());
      const tenant = await a.tenant();
      const v = await start(tenant);
      const code = await codeFromOutbox(tenant, v.id, a.runtime.worker);
      let answeredAt = 0;
      const poll = tenant.request('GET', `/v1/verifications/${v.id}?wait=10`).then((r) => {
        answeredAt = performance.now();
        return r;
      });
      await new Promise((r) => setTimeout(r, 100));
      // The same tenant's token verifies on node B: both nodes share the signing keys.
      const onB = await b.runtime.app.inject({
        method: 'POST',
        url: `/v1/verifications/${v.id}/check`,
        headers: { authorization: `Bearer ${tenant.token}` },
        payload: { code },
      });
      const checkedAt = performance.now();
      assert.equal(onB.json().status, 'approved', onB.body);
      const res = await poll;
      assert.equal(res.json().status, 'approved');
      t.diagnostic(`node A's long-poll answered ${(answeredAt - checkedAt).toFixed(2)} ms after node B's check`);
    });
  });
}
