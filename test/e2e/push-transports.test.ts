import assert from 'node:assert/strict';
import { createECDH, generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import ece from 'http_ece';
import { createDeviceClient, enroll } from '../../src/authenticator/client.ts';
import type { Transport } from '../../src/authenticator/objects.ts';
import { fcmError, makeTestCertificate, startFcmServer, startWebPushService, type FcmServer, type TestCertificate, type WebPushService } from '../helpers/push-peers.ts';
import { freePort, startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

/** The delivery worker runs in the server: wait (bounded) for what it does. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out waiting for the delivery worker');
}

/**
 * A push request through the server's worker to real local peers: a Web Push service over TLS and
 * FCM's token and send endpoints. Only ids cross a push service; a dead registration marks its
 * device stale and never keeps the request from the user's other devices.
 */
describe('push transports end to end', () => {
  let certificate: TestCertificate;
  let webPush: WebPushService;
  let fcm: FcmServer;
  let server: TestServer;
  let tenant: Tenant;

  before(async () => {
    certificate = makeTestCertificate();
    webPush = await startWebPushService(certificate);
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    fcm = await startFcmServer({ publicKey: keys.publicKey });
    const serviceAccount = JSON.stringify({
      type: 'service_account',
      project_id: fcm.projectId,
      private_key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: fcm.clientEmail,
      token_uri: fcm.tokenUrl,
    });
    const port = await freePort();
    server = await startTestServer({
      env: { PUBLIC_URL: `http://127.0.0.1:${port}`, WEBPUSH_CA_FILE: certificate.certFile, FCM_SERVICE_ACCOUNT: serviceAccount, FCM_BASE_URL: fcm.baseUrl },
    });
    await server.runtime.app.listen({ port, host: '127.0.0.1' });
    tenant = await server.tenant();
  });
  after(async () => {
    await server.close();
    await webPush.close();
    await fcm.close();
    certificate.remove();
  });

  async function device(userId: string, transport: Transport) {
    const link = (await tenant.request('POST', `/v1/users/${userId}/devices`, { kind: 'push' })).json().enrolment.link as string;
    const { authenticator, enrollment } = await enroll(link, { capabilities: ['push', 'pin'], transport });
    return { client: createDeviceClient(authenticator), id: authenticator.device_id, enrollment };
  }

  test('Web Push carries only the ids, encrypted to the subscription; a dead FCM token marks its device stale and the request still reaches the others', async () => {
    const userId = (await tenant.request('POST', '/v1/users', { email: 'push@example.com' })).json().id as string;
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    const browser = await device(userId, { type: 'webpush', subscription: { endpoint: webPush.endpoint('browser'), keys: { p256dh: ecdh.getPublicKey('base64url'), auth: auth.toString('base64url') } } });
    assert.match(browser.enrollment.vapid_public_key ?? '', /^[A-Za-z0-9_-]{87}$/, 'the VAPID key made on first start, for applicationServerKey');
    const android = await device(userId, { type: 'fcm', token: 'gone-token' });
    const laptop = await device(userId, { type: 'stream' });
    fcm.answers.set('gone-token', fcmError(404, 'NOT_FOUND', 'UNREGISTERED'));

    const started = await tenant.request('POST', '/v1/verifications', { channel: 'push', user_id: userId, message: 'Pay €500 to ACME?', context: { requester: 'Acme' } });
    assert.equal(started.statusCode, 201, started.body);
    const id = started.json().id as string;
    await until(async () => webPush.requests.length === 1 && (await tenant.request('GET', `/v1/devices/${android.id}`)).json().transport.stale === true);

    assert.equal(webPush.requests.length, 1);
    const sent = webPush.requests[0]!;
    assert.equal(sent.headers['content-encoding'], 'aes128gcm');
    const payload = JSON.parse(ece.decrypt(sent.body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth }).toString('utf8')) as Record<string, unknown>;
    assert.equal(payload['verification_id'], id);
    assert.equal(payload['device_id'], browser.id);
    assert.ok(!JSON.stringify(payload).includes('500') && !JSON.stringify(payload).includes('Acme'), 'neither the message nor the context goes through the push service');

    assert.equal(fcm.sends.length, 1);
    const stale = (await tenant.request('GET', `/v1/devices/${android.id}`)).json();
    assert.deepEqual(stale.transport, { type: 'fcm', stale: true });
    const view = (await tenant.request('GET', `/v1/verifications/${id}`)).json();
    assert.equal(view.status, 'pending', 'one dead registration does not end the request');

    // The phone whose push bounced can still open the app and see the request; the laptop answers.
    assert.deepEqual((await android.client.requests()).map((r) => r.id), [id]);
    assert.equal((await laptop.client.respond(id, { decision: 'approve', userVerification: 'pin' })).status, 'approved');

    // The next request does not try the dead token; after a new one registers, it is pushed again.
    const again = (await tenant.request('POST', '/v1/verifications', { channel: 'push', user_id: userId })).json().id as string;
    await until(async () => webPush.requests.length === 2);
    assert.equal(fcm.sends.length, 1);
    const providers = (await tenant.request('GET', `/v1/verifications/${again}`)).json().deliveries.map((d: { provider: string }) => d.provider).sort();
    assert.deepEqual(providers, ['stream', 'stream', 'webpush']);
    await android.client.updateTransport({ type: 'fcm', token: 'fresh-token' });
    await tenant.request('POST', '/v1/verifications', { channel: 'push', user_id: userId });
    await until(async () => fcm.sends.length === 2);
    assert.equal(fcm.sends.length, 2);
    assert.equal(((fcm.sends[1]!.body['message'] as Record<string, unknown>)['token']), 'fresh-token');
  });

  test('SEC-49 an enrolment with a p256dh that is not on the curve is refused with 400 invalid_push_subscription', async () => {
    const userId = (await tenant.request('POST', '/v1/users', { email: 'curve@example.com' })).json().id as string;
    const link = (await tenant.request('POST', `/v1/users/${userId}/devices`, { kind: 'push' })).json().enrolment.link as string;
    const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
    await assert.rejects(
      enroll(link, { capabilities: ['push'], transport: { type: 'webpush', subscription: { endpoint: webPush.endpoint('x'), keys: { p256dh: offCurve, auth: randomBytes(16).toString('base64url') } } } }),
      (e: { status?: number; code?: string }) => e.status === 400 && e.code === 'invalid_push_subscription',
    );
  });
});
