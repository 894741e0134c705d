// Binding a phone number to a user (SEC-12) and one number serving several users (SEC-30).
// Threats: an attacker with the relying party's session (or a support agent talked into it)
// moves a victim's number to their own phone, with no prior authentication and nobody told;
// an approval replayed to authorise a second change; one number bound to hundreds of accounts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const PHONE = '+31612345678';
const NEW_PHONE = '+31687654321';
const OTHER_PHONE = '+31611112222';
const ALL_CHANNELS = { sms: 'outbox', voice: 'outbox', email: 'outbox', push: 'devices' };
/** What switching to nist needs besides the profile: push requests carry a typed code. */
const NIST = { assurance_profile: 'nist', push: { matching: 'type' } };

interface BoundEvent {
  type: string;
  actor: string;
  data: { user_id: string; channel: string; address: string; previous: string | null; step_up_verification_id: string | null };
}

for (const dialect of dialects()) {
  describe(`${dialect}: binding phone numbers to users`, () => {
    let server: TestServer;
    const clock = new TestClock();
    before(async () => {
      server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    async function newUser(tenant: Tenant, body: Record<string, unknown> = { email: 'alice@example.com', phone: PHONE }): Promise<string> {
      const res = await tenant.request('POST', '/v1/users', body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    }

    async function pairNow(tenant: Tenant, user: string, kind: 'sms' | 'voice' | 'email', address?: string) {
      return tenant.request('POST', `/v1/users/${user}/devices`, { kind, mode: 'automatic', ...(address === undefined ? {} : { address }) });
    }

    async function nistTenant(): Promise<Tenant> {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const res = await tenant.request('PATCH', '/v1/settings', NIST);
      assert.equal(res.statusCode, 200, res.body);
      return tenant;
    }

    /** A nist user with a paired sms authenticator on PHONE: what a step-up authenticates with. */
    async function nistUser(tenant: Tenant): Promise<string> {
      const user = await newUser(tenant);
      const paired = await pairNow(tenant, user, 'sms');
      assert.equal(paired.statusCode, 201, paired.body);
      return user;
    }

    /** An approved authentication of the user on their paired number: the step-up. */
    async function stepUp(tenant: Tenant, user: string, body: Record<string, unknown> = {}): Promise<string> {
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user, return_code: true, ...body });
      assert.equal(started.statusCode, 201, started.body);
      const checked = await tenant.request('POST', `/v1/verifications/${started.json().id}/check`, { code: started.json().code });
      assert.equal(checked.json().status, 'approved', checked.body);
      return started.json().id as string;
    }

    const changePhone = (tenant: Tenant, user: string, phone: string, stepUpId?: string) =>
      tenant.request('PATCH', `/v1/users/${user}`, { phone, ...(stepUpId === undefined ? {} : { step_up_verification_id: stepUpId }) });

    async function bound(tenant: Tenant): Promise<BoundEvent[]> {
      const res = await tenant.request('GET', '/v1/events?types=authenticator.bound');
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items as BoundEvent[];
    }

    /** The security notices about a user, as the development outbox received them. */
    async function notices(tenant: Tenant, user: string): Promise<Array<{ channel: string; to: string; body: string }>> {
      await server.runtime.worker.runOnce();
      const res = await tenant.request('GET', `/v1/outbox?verification_id=${user}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items as Array<{ channel: string; to: string; body: string }>;
    }

    const phoneOf = async (tenant: Tenant, user: string) => (await tenant.request('GET', `/v1/users/${user}`)).json().phone as string | null;

    test('SEC-12 under nist, changing the phone number without a step-up is 403 step_up_required and changes nothing', async () => {
      const tenant = await nistTenant();
      const user = await nistUser(tenant);
      assertProblem(await changePhone(tenant, user, NEW_PHONE), 403, 'step_up_required');
      assert.equal(await phoneOf(tenant, user), PHONE);
      assert.deepEqual(await bound(tenant), []);
      assert.deepEqual(await notices(tenant, user), []);
      // Other fields need no step-up; nor does clearing the number (nothing is bound).
      assert.equal((await tenant.request('PATCH', `/v1/users/${user}`, { display_name: 'Alice' })).statusCode, 200);
      assert.equal((await tenant.request('PATCH', `/v1/users/${user}`, { phone: null })).statusCode, 200);
    });

    test('SEC-12 under nist, a step-up binds the new number: authenticator.bound and a notice to the e-mail and the old number, never the new one', async () => {
      const tenant = await nistTenant();
      const user = await nistUser(tenant);
      const stepUpId = await stepUp(tenant, user);
      const res = await changePhone(tenant, user, NEW_PHONE, stepUpId);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().phone, NEW_PHONE);

      const [event, ...more] = await bound(tenant);
      assert.deepEqual(more, []);
      assert.equal(event?.actor, `client:${tenant.clientId}`);
      assert.deepEqual(event?.data, { user_id: user, channel: 'phone', address: '+31 6 •••• ••21', previous: '+31 6 •••• ••78', step_up_verification_id: stepUpId });
      assert.ok(!JSON.stringify(event).includes(NEW_PHONE), 'the event carries the number masked only');

      const sent = await notices(tenant, user);
      assert.deepEqual(sent.map((m) => m.channel).sort(), ['email', 'sms']);
      assert.equal(sent.find((m) => m.channel === 'email')?.to, 'alice@example.com');
      assert.equal(sent.find((m) => m.channel === 'sms')?.to, PHONE, 'the old number is told');
      for (const m of sent) assert.match(m.body, /phone number of your account was changed to \+31 6 •••• ••21/);

      // The new number authenticates only once it is confirmed (paired), as any number under nist.
      assertProblem(await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user }), 422, 'recipient_not_confirmed');
    });

    test('SEC-12 a step-up is spent by its change: replaying it is 403 step_up_invalid, also when two changes race', async () => {
      const tenant = await nistTenant();
      const user = await nistUser(tenant);
      const stepUpId = await stepUp(tenant, user);
      assert.equal((await changePhone(tenant, user, NEW_PHONE, stepUpId)).statusCode, 200);
      assertProblem(await changePhone(tenant, user, OTHER_PHONE, stepUpId), 403, 'step_up_invalid');
      assert.equal(await phoneOf(tenant, user), NEW_PHONE);

      const bob = await nistUser(tenant);
      const bobStepUp = await stepUp(tenant, bob);
      const answers = await Promise.all([NEW_PHONE, OTHER_PHONE, '+31622223333', '+31633334444'].map((p) => changePhone(tenant, bob, p, bobStepUp)));
      const ok = answers.filter((r) => r.statusCode === 200);
      assert.equal(ok.length, 1, answers.map((r) => r.body).join('\n'));
      for (const r of answers.filter((r) => r.statusCode !== 200)) assertProblem(r, 403, 'step_up_invalid');
      assert.equal(await phoneOf(tenant, bob), ok[0]!.json().phone);
      assert.equal((await bound(tenant)).filter((e) => e.data.user_id === bob).length, 1);
    });

    test('SEC-12 a step-up must be a recent approved authentication of this user on another authenticator', async () => {
      const tenant = await nistTenant();
      const user = await nistUser(tenant);
      const invalid = async (stepUpId: string, why: RegExp) => {
        const res = await changePhone(tenant, user, NEW_PHONE, stepUpId);
        assertProblem(res, 403, 'step_up_invalid');
        assert.match(res.json().detail, why);
      };
      await invalid('ver_nosuchverification', /not a verification of this user/);
      const other = await nistUser(tenant);
      await invalid(await stepUp(tenant, other), /not a verification of this user/);
      const pending = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user });
      await invalid(pending.json().id, /pending, not approved/);
      const contact = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user, purpose: 'confirm_contact', return_code: true });
      assert.equal((await tenant.request('POST', `/v1/verifications/${contact.json().id}/check`, { code: contact.json().code })).json().status, 'approved');
      await invalid(contact.json().id, /purpose is confirm_contact/);
      const old = await stepUp(tenant, user);
      clock.advance(600_001);
      await invalid(old, /more than 10 minutes ago/);
      assert.equal(await phoneOf(tenant, user), PHONE);
    });

    test('SEC-12 under standard a new number needs no step-up, and is still recorded and notified', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const user = await newUser(tenant);
      assert.equal((await pairNow(tenant, user, 'sms')).statusCode, 201);
      const res = await changePhone(tenant, user, NEW_PHONE);
      assert.equal(res.statusCode, 200, res.body);
      const [event] = await bound(tenant);
      assert.equal(event?.data.step_up_verification_id, null);
      assert.deepEqual((await notices(tenant, user)).map((m) => m.channel).sort(), ['email', 'sms']);
      // The settings' report names SEC-12 among the rows standard does not meet.
      const settings = await tenant.request('GET', '/v1/settings');
      assert.ok((settings.json().assurance.unmet as Array<{ row: string }>).some((u) => u.row === 'SEC-12'));
    });

    test('SEC-30 one number serves several users: both pair it and both authenticate with it', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const alice = await newUser(tenant, { phone: PHONE });
      const bob = await newUser(tenant, { phone: PHONE });
      for (const user of [alice, bob]) {
        const paired = await pairNow(tenant, user, 'sms');
        assert.equal(paired.statusCode, 201, paired.body);
        const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user, return_code: true });
        assert.equal(started.statusCode, 201, started.body);
        const checked = await tenant.request('POST', `/v1/verifications/${started.json().id}/check`, { code: started.json().code });
        assert.equal(checked.json().status, 'approved', checked.body);
      }
    });

    test('SEC-30 with fraud.device_share_cap 5, the 6th user binding the same number is 409 device_share_limit', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const settings = await tenant.request('GET', '/v1/settings');
      assert.equal(settings.json().fraud.device_share_cap, 5, 'the default');
      for (const bad of [0, 101]) {
        const res = await tenant.request('PATCH', '/v1/settings', { fraud: { device_share_cap: bad } });
        assertProblem(res, 422, 'invalid_setting');
        assert.deepEqual([res.json().field, res.json().allowed], ['fraud.device_share_cap', { min: 1, max: 100 }]);
      }
      const users: string[] = [];
      for (let i = 0; i < 6; i++) users.push(await newUser(tenant, { phone: PHONE }));
      // Pending pairings hold the number too: the fifth binding is a manual one, still unconfirmed.
      for (const user of users.slice(0, 4)) assert.equal((await pairNow(tenant, user, 'sms')).statusCode, 201);
      const pending = await tenant.request('POST', `/v1/users/${users[4]}/devices`, { kind: 'voice' });
      assert.equal(pending.statusCode, 201, pending.body);
      assert.equal(pending.json().device.status, 'pending');
      const refused = await pairNow(tenant, users[5]!, 'sms');
      assertProblem(refused, 409, 'device_share_limit');
      assert.equal(refused.json().device_share_cap, 5);
      assertProblem(await tenant.request('POST', `/v1/users/${users[5]}/devices`, { kind: 'voice' }), 409, 'device_share_limit');
      assert.deepEqual((await tenant.request('GET', `/v1/users/${users[5]}/devices`)).json().items, [], 'nothing was paired');
      // A user who holds the number already may pair it again (another kind); another number is free.
      assert.equal((await pairNow(tenant, users[0]!, 'voice')).statusCode, 201);
      assert.equal((await pairNow(tenant, users[5]!, 'sms', NEW_PHONE)).statusCode, 201);
      // Raising the cap lets the sixth in; another application's users never count.
      assert.equal((await tenant.request('PATCH', '/v1/settings', { fraud: { device_share_cap: 6 } })).statusCode, 200);
      assert.equal((await pairNow(tenant, users[5]!, 'voice')).statusCode, 201);
      const other = await server.tenant({ providers: ALL_CHANNELS });
      assert.equal((await pairNow(other, await newUser(other, { phone: PHONE }), 'sms')).statusCode, 201);
    });
  });
}
