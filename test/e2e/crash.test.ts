import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { createTestDatabase, dialects } from '../helpers/databases.ts';
import { cleanupStack, runCli, startServerProcess, type ServerProcess } from '../helpers/process.ts';
import { startSmsGateway, type GatewayRequest, type SmsGateway } from '../helpers/sms-gateway.ts';

/**
 * Durable delivery across a crash, with real processes: the server is SIGKILLed in the middle
 * of its work and started again on the same database; the message must still arrive (at
 * least once) and its code must still approve the verification.
 */

const LEASE_MS = 1000;

interface Setup {
  /** Registers a cleanup; cleanups run last first when the test ends. */
  defer: (fn: () => unknown) => void;
  env: Record<string, string>;
  gateway: SmsGateway;
  clientId: string;
  clientSecret: string;
}

/** A database, a gateway, and an application "crash" with an SMS client, made through the CLI. */
async function setUp(t: TestContext, dialect: 'sqlite' | 'postgres'): Promise<Setup> {
  const defer = cleanupStack(t);
  const database = await createTestDatabase(dialect);
  defer(() => database.drop());
  const gateway = await startSmsGateway();
  defer(() => gateway.close());
  const env = {
    DATABASE_URL: database.url,
    OUTBAND_SECRET: 'crash-test-secret-0123456789-abcdefghijklmnop',
    OUTBAND_DEMO: 'false',
    LOG_LEVEL: 'warn',
    SMS_WEBHOOK_URL: gateway.url,
    SMS_WEBHOOK_SECRET: gateway.secret,
    DELIVERY_LEASE_MS: String(LEASE_MS),
  };
  await runCli(['apps', 'create', '--name', 'crash', '--sms-provider', 'webhook'], env);
  const { stdout } = await runCli(['clients', 'create', '--app', 'crash', '--scopes', 'users:write verifications:write verifications:read', '--json'], env);
  const credentials = JSON.parse(stdout) as { client_id: string; client_secret: string };
  return { defer, env, gateway, clientId: credentials.client_id, clientSecret: credentials.client_secret };
}

/** Starts `outband serve` and makes sure it is killed when the test ends, whatever happens. */
async function serve(setup: Setup, env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess(env);
  setup.defer(() => server.stop('SIGKILL'));
  return server;
}

async function call(server: ServerProcess, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await fetch(server.baseUrl + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, json: await response.json() };
}

/** A token, a user, and a started SMS verification (201). */
async function startVerification(server: ServerProcess, setup: Setup, phone: string): Promise<{ token: string; verificationId: string }> {
  const issued = await call(server, 'POST', '/oauth/token', { grant_type: 'client_credentials', client_id: setup.clientId, client_secret: setup.clientSecret });
  assert.equal(issued.status, 200, JSON.stringify(issued.json));
  const token = issued.json.access_token as string;
  const user = await call(server, 'POST', '/v1/users', { phone }, token);
  assert.equal(user.status, 201, JSON.stringify(user.json));
  const started = await call(server, 'POST', '/v1/verifications', { channel: 'sms', user_id: user.json.id }, token);
  assert.equal(started.status, 201, JSON.stringify(started.json));
  assert.equal(started.json.status, 'pending');
  return { token, verificationId: started.json.id as string };
}

function codeOf(request: GatewayRequest): string {
  const match = /code is (\d{4,10})\b/.exec(String(request.body['text'] ?? ''));
  assert.ok(match?.[1] !== undefined, `a code in the SMS: ${request.rawBody}`);
  return match[1];
}

async function approve(server: ServerProcess, token: string, verificationId: string, code: string): Promise<void> {
  const checked = await call(server, 'POST', `/v1/verifications/${verificationId}/check`, { code }, token);
  assert.equal(checked.status, 200, JSON.stringify(checked.json));
  assert.equal(checked.json.status, 'approved');
  const read = await call(server, 'GET', `/v1/verifications/${verificationId}`, undefined, token);
  assert.equal(read.json.status, 'approved');
}

for (const dialect of dialects()) {
  describe(`${dialect}: durable delivery across a crash (SIGKILL)`, () => {
    test('killed while the gateway holds the request: after a restart the message is sent again and its code approves', async (t) => {
      const setup = await setUp(t, dialect);
      setup.gateway.answer = () => 'hang';

      const first = await serve(setup, setup.env);
      const { token, verificationId } = await startVerification(first, setup, '+31612340001');
      const [taken] = await setup.gateway.waitForRequests(1);
      assert.ok(taken !== undefined);
      assert.equal(taken.signatureProblem, null);
      const killed = await first.stop('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      const killedAt = performance.now();

      setup.gateway.answer = () => ({ status: 200, body: '{"message_id":"gw-after-crash"}' });
      const second = await serve(setup, setup.env);
      const listeningAt = performance.now();
      const requests = await setup.gateway.waitForRequests(2);
      const arrivedAt = performance.now();
      t.diagnostic(`restart: listening ${Math.round(listeningAt - killedAt)} ms after the kill; message sent again ${Math.round(arrivedAt - killedAt)} ms after the kill (lease ${LEASE_MS} ms)`);

      const again = requests[1] as GatewayRequest;
      assert.equal(again.signatureProblem, null, 'the redelivery is signed');
      assert.equal(again.headers['webhook-id'], taken.headers['webhook-id'], 'the same message id, so the gateway can drop the duplicate');
      assert.equal(again.rawBody, taken.rawBody, 'the same message, the same code');
      await approve(second, token, verificationId, codeOf(again));

      // At least once: every request the gateway saw was this one message.
      for (const request of setup.gateway.requests) assert.equal(request.rawBody, taken.rawBody);
      const stopped = await second.stop('SIGTERM');
      assert.equal(stopped.code, 0, second.output());
    });

    test('killed with the message only queued (workers off): the next server with workers sends it', async (t) => {
      const setup = await setUp(t, dialect);
      const first = await serve(setup, { ...setup.env, OUTBAND_WORKERS: 'false' });
      const { token, verificationId } = await startVerification(first, setup, '+31612340002');
      await first.stop('SIGKILL');
      assert.equal(setup.gateway.requests.length, 0, 'nothing was sent before the crash');

      const startedAt = performance.now();
      const second = await serve(setup, setup.env);
      const [request] = await setup.gateway.waitForRequests(1);
      t.diagnostic(`queued message sent ${Math.round(performance.now() - startedAt)} ms after the restart began`);
      assert.ok(request !== undefined);
      assert.equal(request.signatureProblem, null);
      assert.equal(request.body['to'], '+31612340002');
      await approve(second, token, verificationId, codeOf(request));
      assert.equal(setup.gateway.requests.length, 1, 'sent exactly once');
      const stopped = await second.stop('SIGTERM');
      assert.equal(stopped.code, 0, second.output());
    });
  });
}
