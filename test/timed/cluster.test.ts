// Several nodes on one database, as real `outband serve` processes (issue [6]): a long-poll on
// one node wakes when another approves (LISTEN/NOTIFY, p99 < 50 ms on PostgreSQL); every queued
// SMS goes out exactly once although every node runs a delivery worker (FOR UPDATE SKIP LOCKED);
// the expiry sweeper and the webhook dispatcher run on one node at a time (advisory lock) and
// move to another when that node is SIGKILLed, and nothing acknowledged is lost. PostgreSQL runs
// three nodes; SQLite runs its one node (one process owns the file), whose replacement after
// the kill is a restarted process on the same file.
// It lives in test/timed/: `npm test` runs these files after all the others, one at a time, so
// that the latency bound is measured on an otherwise idle machine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase } from '../../src/store/database.ts';
import { createTestDatabase, dialects } from '../helpers/databases.ts';
import { cleanupStack, poll, startServerProcess, type ServerProcess } from '../helpers/process.ts';
import { unlimitedSettingsPatch } from '../helpers/server.ts';
import { startSmsGateway, type GatewayRequest, type SmsGateway } from '../helpers/sms-gateway.ts';
import { byEvent, startWebhookReceiver } from '../helpers/webhook-receiver.ts';

/** LEADER_RETRY_MS of the nodes: a killed leader is replaced within about this. */
const LEADER_RETRY_MS = 500;
/** The bound on a cross-node wake-up, at p99. */
const WAKE_P99_BOUND_MS = 50;

type Dialect = 'sqlite' | 'postgres';

interface Cluster {
  nodes: ServerProcess[];
  gateway: SmsGateway;
  /** An access token of the application (every node verifies it: they share the signing keys). */
  token: string;
  databaseUrl: string;
  /** Starts one more node on the same database (killed when the test ends). */
  addNode(): Promise<ServerProcess>;
}

/**
 * A database, an SMS gateway, `count` nodes with short intervals and no request rate limits,
 * and the demo application the first node creates, set to send SMS through the gateway and freed
 * of usage limits and fraud counts (the load sends hundreds of codes).
 */
async function startCluster(defer: (fn: () => unknown) => void, dialect: Dialect, count: number, options: { logLevel: string; sweepIntervalMs: number }): Promise<Cluster> {
  const database = await createTestDatabase(dialect);
  defer(() => database.drop());
  const gateway = await startSmsGateway();
  defer(() => gateway.close());
  const answer = gateway.answer;
  gateway.answer = (request, index) => {
    smsWaiters.get(String(request.body['to']))?.(request);
    return answer(request, index);
  };
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    OUTBAND_SECRET: 'cluster-test-secret-0123456789-abcdefghijklmn',
    PUBLIC_URL: 'http://outband.cluster.test',
    OUTBAND_DEMO: 'true',
    LOG_LEVEL: options.logLevel,
    SMS_WEBHOOK_URL: gateway.url,
    SMS_WEBHOOK_SECRET: gateway.secret,
    // Longer than any send takes on a busy machine: a redelivery after a lease runs out (at least
    // once, test/e2e/crash.test.ts) would blur what is shown here, that no two workers claim one message.
    DELIVERY_LEASE_MS: '10000',
    SWEEP_INTERVAL_MS: String(options.sweepIntervalMs),
    LEADER_RETRY_MS: String(LEADER_RETRY_MS),
    OUTBAND_WEBHOOKS_ALLOW_INSECURE: 'true',
    WEBHOOK_TIMEOUT_MS: '5000',
    RATE_LIMIT_TOKEN_PER_IP: '0',
    RATE_LIMIT_API_PER_IP: '0',
    RATE_LIMIT_API_PER_CLIENT: '0',
    RATE_LIMIT_DEVICE_PER_IP: '0',
    RATE_LIMIT_INBOUND_PER_IP: '0',
  };
  const addNode = async () => {
    const node = await startServerProcess(env);
    defer(() => node.stop('SIGKILL'));
    return node;
  };
  // The first node leads before the others start: a node must start (migrate) while another holds the lock.
  const nodes = [await addNode()];
  await poll('the first node to lead', async () => ((await leads(nodes[0]!)) ? true : undefined));
  nodes.push(...(await Promise.all(Array.from({ length: count - 1 }, addNode))));
  // The demo client's credentials, printed once by the node that created it.
  const clientId = /OUTBAND_CLIENT_ID=(\S+)/.exec(nodes[0]!.output())?.[1];
  const clientSecret = /OUTBAND_CLIENT_SECRET=(\S+)/.exec(nodes[0]!.output())?.[1];
  assert.ok(clientId !== undefined && clientSecret !== undefined, nodes[0]!.output());
  const issued = await call(nodes[0]!, 'POST', '/oauth/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
  assert.equal(issued.status, 200, JSON.stringify(issued.json));
  const token = issued.json['access_token'] as string;
  const settings = { ...unlimitedSettingsPatch(), plan: 'licensed', channels: { sms: { enabled: true, provider: 'webhook' } } };
  const patched = await call(nodes[0]!, 'PATCH', '/v1/settings', settings, token);
  assert.equal(patched.status, 200, JSON.stringify(patched.json));
  return { nodes, gateway, token, databaseUrl: database.url, addNode };
}

async function call(node: ServerProcess, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, any> }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await fetch(node.baseUrl + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

/** A Dutch mobile number of its own per verification (+31 62 and seven digits). */
function phone(n: number): string {
  return `+3162${String(n).padStart(7, '0')}`;
}

/** Starts an SMS verification on `node`; asserts the 201 and answers the verification's id. */
async function start(node: ServerProcess, token: string, to: string): Promise<string> {
  const started = await call(node, 'POST', '/v1/verifications', { channel: 'sms', to }, token);
  assert.equal(started.status, 201, JSON.stringify(started.json));
  return started.json['id'] as string;
}

/** Waiters for an SMS by number, told by the gateway as each request arrives. */
const smsWaiters = new Map<string, (request: GatewayRequest) => void>();

/** The SMS the gateway received for `to` (waits for it, at most 15 s). */
function smsTo(gateway: SmsGateway, to: string): Promise<GatewayRequest> {
  const sent = gateway.requests.find((r) => r.body['to'] === to);
  if (sent !== undefined) return Promise.resolve(sent);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      smsWaiters.delete(to);
      reject(new Error(`no SMS to ${to} within 15 s`));
    }, 15_000);
    smsWaiters.set(to, (request) => {
      clearTimeout(timer);
      smsWaiters.delete(to);
      resolve(request);
    });
  });
}

function codeOf(request: GatewayRequest): string {
  const match = /code is (\d{4,10})\b/.exec(String(request.body['text'] ?? ''));
  assert.ok(match?.[1] !== undefined, `a code in the SMS: ${request.rawBody}`);
  return match[1];
}

/** The sum of a metric's samples on one node whose labels include every one of `labels`. */
async function metric(node: ServerProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${node.baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    if (Object.entries(labels).every(([key, value]) => (match[2] ?? '').includes(`${key}="${value}"`))) sum += Number(match[3]);
  }
  return sum;
}

const leads = async (node: ServerProcess) => (await metric(node, 'outband_leader')) === 1;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs `job(i)` for i in [0, total) with `parallel` of them under way at once. */
async function spread(total: number, parallel: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) await job(next++);
    }),
  );
}

for (const dialect of dialects()) {
  const nodeCount = dialect === 'postgres' ? 3 : 1;

  describe(`${dialect}: ${nodeCount} node(s) on one database under load`, () => {
    let cluster: Cluster;
    const defer = cleanupStack({ after });
    before(async () => {
      // The default sweep interval: nothing expires here, and the load has the machine to itself.
      cluster = await startCluster(defer, dialect, nodeCount, { logLevel: 'warn', sweepIntervalMs: 5000 });
    });

    const bound = dialect === 'postgres' ? `, within ${WAKE_P99_BOUND_MS} ms at p99 (LISTEN/NOTIFY)` : '';
    test(`a long-poll on one node wakes when another approves${bound}`, async (t) => {
      const { nodes, gateway, token } = cluster;
      const TOTAL = 200;
      const PARALLEL = 4;
      // Not counted, as in bench/: the first rounds meet cold code and open the pools' connections.
      const WARM_UP = 20;
      const wakeMs: number[] = [];
      // Each verification starts on one node, is waited for on the next and approved on the one after.
      await spread(WARM_UP + TOTAL, PARALLEL, async (i) => {
        const starter = nodes[i % nodes.length]!;
        const waiter = nodes[(i + 1) % nodes.length]!;
        const approver = nodes[(i + 2) % nodes.length]!;
        const to = phone(i);
        const id = await start(starter, token, to);
        const code = codeOf(await smsTo(gateway, to));

        let answered = false;
        const longPoll = call(waiter, 'GET', `/v1/verifications/${id}?wait=10`, undefined, token).then((res) => {
          answered = true;
          return { ...res, at: performance.now() };
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(answered, false, 'the long-poll waits while the verification is pending');

        const checked = await call(approver, 'POST', `/v1/verifications/${id}/check`, { code }, token);
        const checkedAt = performance.now();
        assert.equal(checked.status, 200, JSON.stringify(checked.json));
        assert.equal(checked.json['status'], 'approved');
        const woken = await longPoll;
        assert.equal(woken.status, 200, JSON.stringify(woken.json));
        assert.equal(woken.json['status'], 'approved');
        // The long-poll may even answer before the check's own answer is read: that counts as 0.
        if (i >= WARM_UP) wakeMs.push(Math.max(0, woken.at - checkedAt));
      });

      const sorted = wakeMs.sort((a, b) => a - b);
      const p50 = percentile(sorted, 50);
      const p99 = percentile(sorted, 99);
      t.diagnostic(`wake-up after the approving node's answer over ${TOTAL} verifications (after ${WARM_UP}), ${PARALLEL} at a time on ${nodes.length} node(s): p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);
      // The bound is on the hop between nodes. One SQLite node has no such hop; its tail is
      // the disk's (a durable commit holds the process for its fsync), which bench/ measures.
      if (dialect === 'postgres') assert.ok(p99 < WAKE_P99_BOUND_MS, `p99 ${p99.toFixed(1)} ms < ${WAKE_P99_BOUND_MS} ms`);
    });

    test('every queued SMS is sent exactly once although every node runs a delivery worker', async (t) => {
      const { nodes, gateway, token } = cluster;
      const TOTAL = 300;
      const FIRST = 10_000; // numbers of their own, apart from the other test's (at most 220)
      const sentBefore = await Promise.all(nodes.map((node) => metric(node, 'outband_deliveries_total', { status: 'sent' })));
      const started = new Map<string, string>(); // number → verification id
      await spread(TOTAL, 16, async (i) => {
        const to = phone(FIRST + i);
        started.set(to, await start(nodes[i % nodes.length]!, token, to));
      });

      const ours = () => gateway.requests.filter((r) => started.has(String(r.body['to'])));
      await poll(`an SMS to each of the ${TOTAL} numbers`, async () => (new Set(ours().map((r) => r.body['to'])).size === TOTAL ? true : undefined), 30_000);
      // A message claimed by two workers at once would be sent twice at about the same time.
      await new Promise((resolve) => setTimeout(resolve, 1000));

      const requests = ours();
      assert.deepEqual(requests.filter((r) => r.signatureProblem !== null).map((r) => r.signatureProblem), [], 'every SMS is signed');
      const byMessage = new Map(requests.map((r) => [String(r.headers['webhook-id']), r]));
      assert.equal(byMessage.size, TOTAL, 'one message per verification');
      assert.equal(requests.length, TOTAL, 'every message id (the idempotency key) arrived once');
      // Each verification's one delivery is the message the gateway got, claimed once and recorded as sent.
      await spread(TOTAL, 16, async (i) => {
        const to = phone(FIRST + i);
        const read = await call(nodes[(i + 1) % nodes.length]!, 'GET', `/v1/verifications/${started.get(to)}`, undefined, token);
        assert.equal(read.status, 200, JSON.stringify(read.json));
        const deliveries = read.json['deliveries'] as Array<{ id: string; status: string; attempts: number }>;
        assert.equal(deliveries.length, 1);
        assert.equal(byMessage.get(deliveries[0]!.id)?.body['to'], to, `the message of ${to} is its delivery`);
        assert.equal(deliveries[0]!.status, 'sent');
        assert.equal(deliveries[0]!.attempts, 1, `the message of ${to} was claimed once`);
      });

      const sentBy = (await Promise.all(nodes.map((node) => metric(node, 'outband_deliveries_total', { status: 'sent' })))).map((n, i) => n - sentBefore[i]!);
      t.diagnostic(`${TOTAL} SMS sent by the nodes' workers: ${sentBy.join(' + ')}`);
      assert.equal(sentBy.reduce((a, b) => a + b, 0), TOTAL, 'the workers together sent each once');
      assert.ok(sentBy.every((n) => n > 0), 'every node sent some: the workers ran side by side');
    });
  });

  describe(`${dialect}: the sweeper and the webhook dispatcher on one node at a time`, () => {
    test('only the leader expires and sends webhooks; after it is SIGKILLed another node leads, expires and sends, and nothing acknowledged is lost', async (t) => {
      const defer = cleanupStack(t);
      const cluster = await startCluster(defer, dialect, nodeCount, { logLevel: 'info', sweepIntervalMs: 200 });
      const { nodes, gateway, token } = cluster;
      const database = openDatabase(cluster.databaseUrl);
      defer(() => database.close());
      /** Moves verifications' expiry to now, as if their TTL (at least 30 s) had passed. */
      const age = (ids: string[]) => database.db.updateTable('verifications').set({ expires_at: Date.now() }).where('id', 'in', ids).execute();

      // 1. Exactly one node leads.
      const leader = await poll('one leader', async () => {
        const flags = await Promise.all(nodes.map(leads));
        return flags.filter(Boolean).length === 1 ? nodes[flags.indexOf(true)] : undefined;
      });
      const followers = nodes.filter((node) => node !== leader);

      // 2. A webhook endpoint for every verification event.
      const receiver = await startWebhookReceiver();
      defer(() => receiver.close());
      const hook = await call(leader, 'POST', '/v1/webhooks', { url: `${receiver.url}/hooks`, event_types: ['verification.*'] }, token);
      assert.equal(hook.status, 201, JSON.stringify(hook.json));
      receiver.secret = hook.json['secret'] as string;

      /** Verification id → the status it must have; every id here was acknowledged (201). */
      const expected = new Map<string, string>();
      /** Starts on every node: half stay pending, a quarter are approved, a quarter are aged until the sweeper expires them. */
      const load = async (on: ServerProcess[], first: number, count: number) => {
        const pending: string[] = [];
        const aged: string[] = [];
        const approved: string[] = [];
        await spread(count, 4, async (i) => {
          const node = on[i % on.length]!;
          const to = phone(first + i);
          const id = await start(node, token, to);
          expected.set(id, 'pending');
          if (i % 4 === 1) {
            const checked = await call(on[(i + 1) % on.length]!, 'POST', `/v1/verifications/${id}/check`, { code: codeOf(await smsTo(gateway, to)) }, token);
            assert.equal(checked.json['status'], 'approved', JSON.stringify(checked.json));
            expected.set(id, 'approved');
            approved.push(id);
          } else if (i % 4 === 3) {
            aged.push(id);
            expected.set(id, 'expired');
          } else pending.push(id);
        });
        await age(aged);
        return { pending, approved, aged, all: [...pending, ...approved, ...aged] };
      };
      /** Every event of `batch` delivered: started for all, approved and expired for theirs. */
      const delivered = (what: string, batch: Awaited<ReturnType<typeof load>>) =>
        receiver.waitFor(what, (deliveries) => {
          const seen = new Set([...byEvent(deliveries).values()].map((e) => `${e.type} ${e.subjectId}`));
          return (
            batch.all.every((id) => seen.has(`verification.started ${id}`)) &&
            batch.approved.every((id) => seen.has(`verification.approved ${id}`)) &&
            batch.aged.every((id) => seen.has(`verification.expired ${id}`))
          );
        });
      /** Webhook attempts made by the killed leader (its metrics went with it). */
      let attemptsOfKilled = 0;
      /** Each node's expiries and webhook attempts (0 for the killed one), once the attempts add up to what the receiver got. */
      const books = () =>
        poll('the webhook attempts on the books', async () => {
          const running = (node: ServerProcess) => node.child.exitCode === null && node.child.signalCode === null;
          const attempts = await Promise.all(nodes.map((node) => (running(node) ? metric(node, 'outband_webhook_attempts_total') : 0)));
          if (attempts.reduce((a, b) => a + b, 0) < receiver.deliveries.length - attemptsOfKilled) return undefined;
          const expired = await Promise.all(nodes.map((node) => (running(node) ? metric(node, 'outband_verifications_ended_total', { status: 'expired' }) : 0)));
          return { attempts, expired };
        });

      // 3. Before the kill: the leader alone expires and sends webhooks, for events committed on every node.
      const beforeKill = await load(nodes, 20_000, 12);
      await delivered('every event before the kill delivered', beforeKill);
      const first = await books();
      const leaderIndex = nodes.indexOf(leader);
      t.diagnostic(`before the kill: webhook attempts per node ${first.attempts.join('/')}, expiries ${first.expired.join('/')} (leader: node ${leaderIndex})`);
      assert.equal(first.attempts[leaderIndex], receiver.deliveries.length, 'the leader made every webhook attempt');
      assert.equal(first.expired[leaderIndex], beforeKill.aged.length, 'the leader expired every aged verification');
      for (const follower of followers) {
        assert.equal(first.attempts[nodes.indexOf(follower)], 0, 'a follower sends no webhook');
        assert.equal(first.expired[nodes.indexOf(follower)], 0, 'a follower expires nothing');
      }
      attemptsOfKilled = first.attempts[leaderIndex]!;

      // 4. SIGKILL the leader. On SQLite its one node comes back as a new process on the same file.
      const killed = await leader.stop('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      const killedAt = performance.now();
      const survivors = followers.length > 0 ? followers : [await cluster.addNode()];
      nodes.push(...survivors.filter((node) => !nodes.includes(node)));

      // 5. A survivor takes the lead within a bounded time; requests did not need a leader meanwhile.
      const afterKill = await load(survivors, 30_000, 12);
      const successor = await poll(
        'a new leader',
        async () => {
          const flags = await Promise.all(survivors.map(leads));
          return flags.filter(Boolean).length === 1 ? survivors[flags.indexOf(true)] : undefined;
        },
        15_000,
        10,
      );
      const failoverMs = performance.now() - killedAt;
      t.diagnostic(`a survivor led ${Math.round(failoverMs)} ms after the leader was killed (LEADER_RETRY_MS ${LEADER_RETRY_MS})`);
      if (dialect === 'postgres') assert.ok(failoverMs < 2 * LEADER_RETRY_MS + 1000, `failover in ${Math.round(failoverMs)} ms`);
      assert.match(successor.output(), /took the lead/, 'the new leader says so in its log');

      // 6. It expires what was aged after the kill and sends the webhooks of every event since.
      await delivered('every event after the kill delivered', afterKill);
      const second = await books();
      const successorIndex = nodes.indexOf(successor);
      t.diagnostic(`after the kill: webhook attempts per node ${second.attempts.join('/')}, expiries ${second.expired.join('/')} (leader: node ${successorIndex})`);
      assert.equal(second.attempts[successorIndex], receiver.deliveries.length - attemptsOfKilled, 'the new leader made every webhook attempt since the kill');
      assert.equal(second.expired[successorIndex], afterKill.aged.length, 'the new leader expired every verification aged after the kill');
      for (const other of survivors.filter((node) => node !== successor)) {
        assert.equal(second.attempts[nodes.indexOf(other)], 0, 'a follower sends no webhook');
        assert.equal(second.expired[nodes.indexOf(other)], 0, 'a follower expires nothing');
      }
      assert.deepEqual(receiver.deliveries.filter((d) => d.problem !== null).map((d) => d.problem), [], 'every webhook verifies');
      for (const [eventId, event] of byEvent(receiver.deliveries)) assert.equal(event.webhookIds.size, 1, `event ${eventId} came under one webhook-id`);

      // 7. Nothing acknowledged is lost: every 201'd verification reads back, in its state, on every survivor.
      for (const survivor of survivors) {
        for (const [id, status] of expected) {
          const read = await call(survivor, 'GET', `/v1/verifications/${id}`, undefined, token);
          assert.equal(read.status, 200, JSON.stringify(read.json));
          assert.equal(read.json['status'], status, `${id} on ${survivor.baseUrl}`);
        }
      }
    });
  });
}
