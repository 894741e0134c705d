import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const POOL = '+442079460000-+442079469999';

/** Twilio's Calls API as documented: a form POST answered 201 with the call's sid. */
async function fakeTwilio(): Promise<{ server: Server; url: string; calls: Array<Record<string, string>> }> {
  const calls: Array<Record<string, string>> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push({ path: req.url ?? '', ...Object.fromEntries(new URLSearchParams(body)) });
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: `CA${randomBytes(16).toString('hex')}`, status: 'queued' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

/** The digits a voice message speaks: "5, 6, 1, 1, 2, 6" → "561126". */
function spokenDigits(speech: string): string[] {
  return [...speech.matchAll(/\d(?:, \d)+/g)].map((m) => m[0].replace(/\D/g, ''));
}

for (const dialect of dialects()) {
  describe(`${dialect}: voice calls and missed calls`, () => {
    let server: TestServer;
    let twilio: Awaited<ReturnType<typeof fakeTwilio>>;
    const clock = new TestClock();
    before(async () => {
      twilio = await fakeTwilio();
      server = await startTestServer({
        dialect,
        clock,
        env: {
          OUTBAND_WORKERS: 'false',
          MISSED_CALL_POOL: POOL,
          MISSED_CALL_CODE_LENGTH: '4',
          TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
          TWILIO_AUTH_TOKEN: randomBytes(16).toString('hex'),
          TWILIO_FROM: '+3197010000000',
          TWILIO_API_BASE_URL: twilio.url,
        },
      });
    });
    after(async () => {
      await server.close();
      twilio.server.close();
    });

    async function outbox(tenant: Tenant, id: string) {
      await server.runtime.worker.runOnce();
      return ((await tenant.request('GET', `/v1/outbox?verification_id=${id}`)).json().items as Array<{ channel: string; body: string; html: string | null; subject: string | null }>).reverse();
    }

    test('a voice call speaks the code digit by digit, twice, and that code approves', async () => {
      const tenant = await server.tenant({ providers: { sms: 'outbox', email: 'outbox', voice: 'outbox' } });
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'voice', to: '+31612345678', locale: 'nl' })).json();
      const [call] = await outbox(tenant, v.id);
      assert.ok(call);
      assert.equal(call.channel, 'voice');
      const spoken = spokenDigits(call.body);
      assert.equal(spoken.length, 2, `the code is said twice: ${call.body}`);
      assert.equal(spoken[0], spoken[1]);
      assert.match(call.subject ?? '', /nl-NL/);
      assert.match(call.html ?? '', /^<speak[\s\S]*xml:lang="nl-NL"[\s\S]*<break/);
      assert.equal((await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code: spoken[0] })).json().status, 'approved');
    });

    test('a voice call through Twilio: a Calls request whose TwiML says the code in the language', async () => {
      const tenant = await server.tenant({ providers: { sms: 'outbox', email: 'outbox', voice: 'twilio' } });
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'voice', to: '+31612345679', locale: 'de' })).json();
      await server.runtime.worker.runOnce();
      const call = twilio.calls.find((c) => c['To'] === '+31612345679');
      assert.ok(call);
      assert.match(call['path'] ?? '', /\/Calls\.json$/);
      assert.match(call['Twiml'] ?? '', /<Say language="de-DE">/);
      const [code] = spokenDigits(call['Twiml'] ?? '');
      assert.ok(code);
      assert.equal((await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code })).json().status, 'approved');
    });

    test('workflow sms → voice: the SMS step times out, the call goes out with the same code', async () => {
      const tenant = await server.tenant({ providers: { sms: 'outbox', email: 'outbox', voice: 'outbox' } });
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345670', workflow: [{ channel: 'sms', timeout_seconds: 60 }, { channel: 'voice' }] })).json();
      assert.equal((await outbox(tenant, v.id)).length, 1);
      clock.advance(61_000);
      const [sms, voice] = await outbox(tenant, v.id);
      assert.equal(voice?.channel, 'voice');
      const smsCode = sms?.body.match(/code is (\d+)/)?.[1];
      assert.equal(spokenDigits(voice?.body ?? '')[0], smsCode);
      assert.equal((await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code: smsCode })).json().status, 'approved');
    });

    test('SEC-17 a missed call: the caller\'s last digits are the code, shown as a possession check with its real entropy', async () => {
      const tenant = await server.tenant({ providers: { sms: 'outbox', email: 'outbox', missed_call: 'outbox' } });
      const res = await tenant.request('POST', '/v1/verifications', { channel: 'missed_call', to: '+31612345671' });
      assert.equal(res.statusCode, 201, res.body);
      const v = res.json();
      assert.equal(v.purpose, 'confirm_contact');
      assert.equal(v.digits, 4);
      assert.match(v.caller_prefix, /^\+44 20 7946 ••••$/);
      assert.equal(v.entropy_bits, 13.29, 'log2(10,000)');
      const [call] = await outbox(tenant, v.id);
      const caller = call?.body.match(/Missed call from (\+\d+)/)?.[1] ?? '';
      assert.ok(caller.startsWith('+44207946'), caller);
      assert.equal((await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code: caller.slice(-4) })).json().status, 'approved');

      const auth = await tenant.request('POST', '/v1/verifications', { channel: 'missed_call', to: '+31612345671', purpose: 'authentication' });
      assert.equal(auth.statusCode, 422);
      assert.equal(auth.json().code, 'purpose_not_permitted');
      assert.equal(auth.json().entropy_bits, 13.29);
    });

    test('SEC-17 three wrong digit entries fail a missed call', async () => {
      const tenant = await server.tenant({ providers: { sms: 'outbox', email: 'outbox', missed_call: 'outbox' } });
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'missed_call', to: '+31612345672' })).json();
      const [call] = await outbox(tenant, v.id);
      const code = call?.body.match(/Missed call from \+\d+(\d{4}) /)?.[1];
      assert.ok(code);
      const wrong = String((Number(code) + 1) % 10_000).padStart(4, '0');
      for (let i = 0; i < 3; i++) await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code: wrong });
      const right = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code });
      assert.equal(right.json().code, 'max_attempts_reached');
    });

    test('a missed call through Twilio comes from the pool number, rings and hangs up', async () => {
      const tenant = await server.tenant({ providers: { sms: 'outbox', email: 'outbox', missed_call: 'twilio' } });
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'missed_call', to: '+31612345673' })).json();
      await server.runtime.worker.runOnce();
      const call = twilio.calls.find((c) => c['To'] === '+31612345673');
      assert.ok(call);
      assert.match(call['From'] ?? '', /^\+44207946\d{4}$/);
      assert.equal(call['Timeout'], '20');
      assert.match(call['Twiml'] ?? '', /<Hangup\/>/);
      assert.equal((await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code: call['From']?.slice(-4) })).json().status, 'approved');
    });

    test('missed calls and voice are off unless the application names a provider', async () => {
      const tenant = await server.tenant();
      for (const channel of ['voice', 'missed_call']) {
        const res = await tenant.request('POST', '/v1/verifications', { channel, to: '+31612345674' });
        assert.equal(res.statusCode, 422);
        assert.equal(res.json().code, 'channel_not_enabled');
      }
    });
  });
}

for (const dialect of dialects()) {
  test(`${dialect}: SEC-16 e-mail and missed-call verifications say they are not authenticators (aal null), in answers and events`, async (t) => {
    const server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false', MISSED_CALL_POOL: POOL, MISSED_CALL_CODE_LENGTH: '4' } });
    t.after(() => server.close());
    const tenant = await server.tenant({ providers: { sms: 'outbox', email: 'outbox', missed_call: 'outbox' } });
    const cases = [
      ['email', 'a@example.com', null],
      ['missed_call', '+31612345678', null],
      ['sms', '+31612345678', 1],
    ] as const;
    for (const [channel, to, aal] of cases) {
      const v = (await tenant.request('POST', '/v1/verifications', { channel, to, purpose: 'confirm_contact' })).json();
      assert.equal(v.aal, aal, channel);
      assert.equal((await tenant.request('GET', `/v1/verifications/${v.id}`)).json().aal, aal);
      const [started] = await server.runtime.store.events.forSubject(v.id);
      assert.equal(started?.data['aal'], aal);
      assert.equal(started?.data['purpose'], 'confirm_contact');
    }
  });
}
