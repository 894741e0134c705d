// The FCM provider against a local token endpoint and HTTP v1 API (node:http on 127.0.0.1).
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fcm, type FcmConfig } from '../../src/providers/push/fcm.ts';
import { ProviderError, StaleTransportError, type PushProvider, type PushTarget } from '../../src/providers/types.ts';
import { FCM_SCOPE, fcmError, noDeps, startFcmServer, testNotice, type FcmServer } from '../helpers/push-peers.ts';

const PRIVATE_KEY_ID = 'a1b2c3d4e5f6';

function rsaKeys(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** A service-account key file as the Firebase console hands it out (the fields used). */
function serviceAccountJson(server: FcmServer, privateKey: KeyObject, tokenUri = server.tokenUrl): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: server.projectId,
    private_key_id: PRIVATE_KEY_ID,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: server.clientEmail,
    client_id: '100000000000000000000',
    token_uri: tokenUri,
  });
}

const target = (token: string): PushTarget => ({ type: 'fcm', token });
const signal = () => AbortSignal.timeout(10_000);

function expectError(check: (error: ProviderError) => void): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ProviderError, String(error));
    check(error);
    return true;
  };
}

describe('fcm provider against a local token endpoint and FCM API', () => {
  const keys = rsaKeys();
  let server: FcmServer;
  let config: FcmConfig;
  const providers: PushProvider[] = [];

  function provider(overrides: Partial<FcmConfig> = {}): PushProvider {
    const push = fcm.create({ ...config, ...overrides }, noDeps).push;
    assert.ok(push !== undefined, 'the definition gives a push provider');
    providers.push(push);
    return push;
  }

  before(async () => {
    server = await startFcmServer({ publicKey: keys.publicKey });
    config = { serviceAccount: serviceAccountJson(server, keys.privateKey), serviceAccountFile: '', baseUrl: server.baseUrl, tokenUrl: '' };
  });
  after(async () => {
    for (const push of providers) await push.close?.();
    await server?.close();
  });

  test('exchanges an RS256 JWT-bearer assertion for an access token once, and reuses it for the next send', async () => {
    const push = provider();
    const tokensBefore = server.tokenRequests.length;
    const sendsBefore = server.sends.length;
    await push.send(target('device-token-1'), testNotice(), { signal: signal() });
    await push.send(target('device-token-2'), testNotice(), { signal: signal() });

    const tokenRequests = server.tokenRequests.slice(tokensBefore);
    assert.equal(tokenRequests.length, 1, 'one token request for two sends');
    const [grant] = tokenRequests;
    assert.equal(grant?.problem, null, 'the assertion verified with the service account public key');
    assert.equal(grant?.form['grant_type'], 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    assert.deepEqual(grant?.header, { alg: 'RS256', typ: 'JWT', kid: PRIVATE_KEY_ID });
    assert.equal(grant?.claims?.iss, server.clientEmail);
    assert.equal(grant?.claims?.['scope'], FCM_SCOPE);
    assert.equal(grant?.claims?.aud, server.tokenUrl);
    assert.equal((grant?.claims?.exp ?? 0) - (grant?.claims?.iat ?? 0), 3600);

    const sends = server.sends.slice(sendsBefore);
    assert.equal(sends.length, 2);
    assert.ok(sends.every((s) => s.authorized), 'both sends carried the issued bearer token');
    assert.equal(sends[0]?.headers.authorization, sends[1]?.headers.authorization, 'the same token');
  });

  test('the message is the documented HTTP v1 shape: string data with only the ids, the notice, high priority and the TTL', async () => {
    const push = provider();
    const notice = testNotice({ ttlSeconds: 95.5 });
    const before = server.sends.length;
    const result = await push.send(target('device-token-shape'), notice, { signal: signal() });
    const send = server.sends[before];
    assert.ok(send !== undefined);
    assert.equal(send.path, `/v1/projects/${server.projectId}/messages:send`);
    assert.match(String(send.headers['content-type']), /^application\/json/);
    assert.match(result.providerMessageId ?? '', new RegExp(`^projects/${server.projectId}/messages/`), 'the message name is the id');

    const message = send.body['message'] as Record<string, unknown>;
    const apns = message['apns'] as { headers: Record<string, string> };
    const expiration = Number(apns.headers['apns-expiration']);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(expiration > now && expiration <= now + 95, `APNs expiry within the TTL, not ${expiration - now} s`);
    assert.deepEqual(send.body, {
      message: {
        token: 'device-token-shape',
        data: { v: '1', type: 'outband.request', verification_id: notice.verificationId, device_id: notice.deviceId },
        notification: { title: notice.title, body: notice.body },
        android: { priority: 'high', ttl: '95s' },
        apns: {
          headers: {
            'apns-priority': '10',
            'apns-push-type': 'alert',
            'apns-expiration': apns.headers['apns-expiration'],
            'apns-collapse-id': apns.headers['apns-collapse-id'],
          },
        },
      },
    });
    assert.ok(Object.values(message['data'] as object).every((v) => typeof v === 'string'), 'FCM data values are strings');
    assert.match(apns.headers['apns-collapse-id'] ?? '', /^[A-Za-z0-9_-]{1,64}$/);
  });

  test('404 / UNREGISTERED is a StaleTransportError', async () => {
    const push = provider();
    server.answers.set('gone-404', fcmError(404, 'NOT_FOUND', 'UNREGISTERED'));
    server.answers.set('gone-plain-404', fcmError(404, 'NOT_FOUND'));
    server.answers.set('gone-400', fcmError(400, 'INVALID_ARGUMENT', 'UNREGISTERED'));
    for (const token of ['gone-404', 'gone-plain-404', 'gone-400']) {
      await assert.rejects(
        push.send(target(token), testNotice(), { signal: signal() }),
        expectError((error) => {
          assert.ok(error instanceof StaleTransportError, `${token}: ${error.message}`);
          assert.equal(error.permanent, true);
        }),
      );
    }
  });

  test('500, 503 and 429 are transient; 400 INVALID_ARGUMENT and 403 SENDER_ID_MISMATCH are permanent, not stale', async () => {
    const push = provider();
    const cases: [string, ReturnType<typeof fcmError>, boolean, string][] = [
      ['e500', fcmError(500, 'INTERNAL', 'INTERNAL'), false, 'fcm: HTTP 500 INTERNAL'],
      ['e503', fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE'), false, 'fcm: HTTP 503 UNAVAILABLE'],
      ['e429', fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'), false, 'fcm: HTTP 429 QUOTA_EXCEEDED'],
      ['e400', fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'), true, 'fcm: HTTP 400 INVALID_ARGUMENT'],
      ['e403', fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH'), true, 'fcm: HTTP 403 SENDER_ID_MISMATCH'],
    ];
    for (const [token, answer, permanent, message] of cases) {
      server.answers.set(token, answer);
      await assert.rejects(
        push.send(target(token), testNotice(), { signal: signal() }),
        expectError((error) => {
          assert.ok(!(error instanceof StaleTransportError), token);
          assert.equal(error.permanent, permanent, token);
          assert.equal(error.message, message);
        }),
      );
    }
  });

  test('a 401 (a revoked token) gets a new token and one more try', async () => {
    const push = provider();
    await push.send(target('before-revoke'), testNotice(), { signal: signal() });
    const tokensBefore = server.tokenRequests.length;
    server.revokeTokens();
    await push.send(target('after-revoke'), testNotice(), { signal: signal() });
    assert.equal(server.tokenRequests.length, tokensBefore + 1, 'a new token was fetched');
    assert.equal(server.sends.at(-1)?.authorized, true);
  });

  test('a service account the token endpoint refuses is a permanent error, and nothing is sent', async () => {
    const push = provider({ serviceAccount: serviceAccountJson(server, rsaKeys().privateKey) });
    const sendsBefore = server.sends.length;
    await assert.rejects(
      push.send(target('never'), testNotice(), { signal: signal() }),
      expectError((error) => {
        assert.equal(error.permanent, true);
        assert.equal(error.message, 'fcm: token request HTTP 400 invalid_grant');
      }),
    );
    assert.equal(server.tokenRequests.at(-1)?.problem !== null, true, 'the token endpoint saw a bad signature');
    assert.equal(server.sends.length, sendsBefore);
    await assert.rejects(push.check?.() ?? Promise.reject(new Error('no check')), ProviderError);
  });

  test('an unreachable token endpoint or API is transient; an aborted send too', async () => {
    const closed = await startFcmServer({ publicKey: keys.publicKey });
    await closed.close();
    const noTokens = provider({ serviceAccount: serviceAccountJson(server, keys.privateKey, closed.tokenUrl) });
    await assert.rejects(noTokens.send(target('t'), testNotice(), { signal: signal() }), expectError((error) => assert.equal(error.permanent, false)));
    const noApi = provider({ baseUrl: closed.baseUrl });
    await assert.rejects(noApi.send(target('t'), testNotice(), { signal: signal() }), expectError((error) => assert.equal(error.permanent, false)));
    await assert.rejects(provider().send(target('t'), testNotice(), { signal: AbortSignal.abort() }), expectError((error) => assert.equal(error.permanent, false)));
  });

  test('the service account may come from a file, and FCM_TOKEN_URL overrides its token_uri (and the assertion audience)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outband-fcm-'));
    try {
      const file = join(dir, 'service-account.json');
      writeFileSync(file, serviceAccountJson(server, keys.privateKey, 'https://oauth2.googleapis.com/token'));
      const push = provider({ serviceAccount: '', serviceAccountFile: file, tokenUrl: server.tokenUrl });
      await push.check?.();
      await push.send(target('from-file'), testNotice(), { signal: signal() });
      assert.equal(server.tokenRequests.at(-1)?.problem, null);
      assert.equal(server.tokenRequests.at(-1)?.claims?.aud, server.tokenUrl);
      assert.equal(server.sends.at(-1)?.authorized, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('create refuses a missing, doubled or broken service account', () => {
    const account = JSON.parse(config.serviceAccount) as Record<string, unknown>;
    const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => fcm.create({ ...config, serviceAccount: '' }, noDeps), /FCM_SERVICE_ACCOUNT or FCM_SERVICE_ACCOUNT_FILE is required/);
    assert.throws(() => fcm.create({ ...config, serviceAccountFile: '/x.json' }, noDeps), /not both/);
    assert.throws(() => fcm.create({ ...config, serviceAccount: '{not json' }, noDeps), /not JSON/);
    assert.throws(() => fcm.create({ ...config, serviceAccount: JSON.stringify({ ...account, client_email: undefined }) }, noDeps), /no client_email/);
    assert.throws(() => fcm.create({ ...config, serviceAccount: JSON.stringify({ ...account, private_key: 'nope' }) }, noDeps), /not a PEM private key/);
    assert.throws(() => fcm.create({ ...config, serviceAccount: JSON.stringify({ ...account, private_key: ecKey }) }, noDeps), /not an RSA key/);
  });
});
