// Threat (SEC-44): one application (tenant) reads or changes another's users, verifications
// or messages by using their ids, or learns that an id exists. Every route must answer a
// foreign id exactly like a missing one, and leave the foreign object as it was.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { newId } from '../../src/domain/random.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { codeFromOutbox, startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const random = { bytes: (n: number) => new Uint8Array(randomBytes(n)) };

/**
 * Asserts that the answer to a foreign id and the answer to a missing id are the same 404:
 * status, code, title, type and members; the detail differs only by the id it names.
 */
function assertSameAsMissing(foreign: LightMyRequestResponse, foreignId: string, missing: LightMyRequestResponse, missingId: string, code: string, what: string): void {
  const a = assertProblem(foreign, 404, code, `${what} (foreign)`);
  const b = assertProblem(missing, 404, code, `${what} (missing)`);
  assert.equal(a.title, b.title, what);
  assert.equal(a.type, b.type, what);
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), what);
  assert.equal(a.detail.replaceAll(foreignId, '<id>'), b.detail.replaceAll(missingId, '<id>'), what);
  assert.equal(foreign.headers['content-type'], missing.headers['content-type'], what);
}

for (const dialect of dialects()) {
  describe(`${dialect}: tenant isolation`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    /** Tenant A with a user, a pending verification and its message in the outbox. */
    async function owner(): Promise<{ a: Tenant; userId: string; verificationId: string; code: string }> {
      const a = await server.tenant();
      const user = await a.request('POST', '/v1/users', { external_id: 'alice', email: 'alice@example.com', phone: '+31612345678', display_name: 'Alice' });
      assert.equal(user.statusCode, 201, user.body);
      const started = await a.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.json().id });
      assert.equal(started.statusCode, 201, started.body);
      const code = await codeFromOutbox(a, started.json().id, server.runtime.worker);
      return { a, userId: user.json().id, verificationId: started.json().id, code };
    }

    test("SEC-44 tenant isolation: another application's ids answer 404 like missing ones", async () => {
      const { a, userId, verificationId, code } = await owner();
      const b = await server.tenant();
      const userBefore = (await a.request('GET', `/v1/users/${userId}`)).json();
      const verificationBefore = (await a.request('GET', `/v1/verifications/${verificationId}`)).json();
      const outboxBefore = (await a.request('GET', '/v1/outbox')).json();
      const eventsBefore = await server.runtime.store.events.list(a.applicationId, 0, 10_000);
      assert.equal(outboxBefore.items.length, 1);

      const missingUser = newId('usr', random);
      const missingVerification = newId('vrf', random);

      // Users: read, change, delete.
      const userCases: Array<[string, string, unknown]> = [
        ['GET', '', undefined],
        ['PATCH', '', { display_name: 'Mallory', status: 'suspended' }],
        ['DELETE', '', undefined],
      ];
      for (const [method, suffix, body] of userCases) {
        const foreign = await b.request(method, `/v1/users/${userId}${suffix}`, body);
        const missing = await b.request(method, `/v1/users/${missingUser}${suffix}`, body);
        assertSameAsMissing(foreign, userId, missing, missingUser, 'user_not_found', `${method} /v1/users/:id`);
      }

      // Lookups find nothing, not the foreign user.
      for (const query of ['external_id=alice', 'email=alice%40example.com', 'phone=%2B31612345678', 'phone=%2B31%206%2012345678']) {
        const res = await b.request('GET', `/v1/users?${query}`);
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), { items: [] }, query);
      }

      // Starting a verification for the foreign user.
      for (const channel of ['sms', 'email']) {
        const foreign = await b.request('POST', '/v1/verifications', { channel, user_id: userId });
        const missing = await b.request('POST', '/v1/verifications', { channel, user_id: missingUser });
        assertSameAsMissing(foreign, userId, missing, missingUser, 'user_not_found', `POST /v1/verifications (${channel}, user_id)`);
      }

      // Verifications: read (also long-polling and the event stream), check (with the right code), cancel.
      const verificationCases: Array<[string, string, unknown]> = [
        ['GET', '', undefined],
        ['GET', '?wait=1', undefined],
        ['GET', '/stream', undefined],
        ['POST', '/check', { code }],
        ['POST', '/cancel', undefined],
      ];
      for (const [method, suffix, body] of verificationCases) {
        const foreign = await b.request(method, `/v1/verifications/${verificationId}${suffix}`, body);
        const missing = await b.request(method, `/v1/verifications/${missingVerification}${suffix}`, body);
        assertSameAsMissing(foreign, verificationId, missing, missingVerification, 'verification_not_found', `${method} /v1/verifications/:id${suffix}`);
      }

      // The outbox never shows another application's messages, whatever the filter.
      for (const query of ['', `?verification_id=${verificationId}`, '?to=%2B31612345678', '?limit=200']) {
        const res = await b.request('GET', `/v1/outbox${query}`);
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), { items: [] }, `outbox${query}`);
      }

      // The foreign objects are unchanged: same user, same pending verification with all its
      // attempts, same messages, no new events; and the owner can still use its code.
      assert.deepEqual((await a.request('GET', `/v1/users/${userId}`)).json(), userBefore);
      assert.deepEqual((await a.request('GET', `/v1/verifications/${verificationId}`)).json(), verificationBefore);
      assert.equal(verificationBefore.status, 'pending');
      assert.equal(verificationBefore.attempts_left, 3);
      assert.deepEqual((await a.request('GET', '/v1/outbox')).json(), outboxBefore);
      assert.deepEqual(await server.runtime.store.events.list(a.applicationId, 0, 10_000), eventsBefore);
      const checked = await a.request('POST', `/v1/verifications/${verificationId}/check`, { code });
      assert.equal(checked.statusCode, 200, checked.body);
      assert.equal(checked.json().status, 'approved');
    });

    test("SEC-44 tenant isolation: each application's outbox and lookups hold only its own, for the same recipient", async () => {
      const { a, userId, verificationId } = await owner();
      const b = await server.tenant();
      // B may use the same external_id and recipient: uniqueness is per application, so this reveals nothing.
      const bUser = await b.request('POST', '/v1/users', { external_id: 'alice', email: 'alice@example.com', phone: '+31612345678' });
      assert.equal(bUser.statusCode, 201, bUser.body);
      assert.notEqual(bUser.json().id, userId);
      const bStarted = await b.request('POST', '/v1/verifications', { channel: 'sms', user_id: bUser.json().id });
      assert.equal(bStarted.statusCode, 201, bStarted.body);
      await codeFromOutbox(b, bStarted.json().id, server.runtime.worker);

      const aOutbox = (await a.request('GET', '/v1/outbox?to=%2B31612345678')).json().items as Array<{ verification_id: string }>;
      const bOutbox = (await b.request('GET', '/v1/outbox?to=%2B31612345678')).json().items as Array<{ verification_id: string }>;
      assert.deepEqual(aOutbox.map((m) => m.verification_id), [verificationId]);
      assert.deepEqual(bOutbox.map((m) => m.verification_id), [bStarted.json().id]);

      for (const [tenant, own] of [[a, userId], [b, bUser.json().id]] as const) {
        for (const query of ['external_id=alice', 'email=alice%40example.com', 'phone=%2B31612345678']) {
          const items = (await tenant.request('GET', `/v1/users?${query}`)).json().items as Array<{ id: string }>;
          assert.deepEqual(items.map((u) => u.id), [own], query);
        }
      }
      // Each sees its own verification and not the other's.
      const aSeesB = await a.request('GET', `/v1/verifications/${bStarted.json().id}`);
      assertProblem(aSeesB, 404, 'verification_not_found');
      const bSeesA = await b.request('GET', `/v1/verifications/${verificationId}`);
      assertProblem(bSeesA, 404, 'verification_not_found');
    });
  });
}
