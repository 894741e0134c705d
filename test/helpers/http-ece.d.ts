// http_ece ships no types; only what the Web Push tests use (decrypting a captured body).
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';
  interface DecryptParams {
    version: 'aes128gcm' | 'aesgcm';
    /** The receiver's key pair (the subscription's p256dh is its public key). */
    privateKey: ECDH;
    /** The subscription's 16-byte auth secret. */
    authSecret: Buffer | string;
  }
  export function decrypt(buffer: Buffer, params: DecryptParams): Buffer;
  const ece: { decrypt: typeof decrypt };
  export default ece;
}
