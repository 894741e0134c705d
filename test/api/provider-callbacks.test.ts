// Threats: a reply from another number approves someone else's verification (SEC-18); a forged
// or replayed provider request changes state (SEC-19).
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { dialects } from '../helpers/databases.ts';
import { signStandardWebhook } from '../helpers/sms-gateway.ts';
import { codeFromOutbox, startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

for (const dialect of dialects()) {
  describe(`${dialect}: two-way SMS over the webhook provider`, () => {
    let server: TestServer;
    before(async () => {
      // The gateway itself is not needed: messages go out through the outbox, replies come in through the webhook provider.
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false', SMS_WEBHOOK_URL: 'http://127.0.0.1:9/unused', SMS_WEBHOOK_SECRET: SECRET } });
    });
    after(() => server.close());

    function reply(body: { id: string; from: string; text: string }, options: { secret?: string; timestamp?: number; signature?: string | null } = {}) {
      const raw = JSON.stringify({ ...body, to: '+3197000000000' });
      const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'webhook-id': body.id, 'webhook-timestamp': String(timestamp) };
      const signature = options.signature === undefined ? signStandardWebhook(options.secret ?? SECRET, body.id, timestamp, raw) : options.signature;
      if (signature !== null) headers['webhook-signature'] = signature;
      return server.runtime.app.inject({ method: 'POST', url: '/v1/inbound/sms/webhook', headers, payload: raw });
    }

    async function twoWay(tenant: Tenant, to: string) {
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to, two_way: true })).json();
      assert.equal(v.two_way, true);
      return { id: v.id as string, code: await codeFromOutbox(tenant, v.id, server.runtime.worker) };
    }
    const status = async (tenant: Tenant, id: string) => (await tenant.request('GET', `/v1/verifications/${id}`)).json();

    test('SEC-18 a reply with the code from the verification\'s own number approves it; the same message twice is processed once', async () => {
      const tenant = await server.tenant();
      const { id, code } = await twoWay(tenant, '+31612340001');
      const res = await reply({ id: `in-${randomBytes(4).toString('hex')}`, from: '+31612340001', text: `Code ${code}` });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { status: 'accepted' });
      assert.equal((await status(tenant, id)).status, 'approved');

      // A second verification, and a provider delivering one wrong reply twice: counted once.
      const second = await twoWay(tenant, '+31612340001');
      const wrong = { id: 'in-repeat-1', from: '+31612340001', text: second.code === '000000' ? '111111' : '000000' };
      await reply(wrong);
      await reply(wrong);
      assert.equal((await status(tenant, second.id)).attempts_left, 2, 'one attempt used, not two');
    });

    test('SEC-18 the right code from another number does nothing to the verification', async () => {
      const tenant = await server.tenant();
      const { id, code } = await twoWay(tenant, '+31612340002');
      const res = await reply({ id: `in-${randomBytes(4).toString('hex')}`, from: '+31612349999', text: code });
      assert.equal(res.statusCode, 200);
      const v = await status(tenant, id);
      assert.equal(v.status, 'pending');
      assert.equal(v.attempts_left, 3);
      // Typing the code in the relying party's UI still works: both paths approve the same verification.
      assert.equal((await tenant.request('POST', `/v1/verifications/${id}/check`, { code })).json().status, 'approved');
    });

    test('a wrong reply uses up an attempt; a verification without two_way ignores replies', async () => {
      const tenant = await server.tenant();
      const { id, code } = await twoWay(tenant, '+31612340003');
      const wrong = code === '000000' ? '111111' : '000000';
      await reply({ id: `in-${randomBytes(4).toString('hex')}`, from: '+31612340003', text: wrong });
      assert.equal((await status(tenant, id)).attempts_left, 2);

      const plain = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612340004' })).json();
      const plainCode = await codeFromOutbox(tenant, plain.id, server.runtime.worker);
      await reply({ id: `in-${randomBytes(4).toString('hex')}`, from: '+31612340004', text: plainCode });
      assert.equal((await status(tenant, plain.id)).status, 'pending');
      const email = await tenant.request('POST', '/v1/verifications', { channel: 'email', to: 'x@example.com', two_way: true });
      assert.equal(email.statusCode, 422);
      assert.equal(email.json().code, 'two_way_not_supported');
    });

    test('SEC-19 unsigned, wrongly signed, tampered or stale inbound requests are refused with 401 and change nothing', async () => {
      const tenant = await server.tenant();
      const { id, code } = await twoWay(tenant, '+31612340005');
      const body = { id: `in-${randomBytes(4).toString('hex')}`, from: '+31612340005', text: code };
      const refused = [
        await reply(body, { signature: null }),
        await reply(body, { secret: `whsec_${randomBytes(32).toString('base64')}` }),
        await reply(body, { signature: 'v1,AAAA' }),
        await reply(body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }),
      ];
      // Signed for one body, sent with another.
      const raw = JSON.stringify({ ...body, to: '+3197000000000' });
      const ts = Math.floor(Date.now() / 1000);
      refused.push(
        await server.runtime.app.inject({
          method: 'POST',
          url: '/v1/inbound/sms/webhook',
          headers: { 'content-type': 'application/json', 'webhook-id': body.id, 'webhook-timestamp': String(ts), 'webhook-signature': signStandardWebhook(SECRET, body.id, ts, raw) },
          payload: raw.replace(code, '999999'),
        }),
      );
      for (const res of refused) {
        assert.equal(res.statusCode, 401, res.body);
        assert.equal(res.json().code, 'invalid_signature');
      }
      const v = await status(tenant, id);
      assert.equal(v.status, 'pending');
      assert.equal(v.attempts_left, 3);
      const unknown = await server.runtime.app.inject({ method: 'POST', url: '/v1/inbound/sms/nosuch', headers: { 'content-type': 'application/json' }, payload: '{}' });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().code, 'provider_not_found');
    });
  });
}

/** Twilio's request signature, written from Twilio's documentation: base64 HMAC-SHA1 over the URL and the sorted form. */
function twilioSign(token: string, url: string, params: Record<string, string>): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

for (const dialect of dialects()) {
  describe(`${dialect}: Twilio callbacks: inbound SMS and delivery status`, () => {
    const SID = `AC${'0'.repeat(32)}`;
    const TOKEN = randomBytes(16).toString('hex');
    let server: TestServer;
    let fake: Server;
    const sent: Array<Record<string, string>> = [];
    before(async () => {
      // Twilio's Messages API as documented: a form POST, answered 201 with the message's sid.
      fake = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          const form = Object.fromEntries(new URLSearchParams(body));
          sent.push(form);
          res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: `SM${randomBytes(16).toString('hex')}`, status: 'queued' }));
        });
      });
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      const port = (fake.address() as AddressInfo).port;
      server = await startTestServer({
        dialect,
        env: {
          OUTBAND_WORKERS: 'false',
          TWILIO_ACCOUNT_SID: SID,
          TWILIO_AUTH_TOKEN: TOKEN,
          TWILIO_FROM: '+3197010000000',
          TWILIO_API_BASE_URL: `http://127.0.0.1:${port}`,
          TWILIO_STATUS_CALLBACK_URL: 'http://localhost:8080/v1/callbacks/twilio',
        },
      });
    });
    after(async () => {
      await server.close();
      fake.close();
    });

    const post = (path: string, params: Record<string, string>, signature?: string) =>
      server.runtime.app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature ?? twilioSign(TOKEN, `http://localhost:8080${path}`, params) },
        payload: new URLSearchParams(params).toString(),
      });

    test('SEC-18/19 a signed Twilio reply approves a two-way verification and is answered with TwiML; a delivery callback marks the SMS delivered', async () => {
      const tenant = await server.tenant({ providers: { sms: 'twilio', email: 'outbox' } });
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', two_way: true })).json();
      await server.runtime.worker.runOnce();
      const message = sent.find((m) => m['To'] === '+31612345678');
      assert.ok(message, 'the SMS went to Twilio');
      assert.equal(message['StatusCallback'], 'http://localhost:8080/v1/callbacks/twilio');
      const code = message['Body']?.match(/code is (\d+)/)?.[1];
      assert.ok(code);

      const [delivery] = await server.runtime.store.deliveries.byVerification(v.id);
      assert.ok(delivery?.providerMessageId);
      const status = { AccountSid: SID, MessageSid: delivery.providerMessageId, MessageStatus: 'delivered', To: '+31612345678' };
      assert.equal((await post('/v1/callbacks/twilio', status, 'forged')).statusCode, 401);
      const ok = await post('/v1/callbacks/twilio', status);
      assert.equal(ok.statusCode, 200, ok.body);
      const afterCallback = (await tenant.request('GET', `/v1/verifications/${v.id}`)).json();
      assert.equal(afterCallback.deliveries[0].status, 'delivered');

      const inbound = { AccountSid: SID, MessageSid: `SM${randomBytes(16).toString('hex')}`, From: '+31612345678', To: '+3197010000000', Body: `${code}` };
      const tampered = await post('/v1/inbound/sms/twilio', { ...inbound, Body: '000000' }, twilioSign(TOKEN, 'http://localhost:8080/v1/inbound/sms/twilio', inbound));
      assert.equal(tampered.statusCode, 401);
      assert.equal((await tenant.request('GET', `/v1/verifications/${v.id}`)).json().status, 'pending');
      const res = await post('/v1/inbound/sms/twilio', inbound);
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^text\/xml/);
      assert.match(res.body, /<Response\/>/);
      assert.equal((await tenant.request('GET', `/v1/verifications/${v.id}`)).json().status, 'approved');
    });
  });
}
