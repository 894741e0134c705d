import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TTL_SECONDS } from '../../src/domain/policy/limits.ts';
import { openDatabase, type Database } from '../../src/store/database.ts';
import { dialects } from '../helpers/databases.ts';
import { poll } from '../helpers/process.ts';
import { callApi, codeOf, issueToken, mobileNumber, setUpServedApp } from '../helpers/served-app.ts';
import { unlimitedSettingsPatch } from '../helpers/server.ts';
import type { GatewayRequest } from '../helpers/sms-gateway.ts';

/**
 * Crash safety under load (issue [6]): `outband serve` takes an otp-cycle load (start an SMS
 * verification, read its code at a real HTTP gateway, check it) from concurrent clients and is
 * SIGKILLed in the middle of it. The database is read as the kill left it, then the server is
 * started again on it and drains its queue. What the clients were told, and what the database
 * had committed, must hold:
 *  - every start answered 201 is there: approved if the approving check was answered, pending
 *    if no check went out (a check cut off by the kill may have landed or not);
 *  - nothing is half-written: each verification has its one message, each message its verification;
 *  - a message sent at the kill is not sent again; one queued is sent once, after the restart;
 *    one leased (being sent) is sent once after the restart, and may have reached the gateway
 *    once before the kill too, under the same webhook-id with the same body (the gateway's key
 *    to drop the duplicate);
 *  - the code of every verification still pending approves it;
 *  - no request was answered 5xx.
 */

/** Concurrent otp-cycle clients. */
const CLIENTS = 16;
/** How long the load runs before the kill: a random moment in this range, so it lands anywhere in a cycle. */
const LOAD_MS = { min: 1500, max: 2000 };
/**
 * Cycles approved before the kill, at least: on a machine busy with other work the first cycles
 * are slow (a fresh process, cold caches), and the kill must land in a load in its stride.
 */
const APPROVED_BEFORE_KILL = 2 * CLIENTS;
/**
 * A lease short enough that messages leased at the kill are taken again soon after the restart,
 * and long enough that no send under this load outlives it (a send may take as long as the lease:
 * one that ran out would be tried again, a legitimate duplicate this test would count as a failure).
 */
const LEASE_MS = 3000;
/** A gateway's own latency: messages spend that long leased, as they would in production. */
const GATEWAY_LATENCY_MS = 20;

/** What a client was told about one cycle. */
interface Cycle {
  to: string;
  /** Set when the start was answered 201. */
  verificationId: string | null;
  /** none: no check went out; cut: one went out and the kill cut its answer off; approved: answered 200 approved. */
  check: 'none' | 'cut' | 'approved';
}

interface DeliveryRow {
  id: string;
  verification_id: string;
  recipient: string;
  status: string;
  attempts: number;
}

interface VerificationRow {
  id: string;
  recipient: string;
  status: string;
}

async function snapshot(database: Database): Promise<{ deliveries: Map<string, DeliveryRow>; verifications: Map<string, VerificationRow> }> {
  const deliveries = await database.db.selectFrom('deliveries').select(['id', 'verification_id', 'recipient', 'status', 'attempts']).execute();
  const verifications = await database.db.selectFrom('verifications').select(['id', 'recipient', 'status']).execute();
  return {
    deliveries: new Map(deliveries.map((d) => [d.id, { ...d, attempts: Number(d.attempts) }])),
    verifications: new Map(verifications.map((v) => [v.id, v])),
  };
}

for (const dialect of dialects()) {
  describe(`${dialect}: crash safety under otp-cycle load (SIGKILL)`, () => {
    test('after kill -9 under load and a restart: every acknowledged verification in its state, every committed message sent exactly once after the restart (once before too only if it was in flight)', async (t) => {
      const app = await setUpServedApp(t, dialect, {
        name: 'crash-load',
        scopes: 'verifications:write verifications:read admin',
        env: {
          DELIVERY_LEASE_MS: String(LEASE_MS),
          RATE_LIMIT_TOKEN_PER_IP: '0',
          RATE_LIMIT_API_PER_IP: '0',
          RATE_LIMIT_API_PER_CLIENT: '0',
          RATE_LIMIT_DEVICE_PER_IP: '0',
          RATE_LIMIT_INBOUND_PER_IP: '0',
        },
      });
      const { gateway } = app;

      // The phone of each number: the first SMS to it, as soon as the gateway has it (before it
      // answers the server, which takes GATEWAY_LATENCY_MS).
      const firstSmsTo = new Map<string, GatewayRequest>();
      const waitingFor = new Map<string, (request: GatewayRequest) => void>();
      gateway.answer = (request) => {
        const to = String(request.body['to']);
        if (!firstSmsTo.has(to)) {
          firstSmsTo.set(to, request);
          waitingFor.get(to)?.(request);
          waitingFor.delete(to);
        }
        return { status: 200, body: '{"message_id":"gw-load"}', delayMs: GATEWAY_LATENCY_MS };
      };
      const smsTo = (to: string): Promise<GatewayRequest> => {
        const arrived = firstSmsTo.get(to);
        return arrived !== undefined ? Promise.resolve(arrived) : new Promise((resolve) => waitingFor.set(to, resolve));
      };

      const first = await app.serve();
      const token = await issueToken(first, app);
      const settings = await callApi(first, 'PATCH', '/v1/settings', unlimitedSettingsPatch(), token);
      assert.equal(settings.status, 200, JSON.stringify(settings.json));

      // 1. The load: CLIENTS loops of otp-cycles, SIGKILLed after LOAD_MS (and APPROVED_BEFORE_KILL
      //    approvals). A request the kill cuts off is not acknowledged; an answer that still
      //    arrives while the kill goes out is.
      const cycles: Cycle[] = [];
      const unexpected: string[] = [];
      let killed = false;
      const kill = Promise.withResolvers<undefined>();
      let cutOff = 0;
      let approved = 0;
      /** The answer, or undefined when the kill cut the request off (any other failure throws). */
      const attempt = async (request: () => ReturnType<typeof callApi>): Promise<Awaited<ReturnType<typeof callApi>> | undefined> => {
        try {
          return await request();
        } catch (error) {
          if (!killed) throw error;
          cutOff += 1;
          return undefined;
        }
      };
      const client = async () => {
        while (!killed) {
          const cycle: Cycle = { to: mobileNumber(cycles.length), verificationId: null, check: 'none' };
          cycles.push(cycle);
          const started = await attempt(() => callApi(first, 'POST', '/v1/verifications', { channel: 'sms', to: cycle.to, ttl_seconds: TTL_SECONDS.max }, token));
          if (started === undefined) return;
          if (started.status !== 201) {
            unexpected.push(`start ${started.status} ${JSON.stringify(started.json)}`);
            return;
          }
          cycle.verificationId = started.json['id'] as string;
          const sms = await Promise.race([smsTo(cycle.to), kill.promise]);
          if (sms === undefined) return;
          const code = codeOf(sms);
          cycle.check = 'cut';
          const checked = await attempt(() => callApi(first, 'POST', `/v1/verifications/${cycle.verificationId}/check`, { code }, token));
          if (checked === undefined) return;
          if (checked.status !== 200 || checked.json['status'] !== 'approved' || checked.json['valid'] !== true) {
            unexpected.push(`check ${checked.status} ${JSON.stringify(checked.json)}`);
            return;
          }
          cycle.check = 'approved';
          approved += 1;
        }
      };
      const loadMs = LOAD_MS.min + Math.round(Math.random() * (LOAD_MS.max - LOAD_MS.min));
      const loadStartedAt = performance.now();
      let clientFailed = false;
      const clients = Promise.all(
        Array.from({ length: CLIENTS }, () =>
          client().catch((error: unknown) => {
            clientFailed = true;
            throw error;
          }),
        ),
      );
      clients.catch(() => undefined); // its failure is thrown where it is awaited, after the kill
      await sleep(loadMs);
      await poll(`${APPROVED_BEFORE_KILL} cycles approved`, async () => (approved >= APPROVED_BEFORE_KILL || unexpected.length > 0 || clientFailed ? true : undefined), 15_000, 20);
      killed = true;
      first.child.kill('SIGKILL');
      const killedAt = performance.now();
      const loadedMs = killedAt - loadStartedAt;
      kill.resolve(undefined);
      await clients;
      assert.equal((await first.exited).signal, 'SIGKILL');
      assert.deepEqual(unexpected, [], 'every answer during the load was the expected one (no 5xx, no refusal)');

      // 2. The database as the kill left it (nothing writes to it now).
      const atKillDb = openDatabase(app.database.url);
      const atKill = await snapshot(atKillDb).finally(() => atKillDb.close());
      // Everything the gateway has now came from the killed process.
      const sentBeforeRestart = gateway.requests.length;

      // Nothing half-written: each verification with its one message, each message with its verification.
      const deliveryOf = new Map<string, DeliveryRow>();
      for (const d of atKill.deliveries.values()) {
        assert.ok(atKill.verifications.has(d.verification_id), `the verification of message ${d.id} exists`);
        assert.ok(!deliveryOf.has(d.verification_id), `one message for verification ${d.verification_id}`);
        deliveryOf.set(d.verification_id, d);
        assert.ok(['queued', 'sending', 'sent'].includes(d.status), `message ${d.id} is ${d.status} at the kill`);
      }
      for (const v of atKill.verifications.values()) {
        assert.equal(deliveryOf.get(v.id)?.recipient, v.recipient, `verification ${v.id} has its message, to its number`);
        assert.ok(['pending', 'approved'].includes(v.status), `verification ${v.id} is ${v.status} at the kill`);
      }

      // 3. The restart, on the same database; it drains the queue (leases of the killed process run out after LEASE_MS).
      const second = await app.serve();
      const live = openDatabase(app.database.url);
      app.defer(() => live.close());
      let heard = -1;
      await poll(
        'the restarted server to send every queued and leased message, and the gateway to fall quiet',
        async () => {
          const open = await live.db.selectFrom('deliveries').select('id').where('status', 'in', ['queued', 'sending']).execute();
          const quiet = heard === gateway.requests.length;
          heard = gateway.requests.length;
          return open.length === 0 && quiet ? true : undefined;
        },
        15_000,
        250,
      );
      const drainedMs = Math.round(performance.now() - killedAt);
      const final = await snapshot(live);

      // 4. Every acknowledged start is there, in the state its client was told.
      const acknowledged = cycles.filter((c): c is Cycle & { verificationId: string } => c.verificationId !== null);
      for (const cycle of acknowledged) {
        const v = final.verifications.get(cycle.verificationId);
        assert.ok(v !== undefined, `acknowledged verification ${cycle.verificationId} exists`);
        assert.equal(v.recipient, cycle.to);
        const allowed = cycle.check === 'approved' ? ['approved'] : cycle.check === 'none' ? ['pending'] : ['pending', 'approved'];
        assert.ok(allowed.includes(v.status), `verification ${v.id} (check ${cycle.check}) is ${v.status}, expected ${allowed.join(' or ')}`);
      }
      // A start cut off by the kill may have committed; if so, it is pending and has its message like any other.
      const acknowledgedIds = new Set(acknowledged.map((c) => c.verificationId));
      const committedUnacknowledged = [...final.verifications.values()].filter((v) => !acknowledgedIds.has(v.id));
      for (const v of committedUnacknowledged) assert.equal(v.status, 'pending', `unacknowledged verification ${v.id}`);
      assert.deepEqual([...final.verifications.keys()].sort(), [...atKill.verifications.keys()].sort(), 'the restart neither lost nor made a verification');

      // 5. Every message, by what it was at the kill, against what the gateway received.
      const requestsOf = new Map<string, Array<{ request: GatewayRequest; beforeRestart: boolean }>>();
      gateway.requests.forEach((request, index) => {
        assert.equal(request.signatureProblem, null, 'every SMS is signed');
        const id = String(request.body['id']);
        assert.equal(request.headers['webhook-id'], id, 'the idempotency key (webhook-id) is the message id');
        assert.ok(atKill.deliveries.has(id), `the gateway's message ${id} was committed before the kill`);
        requestsOf.set(id, [...(requestsOf.get(id) ?? []), { request, beforeRestart: index < sentBeforeRestart }]);
      });
      const counts = { sent: 0, queued: 0, leased: 0, leasedAlreadyAtGateway: 0 };
      for (const d of atKill.deliveries.values()) {
        const requests = requestsOf.get(d.id) ?? [];
        const before = requests.filter((r) => r.beforeRestart).length;
        const after = requests.length - before;
        assert.equal(final.deliveries.get(d.id)?.status, 'sent', `message ${d.id} is sent in the end`);
        for (const r of requests) assert.equal(r.request.rawBody, requests[0]?.request.rawBody, `message ${d.id}: every send the same body, the same code`);
        if (d.status === 'sent') {
          counts.sent += 1;
          assert.deepEqual({ before, after }, { before: 1, after: 0 }, `message ${d.id}, sent at the kill: once, before it, never again`);
        } else if (d.status === 'queued' && d.attempts === 0) {
          counts.queued += 1;
          assert.deepEqual({ before, after }, { before: 0, after: 1 }, `message ${d.id}, queued at the kill: once, after the restart`);
        } else {
          // Leased (or queued for a retry): in flight at the kill, so it may have reached the gateway already.
          counts.leased += 1;
          if (before > 0) counts.leasedAlreadyAtGateway += 1;
          assert.equal(after, 1, `message ${d.id}, ${d.status} at the kill: once after the restart`);
          assert.ok(before <= 1, `message ${d.id}, ${d.status} at the kill: at most once before it (${before})`);
        }
      }

      // 6. The code of every verification still pending approves it: the message sent after the
      //    restart (or before, for one whose client had no time to check) carries a live code.
      const pending = [...final.verifications.values()].filter((v) => v.status === 'pending');
      for (const v of pending) {
        const requests = requestsOf.get(deliveryOf.get(v.id)!.id) ?? [];
        const last = requests.at(-1);
        assert.ok(last !== undefined, `an SMS for pending verification ${v.id}`);
        const checked = await callApi(second, 'POST', `/v1/verifications/${v.id}/check`, { code: codeOf(last.request) }, token);
        assert.equal(checked.status, 200, JSON.stringify(checked.json));
        assert.equal(checked.json['status'], 'approved', `the code of ${v.id} approves it after the restart`);
      }
      const stopped = await second.stop('SIGTERM');
      assert.equal(stopped.code, 0, second.output());

      const checksCut = acknowledged.filter((c) => c.check === 'cut').length;
      t.diagnostic(
        `${dialect}: ${cycles.length} cycles started in ${Math.round(loadedMs)} ms by ${CLIENTS} clients; ${acknowledged.length} starts acknowledged, ${approved} approved, ` +
          `${checksCut} checks and ${cutOff - checksCut} starts cut off by the kill (${committedUnacknowledged.length} of those starts committed); ` +
          `messages at the kill: ${counts.sent} sent, ${counts.queued} queued, ${counts.leased} leased (${counts.leasedAlreadyAtGateway} of these had reached the gateway, so sent twice under one webhook-id); ` +
          `${gateway.requests.length - sentBeforeRestart} sent after the restart, drained ${drainedMs} ms after the kill; ${pending.length} pending codes approved after it; no 5xx (every answer a 201 or an approving 200)`,
      );
    });
  });
}
