import { createECDH, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { getCACertificates } from 'node:tls';
import { Type, type Static } from 'typebox';
import type webPushLib from 'web-push';
import type { RequestDetails } from 'web-push';
import { base64url, isP256Point, validateSubscription } from '../../domain/device/web-push-subscription.ts';
import { ProviderError, StaleTransportError, type PushProvider, type ProviderDefinition, type SendResult } from '../types.ts';

/**
 * Web Push (RFC 8030) with message encryption (RFC 8291, aes128gcm) and VAPID (RFC 8292).
 * `web-push` builds the request (encryption, VAPID header); we send it ourselves with
 * `node:https` so that the send can be aborted and a private push service's CA trusted.
 */

const ConfigSchema = Type.Object({
  vapidPublicKey: Type.String({
    env: 'WEBPUSH_VAPID_PUBLIC_KEY',
    default: '',
    description:
      'VAPID public key, base64url of the 65-byte uncompressed P-256 point (authenticators pass it as applicationServerKey). Empty: the server generates a pair on first start and keeps it',
  }),
  vapidPrivateKey: Type.String({
    env: 'WEBPUSH_VAPID_PRIVATE_KEY',
    default: '',
    secret: true,
    description: 'VAPID private key, base64url of the 32-byte P-256 scalar; set together with WEBPUSH_VAPID_PUBLIC_KEY, or leave both empty',
  }),
  subject: Type.String({
    env: 'WEBPUSH_SUBJECT',
    default: 'mailto:admin@localhost',
    description:
      "VAPID contact of the operator (`sub`), a mailto: or https: URL; push services use it to reach you about your traffic. Set a real one in production: some push services (Apple's) refuse localhost contacts",
  }),
  caFile: Type.String({
    env: 'WEBPUSH_CA_FILE',
    default: '',
    description:
      'PEM file of extra CA certificates to trust for push services, e.g. a self-hosted UnifiedPush/ntfy distributor behind an internal CA; the usual public CAs stay trusted',
  }),
});

export type WebPushConfig = Static<typeof ConfigSchema>;

const NAME = 'webpush';

/**
 * Largest plaintext that fits one 4096-byte aes128gcm record with its header (RFC 8291 §4):
 * 4096 − 16 salt − 4 rs − 1 idlen − 65 keyid − 16 tag − 1 padding delimiter.
 */
const MAX_PLAINTEXT_BYTES = 3993;

/** A new VAPID key pair, base64url (public: 65-byte point, private: 32 bytes), for the composition root. */
export function newVapidKeys(): { publicKey: string; privateKey: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  // getPrivateKey() drops leading zero bytes; VAPID wants all 32.
  const privateKey = Buffer.alloc(32);
  const d = ecdh.getPrivateKey();
  d.copy(privateKey, 32 - d.length);
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: privateKey.toString('base64url') };
}

let loading: Promise<typeof webPushLib> | undefined;

/** The web-push package (with its ASN.1 and JWS code), loaded with the first push: most starts never send one. */
function loadWebPush(): Promise<typeof webPushLib> {
  return (loading ??= import('web-push').then((module) => module.default));
}

/**
 * The `Topic` of a request's pushes: a newer push for the same request replaces an older one
 * still queued at the push service (RFC 8030 §5.4). A hash, as the push service sees the topic
 * in the clear: 32 base64url characters of SHA-256 (192 bits).
 */
export function pushTopic(verificationId: string): string {
  return createHash('sha256').update(verificationId).digest('base64url').slice(0, 32);
}

/** Throws a clear Error when the configuration cannot work; create() runs it before anything is sent. */
function checkConfig(config: WebPushConfig): void {
  if (config.vapidPublicKey === '' || config.vapidPrivateKey === '') {
    throw new Error(
      'webpush: WEBPUSH_VAPID_PUBLIC_KEY and WEBPUSH_VAPID_PRIVATE_KEY are empty; the server generates and keeps a pair on first start, or set both',
    );
  }
  const publicKey = base64url(config.vapidPublicKey);
  const privateKey = base64url(config.vapidPrivateKey);
  if (publicKey === null || !isP256Point(publicKey)) throw new Error('webpush: WEBPUSH_VAPID_PUBLIC_KEY must be base64url of a 65-byte P-256 public key');
  if (privateKey === null || privateKey.length !== 32) throw new Error('webpush: WEBPUSH_VAPID_PRIVATE_KEY must be base64url of a 32-byte P-256 private key');
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(privateKey);
  } catch {
    throw new Error('webpush: WEBPUSH_VAPID_PRIVATE_KEY is not a valid P-256 private key');
  }
  // A mismatched pair would have every push refused (401/403) by the push service.
  if (!ecdh.getPublicKey().equals(publicKey)) throw new Error('webpush: WEBPUSH_VAPID_PUBLIC_KEY is not the public key of WEBPUSH_VAPID_PRIVATE_KEY');
  let subject: URL;
  try {
    subject = new URL(config.subject);
  } catch {
    throw new Error('webpush: WEBPUSH_SUBJECT must be a mailto: or https: URL');
  }
  if (subject.protocol !== 'mailto:' && subject.protocol !== 'https:') throw new Error('webpush: WEBPUSH_SUBJECT must be a mailto: or https: URL');
}

/** Keep-alive connections to the push services; with WEBPUSH_CA_FILE, its CAs trusted as well as the usual ones. */
function agentFor(config: WebPushConfig): Agent {
  if (config.caFile === '') return new Agent({ keepAlive: true });
  // `ca` replaces the default trust store, so the default CAs go in with the extra ones.
  return new Agent({ keepAlive: true, ca: [...getCACertificates('default'), readFileSync(config.caFile, 'utf8')] });
}

/** POSTs the prepared push; answers the status and the push message resource (Location). */
function post(details: RequestDetails, agent: Agent, signal: AbortSignal): Promise<{ status: number; location: string | null }> {
  return new Promise((resolve, reject) => {
    const req = request(details.endpoint, { method: details.method, headers: details.headers, agent, signal }, (res) => {
      // The answer's body says nothing we act on; drain it so the connection is reused.
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: typeof res.headers.location === 'string' ? res.headers.location : null }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(details.body ?? undefined);
  });
}

/** The provider's error for a push service's answer (RFC 8030 §7.3: 404/410 mean the subscription is gone). */
function errorFor(status: number): ProviderError {
  // Only the status: the endpoint is a capability URL and stays out of logs.
  if (status === 404 || status === 410) return new StaleTransportError(`${NAME}: HTTP ${status}, the subscription is gone`);
  const transient = status === 408 || status === 429 || status >= 500;
  return new ProviderError(`${NAME}: HTTP ${status}`, { permanent: !transient });
}

export function createWebPush(config: WebPushConfig): PushProvider {
  checkConfig(config);
  const agent = agentFor(config);
  const vapidDetails = { subject: config.subject, publicKey: config.vapidPublicKey.replace(/=+$/, ''), privateKey: config.vapidPrivateKey.replace(/=+$/, '') };

  return {
    name: NAME,
    async send(target, notice, { signal }): Promise<SendResult> {
      if (target.type !== 'webpush') throw new ProviderError(`${NAME}: cannot send to a ${target.type} target`, { permanent: true });
      const problem = validateSubscription(target.subscription);
      if (problem !== null) throw new ProviderError(`${NAME}: unusable subscription: ${problem}`, { permanent: true });
      const { endpoint, keys } = target.subscription;
      // Only the ids and the generic notice: the service worker shows the notice, and the
      // authenticator fetches the details over the signed device API.
      const payload = JSON.stringify({
        v: 1,
        type: 'outband.request',
        verification_id: notice.verificationId,
        device_id: notice.deviceId,
        title: notice.title,
        body: notice.body,
      });
      if (Buffer.byteLength(payload) > MAX_PLAINTEXT_BYTES) throw new ProviderError(`${NAME}: payload over ${MAX_PLAINTEXT_BYTES} bytes`, { permanent: true });
      if (signal.aborted) throw new ProviderError(`${NAME}: aborted before sending`, { permanent: false, cause: signal.reason });

      const lib = await loadWebPush();
      let details: RequestDetails;
      try {
        details = lib.generateRequestDetails(
          { endpoint, keys: { p256dh: keys.p256dh.replace(/=+$/, ''), auth: keys.auth.replace(/=+$/, '') } },
          payload,
          {
            vapidDetails,
            // The push must not outlive the request it announces (SEC-48).
            TTL: Math.max(0, Math.floor(notice.ttlSeconds)),
            urgency: 'high',
            topic: pushTopic(notice.verificationId),
            contentEncoding: 'aes128gcm',
          },
        );
      } catch (error) {
        throw new ProviderError(`${NAME}: ${(error as Error).message}`, { permanent: true, cause: error });
      }

      let answer: { status: number; location: string | null };
      try {
        answer = await post(details, agent, signal);
      } catch (error) {
        // Connection refused, TLS, reset, abort: worth another try.
        throw new ProviderError(`${NAME}: ${(error as Error).message}`, { permanent: false, cause: error });
      }
      if (answer.status >= 200 && answer.status < 300) return { providerMessageId: answer.location };
      throw errorFor(answer.status);
    },
    async close() {
      agent.destroy();
    },
  };
}

export const webpush: ProviderDefinition<WebPushConfig> = {
  name: NAME,
  description: 'Push to browsers and UnifiedPush distributors over Web Push (RFC 8030, aes128gcm payloads, VAPID)',
  configSchema: ConfigSchema,
  alwaysOn: true,
  create: (config) => ({ push: createWebPush(config) }),
};
