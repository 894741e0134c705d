// Application settings: GET/PATCH /v1/settings, validation naming the field and its range, the
// settings_changed event with its actor, no lost update under concurrent changes, a disabled
// application (reads work, nothing starts), and disabling a channel (its devices unpaired).
// Threats: a setting outside its safe range, a change nobody can trace, two administrators
// overwriting each other, a disabled tenant still sending, devices left on a channel turned off.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALL_SCOPES } from '../../src/domain/scopes.ts';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const PHONE = '+31612345678';
const ALL_CHANNELS = { sms: 'outbox', voice: 'outbox', email: 'outbox', push: 'devices' };

for (const dialect of dialects()) {
  describe(`${dialect}: application settings`, () => {
    let server: TestServer;
    const clock = new TestClock();
    before(async () => {
      server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    const patch = (tenant: Tenant, body: unknown) => tenant.request('PATCH', '/v1/settings', body);

    async function newUser(tenant: Tenant): Promise<string> {
      const res = await tenant.request('POST', '/v1/users', { email: 'alice@example.com', phone: PHONE });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    }

    async function settingsEvents(tenant: Tenant) {
      return (await server.runtime.store.events.forSubject(tenant.applicationId)).filter((e) => e.type === 'application.settings_changed');
    }

    test('GET shows every setting: voice and missed_call off by default, the plan, and what standard does not meet', async () => {
      const tenant = await server.tenant();
      const res = await tenant.request('GET', '/v1/settings');
      assert.equal(res.statusCode, 200, res.body);
      const s = res.json();
      assert.equal(s.enabled, true);
      assert.equal(s.plan, 'trial');
      assert.deepEqual(s.channels.sms, { enabled: true, provider: 'outbox' });
      assert.deepEqual(s.channels.voice, { enabled: false, provider: null });
      assert.deepEqual(s.channels.missed_call, { enabled: false, provider: null });
      assert.deepEqual(s.channels.push, { enabled: true, provider: 'devices' });
      assert.equal(s.ttl_seconds, 600);
      assert.equal(s.max_ttl_seconds, 1800);
      assert.equal(s.code_length, 6);
      assert.deepEqual(s.push, { user_verification: 'required', matching: 'none' });
      assert.deepEqual(s.allowed_countries, { sms: null, voice: null, missed_call: null });
      assert.deepEqual(s.usage_limits.sms, { used: 15, unused: 10 });
      assert.equal(s.daily_caps.sms, null);
      assert.equal(s.fraud.authenticator_failure_cap, 20);
      assert.deepEqual(s.fraud.recipient_failures, { max: 10, window_seconds: 3600, cool_off_seconds: 3600 });
      assert.equal(s.assurance_profile, 'standard');
      assert.equal(s.assurance.profile, 'standard');
      const rows = (s.assurance.unmet as Array<{ row: string; setting: string }>).map((u) => `${u.row}:${u.setting}`);
      assert.ok(rows.includes('SEC-20:push.matching'), rows.join(' '));
      assert.ok(rows.includes('SEC-12:assurance_profile'), rows.join(' '));
      assert.ok(!rows.some((r) => r.startsWith('SEC-02')), 'a 600 s TTL meets SEC-02');
    });

    test('settings need the admin scope', async () => {
      const tenant = await server.tenant({ scopes: ALL_SCOPES.filter((s) => s !== 'admin') });
      assertProblem(await tenant.request('GET', '/v1/settings'), 403, 'insufficient_scope');
      assertProblem(await patch(tenant, { ttl_seconds: 300 }), 403, 'insufficient_scope');
    });

    test('a value out of range is 422 invalid_setting naming the field and the allowed range; nothing changes', async () => {
      const tenant = await server.tenant();
      const cases: Array<[unknown, string, unknown]> = [
        [{ ttl_seconds: 5000 }, 'ttl_seconds', { min: 30, max: 1800 }],
        [{ max_ttl_seconds: 20 }, 'max_ttl_seconds', { min: 30, max: 1800 }],
        [{ max_ttl_seconds: 300, ttl_seconds: 600 }, 'ttl_seconds', { min: 30, max: 300 }],
        [{ code_length: 3 }, 'code_length', { min: 4, max: 10 }],
        [{ max_attempts: 11 }, 'max_attempts', { min: 1, max: 10 }],
        [{ max_devices: 0 }, 'max_devices', { min: 1, max: 20 }],
        [{ usage_limits: { sms: { used: 51 } } }, 'usage_limits.sms.used', { min: 1, max: 50 }],
        [{ usage_limits: { voice: { unused: 0 } } }, 'usage_limits.voice.unused', { min: 1, max: 50 }],
        [{ daily_caps: { sms: 0 } }, 'daily_caps.sms', { min: 1, max: 10_000_000 }],
        [{ fraud: { authenticator_failure_cap: 101 } }, 'fraud.authenticator_failure_cap', { min: 1, max: 100 }],
        [{ fraud: { push_cooldown: { window_seconds: 5 } } }, 'fraud.push_cooldown.window_seconds', { min: 60, max: 604_800 }],
      ];
      for (const [body, field, allowed] of cases) {
        const problem = assertProblem(await patch(tenant, body), 422, 'invalid_setting', JSON.stringify(body));
        assert.equal(problem['field'], field, JSON.stringify(body));
        assert.deepEqual(problem['allowed'], allowed, JSON.stringify(body));
        assert.ok(problem.detail.startsWith(`${field}:`), problem.detail);
        assert.match(problem.detail, new RegExp(`${(allowed as { min: number }).min}–${(allowed as { max: number }).max}`), problem.detail);
      }
      const country = assertProblem(await patch(tenant, { allowed_countries: { sms: ['NL', 'XX'] } }), 422, 'invalid_setting');
      assert.equal(country['field'], 'allowed_countries.sms');
      const locale = assertProblem(await patch(tenant, { default_locale: 'not a tag!' }), 422, 'invalid_setting');
      assert.equal(locale['field'], 'default_locale');
      const types = assertProblem(await patch(tenant, { fraud: { refused_number_types: ['PREMIUM_RATE', 'EXPENSIVE'] } }), 422, 'invalid_setting');
      assert.equal(types['field'], 'fraud.refused_number_types');
      // An unknown provider is refused by the provider check, naming the configured ones.
      const provider = assertProblem(await patch(tenant, { channels: { voice: { enabled: true, provider: 'nosuch' } } }), 422, 'invalid_setting');
      assert.equal(provider['field'], 'channels.voice.provider');
      assert.ok((provider['allowed'] as string[]).includes('outbox'), JSON.stringify(provider['allowed']));
      const noProvider = assertProblem(await patch(tenant, { channels: { voice: { enabled: true } } }), 422, 'invalid_setting');
      assert.equal(noProvider['field'], 'channels.voice.provider');
      // Shapes stay the schema's: a string for a number is 400.
      assertProblem(await patch(tenant, { ttl_seconds: '300' }), 400, 'invalid_request');
      assertProblem(await patch(tenant, {}), 400, 'invalid_request');
      assert.equal((await settingsEvents(tenant)).length, 0, 'nothing was changed');
      assert.equal((await tenant.request('GET', '/v1/settings')).json().ttl_seconds, 600);
    });

    test('a change is applied and recorded as application.settings_changed with the actor and each field before and after', async () => {
      const tenant = await server.tenant();
      const res = await patch(tenant, {
        ttl_seconds: 300,
        plan: 'licensed',
        channels: { voice: { enabled: true, provider: 'outbox' } },
        usage_limits: { sms: { used: 20 } },
        fraud: { recipient_failures: { max: 5 }, voip: 'deny' },
        allowed_countries: { sms: ['nl', 'BE'] },
      });
      assert.equal(res.statusCode, 200, res.body);
      const s = res.json();
      assert.equal(s.ttl_seconds, 300);
      assert.equal(s.plan, 'licensed');
      assert.deepEqual(s.channels.voice, { enabled: true, provider: 'outbox' });
      assert.deepEqual(s.usage_limits.sms, { used: 20, unused: 10 });
      assert.deepEqual(s.fraud.recipient_failures, { max: 5, window_seconds: 3600, cool_off_seconds: 3600 });
      assert.equal(s.fraud.voip, 'deny');
      assert.deepEqual(s.allowed_countries.sms, ['NL', 'BE']);
      const [event, ...more] = await settingsEvents(tenant);
      assert.equal(more.length, 0);
      assert.ok(event);
      assert.equal(event.actor, `client:${tenant.clientId}`);
      assert.equal(event.subjectType, 'application');
      const changes = event.data['changes'] as Array<{ field: string; before: unknown; after: unknown }>;
      const byField = Object.fromEntries(changes.map((c) => [c.field, c]));
      assert.deepEqual(byField['ttl_seconds'], { field: 'ttl_seconds', before: 600, after: 300 });
      assert.deepEqual(byField['plan'], { field: 'plan', before: 'trial', after: 'licensed' });
      assert.deepEqual(byField['channels.voice.enabled'], { field: 'channels.voice.enabled', before: false, after: true });
      assert.deepEqual(byField['usage_limits.sms.used'], { field: 'usage_limits.sms.used', before: 15, after: 20 });
      assert.deepEqual(byField['fraud.voip'], { field: 'fraud.voip', before: 'allow', after: 'deny' });
      assert.deepEqual(byField['allowed_countries.sms'], { field: 'allowed_countries.sms', before: null, after: ['NL', 'BE'] });
      assert.equal(byField['code_length'], undefined, 'unchanged fields are not listed');
      // The same change again changes nothing and records nothing.
      assert.equal((await patch(tenant, { ttl_seconds: 300 })).statusCode, 200);
      assert.equal((await settingsEvents(tenant)).length, 1);
      // The new settings apply: a verification without ttl_seconds lives 300 s.
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: PHONE });
      assert.equal(started.statusCode, 201, started.body);
      assert.equal(Date.parse(started.json().expires_at) - clock.now(), 300_000);
    });

    test('concurrent changes of different settings are all kept, each with its own event', async () => {
      const tenant = await server.tenant();
      const bodies = [{ ttl_seconds: 301 }, { code_length: 8 }, { max_attempts: 5 }, { max_devices: 7 }, { default_locale: 'nl' }, { fraud: { authenticator_failure_cap: 30 } }, { daily_caps: { sms: 1000 } }, { push: { matching: 'pick' } }];
      const results = await Promise.all(bodies.map((b) => patch(tenant, b)));
      for (const r of results) assert.equal(r.statusCode, 200, r.body);
      const s = (await tenant.request('GET', '/v1/settings')).json();
      assert.equal(s.ttl_seconds, 301);
      assert.equal(s.code_length, 8);
      assert.equal(s.max_attempts, 5);
      assert.equal(s.max_devices, 7);
      assert.equal(s.default_locale, 'nl');
      assert.equal(s.fraud.authenticator_failure_cap, 30);
      assert.equal(s.daily_caps.sms, 1000);
      assert.equal(s.push.matching, 'pick');
      assert.equal((await settingsEvents(tenant)).length, bodies.length);
    });

    test('a disabled application: reads work, but starts, resends and pairing answer 409 application_disabled', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const user = await newUser(tenant);
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user });
      assert.equal(started.statusCode, 201, started.body);
      const id = started.json().id as string;
      const push = await tenant.request('POST', `/v1/users/${user}/devices`, { kind: 'push' });
      assert.equal(push.statusCode, 201, push.body);
      const token = push.json().enrolment.token as string;

      assert.equal((await patch(tenant, { enabled: false })).json().enabled, false);
      assertProblem(await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user }), 409, 'application_disabled');
      assertProblem(await tenant.request('POST', '/v1/verifications', { policy: 'step-up', user_id: user }), 409, 'application_disabled');
      clock.advance(31_000);
      assertProblem(await tenant.request('POST', `/v1/verifications/${id}/resend`, {}), 409, 'application_disabled');
      assertProblem(await tenant.request('POST', `/v1/users/${user}/devices`, { kind: 'sms', mode: 'automatic' }), 409, 'application_disabled');
      assertProblem(await tenant.request('POST', `/v1/users/${user}/devices`, { kind: 'email' }), 409, 'application_disabled');
      // A push enrolment started before cannot complete either.
      const { generateKeyPairSync } = await import('node:crypto');
      const publicKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
      await assert.rejects(server.runtime.devices.enroll({ token, publicKey, transport: { type: 'stream' }, capabilities: ['pin'] }, { id: 'test', ip: null }), /disabled/);
      // Reads still work.
      const read = await tenant.request('GET', `/v1/verifications/${id}`);
      assert.equal(read.statusCode, 200, read.body);
      assert.equal(read.json().status, 'pending');
      assert.equal((await tenant.request('GET', `/v1/users/${user}/devices`)).statusCode, 200);
      assert.equal((await tenant.request('GET', '/v1/settings')).statusCode, 200);
      // Enabled again, it starts again.
      assert.equal((await patch(tenant, { enabled: true })).json().enabled, true);
      assert.equal((await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user })).statusCode, 201);
    });

    test('must-show 2: disabling voice unpairs voice devices (not sms ones), each with an event; enabling it again restores nothing', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const alice = await newUser(tenant);
      const bob = await newUser(tenant);
      const pairNow = async (user: string, kind: 'sms' | 'voice') => {
        const res = await tenant.request('POST', `/v1/users/${user}/devices`, { kind, mode: 'automatic' });
        assert.equal(res.statusCode, 201, res.body);
        return res.json().device.id as string;
      };
      const aliceVoice = await pairNow(alice, 'voice');
      const aliceSms = await pairNow(alice, 'sms');
      const bobVoice = await pairNow(bob, 'voice');
      // A voice pairing still pending goes too.
      const pending = await tenant.request('POST', `/v1/users/${bob}/devices`, { kind: 'voice', address: '+31687654321' });
      assert.equal(pending.statusCode, 201, pending.body);
      const bobPendingVoice = pending.json().device.id as string;
      const other = await server.tenant({ providers: ALL_CHANNELS });
      const carol = await newUser(other);
      const carolVoice = (await other.request('POST', `/v1/users/${carol}/devices`, { kind: 'voice', mode: 'automatic' })).json().device.id as string;

      const off = await patch(tenant, { channels: { voice: { enabled: false } } });
      assert.equal(off.statusCode, 200, off.body);
      assert.deepEqual(off.json().channels.voice, { enabled: false, provider: null });

      const kinds = async (t: Tenant, user: string) => ((await t.request('GET', `/v1/users/${user}/devices`)).json().items as Array<{ id: string; kind: string }>).map((d) => d.id);
      assert.deepEqual(await kinds(tenant, alice), [aliceSms], "alice keeps her sms device only");
      assert.deepEqual(await kinds(tenant, bob), []);
      assert.deepEqual(await kinds(other, carol), [carolVoice], 'another application is untouched');
      for (const id of [aliceVoice, bobVoice, bobPendingVoice]) {
        const unpaired = (await server.runtime.store.events.forSubject(id)).filter((e) => e.type === 'device.unpaired');
        assert.equal(unpaired.length, 1, `one device.unpaired for ${id}`);
        assert.equal(unpaired[0]?.actor, `client:${tenant.clientId}`);
      }
      assert.equal((await server.runtime.store.events.forSubject(aliceSms)).filter((e) => e.type === 'device.unpaired').length, 0);
      // Voice pairing is refused while the channel is off.
      assertProblem(await tenant.request('POST', `/v1/users/${alice}/devices`, { kind: 'voice', mode: 'automatic' }), 422, 'channel_not_enabled');

      const on = await patch(tenant, { channels: { voice: { enabled: true, provider: 'outbox' } } });
      assert.equal(on.statusCode, 200, on.body);
      assert.deepEqual(await kinds(tenant, alice), [aliceSms], 'nothing is paired back');
      assert.deepEqual(await kinds(tenant, bob), []);
      // Running the sweep again (as a restart does) finds nothing more to do.
      assert.equal(await server.runtime.settings.unpairDisabled(tenant.applicationId, 'system'), 0);
    });

    test('voice and missed_call stay off for a new application: starting on them is channel_not_enabled', async () => {
      const tenant = await server.tenant();
      assertProblem(await tenant.request('POST', '/v1/verifications', { channel: 'voice', to: PHONE }), 422, 'channel_not_enabled');
      assertProblem(await tenant.request('POST', '/v1/verifications', { channel: 'missed_call', to: PHONE }), 422, 'channel_not_enabled');
    });
  });
}
