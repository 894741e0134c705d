// Named verification policies (built-ins, own ones, override rules, refusal when saved) and the
// nist assurance profile (SEC-12, SEC-13 and the rows it enforces), with standard's report.
// Threats: a relying party loosening a policy per request, a policy or setting that silently
// breaks the assurance an operator chose, a phone number that authenticates before it was
// confirmed, users not told that SMS is a restricted authenticator.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const PHONE = '+31612345678';
const ALL_CHANNELS = { sms: 'outbox', voice: 'outbox', email: 'outbox', push: 'devices' };
/** What switching to nist needs besides the profile: push requests carry a typed code. */
const NIST = { assurance_profile: 'nist', push: { matching: 'type' } };

for (const dialect of dialects()) {
  describe(`${dialect}: policies and the assurance profile`, () => {
    let server: TestServer;
    const clock = new TestClock();
    before(async () => {
      server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    const start = (tenant: Tenant, body: unknown) => tenant.request('POST', '/v1/verifications', body);
    const put = (tenant: Tenant, name: string, body: unknown) => tenant.request('PUT', `/v1/policies/${name}`, body);

    async function newUser(tenant: Tenant, body: Record<string, unknown> = { email: 'alice@example.com', phone: PHONE }): Promise<string> {
      const res = await tenant.request('POST', '/v1/users', body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    }

    /** A paired push authenticator of the user, enrolled as the authenticator app would. */
    async function pushDevice(tenant: Tenant, user: string): Promise<string> {
      const res = await tenant.request('POST', `/v1/users/${user}/devices`, { kind: 'push' });
      assert.equal(res.statusCode, 201, res.body);
      const publicKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
      const device = await server.runtime.devices.enroll({ token: res.json().enrolment.token, publicKey, transport: { type: 'stream' }, capabilities: ['pin'] }, { id: 'test', ip: null });
      return device.id;
    }

    async function pairNow(tenant: Tenant, user: string, kind: 'sms' | 'voice', address?: string): Promise<string> {
      const res = await tenant.request('POST', `/v1/users/${user}/devices`, { kind, mode: 'automatic', ...(address === undefined ? {} : { address }) });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().device.id as string;
    }

    async function nistTenant(): Promise<Tenant> {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const res = await tenant.request('PATCH', '/v1/settings', NIST);
      assert.equal(res.statusCode, 200, res.body);
      return tenant;
    }

    describe('policies', () => {
      test('the built-in policies are listed, read-only, and verify-caller pushes to the primary push device', async () => {
        const tenant = await server.tenant({ providers: ALL_CHANNELS });
        const list = await tenant.request('GET', '/v1/policies');
        assert.equal(list.statusCode, 200, list.body);
        const byName = Object.fromEntries((list.json().items as Array<{ name: string; built_in: boolean; policy: Record<string, unknown> }>).map((p) => [p.name, p]));
        assert.equal(byName['verify-caller']?.built_in, true);
        assert.deepEqual(byName['verify-caller']?.policy, {
          channel: 'push',
          device: 'primary',
          ttl_seconds: 120,
          user_verification: 'required',
          matching: 'pick',
          purpose: 'caller_verification',
          overridable: [],
        });
        assert.equal(byName['step-up']?.built_in, true);
        assert.equal(byName['step-up']?.policy['ttl_seconds'], 120);
        assertProblem(await tenant.request('DELETE', '/v1/policies/step-up'), 409, 'policy_built_in');
        assertProblem(await tenant.request('GET', '/v1/policies/nosuch'), 404, 'policy_not_found');

        const user = await newUser(tenant);
        const first = await pushDevice(tenant, user);
        await pushDevice(tenant, user);
        const res = await start(tenant, { policy: 'verify-caller', user_id: user });
        assert.equal(res.statusCode, 201, res.body);
        const v = res.json();
        assert.equal(v.channel, 'push');
        assert.equal(v.purpose, 'caller_verification');
        assert.equal(v.device_id, first, 'the primary push device only');
        assert.equal(v.push.matching, 'pick');
        assert.equal(v.push.user_verification, 'required');
        assert.match(v.match_number, /^\d\d$/);
        assert.equal(Date.parse(v.expires_at) - clock.now(), 120_000);
        // The policy fixes what it sets.
        const override = assertProblem(await start(tenant, { policy: 'verify-caller', user_id: user, matching: 'none' }), 422, 'policy_override_not_allowed');
        assert.equal(override['field'], 'matching');
        assertProblem(await start(tenant, { policy: 'verify-caller', user_id: user, ttl_seconds: 300 }), 422, 'policy_override_not_allowed');
        assertProblem(await start(tenant, { policy: 'verify-caller', user_id: user, device_id: first }), 422, 'policy_override_not_allowed');
        // step-up lets matching be chosen per request.
        const stepUp = await start(tenant, { policy: 'step-up', user_id: user, matching: 'type' });
        assert.equal(stepUp.statusCode, 201, stepUp.body);
        assert.equal(stepUp.json().push.matching, 'type');
        assert.equal(stepUp.json().purpose, 'authentication');
        assertProblem(await start(tenant, { policy: 'nosuch', user_id: user }), 404, 'policy_not_found');
        assertProblem(await start(tenant, { user_id: user }), 400, 'invalid_request');
      });

      test('an own policy: saved, listed, used by a start, overridable only where it says; deleted', async () => {
        const tenant = await server.tenant({ providers: ALL_CHANNELS });
        const body = { channel: 'sms', ttl_seconds: 300, code_length: 8, max_attempts: 2, purpose: 'transaction', overridable: ['ttl_seconds'] };
        const saved = await put(tenant, 'payment', body);
        assert.equal(saved.statusCode, 200, saved.body);
        assert.deepEqual(saved.json().policy, body);
        assert.equal(saved.json().built_in, false);
        const names = ((await tenant.request('GET', '/v1/policies')).json().items as Array<{ name: string }>).map((p) => p.name);
        assert.deepEqual(names, ['payment', 'step-up', 'verify-caller']);
        const event = (await server.runtime.store.events.forSubject(tenant.applicationId)).find((e) => e.type === 'application.policy_saved');
        assert.equal(event?.actor, `client:${tenant.clientId}`);

        const v = await start(tenant, { policy: 'payment', to: PHONE, return_code: true });
        assert.equal(v.statusCode, 201, v.body);
        assert.equal(v.json().channel, 'sms');
        assert.equal(v.json().purpose, 'transaction');
        assert.equal(v.json().code.length, 8);
        assert.equal(v.json().attempts_left, 2);
        assert.equal(Date.parse(v.json().expires_at) - clock.now(), 300_000);
        const shorter = await start(tenant, { policy: 'payment', to: PHONE, ttl_seconds: 60 });
        assert.equal(shorter.statusCode, 201, shorter.body);
        assert.equal(Date.parse(shorter.json().expires_at) - clock.now(), 60_000);
        const refused = assertProblem(await start(tenant, { policy: 'payment', to: PHONE, code_length: 4 }), 422, 'policy_override_not_allowed');
        assert.equal(refused['field'], 'code_length');
        // The same value is no override.
        assert.equal((await start(tenant, { policy: 'payment', to: PHONE, channel: 'sms' })).statusCode, 201);
        // A field the policy does not set is the request's own.
        assert.equal((await start(tenant, { policy: 'payment', to: PHONE, locale: 'nl' })).json().locale, 'nl');

        assert.equal((await tenant.request('DELETE', '/v1/policies/payment')).statusCode, 204);
        assertProblem(await tenant.request('GET', '/v1/policies/payment'), 404, 'policy_not_found');
        assertProblem(await tenant.request('DELETE', '/v1/policies/payment'), 404, 'policy_not_found');
      });

      test('an own policy under a built-in name replaces it for the application; deleting it brings the built-in back', async () => {
        const tenant = await server.tenant({ providers: ALL_CHANNELS });
        const saved = await put(tenant, 'step-up', { channel: 'push', ttl_seconds: 60, matching: 'type' });
        assert.equal(saved.statusCode, 200, saved.body);
        assert.equal(saved.json().replaces_built_in, true);
        assert.equal((await tenant.request('GET', '/v1/policies/step-up')).json().policy.ttl_seconds, 60);
        assert.equal((await tenant.request('DELETE', '/v1/policies/step-up')).statusCode, 204);
        const back = (await tenant.request('GET', '/v1/policies/step-up')).json();
        assert.equal(back.built_in, true);
        assert.equal(back.policy.ttl_seconds, 120);
      });

      test('a policy the settings forbid is refused when saved', async () => {
        const tenant = await server.tenant();
        const voice = assertProblem(await put(tenant, 'call-me', { channel: 'voice' }), 422, 'not_permitted_by_settings');
        assert.equal(voice['field'], 'channel');
        const workflow = assertProblem(await put(tenant, 'fallback', { workflow: [{ channel: 'sms', timeout_seconds: 60 }, { channel: 'voice' }] }), 422, 'not_permitted_by_settings');
        assert.equal(workflow['field'], 'workflow[1].channel');
        assert.equal((await tenant.request('PATCH', '/v1/settings', { max_ttl_seconds: 600 })).statusCode, 200);
        const ttl = assertProblem(await put(tenant, 'slow', { channel: 'sms', ttl_seconds: 900 }), 422, 'not_permitted_by_settings');
        assert.equal(ttl['field'], 'ttl_seconds');
        // And a start above max_ttl_seconds likewise.
        assertProblem(await start(tenant, { channel: 'sms', to: PHONE, ttl_seconds: 900 }), 422, 'not_permitted_by_settings');
        // Inconsistent policies.
        assertProblem(await put(tenant, 'bad', { channel: 'sms', matching: 'type' }), 422, 'invalid_policy');
        assertProblem(await put(tenant, 'bad', { channel: 'push', code_length: 6 }), 422, 'invalid_policy');
        assertProblem(await put(tenant, 'bad', { ttl_seconds: 60 }), 422, 'invalid_policy');
        assertProblem(await put(tenant, 'bad', { channel: 'sms', overridable: ['nonsense'] }), 400, 'invalid_request');
        assertProblem(await put(tenant, 'Bad Name', { channel: 'sms' }), 422, 'invalid_policy');
      });
    });

    describe('assurance profile', () => {
      test('switching to nist with settings that break it is 422 not_conformant listing the rows', async () => {
        const tenant = await server.tenant({ providers: ALL_CHANNELS });
        assert.equal((await tenant.request('PATCH', '/v1/settings', { ttl_seconds: 1200, code_length: 4 })).statusCode, 200);
        const problem = assertProblem(await tenant.request('PATCH', '/v1/settings', { assurance_profile: 'nist' }), 422, 'not_conformant');
        const rows = (problem['unmet'] as Array<{ row: string; setting: string }>).map((u) => `${u.row}:${u.setting}`).sort();
        assert.deepEqual(rows, ['SEC-01:code_length', 'SEC-02:ttl_seconds', 'SEC-20:push.matching']);
        assert.equal((await tenant.request('GET', '/v1/settings')).json().assurance_profile, 'standard', 'nothing changed');
        // A saved policy that nist would break blocks the switch too.
        assert.equal((await put(tenant, 'email-login', { channel: 'email' })).statusCode, 200);
        const withPolicy = assertProblem(await tenant.request('PATCH', '/v1/settings', { ...NIST, ttl_seconds: 600, code_length: 6 }), 422, 'not_conformant');
        assert.deepEqual((withPolicy['unmet'] as Array<{ row: string; setting: string }>).map((u) => `${u.row}:${u.setting}`), ['SEC-16:policies.email-login.channel']);
        assert.equal((await tenant.request('DELETE', '/v1/policies/email-login')).statusCode, 204);
        const ok = await tenant.request('PATCH', '/v1/settings', { ...NIST, ttl_seconds: 600, code_length: 6 });
        assert.equal(ok.statusCode, 200, ok.body);
        assert.deepEqual(ok.json().assurance, { profile: 'nist', unmet: [] });
        // Under nist, a change that breaks it is refused.
        const later = assertProblem(await tenant.request('PATCH', '/v1/settings', { code_length: 5 }), 422, 'not_conformant');
        assert.equal((later['unmet'] as Array<{ row: string }>)[0]?.row, 'SEC-01');
      });

      test('nist: authentication starts that break a row are 422 not_conformant; other purposes pass', async () => {
        const tenant = await nistTenant();
        const user = await newUser(tenant);
        await pairNow(tenant, user, 'sms');
        const rowOf = async (body: unknown) => ((assertProblem(await start(tenant, body), 422, 'not_conformant', JSON.stringify(body))['unmet'] as Array<{ row: string }>)[0]?.row);
        assert.equal(await rowOf({ channel: 'sms', user_id: user, ttl_seconds: 601 }), 'SEC-02');
        assert.equal(await rowOf({ channel: 'sms', user_id: user, code_length: 5 }), 'SEC-01');
        assert.equal(await rowOf({ channel: 'email', user_id: user }), 'SEC-16');
        assert.equal(await rowOf({ channel: 'push', user_id: user, matching: 'pick' }), 'SEC-20');
        assert.equal(await rowOf({ channel: 'sms', user_id: user, workflow: [{ channel: 'sms', timeout_seconds: 60 }, { channel: 'email' }] }), 'SEC-16');
        assert.equal((await start(tenant, { channel: 'sms', user_id: user, ttl_seconds: 600 })).statusCode, 201);
        assert.equal((await start(tenant, { channel: 'email', user_id: user, purpose: 'confirm_contact' })).statusCode, 201);
        assert.equal((await start(tenant, { channel: 'sms', to: PHONE, purpose: 'transaction', ttl_seconds: 900 })).statusCode, 201);
        // A policy nist would break is refused when saved; a conformant one is kept.
        assertProblem(await put(tenant, 'weak', { channel: 'sms', code_length: 4 }), 422, 'not_conformant');
        assertProblem(await put(tenant, 'mail', { channel: 'email', purpose: 'authentication' }), 422, 'not_conformant');
        assert.equal((await put(tenant, 'mail', { channel: 'email', purpose: 'confirm_contact' })).statusCode, 200);
        // step-up takes the application's matching default, type, under nist.
        await pushDevice(tenant, user);
        const stepUp = await start(tenant, { policy: 'step-up', user_id: user });
        assert.equal(stepUp.statusCode, 201, stepUp.body);
        assert.equal(stepUp.json().push.matching, 'type');
        assert.deepEqual(stepUp.json().assurance.unmet, []);
      });

      test('SEC-12: under nist an authentication SMS to a number not confirmed on the user is 422; once paired it is sent', async () => {
        const tenant = await nistTenant();
        const user = await newUser(tenant);
        assertProblem(await start(tenant, { channel: 'sms', user_id: user }), 422, 'recipient_not_confirmed');
        assertProblem(await start(tenant, { channel: 'voice', user_id: user }), 422, 'recipient_not_confirmed');
        assertProblem(await start(tenant, { channel: 'sms', to: PHONE }), 422, 'recipient_not_confirmed');
        // Another number paired is not this one.
        await pairNow(tenant, user, 'sms', '+31687654321');
        assertProblem(await start(tenant, { channel: 'sms', user_id: user }), 422, 'recipient_not_confirmed');
        // Confirming a contact is what it is for, and needs no confirmed number.
        assert.equal((await start(tenant, { channel: 'sms', user_id: user, purpose: 'confirm_contact' })).statusCode, 201);
        await pairNow(tenant, user, 'sms');
        const ok = await start(tenant, { channel: 'sms', user_id: user });
        assert.equal(ok.statusCode, 201, ok.body);
        assert.equal((await start(tenant, { channel: 'voice', user_id: user })).statusCode, 201, 'the number confirmed by SMS serves voice too');
        // Under standard the same start is allowed, and reported.
        const standard = await server.tenant({ providers: ALL_CHANNELS });
        const bob = await newUser(standard);
        const loose = await start(standard, { channel: 'sms', user_id: bob });
        assert.equal(loose.statusCode, 201, loose.body);
        assert.ok((loose.json().assurance.unmet as Array<{ row: string }>).some((u) => u.row === 'SEC-12'));
      });

      test('SEC-13: GET /v1/channels marks sms and voice restricted with a risk notice; deny switches them off for authentication; a phone-only user gets alternative_required', async () => {
        const tenant = await server.tenant({ providers: ALL_CHANNELS });
        const res = await tenant.request('GET', '/v1/channels');
        assert.equal(res.statusCode, 200, res.body);
        const channels = Object.fromEntries((res.json().items as Array<{ channel: string; restricted: boolean; notice: string | null; enabled: boolean }>).map((c) => [c.channel, c]));
        for (const c of ['sms', 'voice']) {
          assert.equal(channels[c]?.restricted, true, c);
          assert.match(channels[c]?.notice ?? '', /restricted authenticator/, c);
        }
        for (const c of ['email', 'push', 'missed_call']) assert.equal(channels[c]?.restricted, false, c);
        assert.equal(channels['missed_call']?.enabled, false);

        const phoneOnly = await newUser(tenant, { phone: PHONE });
        const sms = await start(tenant, { channel: 'sms', user_id: phoneOnly });
        assert.equal(sms.statusCode, 201, sms.body);
        assert.equal(sms.json().assurance.restricted, true);
        assert.equal(sms.json().assurance.alternative_required, true);
        const read = (await tenant.request('GET', `/v1/verifications/${sms.json().id}`)).json();
        assert.equal(read.assurance.alternative_required, true);
        assert.equal(read.assurance.profile, 'standard');
        await pushDevice(tenant, phoneOnly);
        assert.equal((await start(tenant, { channel: 'sms', user_id: phoneOnly })).json().assurance.alternative_required, false, 'push is the alternative');

        for (const profile of [{}, NIST]) {
          const strict = await server.tenant({ providers: ALL_CHANNELS });
          assert.equal((await strict.request('PATCH', '/v1/settings', { ...profile, restricted_authenticators: 'deny' })).statusCode, 200);
          const user = await newUser(strict);
          await pairNow(strict, user, 'sms');
          assertProblem(await start(strict, { channel: 'sms', user_id: user }), 422, 'channel_not_permitted');
          assertProblem(await start(strict, { channel: 'voice', user_id: user }), 422, 'channel_not_permitted');
          assert.equal((await start(strict, { channel: 'sms', user_id: user, purpose: 'confirm_contact' })).statusCode, 201);
          assertProblem(await put(strict, 'sms-login', { channel: 'sms' }), 422, 'not_permitted_by_settings');
        }
      });

      test('standard reports the rows a verification does not meet; nist reports none', async () => {
        const tenant = await server.tenant({ providers: ALL_CHANNELS });
        const res = await start(tenant, { channel: 'sms', to: PHONE, ttl_seconds: 1800, code_length: 4 });
        assert.equal(res.statusCode, 201, res.body);
        const rows = (res.json().assurance.unmet as Array<{ row: string }>).map((u) => u.row).sort();
        assert.deepEqual(rows, ['SEC-01', 'SEC-02', 'SEC-12']);
        assert.equal(res.json().assurance.alternative_required, null, 'no user to know of');
        const read = await tenant.request('GET', `/v1/verifications/${res.json().id}`);
        assert.deepEqual(read.json().assurance.unmet, res.json().assurance.unmet);
        const email = await start(tenant, { channel: 'email', to: 'bob@example.com' });
        assert.deepEqual((email.json().assurance.unmet as Array<{ row: string }>).map((u) => u.row), ['SEC-16']);
      });
    });
  });
}
