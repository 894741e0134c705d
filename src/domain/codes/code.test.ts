import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CODE_LENGTH } from '../policy/limits.ts';
import type { RandomSource } from '../random.ts';
import { codeHmac, codeMatches, constantTimeEqual, generateCode } from './code.ts';

const cryptoRandom: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) };

/** Serves the given bytes in order and fails the test if asked for more. */
function scriptedRandom(script: number[]): RandomSource & { served: number } {
  const source = {
    served: 0,
    bytes(n: number): Uint8Array {
      assert.ok(source.served + n <= script.length, `the code asked for more bytes than the ${script.length} scripted`);
      const out = new Uint8Array(script.slice(source.served, source.served + n));
      source.served += n;
      return out;
    },
  };
  return source;
}

const KEY = new Uint8Array(32).fill(7);

describe('generateCode', () => {
  test('gives exactly `length` decimal digits for every allowed length', () => {
    for (let length = CODE_LENGTH.min; length <= CODE_LENGTH.max; length++) {
      for (let i = 0; i < 200; i++) {
        const code = generateCode(length, cryptoRandom);
        assert.match(code, new RegExp(`^[0-9]{${length}}$`), `length ${length}`);
      }
    }
  });

  test('maps each accepted byte to its last decimal digit, in order', () => {
    const random = scriptedRandom([0, 9, 10, 249, 123, 77]);
    assert.equal(generateCode(6, random), '090937');
  });

  test('rejects bytes 250..255, which would bias % 10 towards 0..5', () => {
    // 250..255 would read as 0..5; they must be skipped, not mapped.
    const random = scriptedRandom([250, 251, 252, 253, 254, 255, 13, 27, 249, 8, 250, 100]);
    assert.equal(generateCode(4, random), '3798');
    // 1. four rejected, 2. two rejected + "37", 3. "98" completes the code; the last draw is unused.
    assert.equal(random.served, 12);
  });

  test('keeps drawing until the code is full when every byte of a draw is rejected', () => {
    const random = scriptedRandom([...Array<number>(18).fill(255), 1, 2, 3, 4, 5, 6]);
    assert.equal(generateCode(6, random), '123456');
  });

  test('SEC-01 codes are ≥6 digits from a CSPRNG, uniform per position', () => {
    // Threat: a biased or short code shrinks the space an attacker guesses in, and a
    // low-quality generator repeats codes. 10 000 codes: each digit position must pass a
    // chi-square test of uniformity, and repeats must stay at the birthday expectation.
    assert.ok(CODE_LENGTH.default >= 6, 'the default code length is at least 6 digits');
    const n = 10_000;
    const length = CODE_LENGTH.default;
    const codes = Array.from({ length: n }, () => generateCode(length, cryptoRandom));
    for (const code of codes) assert.match(code, /^[0-9]{6,}$/);

    // 9 degrees of freedom; 33.72 is the 0.9999 quantile of chi-square(9): with six positions
    // tested, a fair generator fails this about once in 1,700 runs.
    const critical = 33.72;
    const expected = n / 10;
    for (let position = 0; position < length; position++) {
      const counts = new Array<number>(10).fill(0);
      for (const code of codes) counts[Number(code[position])]! += 1;
      const chiSquare = counts.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
      assert.ok(chiSquare <= critical, `position ${position}: chi-square ${chiSquare.toFixed(2)} > ${critical} (counts ${counts.join(',')})`);
    }

    // Birthday expectation for 10 000 draws from 10^6: n(n-1)/2/10^6 ≈ 50 repeats, sd ≈ 7.
    // Far fewer would mean the codes are not independent (a counter, a shuffled sequence).
    const repeats = n - new Set(codes).size;
    assert.ok(repeats < 100, `${repeats} repeated codes; about 50 expected`);
    assert.ok(repeats > 15, `${repeats} repeated codes; about 50 expected from independent draws`);
  });
});

describe('codeHmac', () => {
  test('is deterministic for the same key, id and code', () => {
    assert.equal(codeHmac(KEY, 'vrf_a', '123456'), codeHmac(KEY, 'vrf_a', '123456'));
  });

  test('binds the verification id: the same code under another id hashes differently', () => {
    assert.notEqual(codeHmac(KEY, 'vrf_a', '123456'), codeHmac(KEY, 'vrf_b', '123456'));
  });

  test('depends on the key and the code', () => {
    assert.notEqual(codeHmac(KEY, 'vrf_a', '123456'), codeHmac(new Uint8Array(32).fill(8), 'vrf_a', '123456'));
    assert.notEqual(codeHmac(KEY, 'vrf_a', '123456'), codeHmac(KEY, 'vrf_a', '123457'));
  });

  test('keeps id and code apart: moving a character across the boundary changes the hash', () => {
    assert.notEqual(codeHmac(KEY, 'vrf_a1', '23456'), codeHmac(KEY, 'vrf_a', '123456'));
  });

  test('never contains the code in clear', () => {
    const code = '987654';
    const hmac = codeHmac(KEY, 'vrf_a', code);
    assert.match(hmac, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!hmac.includes(code));
  });
});

describe('codeMatches', () => {
  test('accepts the stored code and rejects others, other ids and other keys', () => {
    const stored = codeHmac(KEY, 'vrf_a', '123456');
    assert.equal(codeMatches(KEY, 'vrf_a', '123456', stored), true);
    assert.equal(codeMatches(KEY, 'vrf_a', '123457', stored), false);
    assert.equal(codeMatches(KEY, 'vrf_a', '12345', stored), false);
    assert.equal(codeMatches(KEY, 'vrf_a', '', stored), false);
    assert.equal(codeMatches(KEY, 'vrf_b', '123456', stored), false);
    assert.equal(codeMatches(new Uint8Array(32), 'vrf_a', '123456', stored), false);
  });
});

describe('constantTimeEqual', () => {
  test('is true for equal strings and false for unequal ones', () => {
    assert.equal(constantTimeEqual('abc', 'abc'), true);
    assert.equal(constantTimeEqual('', ''), true);
    assert.equal(constantTimeEqual('abc', 'abd'), false);
    assert.equal(constantTimeEqual('abc', 'ABC'), false);
  });

  test('is false, without throwing, for strings of different lengths', () => {
    assert.equal(constantTimeEqual('abc', 'abcd'), false);
    assert.equal(constantTimeEqual('', 'a'), false);
    assert.equal(constantTimeEqual('a'.repeat(1000), 'a'), false);
  });

  test('compares characters, not bytes of a lossy encoding', () => {
    assert.equal(constantTimeEqual('é', 'é'), true);
    assert.equal(constantTimeEqual('é', 'e\u0301'), false);
  });
});

test('SEC-09 codes are compared only through the one constant-time helper', () => {
  // Threat: an early-exit comparison of code hashes leaks, through response time, how much
  // of a guess is right. Timing cannot be asserted in CI, so the structure is: every code
  // comparison goes through codeMatches → constantTimeEqual → timingSafeEqual over fixed-length HMACs.
  const here = import.meta.dirname;
  const src = join(here, '..', '..');
  const code = readFileSync(join(here, 'code.ts'), 'utf8');
  const verification = readFileSync(join(src, 'domain', 'verification', 'verification.ts'), 'utf8');

  assert.match(code, /export function codeMatches\([^)]*\)[^{]*\{\s*return constantTimeEqual\(codeHmac\(/);
  assert.match(code, /export function constantTimeEqual\([^)]*\)[^{]*\{[^}]*return timingSafeEqual\(left, right\);/);
  assert.match(verification, /codeMatches\(codeKey, v\.id, code, v\.codeHmac\)/);

  // Nowhere in src/ is a stored code hash compared with an ordinary operator or in SQL.
  const files = (readdirSync(src, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => ({ file: f, text: readFileSync(join(src, f), 'utf8') }));
  assert.ok(files.length > 20, 'the source tree was found');
  const plainComparison = /(codeHmac|code_hmac)['"`]?\s*(!==?|===?|<|>)|(!==?|===?)\s*[\w.]*(codeHmac|code_hmac)\b|where\(\s*['"`]code_hmac/;
  for (const { file, text } of files) {
    assert.doesNotMatch(text, plainComparison, `${file} compares a code hash without constantTimeEqual`);
  }

  // Only the code module touches timingSafeEqual for codes; the verification module never
  // recomputes a hash to compare it itself.
  assert.doesNotMatch(verification, /timingSafeEqual|createHmac/);
});
