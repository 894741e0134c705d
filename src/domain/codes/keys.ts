import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import type { RandomSource } from '../random.ts';

/**
 * A symmetric key as node:crypto takes it. The server's keys are KeyObjects: given raw bytes,
 * every HMAC or cipher imports the key again (about 10 µs against 2 µs for one HMAC).
 */
export type SecretKey = Uint8Array | KeyObject;

/** The keys derived from the one server secret; each purpose gets its own key. */
export interface ServerKeys {
  /** HMAC key of stored codes. */
  readonly codeKey: KeyObject;
  /** AES-256-GCM key of message bodies kept until they are sent (and of the dev outbox). */
  readonly sealKey: KeyObject;
}

export function deriveKeys(serverSecret: string): ServerKeys {
  const derive = (info: string) => createSecretKey(new Uint8Array(hkdfSync('sha256', serverSecret, 'outband', info, 32)));
  return { codeKey: derive('code-hmac/v1'), sealKey: derive('seal/v1') };
}

/**
 * Encrypts a message body for storage. An outgoing message must survive a crash until it
 * is sent, and it holds the code; sealing it keeps the code out of the database in clear.
 */
export function seal(key: SecretKey, plaintext: string, random: RandomSource): string {
  const iv = random.bytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1.${Buffer.from(iv).toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
}

export function unseal(key: SecretKey, sealed: string): string {
  const [version, iv, body, tag] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || body === undefined || tag === undefined) {
    throw new Error('not a sealed value');
  }
  // Without authTagLength, GCM accepts a truncated tag (down to 4 bytes, forged in ~2^32 tries).
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
