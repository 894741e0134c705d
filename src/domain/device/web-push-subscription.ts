import { createPublicKey } from 'node:crypto';

// A Web Push subscription as RFC 8291 needs it, checked where it enters (enrolment) and where it
// is used (the webpush provider): one definition for both.

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

export function base64url(text: string): Buffer | null {
  return BASE64URL.test(text) ? Buffer.from(text, 'base64url') : null;
}

/** Whether `point` is an uncompressed P-256 point on the curve; OpenSSL refuses a JWK that is not. */
export function isP256Point(point: Buffer): boolean {
  if (point.length !== 65 || point[0] !== 0x04) return false;
  try {
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}

export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/**
 * Checks a push subscription as an authenticator sends it at enrolment (SEC-49): null when it
 * is usable, else why not (for a 400 `invalid_push_subscription`). The endpoint must be https
 * (RFC 8030 §8), `p256dh` a 65-byte uncompressed point on P-256 and `auth` 16 bytes (RFC 8291
 * §3.2): a key off the curve would make every encryption fail, or leak through invalid-curve
 * tricks.
 */
export function validateSubscription(subscription: unknown): string | null {
  if (typeof subscription !== 'object' || subscription === null) return 'subscription must be an object';
  const { endpoint, keys } = subscription as { endpoint?: unknown; keys?: unknown };
  if (typeof endpoint !== 'string') return 'endpoint must be a string';
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'endpoint must be an https URL';
  }
  if (url.protocol !== 'https:') return 'endpoint must be an https URL';
  if (url.username !== '' || url.password !== '') return 'endpoint must not carry credentials';
  if (typeof keys !== 'object' || keys === null) return 'keys must be an object with p256dh and auth';
  const { p256dh, auth } = keys as { p256dh?: unknown; auth?: unknown };
  if (typeof p256dh !== 'string') return 'keys.p256dh must be a string';
  if (typeof auth !== 'string') return 'keys.auth must be a string';
  const point = base64url(p256dh);
  if (point === null) return 'keys.p256dh must be base64url';
  if (point.length !== 65 || point[0] !== 0x04) return 'keys.p256dh must be a 65-byte uncompressed P-256 public key';
  if (!isP256Point(point)) return 'keys.p256dh is not a point on the P-256 curve';
  const secret = base64url(auth);
  if (secret === null) return 'keys.auth must be base64url';
  if (secret.length !== 16) return 'keys.auth must be 16 bytes';
  return null;
}

