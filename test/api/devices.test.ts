// Device management: pairing (push enrolment, manual code, automatic), names, roles,
// max_devices, replacing unfinished pairings, unpairing and bypass.
// Threats: a pairing that outlives its replacement, a guessable enrolment token or pairing code
// (SEC-27), a device change nobody can trace (SEC-28), a bypass set without admin rights.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { after, before, describe, test } from 'node:test';
import { ALL_SCOPES, type Scope } from '../../src/domain/scopes.ts';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const PUBLIC_URL = 'https://outband.example';
const PHONE = '+31612345678';
/** Every channel a device can use, through the development outbox. */
const ALL_CHANNELS = { sms: 'outbox', voice: 'outbox', email: 'outbox', push: 'devices' };
const NOT_ADMIN: Scope[] = ALL_SCOPES.filter((s) => s !== 'admin');


interface DeviceView {
  id: string;
  user_id: string;
  kind: 'push' | 'sms' | 'voice' | 'email';
  name: string;
  role: 'primary' | 'secondary';
  status: 'pending' | 'paired';
  capabilities: string[];
  address: string | null;
  transport: { type: string; stale: boolean } | null;
  created_at: string;
  paired_at: string | null;
  last_used_at: string | null;
}

interface Paired {
  device: DeviceView;
  enrolment?: { token: string; link: string; qr_svg: string; expires_at: string };
  verification?: { id: string; status: string; expires_at: string };
}

interface PairingBody {
  kind: DeviceView['kind'];
  name?: string;
  address?: string;
  country?: string;
  mode?: 'manual' | 'automatic';
}

async function newUser(tenant: Tenant, body: Record<string, unknown> = { email: 'alice@example.com', phone: PHONE }): Promise<string> {
  const res = await tenant.request('POST', '/v1/users', body);
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id as string;
}

const startPairing = (tenant: Tenant, userId: string, body: PairingBody) => tenant.request('POST', `/v1/users/${userId}/devices`, body);

/** Starts a pairing that must be accepted. */
async function pair(tenant: Tenant, userId: string, body: PairingBody): Promise<Paired> {
  const res = await startPairing(tenant, userId, body);
  assert.equal(res.statusCode, 201, `${JSON.stringify(body)}: ${res.body}`);
  return res.json() as Paired;
}

/** Pairs an sms, voice or e-mail device at once (the token must hold the admin scope). */
async function pairNow(tenant: Tenant, userId: string, kind: 'sms' | 'voice' | 'email', extra: Omit<PairingBody, 'kind' | 'mode'> = {}): Promise<DeviceView> {
  const { device } = await pair(tenant, userId, { kind, mode: 'automatic', ...extra });
  assert.equal(device.status, 'paired');
  return device;
}

async function devicesOf(tenant: Tenant, userId: string): Promise<DeviceView[]> {
  const res = await tenant.request('GET', `/v1/users/${userId}/devices`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().items as DeviceView[];
}

async function verificationStatus(tenant: Tenant, id: string): Promise<string> {
  const res = await tenant.request('GET', `/v1/verifications/${id}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().status as string;
}

const check = (tenant: Tenant, verificationId: string, code: string) => tenant.request('POST', `/v1/verifications/${verificationId}/check`, { code });

/** A code that is not `code`, of the same shape. */
function wrongCode(code: string): string {
  return code.replace(/^./, (c) => (c === '0' ? '1' : '0'));
}

function assertNoContent(res: LightMyRequestResponse): void {
  assert.equal(res.statusCode, 204, res.body);
}

for (const dialect of dialects()) {
  describe(`${dialect}: devices`, () => {
    let server: TestServer;
    const clock = new TestClock();
    before(async () => {
      server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false', PUBLIC_URL } });
    });
    after(() => server.close());

    /** Messages of one verification in the development outbox, as the user received them. */
    async function outbox(tenant: Tenant, verificationId: string): Promise<Array<{ body: string }>> {
      await server.runtime.worker.runOnce();
      const res = await tenant.request('GET', `/v1/outbox?verification_id=${verificationId}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items as Array<{ body: string }>;
    }

    /** The pairing code as the user reads it: "… code to link a new device is <code>". */
    async function pairingCode(tenant: Tenant, verificationId: string): Promise<string> {
      const [message] = await outbox(tenant, verificationId);
      assert.ok(message, `no outbox message for ${verificationId}`);
      const code = message.body.match(/link a new device is ([0-9A-Z]+)/)?.[1];
      assert.ok(code, `no pairing code in "${message.body}"`);
      return code;
    }

    async function events(subjectId: string, type: string) {
      return (await server.runtime.store.events.forSubject(subjectId)).filter((e) => e.type === type);
    }

    /** A tenant of an application under the nist assurance profile, built as tenant() builds one. */
    async function nistTenant(): Promise<Tenant> {
      const name = `nist-${process.pid}-${Math.random().toString(36).slice(2)}`;
      const app = await server.runtime.applications.create(name, { assuranceProfile: 'nist' });
      const credentials = await server.runtime.applications.createClient(name, ALL_SCOPES);
      const { access_token: token } = await server.runtime.tokens.issue(credentials.client_id, credentials.client_secret, undefined);
      return {
        name,
        applicationId: app.id,
        clientId: credentials.client_id,
        clientSecret: credentials.client_secret,
        token,
        request: (method, url, body, headers = {}) =>
          server.runtime.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(body === undefined ? {} : { payload: body as string }) }),
      };
    }

    test('default names: "Phone N" shared by sms and voice, "Authenticator N", "Email N"; a given name is kept; the lowest free number is reused', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const user = await newUser(tenant);
      const sms = await pairNow(tenant, user, 'sms');
      assert.equal(sms.name, 'Phone 1');
      assert.equal((await pairNow(tenant, user, 'voice')).name, 'Phone 2', 'sms and voice share the label "Phone"');
      const push = await pair(tenant, user, { kind: 'push' });
      assert.equal(push.device.name, 'Authenticator 1');
      assert.equal(push.device.status, 'pending');
      assert.equal((await pairNow(tenant, user, 'email')).name, 'Email 1');
      assert.equal((await pairNow(tenant, user, 'sms', { name: 'Work phone', address: '+31612345679' })).name, 'Work phone');

      assertNoContent(await tenant.request('DELETE', `/v1/devices/${sms.id}`));
      assert.equal((await pairNow(tenant, user, 'sms')).name, 'Phone 1', '"Phone 1" is free again');
      assert.deepEqual((await devicesOf(tenant, user)).map((d) => d.name).sort(), ['Authenticator 1', 'Email 1', 'Phone 1', 'Phone 2', 'Work phone']);
    });

    test('roles: the first paired device is primary, later ones secondary; making one primary demotes the other; unpairing the primary promotes the oldest paired device left', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const user = await newUser(tenant);
      const first = await pairNow(tenant, user, 'sms');
      clock.advance(1000);
      const second = await pairNow(tenant, user, 'voice');
      clock.advance(1000);
      const third = await pairNow(tenant, user, 'email');
      clock.advance(1000);
      const pending = await pair(tenant, user, { kind: 'push' });
      assert.equal(first.role, 'primary');
      assert.equal(second.role, 'secondary');
      assert.equal(third.role, 'secondary');

      const patched = await tenant.request('PATCH', `/v1/devices/${second.id}`, { role: 'primary' });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().role, 'primary');
      const roles = new Map((await devicesOf(tenant, user)).map((d) => [d.id, d.role]));
      assert.equal(roles.get(first.id), 'secondary', 'the primary before it became secondary');
      assert.equal([...roles.values()].filter((r) => r === 'primary').length, 1, 'exactly one primary');

      const refused = await tenant.request('PATCH', `/v1/devices/${pending.device.id}`, { role: 'primary' });
      assertProblem(refused, 400, 'invalid_request', 'a pending device cannot become primary');

      assertNoContent(await tenant.request('DELETE', `/v1/devices/${second.id}`));
      const left = await devicesOf(tenant, user);
      assert.equal(left.find((d) => d.id === first.id)?.role, 'primary', 'the oldest paired device left is promoted');
      assert.equal(left.find((d) => d.id === third.id)?.role, 'secondary');
      assert.equal(left.filter((d) => d.role === 'primary').length, 1);
      const promoted = await events(first.id, 'device.updated');
      assert.deepEqual(promoted.at(-1)?.data['changed'], ['role']);

      const demoted = await tenant.request('PATCH', `/v1/devices/${first.id}`, { role: 'secondary' });
      assert.equal(demoted.json().role, 'secondary', demoted.body);
      assert.equal((await tenant.request('GET', `/v1/devices/${third.id}`)).json().role, 'primary', 'making the primary secondary promotes the oldest other paired device');
      assertNoContent(await tenant.request('DELETE', `/v1/devices/${first.id}`));
      assertProblem(await tenant.request('PATCH', `/v1/devices/${third.id}`, { role: 'secondary' }), 400, 'invalid_request', "the only paired device stays primary");
    });

    test('renaming a device keeps its role; an unknown device answers 404 device_not_found', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const sms = await pairNow(tenant, user, 'sms');
      const res = await tenant.request('PATCH', `/v1/devices/${sms.id}`, { name: 'My phone' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().name, 'My phone');
      assert.equal(res.json().role, 'primary');
      const read = await tenant.request('GET', `/v1/devices/${sms.id}`);
      assert.equal(read.json().name, 'My phone');
      assert.doesNotMatch(String(read.json().address), /12345678/, 'the address is masked');

      const other = await server.tenant();
      assertProblem(await other.request('GET', `/v1/devices/${sms.id}`), 404, 'device_not_found', "another application's device");
      assertProblem(await other.request('DELETE', `/v1/devices/${sms.id}`), 404, 'device_not_found');
    });

    test('max_devices (default 5) counts pending pairings: a 6th pairing of another kind is 409 max_devices_reached and stores nothing', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const user = await newUser(tenant);
      for (let i = 0; i < 4; i++) await pairNow(tenant, user, 'sms', { address: `+3161234567${i}` });
      const push = await pair(tenant, user, { kind: 'push' });
      assert.equal((await devicesOf(tenant, user)).length, 5);

      const email = await startPairing(tenant, user, { kind: 'email', mode: 'automatic' });
      assert.equal(assertProblem(email, 409, 'max_devices_reached').max_devices, 5);
      const manual = await startPairing(tenant, user, { kind: 'sms', address: '+31612345699' });
      assertProblem(manual, 409, 'max_devices_reached', 'paired devices of the same kind are not replaced');
      const after = await devicesOf(tenant, user);
      assert.equal(after.length, 5, 'nothing new stored');
      await server.runtime.worker.runOnce();
      const sent = (await tenant.request('GET', '/v1/outbox?limit=100')).json().items as Array<{ body: string }>;
      // The earlier pairings' security notices are there (SEC-28); no pairing code is.
      assert.deepEqual(sent.filter((m) => /link a new device is/.test(m.body)), [], 'no pairing code sent');

      const replacement = await pair(tenant, user, { kind: 'push' });
      const ids = (await devicesOf(tenant, user)).map((d) => d.id);
      assert.equal(ids.length, 5, 'a pairing of the same kind as a pending one replaces it');
      assert.ok(ids.includes(replacement.device.id));
      assert.ok(!ids.includes(push.device.id));
    });

    test('max_devices holds under concurrent pairings of different kinds', async () => {
      const tenant = await server.tenant({ providers: ALL_CHANNELS });
      const user = await newUser(tenant);
      for (let i = 0; i < 3; i++) await pairNow(tenant, user, 'sms', { address: `+3161234567${i}` });
      const answers = await Promise.all([
        startPairing(tenant, user, { kind: 'voice', mode: 'automatic' }),
        startPairing(tenant, user, { kind: 'email', mode: 'automatic' }),
        startPairing(tenant, user, { kind: 'push' }),
      ]);
      const statuses = answers.map((r) => r.statusCode).sort();
      assert.deepEqual(statuses, [201, 201, 409], answers.map((r) => r.body).join('\n'));
      assert.equal((await devicesOf(tenant, user)).length, 5);
    });

    test("a new pairing cancels the user's unfinished pairings of the same kind, and only those", async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const smsA = await pair(tenant, user, { kind: 'sms' });
      const oldCode = await pairingCode(tenant, smsA.verification!.id);
      const pushP = await pair(tenant, user, { kind: 'push' });
      assert.equal(smsA.verification?.status, 'pending');
      assert.equal(smsA.device.status, 'pending');

      const smsB = await pair(tenant, user, { kind: 'sms' });
      assert.equal(await verificationStatus(tenant, smsA.verification!.id), 'cancelled');
      assertProblem(await tenant.request('GET', `/v1/devices/${smsA.device.id}`), 404, 'device_not_found', "the cancelled pairing's device is gone");
      let ids = (await devicesOf(tenant, user)).map((d) => d.id);
      assert.deepEqual(ids.sort(), [pushP.device.id, smsB.device.id].sort(), 'the push enrolment is untouched');
      assert.equal(smsB.device.name, 'Phone 1', 'the replacement takes the name the replaced one had');

      const pushQ = await pair(tenant, user, { kind: 'push' });
      ids = (await devicesOf(tenant, user)).map((d) => d.id);
      assert.deepEqual(ids.sort(), [pushQ.device.id, smsB.device.id].sort());
      assert.equal(await verificationStatus(tenant, smsB.verification!.id), 'pending', 'the sms pairing is untouched');
      assert.equal((await events(pushP.device.id, 'device.pairing_cancelled')).length, 1);

      // The old code no longer pairs anything; the new one does.
      assertProblem(await check(tenant, smsA.verification!.id, oldCode), 409, undefined, 'a cancelled pairing');
      const newCode = await pairingCode(tenant, smsB.verification!.id);
      assert.equal((await check(tenant, smsB.verification!.id, newCode)).json().status, 'approved');
      assert.equal((await tenant.request('GET', `/v1/devices/${smsB.device.id}`)).json().status, 'paired');
    });

    test('SEC-28 pairing and removing a device notify the user on their other addresses, never the paired one', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant, { email: 'alice@example.com', phone: PHONE });
      const started = await pair(tenant, user, { kind: 'sms' });
      const code = await pairingCode(tenant, started.verification!.id);
      assert.equal((await check(tenant, started.verification!.id, code)).json().status, 'approved');
      type Notice = { body: string; channel: string; to: string; subject?: string };
      const paired = (await outbox(tenant, started.device.id)) as Notice[];
      // The phone just paired gets no notice: the e-mail address does (the user's language; English here).
      assert.deepEqual(paired.map((m) => m.channel), ['email']);
      assert.match(paired[0]!.body, /a new device, "Phone 1", was linked/);
      assert.ok(!paired[0]!.body.includes(code), 'a notice carries no code');

      const link = await pair(tenant, user, { kind: 'push' });
      assert.ok(link.enrolment);
      assertNoContent(await tenant.request("DELETE", `/v1/devices/${started.device.id}`));
      const removed = ((await outbox(tenant, started.device.id)) as Notice[]).filter((m) => /was removed/.test(m.body));
      assert.deepEqual(removed.map((m) => m.channel), ['email'], 'removing a paired device is news; the removed phone is not told');
      // Removing a pending enrolment (never in use) sends nothing.
      assertNoContent(await tenant.request('DELETE', `/v1/devices/${link.device.id}`));
      assert.deepEqual(await outbox(tenant, link.device.id), []);
    });

    test('SEC-28 pairing a device is recorded with time, actor, IP and device id', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const started = await pair(tenant, user, { kind: 'sms' });
      const verification = started.verification!;
      assert.equal(started.device.status, 'pending');
      assert.match(started.device.address ?? '', /•/, 'the address is masked');
      clock.advance(5000);
      const code = await pairingCode(tenant, verification.id);
      const res = await check(tenant, verification.id, code);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().valid, true);
      assert.equal(res.json().status, 'approved');

      const device = (await tenant.request('GET', `/v1/devices/${started.device.id}`)).json() as DeviceView;
      assert.equal(device.status, 'paired');
      assert.equal(device.role, 'primary', 'the first paired device is primary');
      assert.equal(device.paired_at, new Date(clock.now()).toISOString());

      const [paired, ...more] = await events(device.id, 'device.paired');
      assert.ok(paired, 'a device.paired event');
      assert.equal(more.length, 0);
      assert.equal(paired.actor, `client:${tenant.clientId}`);
      assert.equal(paired.createdAt, clock.now());
      assert.equal(paired.data['device_id'], device.id);
      assert.equal(paired.data['user_id'], user);
      assert.equal(paired.data['kind'], 'sms');
      assert.equal(paired.data['status'], 'paired');
      assert.equal(paired.data['ip'], '127.0.0.1', 'the IP the pairing was confirmed from');
    });

    test('SEC-28 an automatic pairing and an enrolment start are recorded with actor and IP', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const sms = await pairNow(tenant, user, 'sms');
      const [paired] = await events(sms.id, 'device.paired');
      assert.equal(paired?.actor, `client:${tenant.clientId}`);
      assert.equal(paired?.data['ip'], '127.0.0.1');
      assert.equal(paired?.data['device_id'], sms.id);
      assert.equal(paired?.createdAt, clock.now());
      const push = await pair(tenant, user, { kind: 'push' });
      const [startedEvent] = await events(push.device.id, 'device.pairing_started');
      assert.equal(startedEvent?.actor, `client:${tenant.clientId}`);
      assert.equal(startedEvent?.data['ip'], '127.0.0.1');
      assert.equal(startedEvent?.data['status'], 'pending');
    });

    test('three wrong pairing codes fail the pairing: the pending device is removed and device.pairing_failed recorded', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const { device, verification } = await pair(tenant, user, { kind: 'sms' });
      const code = await pairingCode(tenant, verification!.id);
      const wrong = wrongCode(code);
      assert.equal((await check(tenant, verification!.id, wrong)).json().attempts_left, 2);
      assert.equal((await check(tenant, verification!.id, wrong)).json().attempts_left, 1);
      const last = await check(tenant, verification!.id, wrong);
      assert.equal(last.json().valid, false);
      assert.equal(last.json().status, 'failed');
      assert.equal(last.json().reason, 'max_attempts');

      assert.deepEqual(await devicesOf(tenant, user), [], 'the pending device is gone');
      assertProblem(await check(tenant, verification!.id, code), 409, 'max_attempts_reached', 'the right code is too late');
      const [failed] = await events(device.id, 'device.pairing_failed');
      assert.ok(failed, 'a device.pairing_failed event');
      assert.equal(failed.actor, `client:${tenant.clientId}`);
      assert.equal(failed.data['verification_id'], verification!.id);
      assert.equal(failed.data['reason'], 'max_attempts');
      assert.equal((await events(device.id, 'device.paired')).length, 0);
    });

    test('pairing refusals: suspended user 409 user_suspended, channel off 422 channel_not_enabled, automatic push 422 pairing_not_permitted, automatic without admin 403', async () => {
      const tenant = await server.tenant({ providers: { sms: 'outbox', push: 'devices' } });
      const user = await newUser(tenant);
      assertProblem(await startPairing(tenant, user, { kind: 'email', mode: 'automatic' }), 422, 'channel_not_enabled');
      assertProblem(await startPairing(tenant, user, { kind: 'email' }), 422, 'channel_not_enabled');
      assertProblem(await startPairing(tenant, user, { kind: 'voice' }), 422, 'channel_not_enabled');
      assertProblem(await startPairing(tenant, user, { kind: 'push', mode: 'automatic' }), 422, 'pairing_not_permitted');

      const limited = await server.tenant({ scopes: NOT_ADMIN });
      const other = await newUser(limited);
      const forbidden = assertProblem(await startPairing(limited, other, { kind: 'sms', mode: 'automatic' }), 403, 'insufficient_scope');
      assert.equal(forbidden.scope, 'admin');
      assert.equal((await pair(limited, other, { kind: 'sms' })).device.status, 'pending', 'manual pairing needs no admin scope');

      const suspended = await tenant.request('PATCH', `/v1/users/${user}`, { status: 'suspended' });
      assert.equal(suspended.statusCode, 200, suspended.body);
      for (const body of [{ kind: 'sms' }, { kind: 'sms', mode: 'automatic' }, { kind: 'push' }] as PairingBody[]) {
        assertProblem(await startPairing(tenant, user, body), 409, 'user_suspended', JSON.stringify(body));
      }
      assert.deepEqual(await devicesOf(tenant, user), []);
      assertProblem(await startPairing(tenant, 'usr_aaaaaaaaaaaaaaaaaaaaaaaaaa', { kind: 'push' }), 404, 'user_not_found');
    });

    test('a refused pairing leaves the unfinished pairing of the same kind alone', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const first = await pair(tenant, user, { kind: 'sms' });
      assertProblem(await startPairing(tenant, user, { kind: 'sms', address: '+31 6 12' }), 422, 'invalid_phone_number');
      assert.equal(await verificationStatus(tenant, first.verification!.id), 'pending', 'the first pairing still stands');
      assert.deepEqual((await devicesOf(tenant, user)).map((d) => d.id), [first.device.id]);
    });

    test('SEC-27 a push enrolment token carries 128 bits; the link and QR code carry it; it is valid 10 minutes', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const { device, enrolment } = await pair(tenant, user, { kind: 'push' });
      assert.ok(enrolment);
      assert.equal(device.status, 'pending');
      assert.equal(device.kind, 'push');
      assert.equal(device.address, null);
      assert.match(enrolment.token, /^[A-Za-z0-9_-]+$/, 'base64url');
      const bytes = Buffer.from(enrolment.token, 'base64url');
      assert.ok(bytes.length * 8 >= 112, `${bytes.length * 8} bits`);
      assert.equal(bytes.length, 16);
      assert.equal(enrolment.link, `${PUBLIC_URL}/authenticator/enroll#token=${enrolment.token}`);
      assert.ok(enrolment.qr_svg.startsWith('<svg'), enrolment.qr_svg.slice(0, 40));
      assert.equal(enrolment.expires_at, new Date(clock.now() + 600_000).toISOString());
      const again = await pair(tenant, user, { kind: 'push' });
      assert.notEqual(again.enrolment?.token, enrolment.token);
    });

    test('SEC-27 a manual sms pairing code under the standard profile is 6 digits', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const { verification } = await pair(tenant, user, { kind: 'sms' });
      assert.equal(verification?.status, 'pending');
      const code = await pairingCode(tenant, verification!.id);
      assert.match(code, /^\d{6}$/);
      const full = (await tenant.request('GET', `/v1/verifications/${verification!.id}`)).json();
      assert.equal(full.purpose, 'pairing');
      assert.equal(full.attempts_left, 3);
    });

    test('SEC-27 under the nist profile the sms pairing code is 8 Crockford base32 characters (40 bits) and pairs the device', async () => {
      const tenant = await nistTenant();
      const user = await newUser(tenant);
      const { device, verification } = await pair(tenant, user, { kind: 'sms' });
      const code = await pairingCode(tenant, verification!.id);
      assert.match(code, /^[0-9A-HJKMNP-TV-Z]{8}$/);
      const res = await check(tenant, verification!.id, code);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().status, 'approved');
      assert.equal((await tenant.request('GET', `/v1/devices/${device.id}`)).json().status, 'paired');
    });

    test('SEC-27 under the nist profile the pairing code is checked case-insensitively', async () => {
      const tenant = await nistTenant();
      const user = await newUser(tenant);
      const { device, verification } = await pair(tenant, user, { kind: 'sms' });
      const code = await pairingCode(tenant, verification!.id);
      const res = await check(tenant, verification!.id, code.toLowerCase());
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().valid, true, `"${code.toLowerCase()}" is the code ${code}`);
      assert.equal((await tenant.request('GET', `/v1/devices/${device.id}`)).json().status, 'paired');
    });

    test('SEC-27 under the nist profile a pairing code is never sent by e-mail: manual email pairing is 422 pairing_not_permitted', async () => {
      const tenant = await nistTenant();
      const user = await newUser(tenant);
      assertProblem(await startPairing(tenant, user, { kind: 'email' }), 422, 'pairing_not_permitted');
      assert.deepEqual(await devicesOf(tenant, user), []);
      assert.equal((await pairNow(tenant, user, 'email')).status, 'paired', 'an admin may still pair an address automatically');
    });

    test('bypass: set by an admin (recorded), verifications are approved at once with bypass: true and nothing is sent; DELETE ends it', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const until = new Date(clock.now() + 3600_000).toISOString();
      const set = await tenant.request('POST', `/v1/users/${user}/bypass`, { until });
      assert.equal(set.statusCode, 200, set.body);
      assert.deepEqual(set.json(), { user_id: user, bypass_until: until });
      const [recorded] = await events(user, 'user.bypass_set');
      assert.equal(recorded?.actor, `client:${tenant.clientId}`);
      assert.equal(recorded?.data['until'], until);
      assert.equal(recorded?.data['ip'], '127.0.0.1');

      const bypassed = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user });
      assert.equal(bypassed.statusCode, 201, bypassed.body);
      assert.equal(bypassed.json().status, 'approved');
      assert.equal(bypassed.json().bypass, true);
      assert.deepEqual(await outbox(tenant, bypassed.json().id), [], 'nothing is sent');

      const ended = await tenant.request('DELETE', `/v1/users/${user}/bypass`);
      assert.equal(ended.statusCode, 200, ended.body);
      assert.deepEqual(ended.json(), { user_id: user, bypass_until: null });
      const [endedEvent] = await events(user, 'user.bypass_ended');
      assert.equal(endedEvent?.actor, `client:${tenant.clientId}`);

      const normal = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user });
      assert.equal(normal.json().status, 'pending');
      assert.equal(normal.json().bypass, false);
      assert.equal((await outbox(tenant, normal.json().id)).length, 1, 'the code is sent again');
    });

    test('bypass: until at most 24 h ahead and in the future, else 422 invalid_bypass; it ends by itself at until', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const at = (ms: number) => new Date(clock.now() + ms).toISOString();
      assertProblem(await tenant.request('POST', `/v1/users/${user}/bypass`, { until: at(24 * 3600_000 + 1000) }), 422, 'invalid_bypass');
      assertProblem(await tenant.request('POST', `/v1/users/${user}/bypass`, { until: at(-1000) }), 422, 'invalid_bypass');
      assert.equal((await events(user, 'user.bypass_set')).length, 0, 'a refused bypass is not recorded');

      assert.equal((await tenant.request('POST', `/v1/users/${user}/bypass`, { until: at(24 * 3600_000) })).statusCode, 200, '24 h exactly');
      assert.equal((await tenant.request('POST', `/v1/users/${user}/bypass`, { until: at(600_000) })).statusCode, 200, 'a new bypass replaces it');
      clock.advance(600_000);
      const later = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user });
      assert.equal(later.json().status, 'pending');
      assert.equal(later.json().bypass, false);
    });

    test('bypass: without the admin scope, setting or ending it is 403 insufficient_scope', async () => {
      const tenant = await server.tenant({ scopes: NOT_ADMIN });
      const user = await newUser(tenant);
      const until = new Date(clock.now() + 3600_000).toISOString();
      assertProblem(await tenant.request('POST', `/v1/users/${user}/bypass`, { until }), 403, 'insufficient_scope');
      assertProblem(await tenant.request('DELETE', `/v1/users/${user}/bypass`), 403, 'insufficient_scope');
      assert.equal((await events(user, 'user.bypass_set')).length, 0);
      const v = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user });
      assert.equal(v.json().status, 'pending');
    });

    test('unpair: DELETE removes the device and records device.unpaired with actor and IP', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const sms = await pairNow(tenant, user, 'sms');
      assertNoContent(await tenant.request('DELETE', `/v1/devices/${sms.id}`));
      assertProblem(await tenant.request('GET', `/v1/devices/${sms.id}`), 404, 'device_not_found');
      assert.deepEqual(await devicesOf(tenant, user), []);
      const [unpaired] = await events(sms.id, 'device.unpaired');
      assert.ok(unpaired, 'a device.unpaired event');
      assert.equal(unpaired.actor, `client:${tenant.clientId}`);
      assert.equal(unpaired.data['device_id'], sms.id);
      assert.equal(unpaired.data['ip'], '127.0.0.1');
      assertProblem(await tenant.request('DELETE', `/v1/devices/${sms.id}`), 404, 'device_not_found', 'twice');
    });

    test('unpair: removing a device whose manual pairing is pending cancels its verification', async () => {
      const tenant = await server.tenant();
      const user = await newUser(tenant);
      const { device, verification } = await pair(tenant, user, { kind: 'sms' });
      const code = await pairingCode(tenant, verification!.id);
      assertNoContent(await tenant.request('DELETE', `/v1/devices/${device.id}`));
      assert.equal(await verificationStatus(tenant, verification!.id), 'cancelled');
      assert.deepEqual(await devicesOf(tenant, user), []);
      assertProblem(await check(tenant, verification!.id, code), 409, undefined, 'the code no longer pairs anything');
      assert.deepEqual(await devicesOf(tenant, user), []);
    });
  });
}
