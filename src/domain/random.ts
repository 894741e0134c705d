/** Where randomness comes from: the domain never calls a generator itself, so tests can fix it. */
export interface RandomSource {
  bytes(length: number): Uint8Array;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Lower-case RFC 4648 base32 without padding: ids that read well and select on double-click. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** Bits of CSPRNG output in every identifier that may act as a bearer handle (SEC-46). */
export const ID_BYTES = 16;

/** A prefixed identifier with 128 random bits and nothing sequential or time-ordered. */
export function newId(prefix: string, random: RandomSource): string {
  return `${prefix}_${base32(random.bytes(ID_BYTES))}`;
}
