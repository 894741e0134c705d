import { OutbandError } from '../errors.ts';
import type { Transport } from './device.ts';
import { isP256Point, validateSubscription } from './web-push-subscription.ts';

const B64URL = /^[A-Za-z0-9_-]+$/;

function decoded(value: unknown): Buffer | null {
  return typeof value === 'string' && B64URL.test(value) ? Buffer.from(value, 'base64url') : null;
}


/**
 * A device's public key: a P-256 JWK with only the public coordinates, on the curve. Answers
 * the key as it is kept (kty, crv, x, y) or throws 400 invalid_request.
 */
export function parseDevicePublicKey(jwk: unknown): Record<string, string> {
  const k = jwk as Record<string, unknown> | null;
  if (k === null || typeof k !== 'object' || k.kty !== 'EC' || k.crv !== 'P-256') throw new OutbandError('invalid_request', 'public_key must be a P-256 JWK: {"kty":"EC","crv":"P-256","x":…,"y":…}');
  if ('d' in k) throw new OutbandError('invalid_request', 'public_key holds a private key ("d"): send the public key only; the private key never leaves the device');
  const x = decoded(k.x);
  const y = decoded(k.y);
  if (x?.length !== 32 || y?.length !== 32 || !isP256Point(Buffer.concat([Buffer.from([4]), x, y]))) {
    throw new OutbandError('invalid_request', 'public_key is not a point on P-256');
  }
  return { kty: 'EC', crv: 'P-256', x: k.x as string, y: k.y as string };
}

/** A transport as the authenticator registers it; a Web Push subscription is checked (SEC-49), else 400 invalid_push_subscription. */
export function parseTransport(input: Transport): Transport {
  switch (input.type) {
    case 'stream':
      return { type: 'stream' };
    case 'fcm':
    case 'apns':
      return { type: input.type, token: input.token };
    case 'webpush': {
      const problem = validateSubscription(input.subscription);
      if (problem !== null) throw new OutbandError('invalid_push_subscription', problem);
      const { endpoint, keys } = input.subscription;
      return { type: 'webpush', subscription: { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } } };
    }
  }
}
