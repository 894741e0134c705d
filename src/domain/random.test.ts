import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { base32, ID_BYTES, newId, type RandomSource } from './random.ts';

const cryptoRandom: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32 decoding of our lower-case, unpadded form. */
function decodeBase32(text: string): Uint8Array {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    const value = ALPHABET.indexOf(char);
    assert.ok(value >= 0, `"${char}" is not a base32 character`);
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
      buffer &= (1 << bits) - 1;
    }
  }
  assert.equal(buffer, 0, 'the padding bits are zero');
  return new Uint8Array(out);
}

describe('base32', () => {
  // RFC 4648 §10 test vectors, lower-case and without padding.
  const vectors: Array<[string, string]> = [
    ['', ''],
    ['f', 'my'],
    ['fo', 'mzxq'],
    ['foo', 'mzxw6'],
    ['foob', 'mzxw6yq'],
    ['fooba', 'mzxw6ytb'],
    ['foobar', 'mzxw6ytboi'],
  ];
  for (const [input, expected] of vectors) {
    test(`case=rfc4648 "${input}" → "${expected}"`, () => {
      assert.equal(base32(new TextEncoder().encode(input)), expected);
    });
  }

  test('round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.deepEqual(decodeBase32(base32(all)), all);
  });

  test('encodes all-zero and all-one bytes at the ends of the alphabet', () => {
    assert.equal(base32(new Uint8Array(5)), 'aaaaaaaa');
    assert.equal(base32(new Uint8Array(5).fill(255)), '77777777');
  });
});

describe('newId', () => {
  test('is the prefix, an underscore and the base32 of ID_BYTES random bytes', () => {
    const bytes = Uint8Array.from({ length: ID_BYTES }, (_, i) => i * 16);
    const fixed: RandomSource = { bytes: (n) => (assert.equal(n, ID_BYTES), bytes) };
    assert.equal(newId('usr', fixed), `usr_${base32(bytes)}`);
  });

  test('SEC-46 identifiers carry 128 random bits', () => {
    // Threat: a verification id works as a bearer handle (device and console links); an id
    // with a short, sequential or time-ordered part can be guessed or enumerated.
    assert.ok(ID_BYTES * 8 >= 128);
    const n = 10_000;
    const ids = Array.from({ length: n }, () => newId('vrf', cryptoRandom));
    for (const id of ids) {
      assert.match(id, /^vrf_[a-z2-7]{26}$/);
      assert.equal(decodeBase32(id.slice('vrf_'.length)).length, 16);
    }
    assert.equal(new Set(ids).size, n, 'all ids differ');

    // Nothing shared or ordered at the front: with 20 random bits, 10 000 ids give
    // thousands of distinct 4-character heads, and creation order is not sort order.
    const heads = new Set(ids.map((id) => id.slice(4, 8)));
    assert.ok(heads.size > 9_000, `only ${heads.size} distinct 4-character heads`);
    const ascending = ids.filter((id, i) => i > 0 && id > ids[i - 1]!).length;
    assert.ok(ascending > 4_500 && ascending < 5_500, `${ascending} of ${n - 1} consecutive ids ascend; about half expected`);

    // Every character position uses the whole alphabet (the last one carries 3 bits: 8 values).
    for (let position = 4; position < 4 + 25; position++) {
      const seen = new Set(ids.map((id) => id[position]));
      assert.equal(seen.size, 32, `position ${position} uses ${seen.size} characters`);
    }
    assert.equal(new Set(ids.map((id) => id[29])).size, 8);
  });
});
