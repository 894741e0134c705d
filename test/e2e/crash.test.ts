import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dialects } from '../helpers/databases.ts';
import type { ServerProcess } from '../helpers/process.ts';
import { callApi, codeOf, issueToken, setUpServedApp, type ServedApp } from '../helpers/served-app.ts';
import type { GatewayRequest } from '../helpers/sms-gateway.ts';

/**
 * Durable delivery across a crash, with real processes: the server is SIGKILLed in the middle
 * of its work and started again on the same database; the message must still arrive (at
 * least once) and its code must still approve the verification.
 */

const LEASE_MS = 1000;

/** A database, a gateway, and an application "crash" with an SMS client, made through the CLI. */
function setUp(t: { after(fn: () => Promise<void>): void }, dialect: 'sqlite' | 'postgres'): Promise<ServedApp> {
  return setUpServedApp(t, dialect, { name: 'crash', scopes: 'users:write verifications:write verifications:read', env: { DELIVERY_LEASE_MS: String(LEASE_MS) } });
}

/** A token, a user, and a started SMS verification (201). */
async function startVerification(server: ServerProcess, setup: ServedApp, phone: string): Promise<{ token: string; verificationId: string }> {
  const token = await issueToken(server, setup);
  const user = await callApi(server, 'POST', '/v1/users', { phone }, token);
  assert.equal(user.status, 201, JSON.stringify(user.json));
  const started = await callApi(server, 'POST', '/v1/verifications', { channel: 'sms', user_id: user.json['id'] }, token);
  assert.equal(started.status, 201, JSON.stringify(started.json));
  assert.equal(started.json['status'], 'pending');
  return { token, verificationId: started.json['id'] as string };
}

async function approve(server: ServerProcess, token: string, verificationId: string, code: string): Promise<void> {
  const checked = await callApi(server, 'POST', `/v1/verifications/${verificationId}/check`, { code }, token);
  assert.equal(checked.status, 200, JSON.stringify(checked.json));
  assert.equal(checked.json['status'], 'approved');
  const read = await callApi(server, 'GET', `/v1/verifications/${verificationId}`, undefined, token);
  assert.equal(read.json['status'], 'approved');
}

for (const dialect of dialects()) {
  describe(`${dialect}: durable delivery across a crash (SIGKILL)`, () => {
    test('killed while the gateway holds the request: after a restart the message is sent again and its code approves', async (t) => {
      const setup = await setUp(t, dialect);
      setup.gateway.answer = () => 'hang';

      const first = await setup.serve();
      const { token, verificationId } = await startVerification(first, setup, '+31612340001');
      const [taken] = await setup.gateway.waitForRequests(1);
      assert.ok(taken !== undefined);
      assert.equal(taken.signatureProblem, null);
      const killed = await first.stop('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      const killedAt = performance.now();

      setup.gateway.answer = () => ({ status: 200, body: '{"message_id":"gw-after-crash"}' });
      const second = await setup.serve();
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
      const first = await setup.serve({ OUTBAND_WORKERS: 'false' });
      const { token, verificationId } = await startVerification(first, setup, '+31612340002');
      await first.stop('SIGKILL');
      assert.equal(setup.gateway.requests.length, 0, 'nothing was sent before the crash');

      const startedAt = performance.now();
      const second = await setup.serve();
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
