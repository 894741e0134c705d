// The APNs provider against a local HTTP/2 TLS server that checks provider tokens as Apple does.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apns, type ApnsConfig } from '../../src/providers/push/apns.ts';
import { ProviderError, StaleTransportError, type PushProvider, type PushTarget } from '../../src/providers/types.ts';
import { makeTestCertificate, noDeps, startApnsServer, testNotice, type ApnsServer, type TestCertificate } from '../helpers/push-peers.ts';

const KEY_ID = 'ABC123DEFG';
const TEAM_ID = 'TEAM123456';
const TOPIC = 'com.example.outband';

const deviceToken = () => randomBytes(32).toString('hex');
const target = (token: string): PushTarget => ({ type: 'apns', token });
const signal = () => AbortSignal.timeout(10_000);

function p256Pem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

describe('apns provider against a local HTTP/2 APNs server', () => {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let certificate: TestCertificate;
  let server: ApnsServer;
  let config: ApnsConfig;
  const providers: PushProvider[] = [];

  function provider(overrides: Partial<ApnsConfig> = {}): PushProvider {
    const push = apns.create({ ...config, ...overrides }, noDeps).push;
    assert.ok(push !== undefined, 'the definition gives a push provider');
    providers.push(push);
    return push;
  }

  before(async () => {
    certificate = makeTestCertificate();
    server = await startApnsServer(certificate, { publicKey: keys.publicKey, keyId: KEY_ID, teamId: TEAM_ID });
    config = {
      keyId: KEY_ID,
      teamId: TEAM_ID,
      // As the .p8 file holds it: PKCS#8 PEM.
      privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      privateKeyFile: '',
      topic: TOPIC,
      baseUrl: server.url,
      caFile: certificate.certFile,
    };
  });
  after(async () => {
    for (const push of providers) await push.close?.();
    await server?.close();
    certificate?.remove();
  });

  test('the provider token is an ES256 JWT (kid, iss, iat) that verifies; headers and body are as Apple documents', async () => {
    const push = provider();
    const notice = testNotice({ ttlSeconds: 75 });
    const token = deviceToken();
    const before = server.requests.length;
    const result = await push.send(target(token), notice, { signal: signal() });
    const request = server.requests[before];
    assert.ok(request !== undefined);

    assert.equal(request.jwtProblem, null, 'the JWT verified with the key’s public half');
    assert.deepEqual(request.jwtHeader, { alg: 'ES256', kid: KEY_ID });
    assert.deepEqual(Object.keys(request.jwtClaims ?? {}).sort(), ['iat', 'iss']);
    assert.equal(request.jwtClaims?.iss, TEAM_ID);

    const h = request.headers;
    assert.equal(h[':method'], 'POST');
    assert.equal(h[':path'], `/3/device/${token}`);
    assert.equal(h['apns-topic'], TOPIC);
    assert.equal(h['apns-push-type'], 'alert');
    assert.equal(h['apns-priority'], '10');
    const now = Math.floor(Date.now() / 1000);
    const expiration = Number(h['apns-expiration']);
    assert.ok(expiration > now && expiration <= now + 75, `apns-expiration within the TTL, not ${expiration - now} s ahead`);
    const collapse = String(h['apns-collapse-id']);
    assert.ok(Buffer.byteLength(collapse) <= 64 && collapse.length > 0, 'apns-collapse-id at most 64 bytes');
    assert.ok(!collapse.includes(notice.verificationId));

    assert.deepEqual(request.body, {
      aps: { alert: { title: notice.title, body: notice.body }, sound: 'default', 'mutable-content': 1 },
      verification_id: notice.verificationId,
      device_id: notice.deviceId,
      type: 'outband.request',
      v: 1,
    });
    assert.match(result.providerMessageId ?? '', /^[0-9a-f-]{36}$/, 'the apns-id is the message id');

    // A newer push for the same request collapses onto the older one; TTL 0 means "now or never".
    await push.send(target(token), { ...notice, ttlSeconds: 0 }, { signal: signal() });
    assert.equal(server.requests.at(-1)?.headers['apns-collapse-id'], collapse);
    assert.equal(server.requests.at(-1)?.headers['apns-expiration'], '0');
  });

  test('one HTTP/2 session and one provider token carry every send', async () => {
    const push = provider();
    const sessionsBefore = server.sessionCount();
    const before = server.requests.length;
    await push.send(target(deviceToken()), testNotice(), { signal: signal() });
    await Promise.all([1, 2, 3].map(() => push.send(target(deviceToken()), testNotice(), { signal: signal() })));
    const requests = server.requests.slice(before);
    assert.equal(requests.length, 4);
    assert.equal(server.sessionCount(), sessionsBefore + 1, 'one session opened');
    assert.equal(new Set(requests.map((r) => r.session)).size, 1, 'all on the same session');
    assert.equal(new Set(requests.map((r) => r.headers.authorization)).size, 1, 'the same provider token');
  });

  test('a session the server drops is reopened on the next send, and close() ends it', async () => {
    const push = provider();
    await push.send(target(deviceToken()), testNotice(), { signal: signal() });
    const first = server.requests.at(-1)?.session;
    server.dropSessions();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await push.send(target(deviceToken()), testNotice(), { signal: signal() });
    const second = server.requests.at(-1)?.session;
    assert.notEqual(second, first, 'a new session');
    await push.close?.();
    for (let i = 0; i < 100 && server.openSessions() > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(server.openSessions(), 0, 'close() closed the session');
  });

  test('410 Unregistered and 400 BadDeviceToken are a StaleTransportError', async () => {
    const push = provider();
    for (const [status, reason] of [[410, 'Unregistered'], [400, 'BadDeviceToken']] as const) {
      const token = deviceToken();
      server.answers.set(token, { status, reason });
      await assert.rejects(push.send(target(token), testNotice(), { signal: signal() }), (error) => {
        assert.ok(error instanceof StaleTransportError, `${status} ${reason}: ${String(error)}`);
        assert.equal(error.message, `apns: HTTP ${status} ${reason}, the device token is gone`);
        return true;
      });
    }
  });

  test('403 InvalidProviderToken and 400 DeviceTokenNotForTopic are permanent; 500, 503 and 429 transient', async () => {
    const push = provider();
    const cases: [number, string, boolean][] = [
      [403, 'InvalidProviderToken', true],
      [400, 'DeviceTokenNotForTopic', true],
      [500, 'InternalServerError', false],
      [503, 'ServiceUnavailable', false],
      [429, 'TooManyRequests', false],
    ];
    for (const [status, reason, permanent] of cases) {
      const token = deviceToken();
      server.answers.set(token, { status, reason });
      await assert.rejects(push.send(target(token), testNotice(), { signal: signal() }), (error) => {
        assert.ok(error instanceof ProviderError && !(error instanceof StaleTransportError), `${reason}: ${String(error)}`);
        assert.equal(error.permanent, permanent, reason);
        assert.equal(error.message, `apns: HTTP ${status} ${reason}`);
        return true;
      });
    }
  });

  test('a key APNs does not know is refused (403 InvalidProviderToken, permanent)', async () => {
    const push = provider({ privateKey: p256Pem() });
    await assert.rejects(push.send(target(deviceToken()), testNotice(), { signal: signal() }), (error) => {
      assert.ok(error instanceof ProviderError && error.permanent && !(error instanceof StaleTransportError), String(error));
      assert.equal(error.message, 'apns: HTTP 403 InvalidProviderToken');
      return true;
    });
    assert.notEqual(server.requests.at(-1)?.jwtProblem, null);
  });

  test('a token that is not hex is stale without a request; an unreachable server and an aborted send are transient', async () => {
    const before = server.requests.length;
    await assert.rejects(provider().send(target('not-a-device-token'), testNotice(), { signal: signal() }), StaleTransportError);
    assert.equal(server.requests.length, before);

    const closed = await startApnsServer(certificate, { publicKey: keys.publicKey, keyId: KEY_ID, teamId: TEAM_ID });
    await closed.close();
    const unreachable = provider({ baseUrl: closed.url });
    await assert.rejects(unreachable.send(target(deviceToken()), testNotice(), { signal: signal() }), (error) => error instanceof ProviderError && !error.permanent);
    await assert.rejects(provider().send(target(deviceToken()), testNotice(), { signal: AbortSignal.abort() }), (error) => error instanceof ProviderError && !error.permanent);
  });

  test('the key may come from a .p8 file; create refuses a missing, doubled or non-P-256 key', async () => {
    const file = join(dirname(certificate.certFile), 'AuthKey_TEST.p8');
    writeFileSync(file, config.privateKey);
    const push = provider({ privateKey: '', privateKeyFile: file });
    await push.check?.();
    await push.send(target(deviceToken()), testNotice(), { signal: signal() });
    assert.equal(server.requests.at(-1)?.jwtProblem, null);

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => apns.create({ ...config, privateKey: '' }, noDeps), /APNS_PRIVATE_KEY or APNS_PRIVATE_KEY_FILE is required/);
    assert.throws(() => apns.create({ ...config, privateKeyFile: file }, noDeps), /not both/);
    assert.throws(() => apns.create({ ...config, privateKey: 'garbage' }, noDeps), /not a PEM private key/);
    assert.throws(() => apns.create({ ...config, privateKey: rsa }, noDeps), /not a P-256 key/);
    assert.throws(() => apns.create({ ...config, privateKey: p384 }, noDeps), /not a P-256 key/);
  });
});
