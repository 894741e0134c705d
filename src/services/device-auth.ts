import { createHash, generateKeyPairSync } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { constantTimeEqual } from '../domain/codes/code.ts';
import type { Device } from '../domain/device/device.ts';
import { OutbandError } from '../domain/errors.ts';
import type { ServiceDeps } from './deps.ts';

/** How far a device request's `iat` may be from the server's clock (SEC-23). */
export const DEVICE_REQUEST_WINDOW_SECONDS = 60;
/** A push-token update may come from a phone woken late: a wider window (SEC-23). */
export const TRANSPORT_UPDATE_WINDOW_SECONDS = 300;
export const DEVICE_JWS_TYPE = 'device-api+jwt';

export interface DeviceRequest {
  authorization: string | undefined;
  method: string;
  /** The path and query as requested. */
  url: string;
  /** The exact body bytes, or empty. */
  rawBody: Buffer;
  windowSeconds?: number;
}

interface Claims {
  aud?: unknown;
  iat?: unknown;
  jti?: unknown;
  htm?: unknown;
  htu?: unknown;
  bsh?: unknown;
}

/** Device public keys kept imported per node; past this the oldest goes. */
const IMPORTED_KEYS = 10_000;

type PublicKey = Awaited<ReturnType<typeof importJWK>>;
const importKey = (jwk: JWK): Promise<PublicKey> => importJWK({ ...jwk, alg: 'ES256' }, 'ES256');

const denied = () => new OutbandError('invalid_device_signature', 'the request must carry "Authorization: Device <JWS>" signed by an enrolled device key; see docs/device-api.md');

/**
 * A key no device holds: an unknown device id is checked against it, so that an unknown id and
 * a known one with a bad signature take the same path and get the same answer (SEC-11).
 */
const DECOY_JWK = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as JWK;

/**
 * Authenticates device-API requests: an ES256 JWS in the Authorization header, signed by the
 * device's enrolled key, binding the audience, the method, the path, the body's hash, a fresh
 * issue time and a request id that is never accepted twice.
 */
export function createDeviceAuth(deps: Pick<ServiceDeps, 'store' | 'clock'>, options: { audience: string }) {
  /**
   * Device keys, imported once per kid and key: an import costs about as much as the signature
   * check. An unknown kid gets its own entry for the decoy key, so that a known and an unknown id
   * take the same path with the same cost, the first time and after (SEC-11).
   */
  const imported = new Map<string, PublicKey>();
  async function deviceKey(kid: string, jwk: JWK): Promise<PublicKey> {
    const id = `${kid}:${jwk.x}:${jwk.y}`;
    let key = imported.get(id);
    if (key === undefined) {
      key = await importKey(jwk);
      if (imported.size >= IMPORTED_KEYS) imported.delete(imported.keys().next().value!);
      imported.set(id, key);
    }
    return key;
  }

  async function verifyWith(jws: string, key: PublicKey | Promise<PublicKey>, request: DeviceRequest): Promise<{ jti: string; iat: number }> {
    let claims: Claims;
    try {
      const { payload } = await compactVerify(jws, await key, { algorithms: ['ES256'] });
      claims = JSON.parse(new TextDecoder().decode(payload)) as Claims;
    } catch {
      throw denied();
    }
    if (typeof claims !== 'object' || claims === null) throw denied();
    // A signed but unreadable time is the client's mistake, not an attack: say so (SEC-23).
    if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat)) throw new OutbandError('invalid_request', 'the device JWS needs "iat": the issue time in whole seconds since 1970');
    const window = request.windowSeconds ?? DEVICE_REQUEST_WINDOW_SECONDS;
    const nowSeconds = deps.clock.now() / 1000;
    if (Math.abs(nowSeconds - claims.iat) > window) {
      throw new OutbandError('invalid_device_signature', `the device JWS was issued ${Math.round(nowSeconds - claims.iat)} s from the server's time; at most ${window} s is accepted — check the device's clock`);
    }
    if (claims.aud !== options.audience) throw denied();
    if (claims.htm !== request.method.toUpperCase() || claims.htu !== request.url) throw denied();
    const bodyHash = createHash('sha256').update(request.rawBody).digest('base64url');
    if (request.rawBody.length > 0 ? typeof claims.bsh !== 'string' || !constantTimeEqual(claims.bsh, bodyHash) : claims.bsh !== undefined && claims.bsh !== bodyHash) throw denied();
    if (typeof claims.jti !== 'string' || claims.jti.length < 16 || claims.jti.length > 128) throw denied();
    return { jti: claims.jti, iat: claims.iat };
  }

  /** Records the request id; a second use of it is a replay. */
  async function once(deviceId: string, jti: string, iat: number, window: number): Promise<void> {
    const result = await deps.store.commit({ writes: [{ kind: 'nonce.insert', deviceId, jti, expiresAt: (iat + window + 1) * 1000 }] });
    if (!result.ok) throw denied();
  }

  function token(request: DeviceRequest): string {
    const match = request.authorization === undefined ? null : /^Device ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(request.authorization);
    if (match?.[1] === undefined) throw denied();
    return match[1];
  }

  return {
    audience: options.audience,

    /** The paired device that signed the request, or 401 invalid_device_signature. */
    async authenticate(request: DeviceRequest): Promise<Device> {
      const jws = token(request);
      let kid: unknown;
      let typ: unknown;
      try {
        ({ kid, typ } = decodeProtectedHeader(jws));
      } catch {
        throw denied();
      }
      const device = typeof kid === 'string' && kid.length <= 64 ? await deps.store.devices.byIdForDevice(kid) : undefined;
      const usable = device !== undefined && device.status === 'paired' && device.publicJwk !== null;
      const { jti, iat } = await verifyWith(jws, deviceKey(typeof kid === 'string' ? kid.slice(0, 64) : '', usable ? (device.publicJwk as JWK) : DECOY_JWK), request);
      if (!usable || typ !== DEVICE_JWS_TYPE) throw denied();
      await once(device.id, jti, iat, request.windowSeconds ?? DEVICE_REQUEST_WINDOW_SECONDS);
      return device;
    },

    /**
     * Whether `signature` (ES256, the raw r‖s form) over `data` verifies with a paired device's
     * key: the key imported once per node, as for its requests, and the check run on the thread
     * pool, not on the event loop (an answer's signature, SEC-22).
     */
    async verifiesWithDeviceKey(device: Device, data: string, signature: Uint8Array): Promise<boolean> {
      if (device.publicJwk === null) return false;
      const key = await deviceKey(device.id, device.publicJwk as JWK);
      if (!(key instanceof CryptoKey)) return false; // an EC public key always imports as one
      return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, new TextEncoder().encode(data));
    },

    /** The enrolment call is signed by the key it enrols (proof of possession); no device exists yet. */
    async authenticateEnrolment(request: DeviceRequest, publicJwk: Record<string, string>): Promise<void> {
      const jws = token(request);
      // Not kept: the key comes from the caller, and an enrolment uses it once.
      const { jti, iat } = await verifyWith(jws, importKey(publicJwk as JWK), request);
      const thumb = createHash('sha256').update(`${publicJwk.x}.${publicJwk.y}`).digest('base64url');
      await once(`enroll:${thumb}`, jti, iat, DEVICE_REQUEST_WINDOW_SECONDS);
    },
  };
}

export type DeviceAuth = ReturnType<typeof createDeviceAuth>;
