/**
 * The device API from the browser (docs/device-api.md): every call carries a fresh device JWS
 * (ES256 with the WebCrypto device key over method, path, body hash, audience, time and a
 * one-time id); answers are signed over the response signing input, approvals by the platform
 * authenticator (WebAuthn), denials by the device key.
 */
import type { DeviceRequest } from '../../src/authenticator/objects.ts';
import { responseSigningInput } from '../../src/authenticator/signing-input.ts';
import { base64url, fromBase64url } from './dom.ts';
import type { Enrolment } from './storage.ts';

/** A request as the device API sends it: the reference client's definition of the wire, plus its status. */
export type PushRequest = DeviceRequest & { status: string };

export interface RespondResult {
  id: string;
  status: string;
  reason: string | null;
  read_back_code?: string;
}

/** A refusal from the server: its problem+json `code` and HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

const encoder = new TextEncoder();
const JSON_UTF8 = 'application/json';

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

async function ecdsa(key: CryptoKey, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  // WebCrypto's ECDSA signature is already r || s (IEEE P1363), as JWS and the response signature want.
  return base64url(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, bytes));
}

/** The compact JWS for `Authorization: Device …`. */
export async function deviceJws(key: CryptoKey, kid: string | null, audience: string, method: string, url: URL, body: Uint8Array<ArrayBuffer> | null): Promise<string> {
  const header = kid === null ? { alg: 'ES256', typ: 'device-api+jwt' } : { alg: 'ES256', typ: 'device-api+jwt', kid };
  const jti = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const claims: Record<string, string | number> = { aud: audience, iat: Math.floor(Date.now() / 1000), jti, htm: method, htu: `${url.pathname}${url.search}` };
  if (body !== null) claims['bsh'] = base64url(await sha256(body));
  const input = `${base64url(encoder.encode(JSON.stringify(header)))}.${base64url(encoder.encode(JSON.stringify(claims)))}`;
  return `${input}.${await ecdsa(key, encoder.encode(input))}`;
}

async function problem(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
  return new ApiError(res.status, body.code ?? 'http_error', body.detail ?? res.statusText);
}

/** One signed call; the body is serialised once and those bytes are hashed and sent. */
export async function signedFetch(key: CryptoKey, kid: string | null, audience: string, api: string, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const url = new URL(`${api}/v1/device-api${path}`);
  const bytes = body === undefined ? null : encoder.encode(JSON.stringify(body));
  const headers: Record<string, string> = { authorization: `Device ${await deviceJws(key, kid, audience, method, url, bytes)}`, accept: path === '/stream' ? 'text/event-stream' : JSON_UTF8 };
  if (bytes !== null) headers['content-type'] = JSON_UTF8;
  return fetch(url, { method, headers, ...(bytes === null ? {} : { body: bytes }), ...(signal === undefined ? {} : { signal }), cache: 'no-store' });
}

async function json<T>(res: Promise<Response>): Promise<T> {
  const answer = await res;
  if (!answer.ok) throw await problem(answer);
  return (await answer.json()) as T;
}

/** The server as the enrolment link names it: the text before /authenticator/. */
export function apiOf(location: Location): string {
  const at = location.href.indexOf('/authenticator/');
  return at < 0 ? location.origin : location.href.slice(0, at);
}

/**
 * Enrols this browser: a new device key (P-256, private half non-extractable), a WebAuthn
 * credential of the platform authenticator (user verification required), then POST /enroll
 * signed with the new key.
 */
export async function enroll(api: string, token: string, name: string): Promise<Enrolment> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string };

  const audience = `${api}/v1/device-api`;
  const creation = await json<PublicKeyCredentialCreationOptionsJSON>(signedFetch(pair.privateKey, null, audience, api, 'POST', '/enroll/webauthn-options', { token, public_key: publicJwk }));
  const options = PublicKeyCredential.parseCreationOptionsFromJSON(creation);
  const credential = (await navigator.credentials.create({ publicKey: options })) as PublicKeyCredential | null;
  if (credential === null) throw new ApiError(0, 'webauthn_cancelled', 'no credential was made');

  const result = await json<{ device: { id: string; name: string }; audience: string; vapid_public_key: string | null }>(
    signedFetch(pair.privateKey, null, audience, api, 'POST', '/enroll', {
      token,
      public_key: publicJwk,
      name,
      capabilities: ['push'],
      transport: { type: 'stream' },
      webauthn: credential.toJSON(),
    }),
  );
  return {
    api,
    deviceId: result.device.id,
    audience: result.audience,
    name: result.device.name,
    privateKey: pair.privateKey,
    publicJwk,
    credentialId: credential.id,
    vapidPublicKey: result.vapid_public_key,
  };
}

/** The signed calls of an enrolled browser. */
export function deviceApi(e: Enrolment) {
  const call = (method: string, path: string, body?: unknown, signal?: AbortSignal) => signedFetch(e.privateKey, e.deviceId, e.audience, e.api, method, path, body, signal);
  return {
    stream: (signal: AbortSignal) => call('GET', '/stream', undefined, signal),
    requests: () => json<{ items: PushRequest[] }>(call('GET', '/requests')).then((r) => r.items),
    request: (id: string) => json<PushRequest>(call('GET', `/requests/${encodeURIComponent(id)}`)),
    device: () => json<{ id: string; name: string; capabilities: string[] }>(call('GET', '/device')),
    setTransport: (transport: unknown) => json<unknown>(call('PUT', '/transport', { transport })),

    /**
     * An approval: the platform authenticator verifies the user and signs an assertion whose
     * challenge is SHA-256 of the response signing input, so it covers this request's
     * challenge, this device, the decision and the answer.
     */
    async approve(request: PushRequest, answer: string | null): Promise<RespondResult> {
      const fields = { requestId: request.id, deviceId: e.deviceId, challenge: request.challenge, decision: 'approve', userVerification: 'webauthn', answer } as const;
      const challenge = await sha256(encoder.encode(responseSigningInput(fields)));
      const assertion = (await navigator.credentials.get({
        publicKey: {
          challenge,
          rpId: new URL(e.api).hostname,
          allowCredentials: [{ type: 'public-key', id: fromBase64url(e.credentialId) }],
          userVerification: 'required',
          timeout: 120_000,
        },
      })) as PublicKeyCredential | null;
      if (assertion === null) throw new ApiError(0, 'webauthn_cancelled', 'the user was not verified');
      return json(call('POST', `/requests/${encodeURIComponent(request.id)}/respond`, { decision: 'approve', user_verification: 'webauthn', ...(answer === null ? {} : { answer }), webauthn: assertion.toJSON() }));
    },

    /** A denial or fraud report: signed by the device key, no user verification asked (anyone holding the phone may refuse). */
    async deny(request: PushRequest, decision: 'deny' | 'report_fraud'): Promise<RespondResult> {
      const input = responseSigningInput({ requestId: request.id, deviceId: e.deviceId, challenge: request.challenge, decision, userVerification: 'none', answer: null });
      const signature = await ecdsa(e.privateKey, encoder.encode(input));
      return json(call('POST', `/requests/${encodeURIComponent(request.id)}/respond`, { decision, user_verification: 'none', signature }));
    },
  };
}

export type DeviceApi = ReturnType<typeof deviceApi>;
