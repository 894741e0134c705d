import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';
import { newWebhookSecret, startSmsGateway, webhookSignatureProblem, type GatewayAnswer, type GatewayRequest, type SmsGateway } from '../helpers/sms-gateway.ts';

// Each test sends to its own number, and the gateway answers by number, so tests do not depend on each other.
const NUMBERS = {
  ok: '+31612345601',
  flaky: '+31612345602',
  rejected: '+31612345603',
  echo: '+31612345604',
} as const;

/** Longest first retry delay: 1 s + 20 % jitter (retryDelayMs). */
const FIRST_RETRY_MAX_MS = 1200;

function codeOf(request: GatewayRequest | undefined): string {
  const match = /code is (\d{4,10})\b/.exec(String(request?.body['text'] ?? ''));
  assert.ok(match?.[1] !== undefined, `a code in the SMS text: ${request?.rawBody}`);
  return match[1];
}

for (const dialect of dialects()) {
  describe(`${dialect}: SMS through the webhook provider to a local gateway`, () => {
    let gateway: SmsGateway;
    let server: TestServer;
    let tenant: Tenant;
    const clock = new TestClock();

    before(async () => {
      gateway = await startSmsGateway();
      gateway.answer = (request, _index) => {
        const to = request.body['to'];
        const earlier = gateway.requests.filter((r) => r.body['to'] === to).length - 1;
        const echo = request.rawBody;
        const answers: Record<string, GatewayAnswer[]> = {
          [NUMBERS.ok]: [{ status: 200, body: '{"message_id":"gw-ok"}' }],
          [NUMBERS.flaky]: [{ status: 500, body: 'try later' }, { status: 200, body: '{"message_id":"gw-flaky"}' }],
          [NUMBERS.rejected]: [{ status: 400, body: '{"error":"unroutable"}' }],
          // A gateway that echoes the whole request, the text with the code, in its error answers.
          [NUMBERS.echo]: [
            { status: 503, body: `unavailable, your request was: ${echo}` },
            { status: 400, body: `bad request: ${echo}`, statusMessage: `Rejected ${String(request.body['text'])}` },
          ],
        };
        const list = answers[String(to)] ?? [{ status: 404 }];
        return list[Math.min(earlier, list.length - 1)] as GatewayAnswer;
      };
      server = await startTestServer({
        dialect,
        clock,
        env: { OUTBAND_WORKERS: 'false', SMS_WEBHOOK_URL: gateway.url, SMS_WEBHOOK_SECRET: gateway.secret },
      });
      tenant = await server.tenant({ providers: { sms: 'webhook' } });
    });
    after(async () => {
      await server?.close();
      await gateway?.close();
    });

    async function start(phone: string): Promise<{ id: string; status: string }> {
      const user = await tenant.request('POST', '/v1/users', { phone });
      assert.equal(user.statusCode, 201, user.body);
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.json().id });
      assert.equal(started.statusCode, 201, started.body);
      return started.json();
    }
    const requestsTo = (to: string) => gateway.requests.filter((r) => r.body['to'] === to);

    test('the independent signature check accepts a correct signature and rejects altered ones', () => {
      const secret = newWebhookSecret();
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const now = Math.floor(Date.now() / 1000);
      const body = '{"id":"x","to":"+31612345678","text":"hi"}';
      const signature = `v1,${createHmac('sha256', key).update(`msg_1.${now}.${body}`).digest('base64')}`;
      const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(now), 'webhook-signature': `v1,bm90IGl0 ${signature}` };
      assert.equal(webhookSignatureProblem(secret, headers, body), null);
      assert.equal(webhookSignatureProblem(secret, headers, body.replace('hi', 'ho')), 'no matching signature');
      assert.equal(webhookSignatureProblem(newWebhookSecret(), headers, body), 'no matching signature');
      assert.equal(webhookSignatureProblem(secret, { ...headers, 'webhook-id': 'msg_2' }, body), 'no matching signature');
      assert.equal(webhookSignatureProblem(secret, { ...headers, 'webhook-timestamp': String(now - 301) }, body), 'timestamp out of tolerance');
    });

    test('a signed JSON POST {id, to, text} reaches the gateway, and its code approves the verification', async () => {
      const v = await start(NUMBERS.ok);
      await server.runtime.worker.runOnce();
      const [request] = requestsTo(NUMBERS.ok);
      assert.ok(request !== undefined, 'the gateway got the message');
      assert.equal(requestsTo(NUMBERS.ok).length, 1);

      assert.equal(request.signatureProblem, null, 'the Standard Webhooks signature holds');
      assert.equal(request.headers['content-type'], 'application/json');
      assert.deepEqual(Object.keys(request.body).sort(), ['id', 'text', 'to']);
      assert.equal(request.body['to'], NUMBERS.ok);
      assert.equal(request.body['id'], request.headers['webhook-id'], 'the body id is the webhook id');
      const [delivery] = await server.runtime.store.deliveries.byVerification(v.id);
      assert.equal(request.body['id'], delivery?.id, 'and it is the delivery id, for the gateway to drop duplicates');
      assert.equal(delivery?.status, 'sent');
      assert.equal(delivery?.providerMessageId, 'gw-ok');

      const code = codeOf(request);
      assert.equal(code.length, 6);
      const checked = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code });
      assert.equal(checked.statusCode, 200, checked.body);
      assert.equal(checked.json().status, 'approved');
    });

    test('a 500 is retried after its backoff, and the retry is sent', async () => {
      const v = await start(NUMBERS.flaky);
      await server.runtime.worker.runOnce();
      assert.equal(requestsTo(NUMBERS.flaky).length, 1);
      let [delivery] = await server.runtime.store.deliveries.byVerification(v.id);
      assert.equal(delivery?.status, 'queued', 'back in the queue');
      assert.equal(delivery?.attempts, 1);
      assert.equal(delivery?.error, 'webhook: HTTP 500');
      const wait = (delivery?.nextAttemptAt ?? 0) - clock.now();
      assert.ok(wait >= 800 && wait <= FIRST_RETRY_MAX_MS, `first retry after 1 s ± 20 %, not ${wait} ms`);
      assert.equal((await tenant.request('GET', `/v1/verifications/${v.id}`)).json().status, 'pending');

      await server.runtime.worker.runOnce();
      assert.equal(requestsTo(NUMBERS.flaky).length, 1, 'not retried before its time');

      clock.advance(FIRST_RETRY_MAX_MS);
      await server.runtime.worker.runOnce();
      const requests = requestsTo(NUMBERS.flaky);
      assert.equal(requests.length, 2, 'retried once its time came');
      [delivery] = await server.runtime.store.deliveries.byVerification(v.id);
      assert.equal(delivery?.status, 'sent');
      assert.equal(delivery?.attempts, 2);
      assert.equal(delivery?.error, null);
      assert.equal(delivery?.providerMessageId, 'gw-flaky');

      const [first, second] = requests as [GatewayRequest, GatewayRequest];
      assert.equal(second.signatureProblem, null);
      assert.equal(second.headers['webhook-id'], first.headers['webhook-id'], 'the same message id on the retry');
      assert.equal(second.rawBody, first.rawBody, 'the same message, the same code');

      const checked = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code: codeOf(second) });
      assert.equal(checked.json().status, 'approved', checked.body);
    });

    test('a 400 is permanent: the delivery fails with its error recorded, the verification with delivery_failed', async () => {
      const v = await start(NUMBERS.rejected);
      await server.runtime.worker.runOnce();
      assert.equal(requestsTo(NUMBERS.rejected).length, 1);
      const [delivery] = await server.runtime.store.deliveries.byVerification(v.id);
      assert.equal(delivery?.status, 'failed');
      assert.equal(delivery?.attempts, 1);
      assert.equal(delivery?.error, 'webhook: HTTP 400');
      assert.equal(delivery?.sealedMessage, null);

      const read = await tenant.request('GET', `/v1/verifications/${v.id}`);
      assert.equal(read.json().status, 'failed', read.body);
      assert.equal(read.json().reason, 'delivery_failed');

      const events = await server.runtime.store.events.forSubject(delivery?.id ?? '');
      assert.deepEqual(
        events.map((e) => [e.type, e.data['error']]),
        [['delivery.failed', 'webhook: HTTP 400']],
      );

      clock.advance(60_000);
      await server.runtime.worker.runOnce();
      assert.equal(requestsTo(NUMBERS.rejected).length, 1, 'never tried again');
    });

    test("a gateway echoing the request in its errors does not get the code into logs, the delivery record or events", async () => {
      const v = await start(NUMBERS.echo);
      await server.runtime.worker.runOnce(); // 503 with the echo: transient
      clock.advance(FIRST_RETRY_MAX_MS);
      await server.runtime.worker.runOnce(); // 400 with the echo in body and reason phrase: permanent
      const requests = requestsTo(NUMBERS.echo);
      assert.equal(requests.length, 2);
      const code = codeOf(requests[0]);
      const text = String(requests[0]?.body['text']);

      const [delivery] = await server.runtime.store.deliveries.byVerification(v.id);
      assert.equal(delivery?.status, 'failed');
      assert.equal(delivery?.error, 'webhook: HTTP 400');
      const read = await tenant.request('GET', `/v1/verifications/${v.id}`);
      assert.equal(read.json().reason, 'delivery_failed');
      assert.ok(!read.body.includes(code));

      const logs = server.logs.join('');
      assert.ok(logs.includes('delivery failed; will retry') && logs.includes('delivery failed for good'), 'both failures were logged');
      assert.ok(!logs.includes(code), 'the code is not in the logs');
      assert.ok(!logs.includes(text.slice(0, 20)), 'nor is the message text');
      const events = [...(await server.runtime.store.events.forSubject(delivery?.id ?? '')), ...(await server.runtime.store.events.forSubject(v.id))];
      assert.ok(events.length >= 2);
      assert.ok(!JSON.stringify(events).includes(code), 'the code is not in the events');
    });
  });
}
