import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RandomSource } from '../random.ts';

/**
 * Standard Webhooks signatures ("Signature scheme"): `v1,` + base64 HMAC-SHA256, keyed with
 * the base64-decoded part of the secret after `whsec_`, over `${id}.${timestamp}.${body}`.
 */

export const SECRET_PREFIX = 'whsec_';
/** Random bytes of a signing secret (the specification asks for 24 to 64). */
export const SECRET_BYTES = 32;

export function newSigningSecret(random: RandomSource): string {
  return SECRET_PREFIX + Buffer.from(random.bytes(SECRET_BYTES)).toString('base64');
}

function keyOf(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('not a whsec_ secret');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** One `v1,<base64>` signature of a message. */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/**
 * The `webhook-signature` header: one signature per secret, space-separated. During a
 * rotation both the new and the old secret sign, so a receiver holding either verifies.
 */
export function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  return secrets.map((s) => sign(s, id, timestampSeconds, body)).join(' ');
}

/** Whether any signature of a header matches (for tests and tools; receivers use their own). */
export function verifies(secret: string, id: string, timestampSeconds: number, body: string, header: string): boolean {
  const expected = Buffer.from(sign(secret, id, timestampSeconds, body));
  return header.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
