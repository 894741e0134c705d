import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects } from '../helpers/databases.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

for (const dialect of dialects()) {
  describe(`${dialect}: delivery receipts and the deliveries of a verification`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    test('the view lists each message: queued, then sent, then delivered by a receipt, once', async () => {
      const tenant = await server.tenant();
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json();
      const queued = (await tenant.request('GET', `/v1/verifications/${v.id}`)).json();
      assert.equal(queued.deliveries.length, 1);
      assert.equal(queued.deliveries[0].status, 'queued');
      assert.equal(queued.deliveries[0].sent_at, null);

      await server.runtime.worker.runOnce();
      const sent = (await tenant.request('GET', `/v1/verifications/${v.id}`)).json().deliveries[0];
      assert.equal(sent.status, 'sent');
      assert.equal(sent.provider, 'outbox');
      assert.ok(sent.sent_at);

      // The outbox provider's message id is the delivery id.
      const receipt = { provider: 'outbox', providerMessageId: sent.id, status: 'delivered' as const, at: Date.now() };
      assert.equal(await server.runtime.receipts.record(receipt), 'applied');
      assert.equal(await server.runtime.receipts.record(receipt), 'ignored', 'a repeated receipt changes nothing');
      const delivered = (await tenant.request('GET', `/v1/verifications/${v.id}`)).json().deliveries[0];
      assert.equal(delivered.status, 'delivered');
      assert.ok(delivered.receipt_at);
      const events = (await server.runtime.store.events.forSubject(sent.id)).map((e) => e.type);
      assert.deepEqual(events, ['delivery.sent', 'delivery.delivered']);
    });

    test('an undelivered receipt records the error; a receipt for an unknown message is ignored', async () => {
      const tenant = await server.tenant();
      const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json();
      await server.runtime.worker.runOnce();
      const [delivery] = await server.runtime.store.deliveries.byVerification(v.id);
      assert.ok(delivery);
      assert.equal(await server.runtime.receipts.record({ provider: 'outbox', providerMessageId: delivery.id, status: 'undelivered', error: 'stat:UNDELIV err:001', at: Date.now() }), 'applied');
      const view = (await tenant.request('GET', `/v1/verifications/${v.id}`)).json();
      assert.equal(view.deliveries[0].status, 'undelivered');
      assert.equal(view.deliveries[0].error, 'stat:UNDELIV err:001');
      assert.equal(await server.runtime.receipts.record({ provider: 'outbox', providerMessageId: 'no-such-message', status: 'delivered', at: Date.now() }), 'unknown');
    });
  });
}
