import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openDatabase } from '../../src/store/database.ts';
import { dialects } from '../helpers/databases.ts';
import { poll } from '../helpers/process.ts';
import { callApi, issueToken, mobileNumber, setUpServedApp } from '../helpers/served-app.ts';
import { byEvent, startWebhookReceiver } from '../helpers/webhook-receiver.ts';

/**
 * SEC-43 with real processes: `outband serve` (workers and webhook dispatcher on) takes a load
 * of starts with a webhook endpoint registered; it is SIGKILLed right after some 201s came back
 * and started again on the same database. Every acknowledged verification must then have its
 * SMS sent and its `verification.started` webhook delivered, duplicates only under one webhook-id.
 */

/** Concurrent clients starting verifications, and how many 201s to see before the kill. */
const CLIENTS = 8;
const KILL_AFTER = 24;

for (const dialect of dialects()) {
  describe(`${dialect}: SEC-43 outbox across a crash (SIGKILL under load)`, () => {
    test('SEC-43: after kill -9 and a restart, every acknowledged start has its SMS and its verification.started webhook, duplicates only under the same webhook-id', async (t) => {
      const app = await setUpServedApp(t, dialect, {
        name: 'crash-hooks',
        scopes: 'verifications:write verifications:read admin',
        env: { DELIVERY_LEASE_MS: '1000', OUTBAND_WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOK_TIMEOUT_MS: '5000' },
      });
      const { defer, database, gateway } = app;
      const receiver = await startWebhookReceiver();
      defer(() => receiver.close());

      const first = await app.serve();
      const token = await issueToken(first, app);
      const hook = await callApi(first, 'POST', '/v1/webhooks', { url: `${receiver.url}/hooks`, event_types: ['verification.started'] }, token);
      assert.equal(hook.status, 201, JSON.stringify(hook.json));
      receiver.secret = hook.json['secret'] as string;

      // The load: CLIENTS loops of starts; the 201 that makes KILL_AFTER kills the server at once,
      // with the other clients' requests (and the workers' sends) still under way. A 201 that
      // still arrives while the kill goes out is acknowledged all the same.
      const acknowledged = new Map<string, string>(); // verification id → number
      let next = 0;
      let killed = false;
      let lost = 0;
      const client = async () => {
        while (!killed) {
          const to = mobileNumber(next++);
          let started: Awaited<ReturnType<typeof callApi>>;
          try {
            started = await callApi(first, 'POST', '/v1/verifications', { channel: 'sms', to }, token);
          } catch (error) {
            if (!killed) throw error;
            lost += 1; // cut off by the kill: never acknowledged
            continue;
          }
          assert.equal(started.status, 201, JSON.stringify(started.json));
          acknowledged.set(started.json['id'] as string, to);
          if (acknowledged.size >= KILL_AFTER && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, client));
      const exit = await first.exited;
      assert.equal(exit.signal, 'SIGKILL');
      const killedAt = performance.now();
      const sentBefore = { sms: gateway.requests.length, webhooks: receiver.deliveries.length };

      // A webhook attempt under way at the kill keeps its lease for timeout + 30 s before another
      // dispatcher may take it (docs/webhooks.md, "Operation"); webhooks.test.ts waits that out
      // with a test clock. A real process has no test clock, so the leases left behind are run
      // out here, as the passing of that time would.
      const db = openDatabase(database.url);
      const leased = await db.db.updateTable('webhook_messages').set({ locked_until: Date.now() }).where('status', '=', 'sending').executeTakeFirst();
      await db.close();

      const second = await app.serve();
      const acknowledgedIds = [...acknowledged.keys()];
      await receiver.waitFor('a verification.started delivery of every acknowledged start', (deliveries) => {
        const started = new Set(deliveries.filter((d) => d.payload?.type === 'verification.started').map((d) => d.payload!.data.subject.id));
        return acknowledgedIds.every((id) => started.has(id));
      });
      await poll('an SMS to every acknowledged number', async () => {
        const numbers = new Set(gateway.requests.map((r) => r.body['to']));
        return [...acknowledged.values()].every((to) => numbers.has(to)) ? true : undefined;
      });
      t.diagnostic(
        `${acknowledged.size} acknowledged, ${lost} cut off; before the kill ${sentBefore.sms} SMS and ${sentBefore.webhooks} webhooks were out; ` +
          `${Number(leased.numUpdatedRows)} webhook attempts were under way at the kill; all acknowledged delivered ${Math.round(performance.now() - killedAt)} ms after it`,
      );
      // Nothing more in flight before the books are read: a graceful stop waits for attempts under way.
      const stopped = await second.stop('SIGTERM');
      assert.equal(stopped.code, 0, second.output());

      // Every delivery verifies; every event went under one webhook-id with one body.
      assert.deepEqual(receiver.deliveries.filter((d) => d.problem !== null).map((d) => d.problem), [], 'every delivery verifies with the reference library');
      const events = byEvent(receiver.deliveries);
      for (const [eventId, event] of events) {
        assert.equal(event.webhookIds.size, 1, `event ${eventId} came under one webhook-id`);
        assert.equal(event.bodies.size, 1, `event ${eventId} came with one body`);
      }
      // One verification.started event per verification, and every acknowledged one has it.
      const startedOf = new Map<string, string[]>();
      for (const [eventId, event] of events) startedOf.set(event.subjectId, [...(startedOf.get(event.subjectId) ?? []), eventId]);
      for (const id of acknowledgedIds) assert.equal(startedOf.get(id)?.length, 1, `one verification.started event for ${id}`);
      for (const [subject, ids] of startedOf) assert.equal(ids.length, 1, `one verification.started event for ${subject}`);

      // Every acknowledged start's SMS: signed, and repeated only as the same message (webhook-id).
      assert.deepEqual(gateway.requests.filter((r) => r.signatureProblem !== null).map((r) => r.signatureProblem), []);
      const smsTo = new Map<string, Set<string>>();
      for (const r of gateway.requests) smsTo.set(String(r.body['to']), (smsTo.get(String(r.body['to'])) ?? new Set()).add(`${String(r.headers['webhook-id'])} ${r.rawBody}`));
      for (const to of acknowledged.values()) assert.equal(smsTo.get(to)?.size, 1, `one message to ${to}`);

      const redelivered = receiver.deliveries.length - events.size;
      t.diagnostic(`${receiver.deliveries.length} webhook deliveries for ${events.size} events (${redelivered} repeated under the same webhook-id); ${gateway.requests.length} SMS for ${smsTo.size} numbers`);
    });
  });
}
