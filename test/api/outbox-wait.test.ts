// GET /v1/outbox?wait=N: a test harness waits for its message instead of polling for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialects } from '../helpers/databases.ts';
import { startTestServer } from '../helpers/server.ts';

interface Listed {
  items: Array<{ verification_id: string | null; to: string; body: string }>;
}

/** Whether `promise` has settled after the event loop has had `ms` to run. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

for (const dialect of dialects()) {
  test(`${dialect}: a wait on the outbox answers when its message is stored, not before; filters and tenants hold`, async (t) => {
    // Workers off: the test says when the delivery worker sends.
    const server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    t.after(() => server.close());
    const tenant = await server.tenant();
    const other = await server.tenant();
    const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json() as { id: string };
    const w = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345679' })).json() as { id: string };
    const otherV = (await other.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json() as { id: string };

    const started = Date.now();
    const byVerification = tenant.request('GET', `/v1/outbox?verification_id=${v.id}&wait=20`);
    const byRecipient = tenant.request('GET', `/v1/outbox?to=${encodeURIComponent('+31612345678')}&wait=20`);
    const otherTenants = other.request('GET', `/v1/outbox?to=${encodeURIComponent('+31612345678')}&wait=20`);
    assert.equal(await settledWithin(Promise.race([byVerification, byRecipient, otherTenants]), 300), false, 'nothing stored yet: every wait is still open');

    // The worker sends all three messages; each wait hears its own.
    await server.runtime.worker.runOnce();
    const [a, b, c] = await Promise.all([byVerification, byRecipient, otherTenants]);
    assert.ok(Date.now() - started < 10_000, 'answered when the messages were stored, well before the wait ran out');
    for (const res of [a, b, c]) assert.equal(res.statusCode, 200, res.body);
    const mine = a.json() as Listed;
    assert.deepEqual(
      mine.items.map((m) => m.verification_id),
      [v.id],
    );
    assert.match(mine.items[0]!.body, /code is \d{6}/);
    assert.deepEqual(
      (b.json() as Listed).items.map((m) => m.verification_id),
      [v.id],
      'the recipient filter: not the message to the other number',
    );
    assert.deepEqual(
      (c.json() as Listed).items.map((m) => m.verification_id),
      [otherV.id],
      "another application's wait sees only its own message",
    );

    // A message already there answers at once, wait or not.
    const again = await tenant.request('GET', `/v1/outbox?verification_id=${w.id}&wait=20`);
    assert.equal((again.json() as Listed).items[0]?.verification_id, w.id);
  });
}

test('a wait on the outbox ends after its seconds with an empty list, and at once when the server shuts down', async (t) => {
  const server = await startTestServer({ env: { OUTBAND_WORKERS: 'false' } });
  let closed = false;
  t.after(() => (closed ? undefined : server.close()));
  const tenant = await server.tenant();
  const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json() as { id: string };

  const started = Date.now();
  const timedOut = await tenant.request('GET', `/v1/outbox?verification_id=${v.id}&wait=1`);
  const took = Date.now() - started;
  assert.equal(timedOut.statusCode, 200);
  assert.deepEqual(timedOut.json(), { items: [] });
  assert.ok(took >= 950 && took < 5_000, `answered after its wait: ${took} ms`);

  const waiting = tenant.request('GET', `/v1/outbox?verification_id=${v.id}&wait=30`);
  assert.equal(await settledWithin(waiting, 200), false);
  const stopping = Date.now();
  const close = server.close();
  closed = true;
  const answered = await waiting;
  assert.deepEqual(answered.json(), { items: [] });
  assert.ok(Date.now() - stopping < 5_000, 'the shutdown ended the wait');
  await close;
});

test('wait is bounded like a verification long-poll', async (t) => {
  const server = await startTestServer({ env: { OUTBAND_WORKERS: 'false' } });
  t.after(() => server.close());
  const tenant = await server.tenant();
  for (const wait of ['31', '-1', 'soon']) {
    const res = await tenant.request('GET', `/v1/outbox?wait=${wait}`);
    assert.equal(res.statusCode, 400, `wait=${wait}: ${res.body}`);
    assert.equal((res.json() as { code: string }).code, 'invalid_request');
  }
});
