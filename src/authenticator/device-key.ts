/**
 * The device key: an ECDSA P-256 pair made on this device. The private half stays here (in the
 * key file, for this reference client; in the Secure Enclave or Android Keystore in an app).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AuthenticatorError } from './errors.ts';

export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

export interface PrivateJwk extends PublicJwk {
  d: string;
}

export interface DeviceKeyPair {
  privateJwk: PrivateJwk;
  publicJwk: PublicJwk;
}

/** A new P-256 key pair as JWKs. */
export function generateDeviceKey(): DeviceKeyPair {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk = toPrivateJwk(privateKey.export({ format: 'jwk' }));
  return { privateJwk, publicJwk: publicPart(privateJwk) };
}

/** The public members only: exactly `{kty, crv, x, y}`, never `d`. */
export function publicPart(jwk: PublicJwk): PublicJwk {
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

function toPrivateJwk(jwk: Record<string, unknown>): PrivateJwk {
  if (jwk['kty'] !== 'EC' || jwk['crv'] !== 'P-256' || typeof jwk['x'] !== 'string' || typeof jwk['y'] !== 'string' || typeof jwk['d'] !== 'string') {
    throw new AuthenticatorError('the device key must be an EC P-256 private JWK');
  }
  return { kty: 'EC', crv: 'P-256', x: jwk['x'], y: jwk['y'], d: jwk['d'] };
}

/**
 * The private key as a KeyObject, after checking that it matches the public JWK stored beside
 * it: a damaged key file should fail here, not as a 401 from the server.
 */
export function privateKeyObject(privateJwk: PrivateJwk, publicJwk?: PublicJwk): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: { ...toPrivateJwk({ ...privateJwk }) }, format: 'jwk' });
  } catch (error) {
    throw new AuthenticatorError('the device key is not a valid P-256 private key', { cause: error });
  }
  if (publicJwk !== undefined) {
    const derived = createPublicKey(key).export({ format: 'jwk' });
    if (derived['x'] !== publicJwk.x || derived['y'] !== publicJwk.y) throw new AuthenticatorError('the private and public device keys do not belong together');
  }
  return key;
}
