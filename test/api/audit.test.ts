// The audit trail (issue [4] "what this issue must show" 6, SEC-45): who did what to whom and
// when, answered from the event log, exactly; every attempt and every refused call is in it with
// its actor and UTC time, and no code, secret or token is anywhere in the events (SEC-08).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDeviceClient, enroll } from '../../src/authenticator/client.ts';
import { TestClock } from '../helpers/clock.ts';
import type { AuditEntry as Entry } from '../../src/domain/event-log.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { freePort, startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

/** What the script expects of an entry: when, who, what, to whom. */
interface Expected {
  at: string;
  actor: string;
  action: string;
  user_id: string | null;
}

const shape = (e: Entry): Expected => ({ at: e.at, actor: e.actor ?? '', action: e.action, user_id: e.user_id });

async function audit(tenant: Tenant, query: string): Promise<Entry[]> {
  const items: Entry[] = [];
  let cursor: string | null = null;
  do {
    const res = await tenant.request('GET', `/v1/audit?${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { items: Entry[]; next_cursor: string | null };
    items.push(...body.items);
    cursor = body.next_cursor;
  } while (cursor !== null);
  return items;
}

/** Waits for a refused call's event, which is written without the refusal waiting for it. */
async function settle(server: TestServer, applicationId: string, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await server.runtime.store.eventLog.page(applicationId, { after: 0, limit: 10_000 })).length >= count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`fewer than ${count} events`);
}

function wrong(code: string): string {
  return code.replace(/^./, (d) => String((Number(d) + 1) % 10));
}

for (const dialect of dialects()) {
  describe(`${dialect}: the audit trail answers a scripted day of actions exactly (must-show 6)`, () => {
    const DAY = '2026-11-25';
    const at = (time: string, day = DAY) => `${day}T${time}Z`;
    const clock = new TestClock(Date.parse(at('23:30:00.000', '2026-11-24')));
    let server: TestServer;
    let backend: Tenant;
    let console2: Tenant;
    let readOnly: Tenant;
    let alice: string;
    let bob: string;
    const expected: Expected[] = [];

    before(async () => {
      server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
      const first = await server.tenant({ name: `audit-day-${dialect}` });
      // The script spans more than a token's life: each request gets a token fresh at the script's time.
      const as = (clientId: string, clientSecret: string): Tenant => ({
        ...first,
        clientId,
        clientSecret,
        async request(method, url, body, headers = {}) {
          const token = (await server.runtime.tokens.issue(clientId, clientSecret, undefined)).access_token;
          return server.runtime.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(body === undefined ? {} : { payload: body as string }) });
        },
      });
      backend = as(first.clientId, first.clientSecret);
      // Two more clients of the same application: another actor, and one without the admin scope.
      const make = async (name: string, scopes: Parameters<typeof server.runtime.applications.createClient>[1]): Promise<Tenant> => {
        const c = await server.runtime.applications.createClient(first.name, scopes, name);
        return as(c.client_id, c.client_secret);
      };
      console2 = await make('console', ['users:read', 'users:write', 'verifications:read', 'verifications:write', 'verifications:code']);
      readOnly = await make('reports', ['users:read']);
      const A = `client:${backend.clientId}`;
      const B = `client:${console2.clientId}`;
      const C = `client:${readOnly.clientId}`;
      const set = (time: string, day = DAY) => (clock.current = Date.parse(at(time, day)));
      const ok = async (res: Promise<{ statusCode: number; body: string; json(): any }>, status = 201) => {
        const r = await res;
        assert.equal(r.statusCode, status, r.body);
        return status === 204 ? null : r.json();
      };

      // The day before: alice is created and verified once.
      alice = (await ok(backend.request('POST', '/v1/users', { external_id: 'alice', email: 'alice@example.com', phone: '+31612345678' }))).id;
      expected.push({ at: at('23:30:00.000', '2026-11-24'), actor: A, action: 'user.created', user_id: alice });
      set('23:59:59.999', '2026-11-24');
      await ok(backend.request('POST', '/v1/verifications', { channel: 'email', user_id: alice }));
      expected.push({ at: at('23:59:59.999', '2026-11-24'), actor: A, action: 'verification.started', user_id: alice });

      // The day: its first instant belongs to it.
      set('00:00:00.000');
      await ok(backend.request('POST', '/v1/verifications', { channel: 'sms', user_id: alice }));
      expected.push({ at: at('00:00:00.000'), actor: A, action: 'verification.started', user_id: alice });

      set('08:00:00.000');
      bob = (await ok(backend.request('POST', '/v1/users', { external_id: 'bob', email: 'bob@example.com' }))).id;
      expected.push({ at: at('08:00:00.000'), actor: A, action: 'user.created', user_id: bob });

      // The console verifies bob: one wrong code, then the right one.
      set('09:00:00.000');
      const v = await ok(console2.request('POST', '/v1/verifications', { channel: 'email', user_id: bob, return_code: true }));
      expected.push({ at: at('09:00:00.000'), actor: B, action: 'verification.started', user_id: bob });
      set('09:01:00.000');
      assert.equal((await ok(console2.request('POST', `/v1/verifications/${v.id}/check`, { code: wrong(v.code) }), 200)).valid, false);
      expected.push({ at: at('09:01:00.000'), actor: B, action: 'verification.check_failed', user_id: bob });
      set('09:02:00.000');
      assert.equal((await ok(console2.request('POST', `/v1/verifications/${v.id}/check`, { code: v.code }), 200)).valid, true);
      expected.push({ at: at('09:02:00.000'), actor: B, action: 'verification.approved', user_id: bob });

      // An admin bypasses alice for an hour; a verification meanwhile is approved at once; the bypass ends.
      set('10:00:00.000');
      await ok(backend.request('POST', `/v1/users/${alice}/bypass`, { until: at('11:00:00.000') }), 200);
      expected.push({ at: at('10:00:00.000'), actor: A, action: 'user.bypass_set', user_id: alice });
      set('10:05:00.000');
      await ok(console2.request('POST', '/v1/verifications', { channel: 'sms', user_id: alice }));
      expected.push({ at: at('10:05:00.000'), actor: B, action: 'verification.started', user_id: alice });
      expected.push({ at: at('10:05:00.000'), actor: B, action: 'verification.approved', user_id: alice });
      set('10:30:00.000');
      await ok(backend.request('DELETE', `/v1/users/${alice}/bypass`), 200);
      expected.push({ at: at('10:30:00.000'), actor: A, action: 'user.bypass_ended', user_id: alice });

      // Bob's second verification is never answered: the sweeper records its expiry.
      set('12:00:00.000');
      await ok(console2.request('POST', '/v1/verifications', { channel: 'email', user_id: bob }));
      expected.push({ at: at('12:00:00.000'), actor: B, action: 'verification.started', user_id: bob });
      set('12:30:00.000');
      // Alice's two earlier verifications (the day before and at midnight) expired long ago and go first.
      assert.equal(await server.runtime.verifications.expireOverdue(500), 3);
      expected.push({ at: at('12:30:00.000'), actor: 'system', action: 'verification.expired', user_id: alice });
      expected.push({ at: at('12:30:00.000'), actor: 'system', action: 'verification.expired', user_id: alice });
      expected.push({ at: at('12:30:00.000'), actor: 'system', action: 'verification.expired', user_id: bob });

      // A reporting client tries the audit without the admin scope: refused, and audited.
      set('13:00:00.000');
      assertProblem(await readOnly.request('GET', '/v1/audit'), 403, 'insufficient_scope');
      expected.push({ at: at('13:00:00.000'), actor: C, action: 'authorization.denied', user_id: null });
      await settle(server, backend.applicationId, expected.length);

      // The day's last instant, and the next day's first.
      set('23:59:59.999');
      await ok(backend.request('PATCH', `/v1/users/${alice}`, { display_name: 'Alice A.' }), 200);
      expected.push({ at: at('23:59:59.999'), actor: A, action: 'user.updated', user_id: alice });
      set('00:00:00.000', '2026-11-26');
      await ok(backend.request('DELETE', `/v1/users/${bob}`), 204);
      expected.push({ at: at('00:00:00.000', '2026-11-26'), actor: A, action: 'user.deleted', user_id: bob });
    });
    after(() => server.close());

    const onDay = (e: Expected) => e.at.startsWith(DAY);

    test('from/to as dates: the whole UTC day, nothing of the day before or after', async () => {
      const day = await audit(backend, `from=${DAY}&to=${DAY}&limit=3`);
      assert.deepEqual(day.map(shape), expected.filter(onDay));
      assert.ok(day.every((e) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(e.at)), 'UTC timestamps');
      // Without a range: everything, in time order.
      assert.deepEqual((await audit(backend, 'limit=1000')).map(shape), expected);
    });

    test('user_id: what was done to that user that day, by whoever did it', async () => {
      assert.deepEqual((await audit(backend, `user_id=${alice}&from=${DAY}&to=${DAY}`)).map(shape), expected.filter((e) => onDay(e) && e.user_id === alice));
      assert.deepEqual((await audit(backend, `user_id=${bob}&from=${DAY}&to=${DAY}`)).map(shape), expected.filter((e) => onDay(e) && e.user_id === bob));
      // Over all time bob's deletion the next day is his last entry.
      assert.equal((await audit(backend, `user_id=${bob}`)).at(-1)?.action, 'user.deleted');
    });

    test('actor: what one client (or the system) did that day', async () => {
      for (const actor of [`client:${backend.clientId}`, `client:${console2.clientId}`, 'system', `client:${readOnly.clientId}`]) {
        const got = await audit(backend, `actor=${encodeURIComponent(actor)}&from=${DAY}&to=${DAY}`);
        assert.deepEqual(got.map(shape), expected.filter((e) => onDay(e) && e.actor === actor), actor);
        assert.ok(got.length > 0, actor);
      }
    });

    test('from/to as instants: from inclusive, to exclusive; combined with user and types', async () => {
      const from = at('09:01:00.000');
      const to = at('10:30:00.000');
      const inRange = (e: Expected) => e.at >= from && e.at < to;
      assert.deepEqual((await audit(backend, `from=${from}&to=${to}`)).map(shape), expected.filter(inRange));
      assert.deepEqual(
        (await audit(backend, `from=${from}&to=${to}&user_id=${alice}&types=verification.*`)).map(shape),
        expected.filter((e) => inRange(e) && e.user_id === alice && e.action.startsWith('verification.')),
      );
      // An offset other than Z names the same instant.
      assert.deepEqual((await audit(backend, `from=${encodeURIComponent('2026-11-25T10:01:00+01:00')}&to=${encodeURIComponent('2026-11-25T11:30:00+01:00')}`)).map(shape), expected.filter(inRange));
    });

    test('entries say the channel and the result; the refused call names its route and scope', async () => {
      const day = await audit(backend, `from=${DAY}&to=${DAY}`);
      const failed = day.find((e) => e.action === 'verification.check_failed')!;
      assert.equal(failed.channel, 'email');
      assert.equal(failed.subject.type, 'verification');
      const bypassed = day.filter((e) => e.action === 'verification.approved' && e.user_id === alice);
      assert.equal(bypassed.length, 1);
      assert.equal(bypassed[0]!.details['bypass'], true);
      assert.equal(bypassed[0]!.result, 'approved');
      const denied = day.find((e) => e.action === 'authorization.denied')!;
      assert.equal(denied.result, 'denied');
      assert.deepEqual(denied.subject, { type: 'client', id: readOnly.clientId });
      assert.equal(denied.details['route'], '/v1/audit');
      assert.equal(denied.details['required_scope'], 'admin');
      assert.equal(denied.details['method'], 'GET');
    });

    test('bad ranges and cursors are 400s; the audit needs the admin scope', async () => {
      for (const query of ['from=yesterday', 'to=2026-13-45', 'from=2026-11-25T10:00:00', `from=${DAY}T12:00:00Z&to=${DAY}T11:00:00Z`, 'cursor=bm9wZQ', 'types=a..b', 'limit=0']) {
        assertProblem(await backend.request('GET', `/v1/audit?${query}`), 400, 'invalid_request', query);
      }
      assertProblem(await console2.request('GET', '/v1/audit'), 403, 'insufficient_scope');
    });
  });

  describe(`${dialect}: SEC-45 every attempt, push answer, bypass and refused call is audited with actor and UTC time, without secrets`, () => {
    let server: TestServer;
    before(async () => {
      const port = await freePort();
      server = await startTestServer({ dialect, clock: new TestClock(Date.now()), env: { PUBLIC_URL: `http://127.0.0.1:${port}`, PORT: String(port), OUTBAND_WORKERS: 'false' } });
      await server.runtime.app.listen({ port, host: '127.0.0.1' });
    });
    after(() => server.close());

    test('SEC-45: a scripted session, as the audit API tells it; SEC-08: no code, secret or token in any event', async () => {
      const tenant = await server.tenant();
      const A = `client:${tenant.clientId}`;
      const user = (await tenant.request('POST', '/v1/users', { external_id: 'sam', email: 'sam@example.com', phone: '+31612345679' })).json().id as string;

      // SMS: a wrong code, then the right one.
      const sms = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user, return_code: true })).json();
      assert.equal((await tenant.request('POST', `/v1/verifications/${sms.id}/check`, { code: wrong(sms.code) })).json().valid, false);
      assert.equal((await tenant.request('POST', `/v1/verifications/${sms.id}/check`, { code: sms.code })).json().valid, true);

      // Push: an enrolled authenticator approves one request and denies the next.
      const pairing = await tenant.request('POST', `/v1/users/${user}/devices`, { kind: 'push' });
      assert.equal(pairing.statusCode, 201, pairing.body);
      const activationLink = pairing.json().enrolment.link as string;
      const { authenticator } = await enroll(activationLink, { capabilities: ['push', 'pin'] });
      const phone = createDeviceClient(authenticator);
      const approve = (await tenant.request('POST', '/v1/verifications', { channel: 'push', user_id: user })).json().id as string;
      await phone.respond(approve, { decision: 'approve', userVerification: 'pin' });
      const deny = (await tenant.request('POST', '/v1/verifications', { channel: 'push', user_id: user })).json().id as string;
      await phone.respond(deny, { decision: 'deny', userVerification: 'pin' });

      // A bypass, and a verification under it.
      const until = new Date(Date.now() + 3_600_000).toISOString();
      assert.equal((await tenant.request('POST', `/v1/users/${user}/bypass`, { until })).statusCode, 200);
      const bypassed = (await tenant.request('POST', '/v1/verifications', { channel: 'email', user_id: user })).json().id as string;

      // A client whose token lacks the scope.
      const weak = await server.runtime.applications.createClient(tenant.name, ['users:read'], 'weak');
      const weakToken = (await server.runtime.tokens.issue(weak.client_id, weak.client_secret, undefined)).access_token;
      const refused = await server.runtime.app.inject({ method: 'POST', url: '/v1/verifications', headers: { authorization: `Bearer ${weakToken}` }, payload: { channel: 'sms', user_id: user } });
      assertProblem(refused, 403, 'insufficient_scope');

      let entries: Entry[] = [];
      for (let i = 0; i < 100; i++) {
        entries = await audit(tenant, 'limit=1000');
        if (entries.some((e) => e.action === 'authorization.denied')) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const about = (id: string) => entries.filter((e) => e.subject.id === id).map((e) => [e.action, e.actor, e.channel]);
      assert.deepEqual(about(sms.id), [
        ['verification.started', A, 'sms'],
        ['verification.check_failed', A, 'sms'],
        ['verification.approved', A, 'sms'],
      ]);
      const device = `device:${authenticator.device_id}`;
      const [approveStarted, approved] = entries.filter((e) => e.subject.id === approve);
      assert.deepEqual([approveStarted?.action, approveStarted?.actor, approveStarted?.channel], ['verification.started', A, 'push']);
      assert.deepEqual([approved?.action, approved?.channel], ['verification.approved', 'push']);
      assert.equal(approved?.actor, device, 'the device that answered is the actor');
      const denied = entries.filter((e) => e.subject.id === deny).at(-1);
      assert.deepEqual([denied?.action, denied?.actor, denied?.result], ['verification.denied', device, 'denied']);
      assert.ok(entries.some((e) => e.action === 'device.paired' && e.user_id === user), 'the pairing');
      const bypassSet = entries.find((e) => e.action === 'user.bypass_set');
      assert.deepEqual([bypassSet?.actor, bypassSet?.user_id], [A, user]);
      assert.deepEqual(about(bypassed).map(([action]) => action), ['verification.started', 'verification.approved']);
      const refusal = entries.find((e) => e.action === 'authorization.denied');
      assert.deepEqual(
        [refusal?.actor, refusal?.details['route'], refusal?.details['method'], refusal?.details['required_scope']],
        [`client:${weak.client_id}`, '/v1/verifications', 'POST', 'verifications:write'],
      );
      for (const e of entries) {
        assert.match(e.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, `${e.action}: UTC time`);
        assert.ok(Math.abs(Date.parse(e.at) - Date.now()) < 120_000, `${e.action}: the time of the action`);
        assert.ok(e.actor !== null && e.actor !== '', `${e.action}: an actor`);
        assert.equal(e.user_id === user || e.subject.type === 'client', true, `${e.action}: about the user`);
      }

      // SEC-08: the stored events, all of them, hold none of the session's secrets.
      const stored = JSON.stringify(await server.runtime.store.events.list(tenant.applicationId, 0, 10_000));
      const activationToken = new URL(activationLink).searchParams.get('token') ?? activationLink.split('/').at(-1)!;
      const secrets = { code: sms.code, client_secret: tenant.clientSecret, token: tenant.token, weak_secret: weak.client_secret, weak_token: weakToken, activation: activationToken };
      for (const [name, secret] of Object.entries(secrets)) {
        assert.ok(secret.length >= 6, name);
        assert.ok(!stored.includes(secret), `${name} found in the events`);
      }
      // Nor the token's signature alone, nor a bearer header.
      assert.ok(!stored.includes(weakToken.split('.')[2]!) && !/bearer/i.test(stored));
    });
  });
}
