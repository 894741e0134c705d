/**
 * A client of the device API (docs/device-api.md): enrolment, then signed calls as one device.
 *
 * @example
 * const { authenticator } = await enroll('https://outband.example/authenticator/enroll#token=…', { capabilities: ['push', 'pin'] });
 * const client = createDeviceClient(authenticator);
 * for (const request of await client.requests()) await client.respond(request.id, { decision: 'approve', userVerification: 'pin' });
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { generateDeviceKey, privateKeyObject } from './device-key.ts';
import { newJti, signDeviceJws } from './device-jws.ts';
import { deviceApiBase, parseEnrollmentLink, type ParseLinkOptions } from './enrollment-link.ts';
import { AuthenticatorError, DeviceApiError, errorFromResponse } from './errors.ts';
import type { StoredAuthenticator } from './key-file.ts';
import {
  assertDevice,
  assertEnrollment,
  assertRequest,
  assertResponseResult,
  type Capability,
  type Device,
  type DeviceRequest,
  type Enrollment,
  type ResponseResult,
  type Transport,
} from './objects.ts';
import { signResponse } from './response-signature.ts';
import type { Decision, UserVerification } from './signing-input.ts';
import { DEFAULT_STREAM_TIMING, runStream, type StreamEnd, type StreamHandlers, type StreamTiming } from './stream.ts';

/** What the client takes from its surroundings; tests replace them. */
export interface ClientDeps {
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. */
  now?: () => number;
  randomBytes?: (n: number) => Uint8Array;
  streamTiming?: StreamTiming;
}

export interface EnrollOptions extends ParseLinkOptions {
  /** At most 64 characters; the server names the device when absent. */
  name?: string | undefined;
  capabilities: Capability[];
  /** Default `{ type: 'stream' }`. */
  transport?: Transport;
  signal?: AbortSignal;
}

export interface RespondInput {
  decision: Decision;
  /** How the user was verified before this answer: claim only what really happened. */
  userVerification: UserVerification;
  /** With matching `pick`: the chosen number as shown; with `type`: the code the user typed. */
  answer?: string | undefined;
}

export interface DeviceClient {
  readonly deviceId: string;
  readonly api: string;
  /** This device as the server sees it. */
  device(options?: { signal?: AbortSignal }): Promise<Device>;
  /** After a push token changes. */
  updateTransport(transport: Transport): Promise<Device>;
  /** The requests pending for this device. */
  requests(): Promise<DeviceRequest[]>;
  /** One request, e.g. after a push notice that carried only its id. */
  request(id: string): Promise<DeviceRequest>;
  /** Answers a request, signed over the challenge read with it (read first if not yet seen). */
  respond(id: string, input: RespondInput): Promise<ResponseResult>;
  /** Follows the device's event stream until aborted or revoked; see runStream. */
  stream(handlers: StreamHandlers): Promise<StreamEnd>;
}

interface SignedCall {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  key: KeyObject;
  kid: string | undefined;
  audience: string;
  body?: unknown;
  signal?: AbortSignal | undefined;
  accept?: string;
}

/** One signed request: the body is serialised once, and those exact bytes are hashed and sent. */
async function signedFetch(call: SignedCall, deps: Required<Pick<ClientDeps, 'fetch' | 'now' | 'randomBytes'>>): Promise<Response> {
  const body = call.body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(call.body));
  const jws = await signDeviceJws({ key: call.key, kid: call.kid, audience: call.audience, method: call.method, url: call.url, body, now: deps.now(), jti: newJti(deps.randomBytes) });
  const headers: Record<string, string> = { authorization: `Device ${jws}`, accept: call.accept ?? 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const init: RequestInit = { method: call.method, headers };
  if (body !== undefined) init.body = body;
  if (call.signal !== undefined) init.signal = call.signal;
  return deps.fetch(call.url, init);
}

async function json(res: Response): Promise<unknown> {
  if (!res.ok) throw await errorFromResponse(res);
  try {
    return await res.json();
  } catch {
    throw new DeviceApiError(res.status, 'unexpected_response', 'the server answered something that is not JSON');
  }
}

function withDefaults(deps: ClientDeps): Required<Pick<ClientDeps, 'fetch' | 'now' | 'randomBytes'>> {
  return {
    fetch: deps.fetch ?? globalThis.fetch,
    now: deps.now ?? Date.now,
    randomBytes: deps.randomBytes ?? ((n) => randomBytes(n)),
  };
}

/**
 * Enrols a new device from an enrolment link: makes a key pair, proves possession by signing the
 * call with it, and answers what to keep (save `authenticator` with saveAuthenticator()).
 */
export async function enroll(link: string, options: EnrollOptions, deps: ClientDeps = {}): Promise<{ enrollment: Enrollment; authenticator: StoredAuthenticator }> {
  const { api, token } = parseEnrollmentLink(link, options);
  if (options.name !== undefined && options.name.length > 64) throw new AuthenticatorError('the device name is longer than 64 characters');
  const d = withDefaults(deps);
  const base = deviceApiBase(api);
  const { privateJwk, publicJwk } = generateDeviceKey();
  const body: Record<string, unknown> = { token, public_key: publicJwk };
  if (options.name !== undefined) body['name'] = options.name;
  body['capabilities'] = options.capabilities;
  body['transport'] = options.transport ?? { type: 'stream' };
  const res = await signedFetch({ method: 'POST', url: `${base}/enroll`, key: privateKeyObject(privateJwk), kid: undefined, audience: base, body, signal: options.signal }, d);
  const enrollment = await json(res);
  assertEnrollment(enrollment);
  return {
    enrollment,
    authenticator: {
      device_id: enrollment.device.id,
      api,
      audience: enrollment.audience,
      name: enrollment.device.name,
      private_jwk: privateJwk,
      public_jwk: publicJwk,
      enrolled_at: new Date(d.now()).toISOString(),
    },
  };
}

/** How many requests' challenges to remember for respond(); the oldest go first. */
const REMEMBERED = 500;

export function createDeviceClient(authenticator: StoredAuthenticator, deps: ClientDeps = {}): DeviceClient {
  const d = withDefaults(deps);
  const key = privateKeyObject(authenticator.private_jwk, authenticator.public_jwk);
  const base = deviceApiBase(authenticator.api);
  const seen = new Map<string, DeviceRequest>();
  const remember = (request: DeviceRequest) => {
    seen.delete(request.id);
    seen.set(request.id, request);
    if (seen.size > REMEMBERED) seen.delete(seen.keys().next().value as string);
    return request;
  };
  const call = (method: SignedCall['method'], path: string, body?: unknown, signal?: AbortSignal, accept?: string) =>
    signedFetch({ method, url: `${base}${path}`, key, kid: authenticator.device_id, audience: authenticator.audience, body, signal, ...(accept === undefined ? {} : { accept }) }, d);

  const client: DeviceClient = {
    deviceId: authenticator.device_id,
    api: authenticator.api,

    async device(options = {}) {
      const device = await json(await call('GET', '/device', undefined, options.signal));
      assertDevice(device);
      return device;
    },

    async updateTransport(transport) {
      const device = await json(await call('PUT', '/transport', { transport }));
      assertDevice(device);
      return device;
    },

    async requests() {
      const page = (await json(await call('GET', '/requests'))) as { items?: unknown };
      if (!Array.isArray(page?.items)) throw new DeviceApiError(200, 'unexpected_response', 'the server answered a request list without items');
      return page.items.map((item: unknown) => {
        assertRequest(item);
        return remember(item);
      });
    },

    async request(id) {
      const request = await json(await call('GET', `/requests/${encodeURIComponent(id)}`));
      assertRequest(request);
      return remember(request);
    },

    async respond(id, input) {
      const request = seen.get(id) ?? (await client.request(id));
      const signature = signResponse(key, {
        requestId: id,
        deviceId: authenticator.device_id,
        challenge: request.challenge,
        decision: input.decision,
        userVerification: input.userVerification,
        answer: input.answer,
      });
      const body: Record<string, string> = { decision: input.decision, user_verification: input.userVerification };
      if (input.answer !== undefined) body['answer'] = input.answer;
      body['signature'] = signature;
      const result = await json(await call('POST', `/requests/${encodeURIComponent(id)}/respond`, body));
      assertResponseResult(result);
      seen.delete(id);
      return result;
    },

    stream(handlers) {
      return runStream(
        (signal) => call('GET', '/stream', undefined, signal, 'text/event-stream'),
        { ...handlers, onRequest: (request) => handlers.onRequest(remember(request)) },
        deps.streamTiming ?? DEFAULT_STREAM_TIMING,
      );
    },
  };
  return client;
}
