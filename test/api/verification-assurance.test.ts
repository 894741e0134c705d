// The assurance report in every response about a verification (issue [4]: standard "says in every
// response which rows it does not meet"). Threat: a relying party that reads only the check or
// resend answer never learns that its verifications fall short of NIST (SEC-01, 02, 12, 13).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const PHONE = '+31612345678';
const ALL_CHANNELS = { sms: 'outbox', voice: 'outbox', email: 'outbox', push: 'devices' };

interface Assurance {
  profile: string;
  unmet: Array<{ row: string; requirement: string; setting: string }>;
  restricted: boolean;
  alternative_required: boolean | null;
}

for (const dialect of dialects()) {
  describe(`${dialect}: the assurance report in every verification response`, () => {
    let server: TestServer;
    const clock = new TestClock();
    before(async () => {
      server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    async function newUser(tenant: Tenant): Promise<string> {
      const res = await tenant.request('POST', '/v1/users', { phone: PHONE });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    }

    /** A code that is not `code`, of the same shape. */
    const wrong = (code: string) => code.replace(/^./, (c) => (c === '0' ? '1' : '0'));

    /** The `status` events of a verification's SSE stream (it ends by itself once the verification is final). */
    async function streamed(tenant: Tenant, id: string): Promise<Array<Record<string, unknown>>> {
      const res = await tenant.request('GET', `/v1/verifications/${id}/stream`);
      assert.equal(res.statusCode, 200, res.body);
      return [...res.body.matchAll(/^event: status\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
    }

    test('standard: start, read, check, resend, cancel and the stream all carry the same report', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const user = await newUser(tenant);
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user, ttl_seconds: 1800, code_length: 4, return_code: true });
      assert.equal(started.statusCode, 201, started.body);
      const expected = started.json().assurance as Assurance;
      assert.equal(expected.profile, 'standard');
      assert.deepEqual(expected.unmet.map((u) => u.row).sort(), ['SEC-01', 'SEC-02', 'SEC-12']);
      assert.equal(expected.restricted, true);
      assert.equal(expected.alternative_required, true, 'a phone-only user');
      const id = started.json().id as string;

      const checked = await tenant.request('POST', `/v1/verifications/${id}/check`, { code: wrong(started.json().code) });
      assert.equal(checked.statusCode, 200, checked.body);
      assert.deepEqual(checked.json().assurance, expected, 'check');
      clock.advance(31_000);
      const resent = await tenant.request('POST', `/v1/verifications/${id}/resend`, {});
      assert.equal(resent.statusCode, 200, resent.body);
      assert.deepEqual(resent.json().assurance, expected, 'resend');
      assert.deepEqual((await tenant.request('GET', `/v1/verifications/${id}`)).json().assurance, expected, 'read');
      const cancelled = await tenant.request('POST', `/v1/verifications/${id}/cancel`);
      assert.equal(cancelled.statusCode, 200, cancelled.body);
      assert.equal(cancelled.json().status, 'cancelled');
      assert.deepEqual(cancelled.json().assurance, expected, 'cancel');
      const [event] = await streamed(tenant, id);
      assert.equal(event?.['status'], 'cancelled');
      assert.deepEqual(event?.['assurance'], expected, 'stream');
    });

    test('nist: every response says nist and lists nothing unmet; e-mail confirmation is not restricted', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      assert.equal((await tenant.request('PATCH', '/v1/settings', { assurance_profile: 'nist', push: { matching: 'type' } })).statusCode, 200);
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'email', to: 'carol@example.com', purpose: 'confirm_contact', return_code: true });
      assert.equal(started.statusCode, 201, started.body);
      const expected: Assurance = { profile: 'nist', unmet: [], restricted: false, alternative_required: false };
      assert.deepEqual(started.json().assurance, expected);
      const id = started.json().id as string;
      assert.deepEqual((await tenant.request('POST', `/v1/verifications/${id}/check`, { code: wrong(started.json().code) })).json().assurance, expected);
      assert.deepEqual((await tenant.request('POST', `/v1/verifications/${id}/cancel`)).json().assurance, expected);
      assert.deepEqual((await streamed(tenant, id))[0]?.['assurance'], expected);
    });
  });
}
