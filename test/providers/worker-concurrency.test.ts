import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { startTestServer } from '../helpers/server.ts';

test('a provider that hangs holds up only its own messages', async (t) => {
  // An SMTP server that accepts connections and never says a word.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const address = silent.address();
  assert.ok(address !== null && typeof address === 'object');

  const server = await startTestServer({ env: { SMTP_URL: `smtp://127.0.0.1:${address.port}`, OUTBAND_WORKERS: 'true' } });
  t.after(() => server.close());
  const tenant = await server.tenant({ providers: { sms: 'outbox', email: 'smtp' } });

  const stuck = (await tenant.request('POST', '/v1/verifications', { channel: 'email', to: 'slow@example.com' })).json();
  for (let i = 0; i < 100 && sockets.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(sockets.size, 1, 'the e-mail send is under way and hanging');

  const sms = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json();
  let delivered = false;
  for (let i = 0; i < 100 && !delivered; i++) {
    const items = (await tenant.request('GET', `/v1/outbox?verification_id=${sms.id}`)).json().items as unknown[];
    delivered = items.length > 0;
    if (!delivered) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(delivered, 'the SMS went out while the e-mail was still hanging');
  const emailDelivery = (await server.runtime.store.deliveries.byVerification(stuck.id))[0];
  assert.equal(emailDelivery?.status, 'sending');
});
