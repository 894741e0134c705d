// The agent console's API (/console/api, docs/console.md, ADR 0016): sessions in an HttpOnly
// SameSite=Strict cookie, a CSRF synchronizer token on every state change, sign-in limits, idle and
// absolute expiry, grants that keep an agent inside its applications, and verify-caller / send-code
// through the ordinary services with the agent as the actor.
// Threats: a cross-site request riding the cookie (must-show 4), an agent reading another
// tenant's people (must-show 4, SEC-26), password guessing, e-mail enumeration, a stolen database
// giving away passwords or sessions, a session that never ends.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { after, before, describe, test } from 'node:test';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { enrolHeadlessPhone, type HeadlessPhone } from '../helpers/phone.ts';
import { assertProblem } from '../helpers/problem.ts';
import { codeFromOutbox, freePort, startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'correct horse battery staple';
const CHANNELS = { sms: 'outbox', voice: 'outbox', email: 'outbox', push: 'devices' };

interface Session {
  cookie: string;
  csrf: string;
  body: { agent: { id: string; email: string; role: string }; csrf_token: string; applications: Array<{ id: string; name: string }> };
  setCookie: string;
}

let addresses = 0;
/** A client address of its own for each test, so sign-in limits of one test do not touch another. */
const newAddress = () => `198.51.100.${++addresses}`;

for (const dialect of dialects()) {
  describe(`${dialect}: agent console API`, () => {
    let server: TestServer;
    let clock: TestClock;
    let acme: Tenant;
    let other: Tenant;
    let port: number;
    const streams: AbortController[] = [];

    before(async () => {
      port = await freePort();
      clock = new TestClock(Date.now());
      server = await startTestServer({ dialect, clock, env: { PUBLIC_URL: `http://127.0.0.1:${port}`, PORT: String(port) } });
      await server.runtime.app.listen({ port, host: '127.0.0.1' });
      acme = await server.tenant({ providers: CHANNELS });
      other = await server.tenant({ providers: CHANNELS });
    });
    after(async () => {
      for (const s of streams) s.abort();
      await server.close();
    });

    let agents = 0;
    async function newAgent(role: 'agent' | 'admin', applications: string[]): Promise<{ id: string; email: string }> {
      const email = `Agent${++agents}-${dialect}@Example.com`;
      const created = await server.runtime.agents.create({ email, role, password: PASSWORD, applications });
      return { id: created.agent.id, email: created.agent.email };
    }

    function inject(method: string, url: string, options: { session?: Session; csrf?: string | null; body?: unknown; address?: string; cookie?: string } = {}): Promise<LightMyRequestResponse> {
      const headers: Record<string, string> = {};
      const cookie = options.cookie ?? options.session?.cookie;
      if (cookie !== undefined) headers['cookie'] = cookie;
      const csrf = options.csrf === undefined ? options.session?.csrf : options.csrf;
      if (csrf !== undefined && csrf !== null) headers['x-csrf-token'] = csrf;
      return server.runtime.app.inject({
        method: method as 'GET',
        url: `/console/api${url}`,
        headers,
        remoteAddress: options.address ?? '203.0.113.9',
        ...(options.body === undefined ? {} : { payload: options.body as string }),
      });
    }

    async function signIn(email: string, password = PASSWORD, address = newAddress()): Promise<Session> {
      const res = await inject('POST', '/sign-in', { body: { email, password }, address });
      assert.equal(res.statusCode, 200, res.body);
      const setCookie = String(res.headers['set-cookie']);
      const value = /outband_console=([^;]+)/.exec(setCookie)?.[1];
      assert.ok(value, setCookie);
      const body = res.json() as Session['body'];
      return { cookie: `outband_console=${value}`, csrf: body.csrf_token, body, setCookie };
    }

    async function newPerson(tenant: Tenant, body: Record<string, unknown>): Promise<string> {
      const res = await tenant.request('POST', '/v1/users', body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    }

    /** An authenticator enrolled with the headless client, following its stream. */
    function enrolPhone(tenant: Tenant, userId: string): Promise<HeadlessPhone> {
      return enrolHeadlessPhone(tenant, userId, { streams });
    }

    test('sign-in answers the agent, its CSRF token and granted applications; sign-out ends the session', async () => {
      const agent = await newAgent('agent', [acme.applicationId]);
      const session = await signIn(agent.email.toUpperCase());
      assert.deepEqual(session.body.agent, { id: agent.id, email: agent.email, role: 'agent', locale: null });
      assert.deepEqual(session.body.applications, [{ id: acme.applicationId, name: acme.name }]);
      assert.match(session.body.csrf_token, /^[A-Za-z0-9_-]{43}$/);

      const again = await inject('GET', '/session', { session, csrf: null });
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(again.json().csrf_token, session.csrf);

      assertProblem(await inject('POST', '/sign-out', { session, csrf: null }), 403, 'csrf_token_invalid');
      const out = await inject('POST', '/sign-out', { session });
      assert.equal(out.statusCode, 204, out.body);
      assert.match(String(out.headers['set-cookie']), /^outband_console=;.*Expires=Thu, 01 Jan 1970/);
      assertProblem(await inject('GET', '/session', { session }), 401, 'not_signed_in');
      assertProblem(await inject('GET', '/session'), 401, 'not_signed_in');
      assertProblem(await inject('GET', '/session', { cookie: 'outband_console=forged' }), 401, 'not_signed_in');
    });

    test('the cookie is HttpOnly, SameSite=Strict, Path=/console; not Secure over http', async () => {
      const agent = await newAgent('agent', []);
      const { setCookie } = await signIn(agent.email);
      assert.match(setCookie, /; HttpOnly/);
      assert.match(setCookie, /; SameSite=Strict/);
      assert.match(setCookie, /; Path=\/console(;|$)/);
      assert.doesNotMatch(setCookie, /Secure/);
    });

    test('passwords are scrypt hashes and sessions are kept as SHA-256 of their id: nothing usable in the database', async () => {
      const agent = await newAgent('agent', []);
      const session = await signIn(agent.email);
      const row = await server.runtime.store.database.db.selectFrom('agents').selectAll().where('id', '=', agent.id).executeTakeFirstOrThrow();
      assert.match(row.password_hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
      assert.ok(!row.password_hash.includes(PASSWORD));
      const id = session.cookie.split('=')[1] as string;
      const sessions = await server.runtime.store.database.db.selectFrom('console_sessions').selectAll().where('agent_id', '=', agent.id).execute();
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0]?.id_hash, createHash('sha256').update(id).digest('hex'));
      assert.ok(!JSON.stringify(sessions).includes(id));
    });

    test('a wrong password and an unknown e-mail answer alike (401 invalid_credentials) after the same scrypt work', async () => {
      const agent = await newAgent('agent', []);
      const address = newAddress();
      const timed = async (email: string) => {
        const started = performance.now();
        const res = await inject('POST', '/sign-in', { body: { email, password: 'not the password!' }, address });
        return { res, ms: performance.now() - started };
      };
      const wrong = await timed(agent.email);
      const unknown = await timed(`nobody-${dialect}@example.com`);
      const a = assertProblem(wrong.res, 401, 'invalid_credentials');
      const b = assertProblem(unknown.res, 401, 'invalid_credentials');
      assert.deepEqual({ ...a, instance: '' }, { ...b, instance: '' });
      assert.equal(wrong.res.headers['set-cookie'], undefined);
      // Both hash (scrypt N=2^15 takes tens of ms); neither answers early.
      const ratio = unknown.ms / wrong.ms;
      assert.ok(ratio > 0.33 && ratio < 3, `unknown e-mail ${unknown.ms.toFixed(1)} ms vs wrong password ${wrong.ms.toFixed(1)} ms`);
      // A disabled agent's right password answers alike too.
      await server.runtime.agents.update(agent.id, { disabled: true });
      assertProblem(await inject('POST', '/sign-in', { body: { email: agent.email, password: PASSWORD }, address }), 401, 'invalid_credentials');
    });

    test('must-show 4: a state-changing request without the CSRF token, or with a wrong one, is refused and changes nothing', async () => {
      const agent = await newAgent('agent', [acme.applicationId]);
      const session = await signIn(agent.email);
      const userId = await newPerson(acme, { email: `csrf-${dialect}@example.com`, phone: '+31612340001' });
      const device = (await acme.request('POST', `/v1/users/${userId}/devices`, { kind: 'sms', mode: 'automatic' })).json().device.id as string;
      const url = `/apps/${acme.applicationId}/people/${userId}/send-code`;
      assertProblem(await inject('POST', url, { session, csrf: null, body: { device_id: device } }), 403, 'csrf_token_invalid');
      assertProblem(await inject('POST', url, { session, csrf: `${session.csrf.slice(0, -1)}${session.csrf.endsWith('A') ? 'B' : 'A'}`, body: { device_id: device } }), 403, 'csrf_token_invalid');
      assertProblem(await inject('POST', url, { session, csrf: '', body: { device_id: device } }), 403, 'csrf_token_invalid');
      // Another session's token is not this one's.
      const second = await signIn(agent.email);
      assertProblem(await inject('POST', url, { session, csrf: second.csrf, body: { device_id: device } }), 403, 'csrf_token_invalid');
      const events = await server.runtime.store.eventLog.audit({ applicationId: acme.applicationId, userId, types: { exact: [], prefixes: ['verification.'] }, limit: 10 });
      assert.deepEqual(events, [], 'nothing was started');
      const started = await inject('POST', url, { session, body: { device_id: device } });
      assert.equal(started.statusCode, 201, started.body);
    });

    test('must-show 4: an agent without a grant on the application cannot see its people nor start anything (404 application_not_granted)', async () => {
      const outsider = await newAgent('admin', [other.applicationId]);
      const session = await signIn(outsider.email);
      const userId = await newPerson(acme, { email: `secret-${dialect}@example.com`, phone: '+31612340002', display_name: 'Secret Person' });
      const device = (await acme.request('POST', `/v1/users/${userId}/devices`, { kind: 'sms', mode: 'automatic' })).json().device.id as string;
      const app = acme.applicationId;
      const refusals = [
        await inject('GET', `/apps/${app}/people?q=secret`, { session }),
        await inject('GET', `/apps/${app}/people/${userId}`, { session }),
        await inject('POST', `/apps/${app}/people/${userId}/send-code`, { session, body: { device_id: device } }),
        await inject('POST', `/apps/${app}/people/${userId}/verify-caller`, { session, body: { device_id: device } }),
        await inject('GET', `/apps/${app}/audit`, { session }),
        await inject('GET', `/apps/${app}/settings`, { session }),
        await inject('GET', `/apps/app_aaaaaaaaaaaaaaaaaaaaaaaaaa/people?q=secret`, { session }),
      ];
      const bodies = refusals.map((res) => assertProblem(res, 404, 'application_not_granted'));
      assert.ok(bodies.every((b) => !JSON.stringify(b).includes('Secret Person')));
      assert.deepEqual(await server.runtime.store.eventLog.audit({ applicationId: app, userId, types: { exact: [], prefixes: ['verification.'] }, limit: 10 }), []);
      // Granted, the same requests work.
      await server.runtime.agents.grant(outsider.email, acme.name);
      assert.equal((await inject('GET', `/apps/${app}/people?q=secret`, { session })).json().items[0].display_name, 'Secret Person');
    });

    test('find a person by the start of e-mail, phone (with or without +), external id or name; wildcards are plain text', async () => {
      const agent = await newAgent('agent', [acme.applicationId]);
      const session = await signIn(agent.email);
      const id = await newPerson(acme, { email: `Jan.Jansen-${dialect}@Example.nl`, phone: '+31687654321', external_id: `CUST_${dialect}_77`, display_name: 'Jan Jansen' });
      await newPerson(other, { email: `jan.jansen-${dialect}@example.nl`, display_name: 'Jan in another tenant' });
      const find = async (q: string) => {
        const res = await inject('GET', `/apps/${acme.applicationId}/people?q=${encodeURIComponent(q)}`, { session });
        assert.equal(res.statusCode, 200, res.body);
        return (res.json().items as Array<{ id: string }>).map((p) => p.id);
      };
      for (const q of [`jan.jansen-${dialect}`, `JAN.JANSEN-${dialect}@ex`, '+316876', '316876', '+31 687 654', `cust_${dialect}_7`, `CUST_${dialect}`]) {
        assert.deepEqual(await find(q), [id], q);
      }
      assert.ok((await find('Jan Jans')).includes(id));
      const item = (await inject('GET', `/apps/${acme.applicationId}/people?q=316876`, { session })).json().items[0];
      assert.deepEqual(item, { id, display_name: 'Jan Jansen', email: `Jan.Jansen-${dialect}@example.nl`, phone: '+31687654321', external_id: `CUST_${dialect}_77` });
      assert.deepEqual(await find('%%'), []);
      assert.deepEqual(await find(`CUST\\_${dialect}`), []);
      assert.deepEqual(await find('zz-nobody'), []);
      assertProblem(await inject('GET', `/apps/${acme.applicationId}/people?q=j`, { session }), 400, 'invalid_request');
      assertProblem(await inject('GET', `/apps/${acme.applicationId}/people/usr_aaaaaaaaaaaaaaaaaaaaaaaaaa`, { session }), 404, 'user_not_found');
    });

    test('verify-caller on a push device: pick number shown, the phone approves with a PIN → approved with user_verified_with, live over SSE; events name the agent', async () => {
      const agent = await newAgent('agent', [acme.applicationId]);
      const session = await signIn(agent.email);
      const userId = await newPerson(acme, { email: `push-${dialect}@example.com`, display_name: 'Pia Push' });
      const phone = await enrolPhone(acme, userId);
      const second = await enrolPhone(acme, userId);

      const detail = await inject('GET', `/apps/${acme.applicationId}/people/${userId}`, { session });
      assert.equal(detail.statusCode, 200, detail.body);
      const devices = detail.json().devices as Array<{ id: string; kind: string; role: string; can_verify_caller: boolean; can_send_code: boolean; capabilities: string[] }>;
      assert.deepEqual(
        devices.map((d) => [d.id, d.role, d.can_verify_caller, d.can_send_code]).sort(),
        [
          [phone.deviceId, 'primary', true, false],
          [second.deviceId, 'secondary', false, false],
        ].sort(),
        'the built-in verify-caller policy pushes to the primary authenticator only',
      );
      assertProblem(await inject('POST', `/apps/${acme.applicationId}/people/${userId}/verify-caller`, { session, body: { device_id: second.deviceId } }), 422, 'policy_override_not_allowed');

      const arriving = phone.next();
      const started = await inject('POST', `/apps/${acme.applicationId}/people/${userId}/verify-caller`, { session, body: { device_id: phone.deviceId } });
      assert.equal(started.statusCode, 201, started.body);
      const view = started.json().verification;
      assert.equal(view.status, 'pending');
      assert.equal(view.channel, 'push');
      assert.equal(view.matching, 'pick');
      assert.match(view.match_number, /^\d{2}$/);
      assert.equal(view.attempts_left, null, 'the agent types no code for a pick push');
      assert.equal(view.seconds_left, 120);
      assert.equal(Date.parse(view.expires_at) - Date.parse(view.created_at), 120_000, 'the countdown is the server record');
      assert.equal(view.device_id, phone.deviceId);
      assert.equal(view.device_name, 'Authenticator 1');
      assert.equal(view.delivery, 'sent');
      assert.equal(view.user_verified_with, null);

      // The console follows it live, as the browser does: a real HTTP stream with the cookie.
      const controller = new AbortController();
      streams.push(controller);
      const res = await fetch(`http://127.0.0.1:${port}/console/api/apps/${acme.applicationId}/verifications/${view.id}/stream`, { headers: { cookie: session.cookie }, signal: controller.signal });
      assert.equal(res.status, 200);
      assert.match(String(res.headers.get('content-type')), /^text\/event-stream/);
      const seen: Array<{ status: string; user_verified_with: string | null }> = [];
      const reading = (async () => {
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!block.startsWith('event: verification')) continue;
            seen.push(JSON.parse(block.split('\ndata: ')[1] as string));
          }
        }
      })();
      while (seen.length === 0) await new Promise((r) => setTimeout(r, 10));
      assert.equal(seen[0]?.status, 'pending');

      const request = await arriving;
      assert.equal(request.id, view.id);
      const answer = await phone.client.respond(view.id, { decision: 'approve', userVerification: 'pin', answer: view.match_number });
      assert.equal(answer.status, 'approved');
      await reading; // the stream ends after the final status
      assert.deepEqual(seen.at(-1), { ...seen.at(-1), status: 'approved', user_verified_with: 'pin' });

      const final = (await inject('GET', `/apps/${acme.applicationId}/verifications/${view.id}`, { session })).json().verification;
      assert.equal(final.status, 'approved');
      assert.equal(final.user_verified_with, 'pin');
      assert.equal(final.seconds_left, 0);
      assert.notEqual(final.decided_at, null);

      const events = await server.runtime.store.events.forSubject(view.id);
      assert.deepEqual(
        events.map((e) => [e.type, e.actor]),
        [
          ['verification.started', `agent:${agent.id}`],
          ['verification.approved', `device:${phone.deviceId}`],
        ],
      );
      assert.equal(events[0]?.data['purpose'] ?? 'caller_verification', 'caller_verification');
    });

    test('SEC-26 verify-caller with read_back: no console answer carries the code before the caller reads it; the agent\'s wrong entries use up the attempts (SEC-05); the countdown is the server\'s expiry; another tenant\'s agent gets 404', async () => {
      // At this application the caller reads a code from the app back to the agent.
      const policy = await other.request('PUT', '/v1/policies/verify-caller', {
        channel: 'push',
        device: 'primary',
        ttl_seconds: 120,
        user_verification: 'required',
        matching: 'read_back',
        purpose: 'caller_verification',
      });
      assert.equal(policy.statusCode, 200, policy.body);
      const agent = await newAgent('agent', [other.applicationId]);
      const session = await signIn(agent.email);
      const userId = await newPerson(other, { email: `read-back-${dialect}@example.com`, display_name: 'Rita Readback' });
      const phone = await enrolPhone(other, userId);
      const arriving = phone.next();
      const started = await inject('POST', `/apps/${other.applicationId}/people/${userId}/verify-caller`, { session, body: { device_id: phone.deviceId } });
      assert.equal(started.statusCode, 201, started.body);
      const view = started.json().verification;
      assert.deepEqual([view.matching, view.match_number, view.awaiting_read_back], ['read_back', null, false]);
      const stored = await server.runtime.store.verifications.byId(other.applicationId, view.id);
      assert.equal(view.expires_at, new Date(stored!.expiresAt).toISOString(), 'the countdown is the server record');
      assert.equal(view.seconds_left, Math.round((stored!.expiresAt - clock.now()) / 1000));
      await arriving;

      // The phone approves and shows its code; the console learns only that a code is awaited.
      const answer = await phone.client.respond(view.id, { decision: 'approve', userVerification: 'pin' });
      const code = (answer as { read_back_code?: string }).read_back_code;
      assert.match(String(code), /^\d{6}$/);
      const pending = await inject('GET', `/apps/${other.applicationId}/verifications/${view.id}`, { session });
      assert.equal(pending.json().verification.awaiting_read_back, true);
      assert.ok(!pending.body.includes(String(code)), 'the console never holds the code');

      // Wrong entries by the agent count against the verification's attempts (3): the last one fails it.
      const wrong = code === '000000' ? '111111' : '000000';
      const first = await inject('POST', `/apps/${other.applicationId}/verifications/${view.id}/check`, { session, body: { code: wrong } });
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json().valid, false);
      assert.ok(!first.body.includes(String(code)));
      await inject('POST', `/apps/${other.applicationId}/verifications/${view.id}/check`, { session, body: { code: wrong } });
      const third = await inject('POST', `/apps/${other.applicationId}/verifications/${view.id}/check`, { session, body: { code: wrong } });
      assert.equal(third.json().verification.status, 'failed');
      const late = await inject('POST', `/apps/${other.applicationId}/verifications/${view.id}/check`, { session, body: { code } });
      assert.ok(late.statusCode === 409, `after the last attempt even the right code fails: ${late.body}`);

      // An agent of another tenant cannot see the verification.
      const outsider = await signIn((await newAgent('agent', [acme.applicationId])).email);
      assertProblem(await inject('GET', `/apps/${other.applicationId}/verifications/${view.id}`, { session: outsider }), 404, 'application_not_granted');
      assertProblem(await inject('GET', `/apps/${acme.applicationId}/verifications/${view.id}`, { session: outsider }), 404);
    });

    test('send-code on an sms device, then the code the caller reads out: a wrong one counts, the right one approves; no code in any console answer', async () => {
      const agent = await newAgent('agent', [acme.applicationId]);
      const session = await signIn(agent.email);
      const userId = await newPerson(acme, { email: `sms-${dialect}@example.com`, phone: '+31612340003', display_name: 'Sam Sms' });
      const device = (await acme.request('POST', `/v1/users/${userId}/devices`, { kind: 'sms', mode: 'automatic' })).json().device.id as string;
      const detail = (await inject('GET', `/apps/${acme.applicationId}/people/${userId}`, { session })).json();
      assert.deepEqual(detail.devices.map((d: { can_send_code: boolean; can_verify_caller: boolean }) => [d.can_send_code, d.can_verify_caller]), [[true, false]]);

      const started = await inject('POST', `/apps/${acme.applicationId}/people/${userId}/send-code`, { session, body: { device_id: device } });
      assert.equal(started.statusCode, 201, started.body);
      const view = started.json().verification;
      assert.deepEqual([view.status, view.channel, view.matching, view.match_number, view.device_id, view.awaiting_read_back], ['pending', 'sms', 'none', null, device, false]);
      const code = await codeFromOutbox(acme, view.id, server.runtime.worker);
      // The worker records the send just after the outbox has the message.
      let sent = (await inject('GET', `/apps/${acme.applicationId}/verifications/${view.id}`, { session })).json().verification;
      for (let i = 0; i < 100 && sent.delivery !== 'sent'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        sent = (await inject('GET', `/apps/${acme.applicationId}/verifications/${view.id}`, { session })).json().verification;
      }
      assert.equal(sent.delivery, 'sent');
      assert.ok(!started.body.includes(code) && !JSON.stringify(sent).includes(code), 'SEC-26: the console never sees the code');

      const wrong = code === '000000' ? '111111' : '000000';
      const miss = await inject('POST', `/apps/${acme.applicationId}/verifications/${view.id}/check`, { session, body: { code: wrong } });
      assert.equal(miss.statusCode, 200, miss.body);
      assert.deepEqual([miss.json().valid, miss.json().verification.status], [false, 'pending']);
      // The dialog says how many attempts are left after a wrong code.
      const maxAttempts = (await server.runtime.store.verifications.byId(acme.applicationId, view.id))!.maxAttempts;
      assert.ok(maxAttempts >= 2);
      assert.equal(view.attempts_left, maxAttempts, 'a fresh code has every attempt');
      assert.equal(miss.json().verification.attempts_left, maxAttempts - 1, 'the wrong entry used one up');
      const hit = await inject('POST', `/apps/${acme.applicationId}/verifications/${view.id}/check`, { session, body: { code } });
      assert.deepEqual([hit.json().valid, hit.json().verification.status], [true, 'approved']);
      const v = await server.runtime.store.verifications.byId(acme.applicationId, view.id);
      assert.equal(v?.attempts, 2, "the agent's wrong entry used up an attempt (SEC-05)");
      assert.equal(v?.purpose, 'caller_verification');

      const events = await server.runtime.store.events.forSubject(view.id);
      const actors = events.filter((e) => e.type.startsWith('verification.')).map((e) => [e.type, e.actor]);
      assert.deepEqual(actors, [
        ['verification.started', `agent:${agent.id}`],
        ['verification.check_failed', `agent:${agent.id}`],
        ['verification.approved', `agent:${agent.id}`],
      ]);

      // Restart after a cancel: a new one goes out; the cancelled one stays cancelled.
      const again = (await inject('POST', `/apps/${acme.applicationId}/people/${userId}/send-code`, { session, body: { device_id: device } })).json().verification;
      const cancelled = await inject('POST', `/apps/${acme.applicationId}/verifications/${again.id}/cancel`, { session });
      assert.equal(cancelled.json().verification.status, 'cancelled');

      // The audit lists what the agent did, with whom and the result.
      const audit = await inject('GET', `/apps/${acme.applicationId}/audit`, { session });
      assert.equal(audit.statusCode, 200, audit.body);
      const mine = (audit.json().items as Array<{ agent: { id: string; email: string }; person: { display_name: string }; verification_id: string; action: string; result: string; channel: string }>).filter(
        (i) => i.agent.id === agent.id,
      );
      assert.deepEqual(
        mine.map((i) => [i.verification_id, i.action, i.result, i.channel, i.person.display_name, i.agent.email]),
        [
          [view.id, 'send_code', 'approved', 'sms', 'Sam Sms', agent.email],
          [view.id, 'check', 'wrong_code', 'sms', 'Sam Sms', agent.email],
          [view.id, 'check', 'approved', 'sms', 'Sam Sms', agent.email],
          [again.id, 'send_code', 'cancelled', 'sms', 'Sam Sms', agent.email],
          [again.id, 'cancel', 'cancelled', 'sms', 'Sam Sms', agent.email],
        ],
      );
      assert.ok(!audit.body.includes(code));
      // Paged with the cursor: the same entries, two at a time.
      const first = (await inject('GET', `/apps/${acme.applicationId}/audit?limit=2`, { session })).json();
      assert.equal(first.items.length, 2);
      const next = (await inject('GET', `/apps/${acme.applicationId}/audit?limit=2&cursor=${first.next_cursor}`, { session })).json();
      assert.notDeepEqual(next.items[0], first.items[0]);
    });

    test('admin routes: an agent gets 403 admin_required; an admin reads and changes settings and templates as agent:<id>, and manages agents of its applications only', async () => {
      const agent = await newAgent('agent', [acme.applicationId]);
      const admin = await newAgent('admin', [acme.applicationId]);
      const stranger = await newAgent('agent', [other.applicationId]);
      const asAgent = await signIn(agent.email);
      const asAdmin = await signIn(admin.email);
      assertProblem(await inject('GET', `/apps/${acme.applicationId}/settings`, { session: asAgent }), 403, 'admin_required');
      assertProblem(await inject('GET', '/agents', { session: asAgent }), 403, 'admin_required');

      const settings = await inject('GET', `/apps/${acme.applicationId}/settings`, { session: asAdmin });
      assert.equal(settings.statusCode, 200, settings.body);
      const patched = await inject('PATCH', `/apps/${acme.applicationId}/settings`, { session: asAdmin, body: { max_attempts: 4 } });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().max_attempts, 4);
      const put = await inject('PUT', `/apps/${acme.applicationId}/templates/sms/caller_verification/nl`, { session: asAdmin, body: { text: 'Uw code is {code}.' } });
      assert.equal(put.statusCode, 200, put.body);
      const listed = await inject('GET', `/apps/${acme.applicationId}/templates/sms/caller_verification`, { session: asAdmin });
      assert.deepEqual(listed.json().items.map((t: { locale: string; text: string }) => [t.locale, t.text]), [['nl', 'Uw code is {code}.']]);
      assert.equal((await inject('DELETE', `/apps/${acme.applicationId}/templates/sms/caller_verification/nl`, { session: asAdmin })).statusCode, 204);
      const changes = await server.runtime.store.eventLog.audit({ applicationId: acme.applicationId, actor: `agent:${admin.id}`, limit: 10 });
      assert.deepEqual(
        changes.map((e) => e.type),
        ['application.settings_changed', 'template.updated', 'template.deleted'],
      );

      const visible = (await inject('GET', '/agents', { session: asAdmin })).json().items.map((a: { id: string }) => a.id);
      assert.ok(visible.includes(agent.id) && visible.includes(admin.id));
      assert.ok(!visible.includes(stranger.id), "an agent of another tenant's application is not listed");
      assertProblem(await inject('PATCH', `/agents/${stranger.id}`, { session: asAdmin, body: { role: 'admin' } }), 404, 'agent_not_found');
      assertProblem(await inject('POST', '/agents', { session: asAdmin, body: { email: `x-${dialect}@example.com`, role: 'agent', applications: [other.applicationId] } }), 404, 'application_not_granted');

      const created = await inject('POST', '/agents', { session: asAdmin, body: { email: `New-${dialect}@Example.com`, role: 'agent', applications: [acme.applicationId] } });
      assert.equal(created.statusCode, 201, created.body);
      const { agent: newcomer, password } = created.json();
      assert.equal(newcomer.email, `new-${dialect}@example.com`);
      assert.match(password, /^[a-z2-7]{24}$/);
      assertProblem(await inject('POST', '/agents', { session: asAdmin, body: { email: `NEW-${dialect}@example.com`, role: 'agent' } }), 409, 'agent_exists');
      const theirs = await signIn(newcomer.email, password);

      const disabled = await inject('DELETE', `/agents/${newcomer.id}`, { session: asAdmin });
      assert.notEqual(disabled.json().agent.disabled_at, null);
      assertProblem(await inject('GET', '/session', { session: theirs }), 401, 'not_signed_in');
      const regranted = await inject('PATCH', `/agents/${agent.id}`, { session: asAdmin, body: { applications: [] } });
      assert.deepEqual(regranted.json().agent.applications, []);
      assertProblem(await inject('GET', `/apps/${acme.applicationId}/people?q=ab`, { session: asAgent }), 404, 'application_not_granted');
    });

    // These two move the clock by hours (access tokens expire): they come last.
    test('sign-in is rate limited per e-mail (5 failures in 15 min) and per client address (20), even with the right password', async () => {
      const agent = await newAgent('agent', []);
      for (let i = 0; i < 5; i++) assertProblem(await inject('POST', '/sign-in', { body: { email: agent.email, password: `wrong-${i}-password` }, address: newAddress() }), 401, 'invalid_credentials');
      const refused = await inject('POST', '/sign-in', { body: { email: agent.email, password: PASSWORD }, address: newAddress() });
      const problem = assertProblem(refused, 429, 'rate_limited');
      assert.ok(Number(refused.headers['retry-after']) > 0 && Number(refused.headers['retry-after']) <= 900, String(refused.headers['retry-after']));
      assert.equal(problem['retry_after'], Number(refused.headers['retry-after']));
      clock.advance(15 * 60 * 1000);
      await signIn(agent.email);

      const address = newAddress();
      for (let i = 0; i < 20; i++) assertProblem(await inject('POST', '/sign-in', { body: { email: `guess${i}-${dialect}@example.com`, password: 'whatever-password' }, address }), 401, 'invalid_credentials');
      assertProblem(await inject('POST', '/sign-in', { body: { email: agent.email, password: PASSWORD }, address }), 429, 'rate_limited');
      // Another address is not held back.
      await signIn(agent.email);
      clock.advance(15 * 60 * 1000);
      await signIn(agent.email, PASSWORD, address);
    });

    test('a session expires after 30 idle minutes (each request moves it on) and 12 hours after sign-in regardless', async () => {
      const agent = await newAgent('agent', []);
      const session = await signIn(agent.email);
      clock.advance(29 * 60 * 1000);
      assert.equal((await inject('GET', '/session', { session })).statusCode, 200);
      clock.advance(29 * 60 * 1000);
      assert.equal((await inject('GET', '/session', { session })).statusCode, 200, 'sliding: 58 min after sign-in, 29 idle');
      clock.advance(30 * 60 * 1000 + 1);
      const idle = await inject('GET', '/session', { session });
      assertProblem(idle, 401, 'not_signed_in');
      assert.match(String(idle.headers['set-cookie']), /^outband_console=;/, 'the stale cookie is cleared');
      assert.equal((await server.runtime.store.database.db.selectFrom('console_sessions').select('id_hash').where('agent_id', '=', agent.id).execute()).length, 0);

      const busy = await signIn(agent.email);
      for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
        clock.advance(20 * 60 * 1000);
        assert.equal((await inject('GET', '/session', { session: busy })).statusCode, 200, `${minutes} min after sign-in`);
      }
      clock.advance(20 * 60 * 1000);
      assertProblem(await inject('GET', '/session', { session: busy }), 401, 'not_signed_in');
    });

    test('first-run admin: created once when there is no agent, granted every application', async () => {
      // This server has agents already (the tests above): nothing happens.
      assert.equal(await server.runtime.agents.ensureFirstAdmin('admin@localhost'), null);
      const fresh = await startTestServer({ dialect });
      try {
        const one = await fresh.tenant();
        const two = await fresh.tenant();
        const admin = await fresh.runtime.agents.ensureFirstAdmin('Admin@Localhost');
        assert.ok(admin !== null);
        assert.equal(admin.email, 'admin@localhost');
        assert.equal(await fresh.runtime.agents.ensureFirstAdmin('admin@localhost'), null, 'only once');
        const [listed] = await fresh.runtime.agents.list();
        assert.deepEqual([listed?.role, [...(listed?.applications ?? [])].sort()], ['admin', [one.applicationId, two.applicationId].sort()]);
        const res = await fresh.runtime.app.inject({ method: 'POST', url: '/console/api/sign-in', payload: { email: admin.email, password: admin.password } });
        assert.equal(res.statusCode, 200, res.body);
        assert.ok(!fresh.logs.join('').includes(admin.password), 'the password is not in the log stream');
      } finally {
        await fresh.close();
      }
    });
  });

  test(`${dialect}: behind https the console cookie is Secure`, async () => {
    const server = await startTestServer({ dialect, env: { PUBLIC_URL: 'https://outband.example' } });
    try {
      await server.runtime.agents.create({ email: 'secure@example.com', role: 'agent', password: PASSWORD });
      const res = await server.runtime.app.inject({ method: 'POST', url: '/console/api/sign-in', payload: { email: 'secure@example.com', password: PASSWORD } });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['set-cookie']), /; Secure/);
      assert.match(String(res.headers['set-cookie']), /; HttpOnly/);
    } finally {
      await server.close();
    }
  });
}
