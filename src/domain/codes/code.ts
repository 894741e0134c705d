import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from '../random.ts';
import type { SecretKey } from './keys.ts';

/**
 * A one-time code of `length` decimal digits. Each digit comes from one CSPRNG byte;
 * bytes of 250 and above are rejected so that `% 10` carries no modulo bias.
 */
export function generateCode(length: number, random: RandomSource): string {
  let code = '';
  while (code.length < length) {
    for (const byte of random.bytes(length)) {
      if (byte < 250 && code.length < length) code += String(byte % 10);
    }
  }
  return code;
}

/**
 * The keyed hash stored instead of the code. The verification id is part of the input,
 * so a code is bound to its verification and equal codes never give equal hashes.
 */
export function codeHmac(key: SecretKey, verificationId: string, code: string): string {
  return createHmac('sha256', key).update(`${verificationId}\u0000${code}`).digest('base64url');
}

/**
 * The one constant-time comparison. Both sides are hashed first, so the compared values
 * have a fixed length and the time says nothing about where they differ (SEC-09).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const key = 'outband/constant-time-equal';
  const left = createHmac('sha256', key).update(a).digest();
  const right = createHmac('sha256', key).update(b).digest();
  return timingSafeEqual(left, right);
}

/** Whether `code` is the code whose hash was stored for `verificationId`. */
export function codeMatches(key: SecretKey, verificationId: string, code: string, storedHmac: string): boolean {
  return constantTimeEqual(codeHmac(key, verificationId, code), storedHmac);
}

/**
 * The keyed hash of a missed call's caller for one recipient: lets the server avoid calling a
 * recipient twice from the same number while a call is pending, without keeping the number
 * (whose last digits are the code).
 */
export function callerHmac(key: SecretKey, recipient: string, caller: string): string {
  return createHmac('sha256', key).update(`caller\u0000${recipient}\u0000${caller}`).digest('base64url');
}

/** Crockford's base32: no I, L, O or U, so what is read aloud or retyped is not mistaken. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A code of `length` Crockford base32 characters, 5 bits each: 8 of them carry 40 bits, the
 * floor NIST SP 800-63B-4 §4.1.2.2 sets for a manual pairing code (SEC-27). 256 / 32 = 8, so
 * a byte's low five bits are uniform.
 */
export function generateBase32Code(length: number, random: RandomSource): string {
  return [...random.bytes(length)].map((b) => CROCKFORD[b & 31]).join('');
}

/** What a person typed, read as Crockford base32: case-insensitive, I/L read as 1, O as 0, dashes and spaces dropped. */
export function normalizeBase32Code(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
}

/** The keyed hash by which a one-time activation token is found and checked; the token itself is not kept. */
export function activationHmac(key: SecretKey, token: string): string {
  return createHmac('sha256', key).update(`activation\u0000${token}`).digest('base64url');
}
