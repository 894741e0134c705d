import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signDeviceJws } from '../../src/authenticator/device-jws.ts';
import { privateKeyObject } from '../../src/authenticator/device-key.ts';
import { DeviceApiError } from '../../src/authenticator/errors.ts';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { enrolHeadlessPhone, type HeadlessPhone as Phone } from '../helpers/phone.ts';
import { freePort, startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

for (const dialect of dialects()) {
  describe(`${dialect}: push authentication end to end`, () => {
    let server: TestServer;
    let tenant: Tenant;
    let clock: TestClock;
    const phones: Phone[] = [];

    before(async () => {
      const port = await freePort();
      clock = new TestClock(Date.now());
      server = await startTestServer({ dialect, clock, env: { PUBLIC_URL: `http://127.0.0.1:${port}`, PORT: String(port) } });
      await server.runtime.app.listen({ port, host: '127.0.0.1' });
      tenant = await server.tenant();
    });
    after(async () => {
      for (const p of phones) p.stop();
      await server.close();
    });

    async function user(): Promise<string> {
      const res = await tenant.request('POST', '/v1/users', { email: `u${Math.random().toString(36).slice(2)}@example.com` });
      return res.json().id as string;
    }
    async function phone(userId: string, capabilities?: Array<'pin' | 'biometric'>): Promise<Phone> {
      const p = await enrolHeadlessPhone(tenant, userId, { capabilities });
      phones.push(p);
      return p;
    }
    /** Starts a push verification and a long-poll on it; answers both. */
    async function push(body: Record<string, unknown>) {
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'push', ...body });
      assert.equal(started.statusCode, 201, started.body);
      const id = started.json().id as string;
      const longPoll = tenant.request('GET', `/v1/verifications/${id}?wait=20`).then((r) => r.json());
      return { started: started.json(), id, longPoll };
    }
    async function events(id: string): Promise<string[]> {
      return (await server.runtime.store.events.forSubject(id)).map((e) => e.type);
    }

    test('enrol → push → the authenticator hears it on its stream and approves with a signature → the long-poll returns approved', async () => {
      const userId = await user();
      const p = await phone(userId);
      const listed = (await tenant.request('GET', `/v1/users/${userId}/devices`)).json().items;
      assert.equal(listed.length, 1);
      assert.deepEqual([listed[0].kind, listed[0].status, listed[0].role, listed[0].name], ['push', 'paired', 'primary', 'Authenticator 1']);

      const arriving = p.next();
      const { id, longPoll } = await push({ user_id: userId, message: 'Sign in to Acme?', context: { requester: 'Acme support', agent: 'Sam' } });
      const request = await arriving;
      assert.equal(request.id, id);
      assert.equal(request.message, 'Sign in to Acme?');
      assert.deepEqual(request.context, { requester: 'Acme support', agent: 'Sam' });
      assert.equal(request.user_verification, 'required');
      const answer = await p.client.respond(id, { decision: 'approve', userVerification: 'pin' });
      assert.equal(answer.status, 'approved');
      const result = await longPoll;
      assert.equal(result.status, 'approved');
      assert.equal(result.push.answered_by, p.stored.device_id);
      assert.equal(result.push.user_verified_with, 'pin');
      assert.equal(result.aal, 2);
      assert.deepEqual(await events(id), ['verification.started', 'verification.approved']);
      const device = (await tenant.request('GET', `/v1/devices/${p.stored.device_id}`)).json();
      assert.notEqual(device.last_used_at, null);
    });

    test('deny and report_fraud are final and visible, with their reason; nothing re-sends them', async () => {
      const userId = await user();
      const p = await phone(userId);
      const first = await push({ user_id: userId });
      assert.equal((await p.client.respond(first.id, { decision: 'deny', userVerification: 'pin' })).status, 'denied');
      assert.deepEqual([(await first.longPoll).status, (await first.longPoll).reason], ['denied', 'denied']);
      const second = await push({ user_id: userId });
      await p.client.respond(second.id, { decision: 'report_fraud', userVerification: 'none' });
      const result = await second.longPoll;
      assert.deepEqual([result.status, result.reason], ['denied', 'reported_fraud']);
      assert.ok((await events(second.id)).includes('verification.reported_fraud'));
      // SEC-24: a declined request cannot be approved later.
      await assert.rejects(p.client.respond(first.id, { decision: 'approve', userVerification: 'pin' }), (e: DeviceApiError) => e.status === 409 && e.code === 'verification_not_pending');
      assert.equal((await tenant.request('GET', `/v1/verifications/${first.id}`)).json().status, 'denied');
      const resend = await tenant.request('POST', `/v1/verifications/${first.id}/resend`, {});
      assert.equal(resend.statusCode, 409);
    });

    test('expiry: the long-poll answers expired, the stream withdraws the request, and a late approval is refused (SEC-24)', async () => {
      const userId = await user();
      const p = await phone(userId);
      const { id, longPoll } = await push({ user_id: userId, ttl_seconds: 30 });
      await p.next();
      clock.advance(31_000);
      await server.runtime.verifications.expireOverdue(100);
      const result = await longPoll;
      assert.equal(result.status, 'expired');
      await assert.rejects(p.client.respond(id, { decision: 'approve', userVerification: 'pin' }), (e: DeviceApiError) => e.status === 409 && e.code === 'verification_expired');
      for (let i = 0; i < 50 && !p.withdrawn.some((w) => w.id === id); i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(p.withdrawn.find((w) => w.id === id)?.status, 'expired');
      assert.deepEqual(await events(id), ['verification.started', 'verification.expired']);
    });

    test('matching pick: the right number approves; a wrong one denies with number_mismatch', async () => {
      const userId = await user();
      const p = await phone(userId);
      const good = await push({ user_id: userId, matching: 'pick' });
      const number = good.started.match_number as string;
      assert.match(number, /^\d{2}$/);
      const request = await p.client.request(good.id);
      assert.equal(request.choices?.length, 3);
      assert.ok(request.choices?.includes(number));
      assert.equal((await p.client.respond(good.id, { decision: 'approve', userVerification: 'pin', answer: number })).status, 'approved');
      assert.equal((await good.longPoll).status, 'approved');

      const bad = await push({ user_id: userId, matching: 'pick' });
      const wrong = (await p.client.request(bad.id)).choices?.find((c) => c !== bad.started.match_number) as string;
      const answer = await p.client.respond(bad.id, { decision: 'approve', userVerification: 'pin', answer: wrong });
      assert.deepEqual([answer.status, answer.reason], ['denied', 'number_mismatch']);
      assert.ok((await events(bad.id)).includes('verification.number_mismatch'));
      // Without the answer, nothing changes.
      const third = await push({ user_id: userId, matching: 'pick' });
      await assert.rejects(p.client.respond(third.id, { decision: 'approve', userVerification: 'pin' }), (e: DeviceApiError) => e.code === 'answer_required');
      assert.equal((await tenant.request('GET', `/v1/verifications/${third.id}`)).json().status, 'pending');
    });

    test('SEC-20 matching type: no code or a wrong code does not approve (a wrong one counts as an attempt); the right code approves', async () => {
      const userId = await user();
      const p = await phone(userId);
      const { id, started, longPoll } = await push({ user_id: userId, matching: 'type' });
      const code = started.match_code as string;
      assert.match(code, /^\d{6}$/);
      await assert.rejects(p.client.respond(id, { decision: 'approve', userVerification: 'pin' }), (e: DeviceApiError) => e.code === 'answer_required');
      const wrong = code === '000000' ? '111111' : '000000';
      const after = await p.client.respond(id, { decision: 'approve', userVerification: 'pin', answer: wrong });
      assert.equal(after.status, 'pending');
      assert.equal((await tenant.request('GET', `/v1/verifications/${id}`)).json().attempts_left, 2);
      assert.equal((await p.client.respond(id, { decision: 'approve', userVerification: 'pin', answer: code })).status, 'approved');
      assert.equal((await longPoll).status, 'approved');
      const json = JSON.stringify(await tenant.request('GET', `/v1/verifications/${id}`).then((r) => r.json()));
      assert.ok(!json.includes(code), 'the typed code is never shown again');
    });

    test('matching read_back: after the approval the device shows a code; only that code, checked by the agent, approves', async () => {
      const userId = await user();
      const p = await phone(userId);
      const { id, longPoll } = await push({ user_id: userId, matching: 'read_back', purpose: 'caller_verification' });
      const premature = await tenant.request('POST', `/v1/verifications/${id}/check`, { code: '123456' });
      assert.equal(premature.json().code, 'verification_awaiting_device');
      const answer = await p.client.respond(id, { decision: 'approve', userVerification: 'biometric' }).catch((e: unknown) => e);
      // The reference CLI declared only pin: biometric is refused, changing nothing.
      assert.equal((answer as DeviceApiError).code, 'user_verification_not_capable');
      const approved = await p.client.respond(id, { decision: 'approve', userVerification: 'pin' });
      assert.equal(approved.status, 'pending');
      assert.match(approved.read_back_code ?? '', /^\d{6}$/);
      const view = (await tenant.request('GET', `/v1/verifications/${id}`)).json();
      assert.equal(view.push.awaiting_read_back, true);
      const wrong = approved.read_back_code === '000000' ? '111111' : '000000';
      assert.equal((await tenant.request('POST', `/v1/verifications/${id}/check`, { code: wrong })).json().valid, false);
      const right = (await tenant.request('POST', `/v1/verifications/${id}/check`, { code: approved.read_back_code })).json();
      assert.deepEqual([right.valid, right.status], [true, 'approved']);
      assert.equal((await longPoll).status, 'approved');
    });

    test('SEC-25 an approval without user verification, where it is required, is refused and changes nothing; preferred accepts it', async () => {
      const userId = await user();
      const p = await phone(userId);
      const required = await push({ user_id: userId });
      await assert.rejects(p.client.respond(required.id, { decision: 'approve', userVerification: 'none' }), (e: DeviceApiError) => e.status === 422 && e.code === 'user_verification_required');
      assert.equal((await tenant.request('GET', `/v1/verifications/${required.id}`)).json().status, 'pending');
      assert.deepEqual(await events(required.id), ['verification.started']);
      const preferred = await push({ user_id: userId, user_verification: 'preferred' });
      assert.equal((await p.client.respond(preferred.id, { decision: 'approve', userVerification: 'none' })).status, 'approved');
      assert.equal((await preferred.longPoll).aal, 1);
    });

    test('SEC-22 an answer signed by another device key, or altered after signing, is refused and the challenge stays pending', async () => {
      const userId = await user();
      const mine = await phone(userId);
      const otherUser = await user();
      const other = await phone(otherUser);
      const { id } = await push({ user_id: userId });
      const request = await mine.client.request(id);
      // Another user's device cannot see or answer it: not found, the same as an unknown id (SEC-11).
      await assert.rejects(other.client.respond(id, { decision: 'approve', userVerification: 'pin' }), (e: DeviceApiError) => e.status === 404 && e.code === 'request_not_found');
      // A correctly authenticated call whose answer signature is another key's.
      const base = `${mine.stored.api}/v1/device-api`;
      const forged = await (await import('../../src/authenticator/response-signature.ts')).signResponse(privateKeyObject(other.stored.private_jwk), {
        requestId: id,
        deviceId: mine.stored.device_id,
        challenge: request.challenge,
        decision: 'approve',
        userVerification: 'pin',
      });
      const send = async (body: Record<string, unknown>) => {
        const bytes = new TextEncoder().encode(JSON.stringify(body));
        const url = `${base}/requests/${id}/respond`;
        const jws = await signDeviceJws({ key: privateKeyObject(mine.stored.private_jwk), kid: mine.stored.device_id, audience: mine.stored.audience, method: 'POST', url, body: bytes, now: Date.now(), jti: crypto.randomUUID() + crypto.randomUUID() });
        return fetch(url, { method: 'POST', headers: { authorization: `Device ${jws}`, 'content-type': 'application/json' }, body: bytes });
      };
      const res = await send({ decision: 'approve', user_verification: 'pin', signature: forged });
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { code: string }).code, 'invalid_response_signature');
      // Signed for a denial, sent as an approval.
      const denial = await (await import('../../src/authenticator/response-signature.ts')).signResponse(privateKeyObject(mine.stored.private_jwk), {
        requestId: id,
        deviceId: mine.stored.device_id,
        challenge: request.challenge,
        decision: 'deny',
        userVerification: 'pin',
      });
      assert.equal((await send({ decision: 'approve', user_verification: 'pin', signature: denial })).status, 403);
      assert.equal((await tenant.request('GET', `/v1/verifications/${id}`)).json().status, 'pending');
      assert.deepEqual(await events(id), ['verification.started']);
    });

    test('SEC-24 a replayed approval is refused (its request id was used) and a second approval adds no event', async () => {
      const userId = await user();
      const p = await phone(userId);
      const { id } = await push({ user_id: userId });
      const request = await p.client.request(id);
      const { signResponse } = await import('../../src/authenticator/response-signature.ts');
      const signature = await signResponse(privateKeyObject(p.stored.private_jwk), { requestId: id, deviceId: p.stored.device_id, challenge: request.challenge, decision: 'approve', userVerification: 'pin' });
      const url = `${p.stored.api}/v1/device-api/requests/${id}/respond`;
      const bytes = new TextEncoder().encode(JSON.stringify({ decision: 'approve', user_verification: 'pin', signature }));
      const jws = await signDeviceJws({ key: privateKeyObject(p.stored.private_jwk), kid: p.stored.device_id, audience: p.stored.audience, method: 'POST', url, body: bytes, now: Date.now(), jti: 'replayed-request-id-0123456789' });
      const init = { method: 'POST', headers: { authorization: `Device ${jws}`, 'content-type': 'application/json' }, body: bytes };
      assert.equal((await fetch(url, init)).status, 200);
      const replay = await fetch(url, init);
      assert.equal(replay.status, 401);
      assert.equal(((await replay.json()) as { code: string }).code, 'invalid_device_signature');
      await assert.rejects(p.client.respond(id, { decision: 'approve', userVerification: 'pin' }), (e: DeviceApiError) => e.status === 409);
      assert.deepEqual(await events(id), ['verification.started', 'verification.approved']);
    });

    test('SEC-23 a device request must be issued within ±60 s; an unreadable time is a 400', async () => {
      const userId = await user();
      const p = await phone(userId);
      const url = `${p.stored.api}/v1/device-api/requests`;
      const call = async (offsetSeconds: number) => {
        const jws = await signDeviceJws({ key: privateKeyObject(p.stored.private_jwk), kid: p.stored.device_id, audience: p.stored.audience, method: 'GET', url, now: clock.now() + offsetSeconds * 1000, jti: crypto.randomUUID() });
        return (await fetch(url, { headers: { authorization: `Device ${jws}` } })).status;
      };
      assert.equal(await call(-61), 401);
      assert.equal(await call(61), 401);
      assert.equal(await call(-59), 200);
      assert.equal(await call(59), 200);
      const { CompactSign } = await import('jose');
      const bad = await new CompactSign(new TextEncoder().encode(JSON.stringify({ aud: p.stored.audience, iat: 'yesterday', jti: crypto.randomUUID(), htm: 'GET', htu: '/v1/device-api/requests' })))
        .setProtectedHeader({ alg: 'ES256', typ: 'device-api+jwt', kid: p.stored.device_id })
        .sign(privateKeyObject(p.stored.private_jwk));
      const res = await fetch(url, { headers: { authorization: `Device ${bad}` } });
      assert.equal(res.status, 400);
    });

    test('SEC-11 the device API answers an unknown device and a known one with a bad signature alike', async () => {
      const userId = await user();
      const p = await phone(userId);
      const stranger = await phone(await user());
      const url = `${p.stored.api}/v1/device-api/requests`;
      const as = async (kid: string) => {
        const jws = await signDeviceJws({ key: privateKeyObject(stranger.stored.private_jwk), kid, audience: p.stored.audience, method: 'GET', url, now: clock.now(), jti: crypto.randomUUID() });
        const res = await fetch(url, { headers: { authorization: `Device ${jws}` } });
        const body = (await res.json()) as Record<string, unknown>;
        return { status: res.status, code: body['code'], detail: body['detail'], title: body['title'] };
      };
      assert.deepEqual(await as(p.stored.device_id), await as('dev_unknownunknownunknownunkn'));
      assert.equal((await as(p.stored.device_id)).status, 401);
    });

    test('SEC-29 unpairing a device with a pending push cancels it; a later correctly signed answer is refused; no more pushes reach it', async () => {
      const userId = await user();
      const p = await phone(userId);
      const { id, longPoll } = await push({ user_id: userId });
      await p.client.request(id);
      assert.equal((await tenant.request('DELETE', `/v1/devices/${p.stored.device_id}`)).statusCode, 204);
      assert.equal((await longPoll).status, 'cancelled');
      await assert.rejects(p.client.respond(id, { decision: 'approve', userVerification: 'pin' }), (e: DeviceApiError) => e.status === 401 && e.code === 'invalid_device_signature');
      const again = await tenant.request('POST', '/v1/verifications', { channel: 'push', user_id: userId });
      assert.equal(again.json().code, 'no_push_device');
    });

    test('a push to every device of a user reaches each, primary first, and one answer ends it for all', async () => {
      const userId = await user();
      const first = await phone(userId);
      const second = await phone(userId);
      const arriving = [first.next(), second.next()];
      const { id, longPoll } = await push({ user_id: userId });
      const [a, b] = await Promise.all(arriving);
      assert.deepEqual([a?.id, b?.id], [id, id]);
      const view = (await tenant.request('GET', `/v1/verifications/${id}`)).json();
      assert.deepEqual(view.deliveries.map((d: { provider: string }) => d.provider), ['stream', 'stream']);
      await second.client.respond(id, { decision: 'approve', userVerification: 'pin' });
      assert.equal((await longPoll).status, 'approved');
      for (let i = 0; i < 50 && !first.withdrawn.some((w) => w.id === id); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(first.withdrawn.find((w) => w.id === id)?.status, 'approved');
    });

    test('the outband CLI enrols over the HTTP API and, with watch --approve-all, approves a request it hears on its stream', async () => {
      const userId = await user();
      const dir = mkdtempSync(join(tmpdir(), 'outband-cli-'));
      const file = join(dir, 'authenticator.json');
      const bin = join(import.meta.dirname, '../../bin/outband.js');
      const cli = (...args: string[]) => spawn(process.execPath, [bin, 'authenticator', ...args, '--file', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      try {
        const link = (await tenant.request('POST', `/v1/users/${userId}/devices`, { kind: 'push' })).json().enrolment.link as string;
        const enrolling = cli('enroll', link, '--name', 'Test laptop');
        let enrolled = '';
        enrolling.stdout.on('data', (c: Buffer) => (enrolled += c));
        assert.equal(await new Promise((resolve) => enrolling.on('exit', resolve)), 0);
        assert.match(enrolled, /dev_[a-z2-7]+/);
        assert.equal(statSync(file).mode & 0o777, 0o600, 'the key file is readable by its owner only');
        const watch = cli('watch', '--approve-all');
        let out = '';
        const seen = (pattern: RegExp) =>
          new Promise<void>((resolve) => {
            const look = () => pattern.test(out) && resolve();
            watch.stdout.on('data', (c: Buffer) => {
              out += c;
              look();
            });
            look();
          });
        await seen(/^connected dev_/m);
        const { id, longPoll } = await push({ user_id: userId });
        assert.equal((await longPoll).status, 'approved');
        await seen(new RegExp(`^approved ${id}`, 'm'));
        watch.kill('SIGTERM');
        await new Promise((resolve) => watch.on('exit', resolve));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('GET /v1/verifications/{id}/stream sends the status now and at the change, then ends', async () => {
      const userId = await user();
      const p = await phone(userId);
      const { id } = await push({ user_id: userId });
      const base = p.stored.api;
      const res = await fetch(`${base}/v1/verifications/${id}/stream`, { headers: { authorization: `Bearer ${tenant.token}` } });
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const reader = res.body!.getReader();
      let text = '';
      const read = async (until: RegExp) => {
        while (!until.test(text)) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
      };
      await read(/"status":"pending"/);
      await p.client.respond(id, { decision: 'approve', userVerification: 'pin' });
      await read(/"status":"approved"/);
      await read(/$^/); // to the end: the stream closes after the final status
      assert.equal((text.match(/event: status/g) ?? []).length, 2);
    });
  });
}
