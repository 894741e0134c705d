import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialects } from '../helpers/databases.ts';
import { codeFromOutbox, startTestServer } from '../helpers/server.ts';

for (const dialect of dialects()) {
  test(`${dialect}: healthz, readyz and metrics by channel and status`, async (t) => {
    const server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    t.after(() => server.close());
    const app = server.runtime.app;
    assert.deepEqual((await app.inject('/healthz')).json(), { status: 'ok' });
    assert.deepEqual((await app.inject('/readyz')).json(), { status: 'ok' });

    const tenant = await server.tenant();
    const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json();
    const code = await codeFromOutbox(tenant, v.id, server.runtime.worker);
    await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code });
    const e = (await tenant.request('POST', '/v1/verifications', { channel: 'email', to: 'bob@example.com' })).json();
    await server.runtime.worker.runOnce();
    for (let i = 0; i < 3; i++) await tenant.request('POST', `/v1/verifications/${e.id}/check`, { code: '00000000' });

    const metrics = (await app.inject('/metrics')).body;
    assert.match(metrics, /outband_verifications_started_total\{channel="sms"\} 1/);
    assert.match(metrics, /outband_verifications_started_total\{channel="email"\} 1/);
    assert.match(metrics, /outband_verifications_ended_total\{channel="sms",status="approved"\} 1/);
    assert.match(metrics, /outband_verifications_ended_total\{channel="email",status="failed"\} 1/);
    assert.match(metrics, /outband_check_duration_seconds_count\{channel="sms"\} 1/);
    assert.match(metrics, /outband_deliveries_total\{channel="sms",provider="outbox",status="sent"\} 1/);
    assert.ok(!metrics.includes(code), 'no code in the metrics');
  });
}

test('every answer carries its request id in X-Request-Id: a caller\'s short plain one is kept, anything else replaced', async (t) => {
  const server = await startTestServer({ env: { OUTBAND_WORKERS: 'false' } });
  t.after(() => server.close());
  const app = server.runtime.app;
  const tenant = await server.tenant();
  const ids = new Set<string>();
  for (const res of [
    await app.inject('/healthz'),
    await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' }),
    await app.inject('/no-such-route'),
    await app.inject('/v1/users'), // no token
  ]) {
    const id = String(res.headers['x-request-id']);
    assert.match(id, /^req_[A-Za-z0-9_-]{12}$/, `${res.statusCode} ${res.body}`);
    ids.add(id);
  }
  assert.equal(ids.size, 4, 'a new id per request');
  const kept = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'lb-7f3a.42:9' } });
  assert.equal(kept.headers['x-request-id'], 'lb-7f3a.42:9');
  // A header that could forge a log line or smuggle text is not echoed.
  for (const given of ['a b', 'x'.repeat(65), 'id\u00e9', '']) {
    const replaced = await app.inject({ url: '/healthz', headers: { 'x-request-id': given } });
    assert.match(String(replaced.headers['x-request-id']), /^req_/, JSON.stringify(given));
  }
});

test('graceful shutdown: a long-poll in flight answers with the current state, then the server stops', async (t) => {
  const server = await startTestServer({ env: { OUTBAND_WORKERS: 'false' } });
  let closed = false;
  t.after(() => (closed ? undefined : server.close()));
  const tenant = await server.tenant();
  const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json();
  const address = await server.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  const poll = fetch(`${address}/v1/verifications/${v.id}?wait=30`, { headers: { authorization: `Bearer ${tenant.token}` } });
  await new Promise((r) => setTimeout(r, 200));
  const closing = server.close().then(() => (closed = true));
  const res = await poll;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, 'pending');
  await closing;
  await assert.rejects(fetch(`${address}/healthz`), 'no longer listening');
});
