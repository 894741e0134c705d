/**
 * The `Authorization: Device <JWS>` of every device-API call: ES256 over the method, the path,
 * a hash of the body, the audience, the time and a one-time id, so a captured header is good
 * for nothing but the one request it was made for, once, within a minute.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';

/** The JWS `typ`: names what the token is for, so it cannot pass as an access token elsewhere. */
export const DEVICE_JWS_TYPE = 'device-api+jwt';

export interface DeviceJwsClaims {
  aud: string;
  iat: number;
  jti: string;
  htm: string;
  htu: string;
  /** Present exactly when the request has a body. */
  bsh?: string;
}

export interface DeviceJwsInput {
  key: KeyObject;
  /** The device id; omitted for the enrolment call, which proves possession of the key in its body. */
  kid?: string | undefined;
  audience: string;
  method: string;
  url: string | URL;
  /** The exact bytes that go out as the body. */
  body?: Uint8Array | undefined;
  /** Milliseconds since the epoch. */
  now: number;
  /** A fresh one-time id; see newJti(). */
  jti: string;
}

/** base64url of SHA-256 over the exact body bytes: the `bsh` claim. */
export function bodyHash(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

/** The `htu` claim: the path and query of the URL as fetch sends it. */
export function requestTarget(url: string | URL): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

/** 16 random bytes, base64url: never reused, so the server can refuse a replay. */
export function newJti(bytes: (n: number) => Uint8Array = (n) => randomBytes(n)): string {
  return Buffer.from(bytes(16)).toString('base64url');
}

/** The claims a device JWS carries for one request. */
export function deviceJwsClaims(input: Omit<DeviceJwsInput, 'key' | 'kid'>): DeviceJwsClaims {
  const claims: DeviceJwsClaims = {
    aud: input.audience,
    iat: Math.floor(input.now / 1000),
    jti: input.jti,
    htm: input.method.toUpperCase(),
    htu: requestTarget(input.url),
  };
  if (input.body !== undefined) claims.bsh = bodyHash(input.body);
  return claims;
}

/** The compact JWS for the Authorization header (without the `Device ` prefix). */
export async function signDeviceJws(input: DeviceJwsInput): Promise<string> {
  const header = input.kid === undefined ? { alg: 'ES256', typ: DEVICE_JWS_TYPE } : { alg: 'ES256', typ: DEVICE_JWS_TYPE, kid: input.kid };
  const payload = new TextEncoder().encode(JSON.stringify(deviceJwsClaims(input)));
  return new CompactSign(payload).setProtectedHeader(header).sign(input.key);
}
