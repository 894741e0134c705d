// SEC-10 end to end: checks racing on one verification, on every node of a deployment, with the
// dispatchers running and a real webhook consumer on 127.0.0.1. SQLite runs one node (one process
// owns the file); PostgreSQL runs three runtimes on one database, each with its workers on (the
// webhook dispatcher runs on the one holding the leader lock), and the checks are spread across them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { dialects } from '../helpers/databases.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';
import { byEvent, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

/** Workers on (the default): every node runs its delivery worker; the leader also its webhook dispatcher. */
const ENV = { OUTBAND_WEBHOOKS_ALLOW_INSECURE: 'true', WEBHOOK_TIMEOUT_MS: '5000' };
const PARALLEL = 50;

interface Delivery {
  id: string;
  event_type: string;
  status: string;
  attempts: Array<{ status_code: number | null }>;
}

function wrongCode(code: string): string {
  return code.replace(/^./, (d) => String((Number(d) + 1) % 10));
}

for (const dialect of dialects()) {
  const nodeCount = dialect === 'postgres' ? 3 : 1;

  describe(`${dialect}: SEC-10 checks racing on ${nodeCount} node(s), dispatchers on, one webhook consumer`, () => {
    const nodes: TestServer[] = [];
    let receiver: WebhookReceiver;

    before(async () => {
      nodes.push(await startTestServer({ dialect, env: ENV }));
      for (let i = 1; i < nodeCount; i++) nodes.push(await startTestServer({ database: nodes[0]!.database, env: ENV }));
    });
    after(async () => {
      // The first node owns the database: it closes last.
      for (const node of [...nodes].reverse()) await node.close();
    });

    /** The request on node `i % nodes`, with the tenant's token (the nodes share the signing keys). */
    function onNode(i: number, tenant: Tenant, method: 'GET' | 'POST', url: string, body?: unknown): Promise<LightMyRequestResponse> {
      return nodes[i % nodes.length]!.runtime.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${tenant.token}` },
        ...(body === undefined ? {} : { payload: body as string }),
      });
    }

    /** A tenant with an endpoint for `verification.*` at a fresh receiver, and a started SMS verification with its code. */
    async function setUp(settings: { maxAttempts?: number } = {}) {
      const tenant = await nodes[0]!.tenant({ settings });
      receiver = await startWebhookReceiver();
      const hook = await tenant.request('POST', '/v1/webhooks', { url: `${receiver.url}/hooks`, event_types: ['verification.*'] });
      assert.equal(hook.statusCode, 201, hook.body);
      receiver.secret = hook.json().secret as string;
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', return_code: true });
      assert.equal(started.statusCode, 201, started.body);
      return { tenant, webhookId: hook.json().id as string, verificationId: started.json().id as string, code: started.json().code as string };
    }

    /**
     * Quiescence: every message queued for the endpoint is delivered (one attempt each) and the
     * receiver holds each exactly once. A delivered message is never claimed again, so nothing
     * more can arrive for these events.
     */
    async function settled(tenant: Tenant, webhookId: string, diagnostic: (message: string) => void): Promise<Delivery[]> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const listed = await tenant.request('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`);
        assert.equal(listed.statusCode, 200, listed.body);
        const items = listed.json().items as Delivery[];
        if (items.length > 0 && items.every((d) => d.status === 'delivered')) {
          assert.deepEqual(receiver.deliveries.map((d) => d.webhookId).sort(), items.map((d) => d.id).sort(), 'each message received exactly once');
          assert.ok(items.every((d) => d.attempts.length === 1), 'one attempt per message');
          assert.deepEqual(receiver.deliveries.filter((d) => d.problem !== null), [], 'every delivery verifies with the reference library');
          // Which node's dispatcher sent what (reported, not asserted: any node may take any message).
          const sentBy = nodes.map((node) => items.filter((d) => node.logs.some((line) => line.includes(d.id) && line.includes('webhook delivered'))).length);
          diagnostic(`deliveries sent per node: ${sentBy.join(', ')}`);
          return items;
        }
        if (Date.now() > deadline) assert.fail(`deliveries not settled: ${JSON.stringify(items.map((d) => [d.event_type, d.status]))}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    function typesDelivered(): string[] {
      return [...byEvent(receiver.deliveries).values()].map((e) => e.type).sort();
    }

    test(`SEC-10: ${PARALLEL} parallel wrong checks with max_attempts 5 → exactly 5 counted, the rest 409, no 500; the webhooks say the same`, async (t) => {
      const { tenant, webhookId, verificationId, code } = await setUp({ maxAttempts: 5 });
      try {
        const results = await Promise.all(
          Array.from({ length: PARALLEL }, (_, i) => onNode(i, tenant, 'POST', `/v1/verifications/${verificationId}/check`, { code: wrongCode(code) })),
        );
        const tally = new Map<string, number>();
        for (const r of results) {
          const key = r.statusCode === 200 ? '200' : `${r.statusCode} ${r.json().code}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
        }
        t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(tally))}`);
        assert.ok(
          results.every((r) => r.statusCode < 500),
          'no 5xx',
        );
        const counted = results.filter((r) => r.statusCode === 200).map((r) => r.json() as { valid: boolean; attempts_left: number; status: string });
        assert.equal(counted.length, 5, 'exactly max_attempts checks are counted');
        assert.ok(counted.every((c) => c.valid === false));
        assert.deepEqual(counted.map((c) => c.attempts_left).sort(), [0, 1, 2, 3, 4], 'each counted check used up its own attempt');
        assert.equal(counted.find((c) => c.attempts_left === 0)?.status, 'failed');
        for (const r of results.filter((r) => r.statusCode !== 200)) {
          // 429 is accepted too: SEC-10's row allows a rate-limit answer for checks beyond the limit.
          assert.ok(r.statusCode === 429 || (r.statusCode === 409 && ['max_attempts_reached', 'concurrent_update'].includes(r.json().code)), r.body);
        }
        const read = await onNode(1, tenant, 'GET', `/v1/verifications/${verificationId}`);
        assert.equal(read.json().status, 'failed');
        assert.equal(read.json().reason, 'max_attempts');
        assert.equal(read.json().attempts_left, 0);

        await settled(tenant, webhookId, (m) => t.diagnostic(m));
        assert.deepEqual(typesDelivered(), [
          ...Array<string>(5).fill('verification.check_failed'),
          'verification.failed',
          'verification.started',
        ]);
      } finally {
        await receiver.close();
      }
    });

    test(`SEC-10: ${PARALLEL} parallel right checks → exactly one approved, the rest 409, no 500; exactly one verification.approved delivered`, async (t) => {
      const { tenant, webhookId, verificationId, code } = await setUp();
      try {
        const results = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => onNode(i, tenant, 'POST', `/v1/verifications/${verificationId}/check`, { code })));
        const tally = new Map<string, number>();
        for (const r of results) {
          const key = r.statusCode === 200 ? '200' : `${r.statusCode} ${r.json().code}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
        }
        t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(tally))}`);
        assert.ok(
          results.every((r) => r.statusCode < 500),
          'no 5xx',
        );
        const approved = results.filter((r) => r.statusCode === 200);
        assert.equal(approved.length, 1, 'one approval');
        assert.equal(approved[0]!.json().valid, true);
        assert.equal(approved[0]!.json().status, 'approved');
        for (const r of results.filter((r) => r.statusCode !== 200)) {
          assert.equal(r.statusCode, 409, r.body);
          if (r.json().code === 'verification_not_pending') assert.equal(r.json().verification_status, 'approved');
          else assert.equal(r.json().code, 'concurrent_update', r.body);
        }
        assert.equal((await onNode(2, tenant, 'GET', `/v1/verifications/${verificationId}`)).json().status, 'approved');

        const items = await settled(tenant, webhookId, (m) => t.diagnostic(m));
        assert.deepEqual(typesDelivered(), ['verification.approved', 'verification.started']);
        const approvals = receiver.deliveries.filter((d) => d.payload?.type === 'verification.approved');
        assert.equal(approvals.length, 1, 'one verification.approved delivery');
        assert.equal(approvals[0]!.payload!.data.subject.id, verificationId);
        assert.equal(items.filter((d) => d.event_type === 'verification.approved').length, 1);
      } finally {
        await receiver.close();
      }
    });
  });
}
