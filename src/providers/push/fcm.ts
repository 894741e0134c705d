import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { Type, type Static } from 'typebox';
import { ProviderError, StaleTransportError, type ProviderDefinition, type PushProvider, type PushNotice, type SendResult } from '../types.ts';

/**
 * Firebase Cloud Messaging over the HTTP v1 API with `fetch`. The access token comes from
 * Google's OAuth 2.0 JWT-bearer grant (RFC 7523), signed with the service account's key; no
 * SDK, as it is one token request and one POST per message.
 */

const ConfigSchema = Type.Object({
  serviceAccount: Type.String({
    env: 'FCM_SERVICE_ACCOUNT',
    default: '',
    secret: true,
    description: "The Firebase project's service-account key, the JSON itself (project_id, client_email, private_key, token_uri); or set FCM_SERVICE_ACCOUNT_FILE",
  }),
  serviceAccountFile: Type.String({
    env: 'FCM_SERVICE_ACCOUNT_FILE',
    default: '',
    description: 'Path of the service-account key JSON file, instead of FCM_SERVICE_ACCOUNT',
  }),
  baseUrl: Type.String({
    env: 'FCM_BASE_URL',
    default: 'https://fcm.googleapis.com',
    description: 'Base URL of the FCM HTTP v1 API (a local test server may be http://)',
  }),
  tokenUrl: Type.String({
    env: 'FCM_TOKEN_URL',
    default: '',
    description: "OAuth 2.0 token endpoint; empty: the service account's token_uri (https://oauth2.googleapis.com/token)",
  }),
});

export type FcmConfig = Static<typeof ConfigSchema>;

const NAME = 'fcm';
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** A token is renewed this long before Google says it expires, so none expires in flight. */
const TOKEN_MARGIN_SECONDS = 300;
/** One token request may take this long; it is shared by every send waiting for it. */
const TOKEN_TIMEOUT_MS = 15_000;

interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId: string | undefined;
  tokenUri: string;
}

/** Reads the service-account JSON; throws a clear Error naming what is missing. */
function readServiceAccount(config: FcmConfig): ServiceAccount {
  if (config.serviceAccount !== '' && config.serviceAccountFile !== '') throw new Error('fcm: set FCM_SERVICE_ACCOUNT or FCM_SERVICE_ACCOUNT_FILE, not both');
  if (config.serviceAccount === '' && config.serviceAccountFile === '') throw new Error('fcm: FCM_SERVICE_ACCOUNT or FCM_SERVICE_ACCOUNT_FILE is required');
  const where = config.serviceAccount !== '' ? 'FCM_SERVICE_ACCOUNT' : 'FCM_SERVICE_ACCOUNT_FILE';
  const text = config.serviceAccount !== '' ? config.serviceAccount : readFileSync(config.serviceAccountFile, 'utf8');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`fcm: ${where} is not JSON`);
  }
  const field = (name: string): string => {
    const value = json[name];
    if (typeof value !== 'string' || value === '') throw new Error(`fcm: ${where} has no ${name}`);
    return value;
  };
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(field('private_key'));
  } catch (error) {
    if ((error as Error).message.startsWith('fcm:')) throw error;
    throw new Error(`fcm: the private_key of ${where} is not a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Error(`fcm: the private_key of ${where} is not an RSA key`);
  return {
    projectId: field('project_id'),
    clientEmail: field('client_email'),
    privateKey,
    privateKeyId: typeof json['private_key_id'] === 'string' ? json['private_key_id'] : undefined,
    tokenUri: typeof json['token_uri'] === 'string' && json['token_uri'] !== '' ? json['token_uri'] : DEFAULT_TOKEN_URI,
  };
}

/** Stops waiting for `promise` when `signal` aborts (the promise itself may go on for others). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<{ status: number; text: string }> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
  } catch (error) {
    // Connection refused, DNS, TLS, timeout, abort: worth another try.
    throw new ProviderError(`${NAME}: ${(error as Error).message}`, { permanent: false, cause: error });
  }
  return { status: response.status, text: await response.text().catch(() => '') };
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** OAuth access tokens for the service account, cached until shortly before they expire. */
function tokenSource(account: ServiceAccount, tokenUrl: string): { get(signal: AbortSignal): Promise<string>; drop(token: string): void } {
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function request(): Promise<string> {
    const iat = Math.floor(Date.now() / 1000);
    const header: { alg: 'RS256'; typ: 'JWT'; kid?: string } = { alg: 'RS256', typ: 'JWT' };
    if (account.privateKeyId !== undefined) header.kid = account.privateKeyId;
    // `aud` is the endpoint the assertion is presented to (Google's token_uri unless overridden).
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader(header)
      .setIssuer(account.clientEmail)
      .setAudience(tokenUrl)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(account.privateKey);
    const form = new URLSearchParams({ grant_type: GRANT_TYPE, assertion });
    const { status, text } = await post(
      tokenUrl,
      { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      form.toString(),
      AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    );
    const json = parseJson(text);
    if (status !== 200) {
      // RFC 6749 §5.2: `error` is a fixed code (invalid_grant, invalid_client…), fine for logs.
      const code = typeof json['error'] === 'string' ? ` ${json['error']}` : '';
      const transient = status === 408 || status === 429 || status >= 500;
      throw new ProviderError(`${NAME}: token request HTTP ${status}${code}`, { permanent: !transient });
    }
    const token = json['access_token'];
    const expiresIn = typeof json['expires_in'] === 'number' ? json['expires_in'] : 3600;
    if (typeof token !== 'string' || token === '') throw new ProviderError(`${NAME}: token answer without access_token`, { permanent: false });
    const lifetime = expiresIn > 2 * TOKEN_MARGIN_SECONDS ? expiresIn - TOKEN_MARGIN_SECONDS : expiresIn / 2;
    cached = { token, renewAt: Date.now() + lifetime * 1000 };
    return token;
  }

  return {
    get(signal) {
      if (cached !== undefined && Date.now() < cached.renewAt) return Promise.resolve(cached.token);
      // Sends that need a token at the same time share one request.
      pending ??= request().finally(() => {
        pending = undefined;
      });
      return untilAborted(pending, signal);
    },
    drop(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}

/** The same collapse id for every push of one request, so that a newer one replaces an older one. */
function collapseId(verificationId: string): string {
  return createHash('sha256').update(verificationId).digest('base64url').slice(0, 32);
}

/** The HTTP v1 message: the ids as string data, the generic notice, and lifetimes for Android and APNs. */
export function fcmMessage(token: string, notice: PushNotice, nowMs = Date.now()): Record<string, unknown> {
  const ttl = Math.max(0, Math.floor(notice.ttlSeconds));
  const collapse = collapseId(notice.verificationId);
  return {
    message: {
      token,
      // FCM data values must be strings.
      data: { v: '1', type: 'outband.request', verification_id: notice.verificationId, device_id: notice.deviceId },
      notification: { title: notice.title, body: notice.body },
      // No collapse_key: Android keeps at most four per device and then drops them at random.
      android: { priority: 'high', ttl: `${ttl}s` },
      // iOS devices reached through FCM: without these, APNs would keep the push for 30 days.
      apns: {
        headers: {
          'apns-priority': '10',
          'apns-push-type': 'alert',
          'apns-expiration': String(ttl === 0 ? 0 : Math.floor(nowMs / 1000) + ttl),
          'apns-collapse-id': collapse,
        },
      },
    },
  };
}

/** The error code of an FCM error answer: the FcmError detail's errorCode, else the canonical status. */
function errorCodes(text: string): { status: string | undefined; errorCode: string | undefined } {
  const error = parseJson(text)['error'];
  if (typeof error !== 'object' || error === null) return { status: undefined, errorCode: undefined };
  const { status, details } = error as { status?: unknown; details?: unknown };
  let errorCode: string | undefined;
  if (Array.isArray(details)) {
    for (const detail of details as unknown[]) {
      const code = (detail as { errorCode?: unknown } | null)?.errorCode;
      if (typeof code === 'string') errorCode = code;
    }
  }
  return { status: typeof status === 'string' ? status : undefined, errorCode };
}

/** The provider's error for an FCM answer (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode). */
function errorFor(status: number, text: string): ProviderError {
  const codes = errorCodes(text);
  const code = codes.errorCode ?? codes.status;
  // Google's `message` is left out: only fixed codes go to logs and the delivery record.
  const described = `${NAME}: HTTP ${status}${code === undefined ? '' : ` ${code}`}`;
  if (status === 404 || codes.errorCode === 'UNREGISTERED' || codes.status === 'UNREGISTERED') {
    return new StaleTransportError(`${described}, the registration token is gone`);
  }
  const transient = status === 408 || status === 429 || status >= 500;
  return new ProviderError(described, { permanent: !transient });
}

export function createFcm(config: FcmConfig): PushProvider {
  const account = readServiceAccount(config);
  const tokens = tokenSource(account, config.tokenUrl !== '' ? config.tokenUrl : account.tokenUri);
  const sendUrl = `${config.baseUrl.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(account.projectId)}/messages:send`;

  return {
    name: NAME,
    async send(target, notice, { signal }): Promise<SendResult> {
      if (target.type !== 'fcm') throw new ProviderError(`${NAME}: cannot send to a ${target.type} target`, { permanent: true });
      if (target.token === '') throw new StaleTransportError(`${NAME}: empty registration token`);
      const body = JSON.stringify(fcmMessage(target.token, notice));
      // A cached token may have been revoked early: a 401 gets one more try with a new one.
      for (let attempt = 0; ; attempt += 1) {
        let token: string;
        try {
          token = await tokens.get(signal);
        } catch (error) {
          if (error instanceof ProviderError) throw error;
          // An abort while waiting for the token: the reason may be any value.
          throw new ProviderError(`${NAME}: ${error instanceof Error ? error.message : String(error)}`, { permanent: false, cause: error });
        }
        const { status, text } = await post(
          sendUrl,
          { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
          body,
          signal,
        );
        if (status === 200) {
          const name = parseJson(text)['name'];
          return { providerMessageId: typeof name === 'string' ? name : null };
        }
        if (status === 401 && attempt === 0) {
          tokens.drop(token);
          continue;
        }
        throw errorFor(status, text);
      }
    },
    async check() {
      await tokens.get(AbortSignal.timeout(TOKEN_TIMEOUT_MS));
    },
  };
}

export const fcm: ProviderDefinition<FcmConfig> = {
  name: NAME,
  description: 'Push to Android (and iOS) apps through Firebase Cloud Messaging, HTTP v1 API with a service account',
  configSchema: ConfigSchema,
  create: (config) => ({ push: createFcm(config) }),
};
