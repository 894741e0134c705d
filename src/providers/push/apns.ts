import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { getCACertificates } from 'node:tls';
import { SignJWT } from 'jose';
import { Type, type Static } from 'typebox';
import { ProviderError, StaleTransportError, type ProviderDefinition, type PushNotice, type PushProvider, type SendResult } from '../types.ts';

/**
 * Apple Push Notification service, provider API over HTTP/2 with token-based authentication
 * (an ES256 JWT signed with the team's .p8 key). One HTTP/2 session is kept open and reused,
 * as Apple asks; it is reopened when it closes.
 */

const ConfigSchema = Type.Object({
  keyId: Type.String({ env: 'APNS_KEY_ID', pattern: '^[A-Z0-9]{10}$', description: 'Key ID of the APNs authentication key (.p8), 10 characters' }),
  teamId: Type.String({ env: 'APNS_TEAM_ID', pattern: '^[A-Z0-9]{10}$', description: 'Apple Developer Team ID, 10 characters' }),
  privateKey: Type.String({
    env: 'APNS_PRIVATE_KEY',
    default: '',
    secret: true,
    description: 'The APNs authentication key, the PEM text of the .p8 file; or set APNS_PRIVATE_KEY_FILE',
  }),
  privateKeyFile: Type.String({ env: 'APNS_PRIVATE_KEY_FILE', default: '', description: 'Path of the .p8 key file, instead of APNS_PRIVATE_KEY' }),
  topic: Type.String({ env: 'APNS_TOPIC', minLength: 1, description: "The authenticator app's bundle id (apns-topic)" }),
  baseUrl: Type.String({
    env: 'APNS_BASE_URL',
    default: 'https://api.push.apple.com',
    description: 'APNs server: https://api.push.apple.com, or https://api.sandbox.push.apple.com for development builds of the app',
  }),
  caFile: Type.String({
    env: 'APNS_CA_FILE',
    default: '',
    description: 'PEM file of extra CA certificates to trust (a private gateway, tests); the usual public CAs stay trusted',
  }),
});

export type ApnsConfig = Static<typeof ConfigSchema>;

const NAME = 'apns';
/**
 * How long one provider token is used. Apple refuses tokens older than an hour and answers
 * TooManyProviderTokenUpdates to a new one more often than every 20 minutes.
 */
const TOKEN_REUSE_MS = 50 * 60_000;
/** Device tokens are hex; Apple says not to rely on their length (32 bytes today). */
const DEVICE_TOKEN = /^[0-9a-fA-F]{16,400}$/;

function readKey(config: ApnsConfig): KeyObject {
  if (config.privateKey !== '' && config.privateKeyFile !== '') throw new Error('apns: set APNS_PRIVATE_KEY or APNS_PRIVATE_KEY_FILE, not both');
  if (config.privateKey === '' && config.privateKeyFile === '') throw new Error('apns: APNS_PRIVATE_KEY or APNS_PRIVATE_KEY_FILE is required');
  const where = config.privateKey !== '' ? 'APNS_PRIVATE_KEY' : 'APNS_PRIVATE_KEY_FILE';
  let key: KeyObject;
  try {
    key = createPrivateKey(config.privateKey !== '' ? config.privateKey : readFileSync(config.privateKeyFile, 'utf8'));
  } catch (error) {
    throw new Error(`apns: ${where} is not a PEM private key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error(`apns: ${where} is not a P-256 key`);
  return key;
}

/** The same collapse id for every push of one request (≤64 bytes), so a newer one replaces an older one. */
function collapseId(verificationId: string): string {
  return createHash('sha256').update(verificationId).digest('base64url').slice(0, 32);
}

/** The JSON body: the notice as an alert, and only the ids beside it. */
export function apnsPayload(notice: PushNotice): Record<string, unknown> {
  return {
    // mutable-content lets the app's notification service extension adjust the alert.
    aps: { alert: { title: notice.title, body: notice.body }, sound: 'default', 'mutable-content': 1 },
    verification_id: notice.verificationId,
    device_id: notice.deviceId,
    type: 'outband.request',
    v: 1,
  };
}

/** The provider's error for an APNs answer (Apple's "Handling notification responses from APNs"). */
function errorFor(status: number, reason: string | undefined): ProviderError {
  const described = `${NAME}: HTTP ${status}${reason === undefined ? '' : ` ${reason}`}`;
  if (status === 410 || (status === 400 && reason === 'BadDeviceToken')) return new StaleTransportError(`${described}, the device token is gone`);
  const transient = status === 429 || status >= 500;
  return new ProviderError(described, { permanent: !transient });
}

interface Answer {
  status: number;
  reason: string | undefined;
  apnsId: string | null;
}

export function createApns(config: ApnsConfig): PushProvider {
  const key = readKey(config);
  const origin = new URL(config.baseUrl).origin;
  // `ca` replaces the default trust store, so the default CAs go in with the extra ones.
  const ca = config.caFile === '' ? undefined : [...getCACertificates('default'), readFileSync(config.caFile, 'utf8')];
  let session: ClientHttp2Session | undefined;
  // The signing promise is kept, so that sends at the same moment share one token.
  let providerToken: { jwt: Promise<string>; issuedAt: number } | undefined;
  let inFlight = 0;

  function jwt(): Promise<string> {
    if (providerToken !== undefined && Date.now() - providerToken.issuedAt < TOKEN_REUSE_MS) return providerToken.jwt;
    const issuedAt = Date.now();
    const token = new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: config.keyId })
      .setIssuer(config.teamId)
      .setIssuedAt(Math.floor(issuedAt / 1000))
      .sign(key);
    providerToken = { jwt: token, issuedAt };
    token.catch(() => {
      if (providerToken?.jwt === token) providerToken = undefined;
    });
    return token;
  }

  function open(): ClientHttp2Session {
    if (session !== undefined && !session.closed && !session.destroyed) return session;
    const opened = connect(origin, ca === undefined ? {} : { ca });
    // A session error also fails its streams, where the send sees it; here it only ends the session.
    opened.on('error', () => {});
    const forget = () => {
      if (session === opened) session = undefined;
    };
    opened.on('close', forget);
    // After a GOAWAY the session takes no new streams: the next send opens another.
    opened.on('goaway', forget);
    // Idle, the session must not keep the process alive; it is ref'd while a send is in flight.
    if (inFlight === 0) opened.unref();
    session = opened;
    return opened;
  }

  function post(deviceToken: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const current = open();
      current.ref();
      inFlight += 1;
      const stream = current.request({ ':method': 'POST', ':path': `/3/device/${deviceToken}`, ...headers }, { signal });
      let responseHeaders: IncomingHttpHeaders | undefined;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        responseHeaders = h;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      // A stream reset without an error code ends here; after 'end' this changes nothing.
      stream.on('close', () => reject(new Error(`stream closed (code ${stream.rstCode ?? 'none'})`)));
      stream.on('end', () => {
        if (responseHeaders === undefined) return reject(new Error('stream ended without a response'));
        let reason: string | undefined;
        try {
          const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reason?: unknown };
          if (typeof parsed.reason === 'string') reason = parsed.reason;
        } catch {
          // 200 has no body
        }
        const apnsId = responseHeaders['apns-id'];
        resolve({ status: Number(responseHeaders[':status']), reason, apnsId: typeof apnsId === 'string' ? apnsId : null });
      });
      stream.end(body);
    }).finally(() => {
      inFlight -= 1;
      if (inFlight === 0) session?.unref();
    });
  }

  return {
    name: NAME,
    async send(target, notice, { signal }): Promise<SendResult> {
      if (target.type !== 'apns') throw new ProviderError(`${NAME}: cannot send to a ${target.type} target`, { permanent: true });
      if (!DEVICE_TOKEN.test(target.token)) throw new StaleTransportError(`${NAME}: the device token is not hex`);
      if (signal.aborted) throw new ProviderError(`${NAME}: aborted before sending`, { permanent: false, cause: signal.reason });
      const ttl = Math.max(0, Math.floor(notice.ttlSeconds));
      const body = JSON.stringify(apnsPayload(notice));
      // An expired provider token (a clock jump, a long sleep) gets one more try with a new one.
      for (let attempt = 0; ; attempt += 1) {
        const headers = {
          authorization: `bearer ${await jwt()}`,
          'apns-topic': config.topic,
          'apns-push-type': 'alert',
          'apns-priority': '10',
          // 0: one delivery attempt, not stored: the request it announces is over by then anyway.
          'apns-expiration': String(ttl === 0 ? 0 : Math.floor(Date.now() / 1000) + ttl),
          'apns-collapse-id': collapseId(notice.verificationId),
          'content-type': 'application/json',
        };
        let answer: Answer;
        try {
          answer = await post(target.token, headers, body, signal);
        } catch (error) {
          // Connection refused, TLS, reset, abort: worth another try.
          throw new ProviderError(`${NAME}: ${(error as Error).message}`, { permanent: false, cause: error });
        }
        if (answer.status === 200) return { providerMessageId: answer.apnsId };
        if (answer.status === 403 && answer.reason === 'ExpiredProviderToken' && attempt === 0) {
          providerToken = undefined;
          continue;
        }
        throw errorFor(answer.status, answer.reason);
      }
    },
    async check() {
      const opened = open();
      if (opened.connecting) {
        await new Promise<void>((resolve, reject) => {
          opened.once('connect', () => resolve());
          opened.once('error', reject);
        });
      }
    },
    async close() {
      const closing = session;
      session = undefined;
      if (closing === undefined || closing.closed) return;
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
  };
}

export const apns: ProviderDefinition<ApnsConfig> = {
  name: NAME,
  description: 'Push to iOS apps through the Apple Push Notification service (HTTP/2 provider API, token-based authentication)',
  configSchema: ConfigSchema,
  create: (config) => ({ push: createApns(config) }),
};
