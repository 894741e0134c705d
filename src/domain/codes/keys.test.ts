import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { RandomSource } from '../random.ts';
import { deriveKeys, seal, unseal } from './keys.ts';

const cryptoRandom: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };
const SECRET = 'a server secret of enough length for the tests';

/** Replaces one base64url character of the `part`-th dot-separated field with another. */
function tamper(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const field = parts[part]!;
  const flipped = field[0] === 'A' ? 'B' : 'A';
  parts[part] = flipped + field.slice(1);
  return parts.join('.');
}

describe('deriveKeys', () => {
  test('gives 32-byte codeKey and sealKey that differ from each other', () => {
    const keys = deriveKeys(SECRET);
    assert.equal(keys.codeKey.symmetricKeySize, 32);
    assert.equal(keys.sealKey.symmetricKeySize, 32);
    assert.notDeepEqual(keys.codeKey.export(), keys.sealKey.export());
  });

  test('is deterministic for the same secret', () => {
    const [a, b] = [deriveKeys(SECRET), deriveKeys(SECRET)];
    assert.deepEqual([a.codeKey.export(), a.sealKey.export()], [b.codeKey.export(), b.sealKey.export()]);
  });

  test('gives other keys for another secret', () => {
    const a = deriveKeys(SECRET);
    const b = deriveKeys(`${SECRET}!`);
    assert.notDeepEqual(a.codeKey.export(), b.codeKey.export());
    assert.notDeepEqual(a.sealKey.export(), b.sealKey.export());
  });
});

describe('seal and unseal', () => {
  const { sealKey } = deriveKeys(SECRET);

  test('round-trip a message, including non-ASCII text and the empty string', () => {
    for (const text of ['Your code is 123456.', 'Uw code is 123456 — geldig 10 minuten. ✓', '']) {
      assert.equal(unseal(sealKey, seal(sealKey, text, cryptoRandom)), text);
    }
  });

  test('never hold the message in clear', () => {
    const sealed = seal(sealKey, 'Your code is 123456.', cryptoRandom);
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    assert.ok(!sealed.includes('123456'));
  });

  test('two seals of the same text differ (a fresh IV each time)', () => {
    const a = seal(sealKey, 'Your code is 123456.', cryptoRandom);
    const b = seal(sealKey, 'Your code is 123456.', cryptoRandom);
    assert.notEqual(a, b);
    assert.notEqual(a.split('.')[1], b.split('.')[1]);
  });

  test('a tampered IV, body or tag throws instead of giving altered text', () => {
    const sealed = seal(sealKey, 'Your code is 123456.', cryptoRandom);
    for (const part of [1, 2, 3]) {
      assert.throws(() => unseal(sealKey, tamper(sealed, part)), `part ${part}`);
    }
  });

  test('another key cannot unseal', () => {
    const sealed = seal(sealKey, 'Your code is 123456.', cryptoRandom);
    assert.throws(() => unseal(deriveKeys('another secret').sealKey, sealed));
  });

  test('a value that is not sealed throws', () => {
    for (const value of ['', 'plain text', 'v2.a.b.c', 'v1.a.b']) {
      assert.throws(() => unseal(sealKey, value), /not a sealed value|Unsupported state|auth/i, value);
    }
  });

  test('a truncated tag is refused, even a true prefix GCM would accept as a short tag', () => {
    // A 4-byte tag is forged in about 2^32 tries; only the full 16 bytes may authenticate.
    const sealed = seal(sealKey, 'Your code is 123456.', cryptoRandom);
    const parts = sealed.split('.');
    const tag = Buffer.from(parts[3]!, 'base64url');
    for (const length of [4, 8, 12, 15]) {
      parts[3] = tag.subarray(0, length).toString('base64url');
      assert.throws(() => unseal(sealKey, parts.join('.')), `a ${length}-byte tag`);
    }
  });
});
