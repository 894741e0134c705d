// Signed webhooks (issue [4], SEC-39..43), against real receivers on 127.0.0.1. The dispatcher
// is driven by hand (`runOnce`) with a test clock, so three days of retries take milliseconds.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { createWebhookStore } from '../../src/store/webhooks.ts';
import type { HostResolver } from '../../src/services/webhook-sender.ts';
import { TestClock } from '../helpers/clock.ts';
import { createTestDatabase, dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { freePort, startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

// ---------------------------------------------------------------------------------------------
// An independent verifier, written here from the Standard Webhooks specification ("Verifying
// signatures"), not by calling Outband's signer: the key is the base64 part of the secret after
// "whsec_"; the signed content is `${webhook-id}.${webhook-timestamp}.${raw body}`; the header
// holds space-separated `v1,<base64 HMAC-SHA256>` entries, any of which may match; timestamps
// more than 5 minutes from now are refused.

function independentVerify(secret: string, headers: IncomingHttpHeaders, body: string, nowMs: number): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  if (!/^\d+$/.test(timestamp) || Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > 5 * 60) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest();
  return signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** The reference library's verification, as of `nowMs` (it reads Date.now()). */
function referenceVerify(secret: string, headers: IncomingHttpHeaders, body: string, nowMs: number): unknown {
  const realNow = Date.now;
  Date.now = () => nowMs;
  try {
    return new Webhook(secret).verify(body, headers as Record<string, string>);
  } finally {
    Date.now = realNow;
  }
}

// ---------------------------------------------------------------------------------------------

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The bytes as they arrived. */
  raw: Buffer;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
}

interface Receiver {
  url: string;
  port: number;
  received: Received[];
  answer: (r: Received) => Answer;
  close(): Promise<void>;
}

async function startReceiver(port = 0, answer: (r: Received) => Answer = () => ({ status: 204 })): Promise<Receiver> {
  const receiver: Receiver = { url: '', port, received: [], answer, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const r: Received = { path: req.url ?? '', headers: req.headers, body: raw.toString('utf8'), raw };
      receiver.received.push(r);
      const a = receiver.answer(r);
      const reply = () => {
        res.writeHead(a.status, a.headers);
        res.end();
      };
      if (a.delayMs === undefined) reply();
      else setTimeout(reply, a.delayMs).unref();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.port = (server.address() as { port: number }).port;
  receiver.url = `http://127.0.0.1:${receiver.port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  status: string;
  next_attempt_at: string | null;
  delivered_at: string | null;
  attempts: Array<{ attempt: number; at: string; status_code: number | null; latency_ms: number | null; error: string | null }>;
}

async function register(tenant: Tenant, body: Record<string, unknown>): Promise<{ id: string; secret: string; enabled: boolean; event_types: string[] }> {
  const res = await tenant.request('POST', '/v1/webhooks', body);
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

async function deliveries(tenant: Tenant, webhookId: string): Promise<Delivery[]> {
  const res = await tenant.request('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().items as Delivery[];
}

async function createUser(tenant: Tenant, externalId: string): Promise<string> {
  const res = await tenant.request('POST', '/v1/users', { external_id: externalId });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id as string;
}

/** The tenant with a new access token: after the test clock moves by hours, the old one has expired. */
async function reissue(server: TestServer, tenant: Tenant): Promise<Tenant> {
  const { access_token: token } = await server.runtime.tokens.issue(tenant.clientId, tenant.clientSecret, undefined);
  return {
    ...tenant,
    token,
    request: (method, url, body, headers = {}) =>
      server.runtime.app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${token}`, ...headers },
        ...(body === undefined ? {} : { payload: body as string }),
      }),
  };
}

const DEV_ENV = { OUTBAND_WORKERS: 'false', OUTBAND_WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOK_TIMEOUT_MS: '500' };

/** Names tests choose the addresses of; anything else resolves as usual. */
function mapResolver(map: Map<string, string[]>): HostResolver {
  return async (hostname) => {
    const addresses = map.get(hostname);
    if (addresses === undefined) {
      const { lookup } = await import('node:dns/promises');
      return lookup(hostname, { all: true });
    }
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

for (const dialect of dialects()) {
  describe(`${dialect}: webhooks`, () => {
    let server: TestServer;
    let clock: TestClock;
    const names = new Map<string, string[]>([['rebind.example', ['127.0.0.1']]]);
    before(async () => {
      clock = new TestClock(Date.now());
      server = await startTestServer({ dialect, clock, env: DEV_ENV, webhookResolver: mapResolver(names) });
    });
    after(() => server.close());

    const runOnce = () => server.runtime.webhookDispatcher.runOnce();

    test('SEC-39: every delivery verifies with an independent verifier and the reference library; two endpoints, two secrets; rotation signs with both', async () => {
      const tenant = await server.tenant();
      const a = await startReceiver();
      const b = await startReceiver();
      try {
        const hookA = await register(tenant, { url: `${a.url}/a`, event_types: ['user.*'] });
        const hookB = await register(tenant, { url: `${b.url}/b`, event_types: ['user.created'] });
        assert.match(hookA.secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
        assert.notEqual(hookA.secret, hookB.secret, 'each endpoint has its own secret');
        assert.equal((await tenant.request('GET', `/v1/webhooks/${hookA.id}`)).json().secret, undefined, 'the secret is shown once');

        const userId = await createUser(tenant, 'sec39-1');
        assert.equal(a.received.length, 0, 'nothing is sent inside the request');
        assert.equal(await runOnce(), 2);
        assert.equal(a.received.length, 1);
        assert.equal(b.received.length, 1);
        const [ra, rb] = [a.received[0]!, b.received[0]!];

        for (const [r, own, other] of [
          [ra, hookA.secret, hookB.secret],
          [rb, hookB.secret, hookA.secret],
        ] as const) {
          assert.equal(r.headers['content-type'], 'application/json');
          assert.match(String(r.headers['webhook-id']), /^msg_[a-z2-7]{52}$/);
          assert.equal(String(r.headers['webhook-timestamp']), String(Math.floor(clock.now() / 1000)));
          assert.match(String(r.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]{43}=$/, 'one signature before any rotation');
          assert.ok(independentVerify(own, r.headers, r.body, clock.now()), 'the independent verifier accepts it');
          assert.ok(!independentVerify(other, r.headers, r.body, clock.now()), "the other endpoint's secret does not verify it");
          const payload = referenceVerify(own, r.headers, r.body, clock.now()) as { type: string; timestamp: string; data: Record<string, unknown> };
          assert.equal(payload.type, 'user.created');
          assert.equal(payload.data['type'], 'user.created');
          assert.deepEqual(payload.data['subject'], { type: 'user', id: userId });
          assert.equal(payload.data['user_id'], userId);
          assert.equal(typeof payload.data['seq'], 'number');
          assert.equal(payload.data['actor'], `client:${tenant.clientId}`);
          assert.ok(!Number.isNaN(Date.parse(payload.timestamp)));
          assert.equal(Number(r.headers['content-length']), r.raw.length);
        }
        assert.notEqual(ra.headers['webhook-id'], rb.headers['webhook-id'], 'one message per endpoint');
        const logged = (await tenant.request('GET', '/v1/events?types=user.created')).json().items as unknown[];
        assert.deepEqual((JSON.parse(ra.body) as { data: unknown }).data, logged[0], 'data is the event as GET /v1/events shows it');

        // Body bytes sent = bytes signed = bytes stored.
        const stored = await server.runtime.store.database.db
          .selectFrom('webhook_messages')
          .select(['id', 'payload'])
          .where('id', '=', String(ra.headers['webhook-id']))
          .executeTakeFirstOrThrow();
        assert.ok(Buffer.from(stored.payload, 'utf8').equals(ra.raw));

        // The secret is sealed at rest, and never in an event or a log line.
        const row = await server.runtime.store.database.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', hookA.id).executeTakeFirstOrThrow();
        assert.ok(!row.secret_sealed.includes(hookA.secret.slice(6, 20)));
        const events = await server.runtime.store.events.forSubject(hookA.id);
        assert.deepEqual(events.map((e) => e.type), ['webhook.created']);
        assert.equal(events[0]!.actor, `client:${tenant.clientId}`);

        // Rotation: the new secret is shown once; both sign for 24 hours.
        const rotated = await tenant.request('POST', `/v1/webhooks/${hookA.id}/rotate-secret`);
        assert.equal(rotated.statusCode, 200, rotated.body);
        const newSecret = rotated.json().secret as string;
        assert.notEqual(newSecret, hookA.secret);
        assert.equal(Date.parse(rotated.json().previous_secret_expires_at), clock.now() + 24 * 3_600_000);
        await createUser(tenant, 'sec39-2');
        await runOnce();
        const during = a.received[1]!;
        assert.equal(String(during.headers['webhook-signature']).split(' ').length, 2, 'old and new secret both sign');
        for (const secret of [hookA.secret, newSecret]) {
          assert.ok(independentVerify(secret, during.headers, during.body, clock.now()));
          referenceVerify(secret, during.headers, during.body, clock.now());
        }

        // After 24 hours, the old secret no longer signs.
        clock.advance(24 * 3_600_000 + 1000);
        await createUser(await reissue(server, tenant), 'sec39-3');
        await runOnce();
        const afterwards = a.received[2]!;
        assert.equal(String(afterwards.headers['webhook-signature']).split(' ').length, 1);
        assert.ok(independentVerify(newSecret, afterwards.headers, afterwards.body, clock.now()));
        assert.ok(!independentVerify(hookA.secret, afterwards.headers, afterwards.body, clock.now()));
        assert.throws(() => referenceVerify(hookA.secret, afterwards.headers, afterwards.body, clock.now()), WebhookVerificationError);

        const all = [...events, ...(await server.runtime.store.events.forSubject(hookA.id))];
        const text = JSON.stringify(all) + server.logs.join('');
        for (const secret of [hookA.secret, hookB.secret, newSecret]) assert.ok(!text.includes(secret.slice(6)), 'no secret in events or logs');
        assert.ok((await server.runtime.store.events.forSubject(hookA.id)).some((e) => e.type === 'webhook.secret_rotated'));
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('SEC-40: 500 then 200: the same webhook-id, a later timestamp, both validly signed; a replay 6 minutes later fails verification', async () => {
      const tenant = await server.tenant();
      let calls = 0;
      const receiver = await startReceiver(0, () => ({ status: ++calls === 1 ? 500 : 200 }));
      try {
        const hook = await register(tenant, { url: `${receiver.url}/hook`, event_types: ['user.created'] });
        await createUser(tenant, 'sec40');
        await runOnce();
        let [delivery] = await deliveries(tenant, hook.id);
        assert.equal(delivery!.status, 'queued');
        assert.equal(delivery!.attempts[0]!.status_code, 500);
        assert.equal(delivery!.attempts[0]!.error, 'HTTP 500');

        clock.advance(5500); // the second attempt is due 5 s ± 10 % later
        await runOnce();
        assert.equal(receiver.received.length, 2);
        const [first, second] = receiver.received as [Received, Received];
        assert.equal(first.headers['webhook-id'], second.headers['webhook-id'], 'the id is the idempotency key');
        assert.ok(Number(second.headers['webhook-timestamp']) > Number(first.headers['webhook-timestamp']), 'each attempt is signed at its own time');
        assert.equal(first.body, second.body);
        assert.ok(independentVerify(hook.secret, first.headers, first.body, Number(first.headers['webhook-timestamp']) * 1000));
        assert.ok(independentVerify(hook.secret, second.headers, second.body, clock.now()));
        referenceVerify(hook.secret, second.headers, second.body, clock.now());

        [delivery] = await deliveries(tenant, hook.id);
        assert.equal(delivery!.status, 'delivered');
        assert.deepEqual(
          delivery!.attempts.map((a) => [a.attempt, a.status_code, a.error]),
          [
            [1, 500, 'HTTP 500'],
            [2, 200, null],
          ],
        );
        assert.ok(delivery!.attempts.every((a) => typeof a.latency_ms === 'number' && a.latency_ms >= 0));
        assert.equal(delivery!.id, second.headers['webhook-id']);

        // A captured delivery replayed 6 minutes later.
        const later = clock.now() + 6 * 60_000;
        assert.throws(() => referenceVerify(hook.secret, second.headers, second.body, later), /timestamp too old/);
        assert.ok(!independentVerify(hook.secret, second.headers, second.body, later));
      } finally {
        await receiver.close();
      }
    });

    test('SEC-41: a receiver that always fails gets attempts on the schedule (±10 %), then the message fails and the endpoint is disabled with an event', async () => {
      let tenant = await server.tenant();
      const receiver = await startReceiver(0, () => ({ status: 500 }));
      try {
        const hook = await register(tenant, { url: `${receiver.url}/down`, event_types: ['user.created'] });
        await createUser(tenant, 'sec41-schedule');
        const schedule = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000];
        const times: number[] = [];
        for (let attempt = 1; attempt <= 10; attempt++) {
          assert.equal(await runOnce(), 1, `attempt ${attempt}`);
          times.push(clock.now());
          tenant = await reissue(server, tenant);
          const [delivery] = await deliveries(tenant, hook.id);
          if (attempt < 10) {
            assert.equal(delivery!.status, 'queued');
            const next = Date.parse(delivery!.next_attempt_at!);
            const delay = next - clock.now();
            const base = schedule[attempt - 1]!;
            assert.ok(delay >= Math.floor(base * 0.9) && delay <= Math.ceil(base * 1.1), `delay ${delay} after attempt ${attempt} within ${base} ± 10 %`);
            clock.advance(delay - 1);
            assert.equal(await runOnce(), 0, 'not a moment early');
            clock.advance(1);
          } else {
            assert.equal(delivery!.status, 'failed');
            assert.equal(delivery!.attempts.length, 10);
          }
        }
        assert.equal(receiver.received.length, 10);
        assert.ok(times.at(-1)! - times[0]! > 3 * 24 * 3_600_000 * 0.9);
        const endpoint = (await tenant.request('GET', `/v1/webhooks/${hook.id}`)).json();
        assert.equal(endpoint.enabled, false);
        assert.equal(endpoint.disabled_reason, 'failing');
        const disabled = (await server.runtime.store.events.forSubject(hook.id)).find((e) => e.type === 'webhook.disabled');
        assert.equal(disabled?.actor, 'system');
        assert.equal(disabled?.data['reason'], 'failing');
      } finally {
        await receiver.close();
      }
    });

    test('SEC-41: a 301 is not followed and counts as a failure', async () => {
      const tenant = await server.tenant();
      const receiver = await startReceiver(0, (r) => (r.path === '/moved' ? { status: 301, headers: { location: '/elsewhere' } } : { status: 200 }));
      try {
        const hook = await register(tenant, { url: `${receiver.url}/moved`, event_types: ['user.created'] });
        await createUser(tenant, 'sec41-301');
        await runOnce();
        assert.deepEqual(
          receiver.received.map((r) => r.path),
          ['/moved'],
          'the Location is never requested',
        );
        const [delivery] = await deliveries(tenant, hook.id);
        assert.equal(delivery!.status, 'queued');
        assert.equal(delivery!.attempts[0]!.status_code, 301);
        assert.match(delivery!.attempts[0]!.error!, /redirects are not followed/);
      } finally {
        await receiver.close();
      }
    });

    test('SEC-41: 410 disables the endpoint at once; nothing more is queued or sent', async () => {
      const tenant = await server.tenant();
      const receiver = await startReceiver(0, () => ({ status: 410 }));
      try {
        const hook = await register(tenant, { url: `${receiver.url}/gone`, event_types: ['user.created'] });
        await createUser(tenant, 'sec41-410-a');
        await runOnce();
        const endpoint = (await tenant.request('GET', `/v1/webhooks/${hook.id}`)).json();
        assert.equal(endpoint.enabled, false);
        assert.equal(endpoint.disabled_reason, 'gone');
        assert.equal((await deliveries(tenant, hook.id))[0]!.status, 'failed');
        assert.ok((await server.runtime.store.events.forSubject(hook.id)).some((e) => e.type === 'webhook.disabled' && e.data['reason'] === 'gone'));

        await createUser(tenant, 'sec41-410-b');
        clock.advance(48 * 3_600_000);
        await runOnce();
        assert.equal(receiver.received.length, 1);
        assert.equal((await deliveries(await reissue(server, tenant), hook.id)).length, 1, 'a disabled endpoint queues nothing');
      } finally {
        await receiver.close();
      }
    });

    test('SEC-41: Retry-After on 429/503 is honoured', async () => {
      const tenant = await server.tenant();
      const receiver = await startReceiver(0, () => ({ status: 429, headers: { 'retry-after': '120' } }));
      try {
        const hook = await register(tenant, { url: `${receiver.url}/busy`, event_types: ['user.created'] });
        await createUser(tenant, 'sec41-429');
        await runOnce();
        const [delivery] = await deliveries(tenant, hook.id);
        assert.equal(Date.parse(delivery!.next_attempt_at!) - clock.now(), 120_000, 'not after 5 s: after the 120 s asked for');
      } finally {
        await receiver.close();
      }
    });

    test('SEC-41: a slow receiver is cut off at the configured timeout', async () => {
      const tenant = await server.tenant();
      const receiver = await startReceiver(0, () => ({ status: 200, delayMs: 5_000 }));
      try {
        const hook = await register(tenant, { url: `${receiver.url}/slow`, event_types: ['user.created'] });
        await createUser(tenant, 'sec41-slow');
        const started = performance.now();
        await runOnce();
        const took = performance.now() - started;
        assert.ok(took < 2_000, `the attempt ended after ${Math.round(took)} ms`);
        const [delivery] = await deliveries(tenant, hook.id);
        assert.equal(delivery!.status, 'queued');
        assert.equal(delivery!.attempts[0]!.status_code, null);
        assert.equal(delivery!.attempts[0]!.error, 'timed out after 500 ms');
        assert.ok(delivery!.attempts[0]!.latency_ms! >= 490 && delivery!.attempts[0]!.latency_ms! < 2_000);
      } finally {
        await receiver.close();
      }
    });

    test('SEC-42: a name that re-resolves to a private address at send time: the attempt is refused, recorded and logged', async () => {
      const tenant = await server.tenant();
      const receiver = await startReceiver();
      try {
        names.set('rebind.example', ['127.0.0.1']);
        const hook = await register(tenant, { url: `http://rebind.example:${receiver.port}/hook`, event_types: ['user.created'] });
        names.set('rebind.example', ['10.0.0.5']);
        await createUser(tenant, 'sec42-rebind');
        await runOnce();
        assert.equal(receiver.received.length, 0);
        const [delivery] = await deliveries(tenant, hook.id);
        assert.equal(delivery!.status, 'queued');
        assert.equal(delivery!.attempts[0]!.status_code, null);
        assert.match(delivery!.attempts[0]!.error!, /^refused: rebind\.example \(10\.0\.0\.5\) is a private address/);
        assert.ok(server.logs.some((line) => line.includes('webhook attempt refused') && line.includes(delivery!.id)));

        // Back on an allowed address, the same message goes through to the address checked:
        // the name is unknown to the system resolver, so the socket used the checked one.
        names.set('rebind.example', ['127.0.0.1']);
        clock.advance(6_000);
        await runOnce();
        assert.equal(receiver.received.length, 1);
        assert.equal(receiver.received[0]!.headers['webhook-id'], delivery!.id);
        assert.equal(receiver.received[0]!.headers['host'], `rebind.example:${receiver.port}`);
      } finally {
        await receiver.close();
      }
    });

    test('SEC-42: in development, loopback is allowed but private, link-local and metadata addresses stay refused', async () => {
      const tenant = await server.tenant();
      names.set('private.example', ['10.0.0.5']);
      for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://private.example/hook', 'http://[fe80::1]/hook', 'http://100.64.0.1/']) {
        const body = assertProblem(await tenant.request('POST', '/v1/webhooks', { url }), 422, 'webhook_url_not_allowed', url);
        assert.equal(body['reason'], 'address');
      }
    });

    test('webhook routes: list, read, change (URL checked again), page deliveries, retry, delete', async () => {
      const tenant = await server.tenant();
      const other = await server.tenant();
      const receiver = await startReceiver();
      try {
        const hook = await register(tenant, { url: `${receiver.url}/r`, event_types: ['user.created', 'user.*', 'user.created'], description: 'CRM' });
        assert.deepEqual(hook.event_types, ['user.*', 'user.created']);
        const all = await register(tenant, { url: `${receiver.url}/all` });
        assert.deepEqual(all.event_types, ['*']);

        const list = (await tenant.request('GET', '/v1/webhooks')).json().items as Array<{ id: string }>;
        assert.deepEqual(list.map((h) => h.id).sort(), [hook.id, all.id].sort());
        assertProblem(await other.request('GET', `/v1/webhooks/${hook.id}`), 404, 'webhook_not_found');
        assert.equal((await other.request('GET', '/v1/webhooks')).json().items.length, 0);

        assertProblem(await tenant.request('PATCH', `/v1/webhooks/${hook.id}`, { url: 'http://10.1.2.3/x' }), 422, 'webhook_url_not_allowed');
        const patched = await tenant.request('PATCH', `/v1/webhooks/${all.id}`, { enabled: false });
        assert.equal(patched.statusCode, 200, patched.body);
        assert.equal(patched.json().disabled_reason, 'admin');

        for (let i = 0; i < 3; i++) await createUser(tenant, `routes-${i}`);
        await runOnce();
        const first = await tenant.request('GET', `/v1/webhooks/${hook.id}/deliveries?limit=2`);
        assert.equal(first.statusCode, 200, first.body);
        assert.equal(first.json().items.length, 2);
        const second = await tenant.request('GET', `/v1/webhooks/${hook.id}/deliveries?limit=2&cursor=${first.json().next_cursor}`);
        assert.equal(second.json().items.length, 1);
        assert.equal(second.json().next_cursor, null);
        const ids = [...first.json().items, ...second.json().items].map((d: Delivery) => d.id);
        assert.equal(new Set(ids).size, 3);
        assert.deepEqual(
          (await deliveries(tenant, all.id)).map((d) => d.event_type),
          ['webhook.created'],
          'the disabled endpoint queued nothing after its own creation',
        );

        const retried = await tenant.request('POST', `/v1/webhooks/${hook.id}/deliveries/${ids[0]}/retry`);
        assert.equal(retried.statusCode, 202, retried.body);
        assert.equal(retried.json().status, 'queued');
        await runOnce();
        assert.equal(receiver.received.filter((r) => r.headers['webhook-id'] === ids[0]).length, 2, 'sent again with the same id');
        assertProblem(await tenant.request('POST', `/v1/webhooks/${all.id}/deliveries/${ids[0]}/retry`), 404, 'webhook_delivery_not_found');

        const deleted = await tenant.request('DELETE', `/v1/webhooks/${hook.id}`);
        assert.equal(deleted.statusCode, 204);
        assertProblem(await tenant.request('GET', `/v1/webhooks/${hook.id}`), 404, 'webhook_not_found');
        assertProblem(await tenant.request('GET', `/v1/webhooks/${hook.id}/deliveries`), 404, 'webhook_not_found');
        const types = (await server.runtime.store.events.forSubject(hook.id)).map((e) => e.type);
        assert.deepEqual(types, ['webhook.created', 'webhook.deleted']);
        assert.deepEqual((await server.runtime.store.events.forSubject(all.id)).map((e) => e.type), ['webhook.created', 'webhook.updated']);
      } finally {
        await receiver.close();
      }
    });
  });

  describe(`${dialect}: webhooks outside development`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({
        dialect,
        env: { OUTBAND_WORKERS: 'false' },
        webhookResolver: mapResolver(
          new Map([
            ['private.example', ['10.0.0.5']],
            ['mixed.example', ['93.184.216.34', '10.0.0.5']],
            ['public.example', ['93.184.216.34']],
          ]),
        ),
      });
    });
    after(() => server.close());

    test('SEC-42: loopback, metadata, private and link-local targets are refused at registration (422 webhook_url_not_allowed); https is required', async () => {
      const tenant = await server.tenant();
      const refused: Array<[string, string]> = [
        ['http://127.0.0.1/hook', 'scheme'],
        ['https://127.0.0.1/hook', 'address'],
        ['https://169.254.169.254/latest/meta-data/', 'address'],
        ['https://[::1]/hook', 'address'],
        ['https://[::ffff:127.0.0.1]/hook', 'address'],
        ['https://localhost/hook', 'address'],
        ['https://private.example/hook', 'address'],
        ['https://mixed.example/hook', 'address'],
        ['https://2130706433/hook', 'address'],
        ['https://user:pw@public.example/hook', 'credentials'],
        ['https://does-not-exist.invalid/hook', 'unresolvable'],
        ['http://public.example/hook', 'scheme'],
      ];
      for (const [url, reason] of refused) {
        const body = assertProblem(await tenant.request('POST', '/v1/webhooks', { url }), 422, 'webhook_url_not_allowed', url);
        assert.equal(body['reason'], reason, url);
      }
      const ok = await tenant.request('POST', '/v1/webhooks', { url: 'https://public.example/hook' });
      assert.equal(ok.statusCode, 201, ok.body);
      assert.equal((await tenant.request('GET', '/v1/webhooks')).json().items.length, 1);
    });
  });

  test(`${dialect}: SEC-43: a receiver down across a server restart gets every event, once per webhook-id, each verifiable; tampering and old timestamps fail`, async () => {
    const database = await createTestDatabase(dialect);
    const clock = new TestClock(Date.now());
    const port = await freePort(); // nothing listens yet: the receiver is down
    let first: TestServer | undefined = await startTestServer({ database, clock, env: DEV_ENV });
    let second: TestServer | undefined;
    let receiver: Receiver | undefined;
    try {
      const tenant = await first.tenant();
      const hook = await register(tenant, { url: `http://127.0.0.1:${port}/hook`, event_types: ['user.created'] });
      const users: string[] = [];
      for (let i = 0; i < 5; i++) users.push(await createUser(tenant, `sec43-${i}`));
      assert.equal(await first.runtime.webhookDispatcher.runOnce(), 5);
      clock.advance(6_000);
      assert.equal(await first.runtime.webhookDispatcher.runOnce(), 5);
      for (let i = 5; i < 8; i++) users.push(await createUser(tenant, `sec43-${i}`));
      // A dispatcher that claimed a message and died before sending it: its lease is left behind.
      const leased = await createWebhookStore(first.runtime.store.database).messages.claim(clock.now(), 1, 60_000);
      assert.equal(leased.length, 1);
      const before = await deliveries(tenant, hook.id);
      assert.equal(before.length, 8);
      const failed = before.flatMap((d) => d.attempts);
      assert.equal(failed.length, 10);
      assert.ok(failed.every((a) => a.status_code === null && a.error !== null), `connection refused while down: ${JSON.stringify(failed[0])}`);
      await first.close();
      first = undefined;

      second = await startTestServer({ database, clock, env: DEV_ENV });
      receiver = await startReceiver(port);
      clock.advance(10 * 60_000); // past the next retries and the dead dispatcher's lease
      assert.equal(await second.runtime.webhookDispatcher.runOnce(), 8);
      const deliveredAt = clock.now();
      assert.equal(await second.runtime.webhookDispatcher.runOnce(), 0);
      clock.advance(48 * 3_600_000);
      assert.equal(await second.runtime.webhookDispatcher.runOnce(), 0, 'nothing is sent twice');

      const ids = receiver.received.map((r) => String(r.headers['webhook-id']));
      assert.equal(ids.length, 8);
      assert.equal(new Set(ids).size, 8, 'exactly once per webhook-id');
      const subjects = receiver.received.map((r) => (JSON.parse(r.body) as { data: { subject: { id: string } } }).data.subject.id).sort();
      assert.deepEqual(subjects, [...users].sort(), 'every event, no gaps');
      for (const r of receiver.received) {
        assert.ok(independentVerify(hook.secret, r.headers, r.body, deliveredAt));
        referenceVerify(hook.secret, r.headers, r.body, deliveredAt);
      }

      const sample = receiver.received[0]!;
      const tampered = sample.body.replace('user.created', 'user.deleted');
      assert.notEqual(tampered, sample.body);
      assert.ok(!independentVerify(hook.secret, sample.headers, tampered, deliveredAt), 'a tampered body fails');
      assert.throws(() => referenceVerify(hook.secret, sample.headers, tampered, deliveredAt), /No matching signature/);
      const old = deliveredAt + 6 * 60_000;
      assert.ok(!independentVerify(hook.secret, sample.headers, sample.body, old), 'an old timestamp fails');
      assert.throws(() => referenceVerify(hook.secret, sample.headers, sample.body, old), /too old/);
    } finally {
      await receiver?.close();
      await first?.close();
      await second?.close();
      await database.drop();
    }
  });

  test(`${dialect}: delivery never runs in the request: with the workers on, a receiver that hangs slows no request, and the dispatcher sends on its own`, async () => {
    const server = await startTestServer({ dialect, env: { OUTBAND_WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOK_TIMEOUT_MS: '3000' } });
    const receiver = await startReceiver(0, () => ({ status: 200, delayMs: 1_000 }));
    try {
      const tenant = await server.tenant();
      await register(tenant, { url: `${receiver.url}/hang`, event_types: ['user.created'] });
      const started = performance.now();
      await createUser(tenant, 'not-in-request');
      assert.ok(performance.now() - started < 500, 'the request does not wait for the receiver');
      for (let i = 0; i < 100 && receiver.received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(receiver.received.length, 1, 'the running dispatcher sent it without being driven');
    } finally {
      await server.close();
      await receiver.close();
    }
  });
}
