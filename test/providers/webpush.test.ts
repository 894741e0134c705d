// The Web Push provider against a local HTTPS push service: what a push service sees (SEC-48),
// the encryption of the payload (SEC-49) and the VAPID authorization (SEC-50).
import assert from 'node:assert/strict';
import { createECDH, randomBytes, webcrypto, type ECDH } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import ece from 'http_ece';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { validateSubscription } from '../../src/domain/device/web-push-subscription.ts';
import { newVapidKeys, pushTopic, webpush, type WebPushConfig } from '../../src/providers/push/webpush.ts';
import { ProviderError, StaleTransportError, type PushProvider, type PushTarget } from '../../src/providers/types.ts';
import { makeTestCertificate, noDeps, startWebPushService, testNotice, type PushServiceRequest, type TestCertificate, type WebPushService } from '../helpers/push-peers.ts';

const SUBJECT = 'mailto:push-ops@example.com';

interface Subscriber {
  ecdh: ECDH;
  auth: Buffer;
  target: PushTarget & { type: 'webpush' };
}

/** A browser's side of a subscription: its own ECDH key pair and auth secret. */
function newSubscriber(endpoint: string): Subscriber {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return {
    ecdh,
    auth,
    target: { type: 'webpush', subscription: { endpoint, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } } },
  };
}

/** The aes128gcm header (RFC 8188 §2.1): salt(16) rs(4) idlen(1) keyid(idlen). */
function contentCodingHeader(body: Buffer): { salt: Buffer; rs: number; idlen: number; keyid: Buffer } {
  const idlen = body[20] ?? 0;
  return { salt: body.subarray(0, 16), rs: body.readUInt32BE(16), idlen, keyid: body.subarray(21, 21 + idlen) };
}

function decrypt(subscriber: Subscriber, body: Buffer): Record<string, unknown> {
  return JSON.parse(ece.decrypt(body, { version: 'aes128gcm', privateKey: subscriber.ecdh, authSecret: subscriber.auth }).toString('utf8')) as Record<string, unknown>;
}

const signal = () => AbortSignal.timeout(10_000);

describe('webpush provider against a local push service', () => {
  let certificate: TestCertificate;
  let service: WebPushService;
  let push: PushProvider;
  const vapid = newVapidKeys();
  let counter = 0;

  before(async () => {
    certificate = makeTestCertificate();
    service = await startWebPushService(certificate);
    const config: WebPushConfig = { vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: SUBJECT, caFile: certificate.certFile };
    const created = webpush.create(config, noDeps).push;
    assert.ok(created !== undefined, 'the definition gives a push provider');
    push = created;
  });
  after(async () => {
    await push?.close?.();
    await service?.close();
    certificate?.remove();
  });

  /** Sends to a fresh subscription and answers what the push service received. */
  async function sendOne(notice = testNotice(), name = `sub${++counter}`): Promise<{ subscriber: Subscriber; request: PushServiceRequest; providerMessageId: string | null }> {
    const subscriber = newSubscriber(service.endpoint(name));
    const before = service.requests.length;
    const result = await push.send(subscriber.target, notice, { signal: signal() });
    const request = service.requests[before];
    assert.ok(request !== undefined && request.name === name, 'the push service got the push');
    return { subscriber, request, providerMessageId: result.providerMessageId };
  }

  describe('SEC-48 push service requests (RFC 8030 §5.2–5.4, §7.2–7.3)', () => {
    test('SEC-48 every push has TTL ≤ the notice ttlSeconds, Urgency: high and a Topic of ≤32 base64url characters', async () => {
      const notice = testNotice({ ttlSeconds: 90.7 });
      const { request, providerMessageId } = await sendOne(notice);
      assert.equal(request.headers['ttl'], '90', 'TTL is the whole seconds left');
      assert.ok(Number(request.headers['ttl']) <= notice.ttlSeconds);
      assert.equal(request.headers['urgency'], 'high');
      const topic = request.headers['topic'];
      assert.ok(typeof topic === 'string');
      assert.match(topic, /^[A-Za-z0-9_-]{1,32}$/);
      assert.equal(topic, pushTopic(notice.verificationId));
      assert.ok(!topic.includes(notice.verificationId), 'the topic does not show the verification id in the clear');
      assert.match(providerMessageId ?? '', /^\/message\//, 'the push message resource (Location) is the message id');
    });

    test('SEC-48 a newer push for the same request has the same Topic; another request has another', async () => {
      const notice = testNotice();
      const first = await sendOne(notice);
      const again = await sendOne({ ...notice, ttlSeconds: 60 });
      const other = await sendOne(testNotice());
      assert.equal(again.request.headers['topic'], first.request.headers['topic']);
      assert.notEqual(other.request.headers['topic'], first.request.headers['topic']);
    });

    test('SEC-48 TTL is never negative: a request with no time left gets TTL 0', async () => {
      assert.equal((await sendOne(testNotice({ ttlSeconds: -5 }))).request.headers['ttl'], '0');
      assert.equal((await sendOne(testNotice({ ttlSeconds: 0 }))).request.headers['ttl'], '0');
    });

    test('SEC-48 410 and 404 from the push service are a StaleTransportError (the subscription is gone)', async () => {
      for (const status of [410, 404]) {
        const name = `gone${status}`;
        service.answers.set(name, { status });
        const subscriber = newSubscriber(service.endpoint(name));
        await assert.rejects(push.send(subscriber.target, testNotice(), { signal: signal() }), (error) => {
          assert.ok(error instanceof StaleTransportError, `${status}: ${String(error)}`);
          assert.equal(error.permanent, true);
          assert.ok(!error.message.includes(service.origin), 'the endpoint (a capability URL) stays out of the message');
          return true;
        });
      }
    });

    test('5xx and 429 are transient; other 4xx are permanent but not stale', async () => {
      const cases: [number, boolean][] = [[500, false], [503, false], [429, false], [400, true], [403, true], [413, true]];
      for (const [status, permanent] of cases) {
        const name = `status${status}`;
        service.answers.set(name, { status });
        await assert.rejects(push.send(newSubscriber(service.endpoint(name)).target, testNotice(), { signal: signal() }), (error) => {
          assert.ok(error instanceof ProviderError && !(error instanceof StaleTransportError), `${status}: ${String(error)}`);
          assert.equal(error.permanent, permanent, `${status}`);
          assert.equal(error.message, `webpush: HTTP ${status}`);
          return true;
        });
      }
    });

    test('a send is abandoned when its signal aborts, as a transient error', async () => {
      service.answers.set('hang', 'hang');
      const controller = new AbortController();
      const before = service.requests.length;
      const sending = push.send(newSubscriber(service.endpoint('hang')).target, testNotice(), { signal: controller.signal });
      while (service.requests.length === before) await new Promise((resolve) => setTimeout(resolve, 10));
      controller.abort(new Error('send timeout'));
      await assert.rejects(sending, (error) => error instanceof ProviderError && !error.permanent);
      await assert.rejects(
        push.send(newSubscriber(service.endpoint('never')).target, testNotice(), { signal: AbortSignal.abort() }),
        (error) => error instanceof ProviderError && !error.permanent && service.requests.every((r) => r.name !== 'never'),
      );
    });
  });

  describe('SEC-49 message encryption (RFC 8291)', () => {
    test('SEC-49 the RFC 8291 §5 example decrypts with its receiver keys to "When I grow up, I want to be a watermelon"', () => {
      // RFC 8291 §5, as published.
      const receiver = createECDH('prime256v1');
      receiver.setPrivateKey(Buffer.from('q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94', 'base64url'));
      assert.equal(receiver.getPublicKey().toString('base64url'), 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4');
      const authSecret = Buffer.from('BTBZMqHH6r4Tts7J_aSIgg', 'base64url');
      const body = Buffer.from(
        'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
        'base64url',
      );
      const header = contentCodingHeader(body);
      assert.equal(header.salt.toString('base64url'), 'DGv6ra1nlYgDCS1FRnbzlw');
      assert.equal(header.rs, 4096);
      assert.equal(header.keyid.toString('base64url'), 'BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8', 'keyid is the sender key');
      assert.equal(ece.decrypt(body, { version: 'aes128gcm', privateKey: receiver, authSecret }).toString('utf8'), 'When I grow up, I want to be a watermelon');
    });

    test('SEC-49 the body decrypts with the subscription keys and carries only the ids and the notice', async () => {
      const notice = testNotice();
      const { subscriber, request } = await sendOne(notice);
      assert.equal(request.headers['content-encoding'], 'aes128gcm', 'only aes128gcm');
      assert.equal(request.headers['content-type'], 'application/octet-stream');
      assert.equal(request.headers['encryption'], undefined, 'no aesgcm (draft) headers');
      assert.equal(request.headers['crypto-key'], undefined);
      assert.ok(request.body.length <= 4096, 'one record within 4096 bytes');
      const header = contentCodingHeader(request.body);
      assert.equal(header.idlen, 65);
      assert.ok(header.rs >= request.body.length - 21 - header.idlen, 'a single record');
      assert.equal(header.keyid[0], 0x04, 'keyid is an uncompressed P-256 point');
      assert.deepEqual(decrypt(subscriber, request.body), {
        v: 1,
        type: 'outband.request',
        verification_id: notice.verificationId,
        device_id: notice.deviceId,
        title: notice.title,
        body: notice.body,
      });
      assert.ok(!request.body.includes(Buffer.from(notice.verificationId)), 'nothing in the clear');
    });

    test('SEC-49 two sends of the same notice have different salts and different sender keys (keyid)', async () => {
      const notice = testNotice();
      const subscriber = newSubscriber(service.endpoint('twice'));
      const before = service.requests.length;
      await push.send(subscriber.target, notice, { signal: signal() });
      await push.send(subscriber.target, notice, { signal: signal() });
      const [first, second] = service.requests.slice(before);
      assert.ok(first !== undefined && second !== undefined);
      const a = contentCodingHeader(first.body);
      const b = contentCodingHeader(second.body);
      assert.notDeepEqual(a.salt, b.salt, 'a fresh 16-byte salt per message');
      assert.notDeepEqual(a.keyid, b.keyid, 'a fresh ECDH key per message');
      assert.deepEqual(decrypt(subscriber, first.body), decrypt(subscriber, second.body));
    });

    test('SEC-49 validateSubscription accepts a browser subscription and rejects bad keys and endpoints', () => {
      const good = newSubscriber('https://push.example.net/wpush/v2/abc').target.subscription;
      assert.equal(validateSubscription(good), null);
      assert.equal(validateSubscription({ ...good, keys: { p256dh: `${good.keys.p256dh}=`, auth: `${good.keys.auth}==` } }), null, 'base64url padding is tolerated');
      const point = Buffer.from(good.keys.p256dh, 'base64url');
      const offCurve = Buffer.from(point);
      offCurve[64] = (offCurve[64] ?? 0) ^ 0x01;
      const fixedOffCurve = Buffer.concat([Buffer.from([0x04]), Buffer.alloc(32, 1), Buffer.alloc(32, 2)]);
      const withKeys = (p256dh: Buffer | string, auth: Buffer | string = good.keys.auth) => ({
        endpoint: good.endpoint,
        keys: { p256dh: typeof p256dh === 'string' ? p256dh : p256dh.toString('base64url'), auth: typeof auth === 'string' ? auth : auth.toString('base64url') },
      });
      assert.match(validateSubscription(withKeys(offCurve)) ?? '', /curve/);
      assert.match(validateSubscription(withKeys(fixedOffCurve)) ?? '', /curve/);
      assert.match(validateSubscription(withKeys(point.subarray(0, 64))) ?? '', /65-byte/);
      assert.match(validateSubscription(withKeys(Buffer.concat([Buffer.from([0x02]), point.subarray(1, 33)]))) ?? '', /65-byte/, 'compressed points are refused');
      assert.match(validateSubscription(withKeys(Buffer.concat([Buffer.from([0x05]), point.subarray(1)]))) ?? '', /uncompressed/);
      // A random key's base64 need not hold "+" or "/"; this one does, by construction.
      const plainBase64 = `+/${point.toString('base64').slice(2)}`;
      assert.match(validateSubscription(withKeys(plainBase64)) ?? '', /base64url/, 'plain base64 with + or / is not base64url');
      assert.match(validateSubscription(withKeys(point, randomBytes(15))) ?? '', /16 bytes/);
      assert.match(validateSubscription(withKeys(point, randomBytes(17))) ?? '', /16 bytes/);
      assert.match(validateSubscription(withKeys(point, randomBytes(32))) ?? '', /16 bytes/);
      assert.match(validateSubscription({ ...good, endpoint: 'http://push.example.net/x' }) ?? '', /https/);
      assert.match(validateSubscription({ ...good, endpoint: 'not a url' }) ?? '', /https/);
      assert.match(validateSubscription({ ...good, endpoint: 'https://user:pw@push.example.net/x' }) ?? '', /credentials/);
      assert.notEqual(validateSubscription({ endpoint: good.endpoint }), null);
      assert.notEqual(validateSubscription(null), null);
    });

    test('SEC-49 a send to an invalid subscription fails permanently without reaching the push service', async () => {
      const target = newSubscriber(service.endpoint('badkey')).target;
      target.subscription.keys.auth = randomBytes(8).toString('base64url');
      await assert.rejects(push.send(target, testNotice(), { signal: signal() }), (error) => error instanceof ProviderError && error.permanent);
      assert.ok(service.requests.every((r) => r.name !== 'badkey'));
    });
  });

  describe('SEC-50 VAPID (RFC 8292)', () => {
    test('SEC-50 Authorization: vapid t=<ES256 JWT>, k=<key>; the JWT verifies with k, aud is the origin, exp ≤ 24 h, sub mailto:/https:', async () => {
      const { subscriber, request } = await sendOne();
      const match = /^vapid t=([A-Za-z0-9_.-]+), ?k=([A-Za-z0-9_-]+)$/.exec(request.headers.authorization ?? '');
      assert.ok(match?.[1] !== undefined && match[2] !== undefined, `vapid scheme: ${request.headers.authorization}`);
      const [, jwt, k] = match;
      assert.equal(k, vapid.publicKey, 'k is the configured VAPID public key');
      assert.equal(decodeProtectedHeader(jwt).alg, 'ES256');
      const key = await webcrypto.subtle.importKey('raw', Buffer.from(k, 'base64url'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
      const { payload } = await jwtVerify(jwt, key, { algorithms: ['ES256'], audience: service.origin });
      assert.equal(payload.aud, new URL(subscriber.target.subscription.endpoint).origin);
      const now = Math.floor(Date.now() / 1000);
      assert.ok(payload.exp !== undefined && payload.exp > now, 'not expired');
      assert.ok(payload.exp - now <= 86_400, `exp at most 24 h ahead, not ${payload.exp - now} s`);
      assert.equal(payload.sub, SUBJECT);
      assert.match(String(payload.sub), /^(mailto:|https:)/);
      const keyid = contentCodingHeader(request.body).keyid.toString('base64url');
      assert.notEqual(k, keyid, 'the VAPID key is not the message ECDH key');
      assert.notEqual(k, subscriber.target.subscription.keys.p256dh);
    });

    test('SEC-50 create refuses empty VAPID keys (the composition root fills them in), a mismatched pair and a subject that is not mailto:/https:', () => {
      const other = newVapidKeys();
      const base: WebPushConfig = { vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey, subject: SUBJECT, caFile: '' };
      assert.throws(() => webpush.create({ ...base, vapidPublicKey: '', vapidPrivateKey: '' }, noDeps), /WEBPUSH_VAPID_PUBLIC_KEY.*generates/);
      assert.throws(() => webpush.create({ ...base, vapidPrivateKey: '' }, noDeps), /empty/);
      assert.throws(() => webpush.create({ ...base, vapidPrivateKey: other.privateKey }, noDeps), /not the public key/);
      assert.throws(() => webpush.create({ ...base, vapidPublicKey: 'AAAA' }, noDeps), /65-byte/);
      for (const subject of ['http://example.com/contact', 'push-ops@example.com', '']) {
        assert.throws(() => webpush.create({ ...base, subject }, noDeps), /WEBPUSH_SUBJECT/, subject);
      }
      for (const subject of ['https://example.com/contact', 'mailto:admin@localhost']) {
        const created = webpush.create({ ...base, subject }, noDeps);
        void created.push?.close?.();
      }
    });

    test('SEC-50 newVapidKeys: a P-256 pair, public 65 bytes uncompressed, private always 32 bytes, each accepted by create and distinct', () => {
      const seen = new Set<string>();
      // 300 pairs: about one private scalar in 256 has a leading zero byte, which must be kept.
      for (let i = 0; i < 300; i++) {
        const pair = newVapidKeys();
        const publicKey = Buffer.from(pair.publicKey, 'base64url');
        const privateKey = Buffer.from(pair.privateKey, 'base64url');
        assert.equal(publicKey.length, 65);
        assert.equal(publicKey[0], 0x04);
        assert.equal(privateKey.length, 32);
        const ecdh = createECDH('prime256v1');
        ecdh.setPrivateKey(privateKey);
        assert.ok(ecdh.getPublicKey().equals(publicKey), 'the public key is the private key’s point');
        seen.add(pair.privateKey);
        const created = webpush.create({ vapidPublicKey: pair.publicKey, vapidPrivateKey: pair.privateKey, subject: SUBJECT, caFile: '' }, noDeps);
        void created.push?.close?.();
      }
      assert.equal(seen.size, 300);
    });
  });
});
