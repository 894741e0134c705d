import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { RandomSource } from '../random.ts';
import {
  assertPoolUsable,
  codeEntropyBits,
  distinctCodes,
  drawCaller,
  MAX_DRAWS,
  parsePool,
  PoolError,
  poolProblems,
  requiredDistinctCodes,
  visiblePrefix,
  type Pool,
  type PoolErrorKind,
} from './pool.ts';

/** A fixed-seed byte stream (SHA-256 in counter mode): the same draws on every run. */
function seededRandom(seed: string): RandomSource {
  let counter = 0;
  let buffer = new Uint8Array(0);
  let offset = 0;
  return {
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (offset === buffer.length) {
          buffer = new Uint8Array(createHash('sha256').update(`${seed}/${counter++}`).digest());
          offset = 0;
        }
        out[i] = buffer[offset++]!;
      }
      return out;
    },
  };
}

/** Serves the given bytes in order and fails the test if asked for more. */
function scriptedRandom(script: number[]): RandomSource & { served: number } {
  const source = {
    served: 0,
    bytes(n: number): Uint8Array {
      assert.ok(source.served + n <= script.length, `asked for more bytes than the ${script.length} scripted`);
      const out = new Uint8Array(script.slice(source.served, source.served + n));
      source.served += n;
      return out;
    },
  };
  return source;
}

function assertPoolError(fn: () => unknown, kind: PoolErrorKind, message: RegExp, entry?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof PoolError, `expected a PoolError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    assert.match(error.message, message);
    if (entry !== undefined) assert.equal(error.entry, entry);
    return true;
  });
}

/** Pearson's chi-square of `counts` against equal expected counts. */
function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((sum, c) => sum + c, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
}

/** 100 GB numbers +44 20 79AB 0007 (AB = 00…99), all ending in 0007. */
function sharedSuffixNumbers(suffix: string): string[] {
  return Array.from({ length: 100 }, (_, ab) => `+442079${String(ab).padStart(2, '0')}${suffix}`);
}

describe('parsePool', () => {
  test('case=single number keeps it as a one-number span', () => {
    const pool = parsePool(['+12015550123']);
    assert.equal(pool.size, 1);
    assert.deepEqual(pool.spans.map((s) => [s.first, s.last, s.country, s.nationalLength]), [['+12015550123', '+12015550123', 'US', 10]]);
  });

  test('case=range counts its numbers without listing them', () => {
    const pool = parsePool(['+442079000000-+442079999999']);
    assert.equal(pool.size, 1_000_000);
    assert.equal(pool.spans.length, 1);
    assert.equal(pool.spans[0]!.country, 'GB');
  });

  test('case=whitespace is ignored, in numbers and around the dash', () => {
    const pool = parsePool(['+44 20 7946 0000 - +44 20 7946 0999', ' +31 20 123 4567 ']);
    assert.deepEqual(pool.spans.map((s) => `${s.first}-${s.last}`), ['+31201234567-+31201234567', '+442079460000-+442079460999']);
  });

  test('case=overlapping, touching and repeated entries merge', () => {
    const pool = parsePool([
      '+442079460500-+442079461499',
      '+442079460000-+442079460999',
      '+442079461500-+442079461999', // touches the first
      '+442079460123', // inside
      '+442079460123', // again
      '+442079470000', // apart
    ]);
    assert.deepEqual(pool.spans.map((s) => `${s.first}-${s.last}`), ['+442079460000-+442079461999', '+442079470000-+442079470000']);
    assert.equal(pool.size, 2001);
  });

  test('case=the result is frozen', () => {
    const pool = parsePool(['+12015550123']);
    assert.ok(Object.isFrozen(pool) && Object.isFrozen(pool.spans) && Object.isFrozen(pool.spans[0]));
  });

  const invalid: Array<[string, string, RegExp]> = [
    ['garbage', 'call me', /neither an E\.164 number/],
    ['national form', '020 7946 0000', /neither an E\.164 number/],
    ['dangling dash', '+442079460000-', /neither an E\.164 number/],
    ['range with a national end', '+442079460000-02079469999', /neither an E\.164 number/],
    ['trunk prefix kept', '+44 020 7946 0000', /not in E\.164 form; write it as "\+442079460000"/],
    ['too long for E.164', '+4420794600000000', /has 16 digits; E\.164 allows at most 15/],
    ['unknown country code', '+999123456789', /not a phone number|not a valid number/],
    ['not a valid number (one digit too many)', '+4420794600000-+4420794699999', /"\+4420794600000" is not a valid number for \+44/],
    ['reversed range', '+442079469999-+442079460000', /reversed.*write "\+442079460000-\+442079469999"/],
    ['ends of unequal length', '+442079460000-+31201234567', /different lengths \(12 and 11 digits\)/],
    ['ends in different countries', '+12015550100-+14165550100', /different countries \(US and CA\)/],
  ];
  for (const [name, entry, message] of invalid) {
    test(`case=invalid ${name} names the entry`, () => {
      assertPoolError(() => parsePool(['+12015550123', entry]), 'invalid_entry', message, entry);
      assertPoolError(() => parsePool([entry]), 'invalid_entry', new RegExp(`"${entry.replace(/[+()]/g, '\\$&')}"`));
    });
  }

  test('case=invalid overlap of entries in different countries is refused, naming both', () => {
    // +1 201… to +1 212… passes through area code 204, which is Canada's.
    assertPoolError(
      () => parsePool(['+12012000000-+12129999999', '+12042345678']),
      'invalid_entry',
      /"\+12012000000-\+12129999999" and "\+12042345678" overlap but are in different countries \(US and CA\)/,
      '+12042345678',
    );
  });

  test('case=invalid empty pool', () => {
    assertPoolError(() => parsePool([]), 'invalid_entry', /has no numbers/);
  });
});

describe('distinctCodes', () => {
  const cases: Array<[string, string[], number, number]> = [
    ['range smaller than 10^N', ['+442079460000-+442079460499'], 4, 500],
    ['range of exactly 10^N covers every suffix', ['+442079460000-+442079469999'], 4, 10_000],
    ['unaligned range of 10^N covers every suffix', ['+442079461234-+442079471233'], 4, 10_000],
    ['range longer than 10^N', ['+442079000000-+442079999999'], 5, 100_000],
    ['range of 10^4 gives only 10^4 of the 10^5 five-digit codes', ['+442079460000-+442079469999'], 5, 10_000],
    // …99990 to …00009: suffixes 99990–99999 and 00000–00009.
    ['wrap-around across a 10^N boundary', ['+442079499990-+442079500009'], 5, 20],
    ['wrap-around whose two pieces meet others', ['+442079499990-+442079500009', '+442079400005-+442079400015', '+442079399980-+442079399995'], 5, 36],
    ['overlapping ranges are not counted twice', ['+442079460000-+442079460599', '+442079460400-+442079460999'], 4, 1000],
    ['ranges in different blocks with overlapping suffixes', ['+442079460000-+442079460599', '+442079470400-+442079470999'], 4, 1000],
    ['ranges in different countries with the same suffixes', ['+442079460000-+442079460999', '+12015550000-+12015550999'], 4, 1000],
    ['100 numbers sharing one suffix give one code', sharedSuffixNumbers('0007'), 4, 1],
    ['shared suffixes among a range', [...sharedSuffixNumbers('0007'), '+442079460000-+442079460999'], 4, 1000],
    ['shared 4-digit suffix, distinct 5-digit ones', sharedSuffixNumbers('0007'), 5, 10],
  ];
  for (const [name, spec, codeLength, expected] of cases) {
    test(`case=${name}`, () => {
      assert.equal(distinctCodes(parsePool(spec), codeLength), expected);
    });
  }

  test('case=explicit numbers are counted by suffix', () => {
    const spec = Array.from({ length: 50 }, (_, i) => `+44207946${String(i * 7).padStart(4, '0')}`);
    assert.equal(distinctCodes(parsePool(spec), 4), 50);
    // Doubled with a second block ending in the same digits: still 50 codes, 100 numbers.
    const doubled = parsePool([...spec, ...spec.map((n) => n.replace('+44207946', '+44207947'))]);
    assert.equal(doubled.size, 100);
    assert.equal(distinctCodes(doubled, 4), 50);
  });
});

describe('poolProblems', () => {
  test('case=fit pool has none', () => {
    assert.deepEqual(poolProblems(parsePool(['+442079460000-+442079469999']), 5), []);
    assert.doesNotThrow(() => assertPoolUsable(parsePool(['+442079460000-+442079469999']), 5));
  });

  test('case=too small for the code length, in the words of the rule', () => {
    const pool = parsePool(['+442079460000-+442079460499']);
    assert.deepEqual(poolProblems(pool, 5), ['the pool gives 500 distinct 5-digit codes; at least 10,000 are needed']);
    assertPoolError(() => assertPoolUsable(pool, 5), 'unusable', /500 distinct 5-digit codes; at least 10,000/);
  });

  test('case=10^N / 10 is the bar: N=6 needs 100,000', () => {
    assert.equal(requiredDistinctCodes(6), 100_000);
    const pool = parsePool(['+442079400000-+442079499998']);
    assert.deepEqual(poolProblems(pool, 6), ['the pool gives 99,999 distinct 6-digit codes; at least 100,000 are needed']);
    assert.deepEqual(poolProblems(parsePool(['+442079400000-+442079499999']), 6), []);
  });

  test('case=the 1,000 floor holds for N=4', () => {
    assert.equal(requiredDistinctCodes(4), 1000);
    assert.deepEqual(poolProblems(parsePool(['+442079460000-+442079460998']), 4), ['the pool gives 999 distinct 4-digit codes; at least 1,000 are needed']);
    assert.deepEqual(poolProblems(parsePool(['+442079460000-+442079460999']), 4), []);
  });

  test('case=many numbers count for nothing if they share suffixes', () => {
    // 1,000 numbers, 10 codes.
    const spec = Array.from({ length: 10 }, (_, d) => sharedSuffixNumbers(`000${d}`)).flat();
    const pool = parsePool(spec);
    assert.equal(pool.size, 1000);
    assert.deepEqual(poolProblems(pool, 4), ['the pool gives 10 distinct 4-digit codes; at least 1,000 are needed']);
  });

  test('case=code length outside 4 to 6', () => {
    const pool = parsePool(['+442079000000-+442079999999']);
    for (const length of [3, 7, 4.5, Number.NaN]) {
      assert.deepEqual(poolProblems(pool, length), [`a missed-call code has 4 to 6 digits; got ${length}`]);
    }
  });

  test('case=a national number no longer than the code', () => {
    // The Faroes have 6-digit national numbers: a 6-digit code would be the whole of it.
    const problems = poolProblems(parsePool(['+298212345']), 6);
    assert.equal(problems[0], '"+298212345" has 6 digits after its country code; a 6-digit code would leave none of them visible');
  });
});

describe('drawCaller', () => {
  test('case=the code is the last N digits of a number in the pool', () => {
    const pool = parsePool(['+442079460000-+442079469999', '+12015550100-+12015550199']);
    const random = seededRandom('membership');
    for (let i = 0; i < 2000; i++) {
      const { from, code } = drawCaller(pool, 5, random);
      assert.match(from, /^\+\d+$/);
      assert.equal(code, from.slice(-5));
      const value = Number(from.slice(1));
      assert.ok(pool.spans.some((s) => s.start <= value && value <= s.end), `${from} is in the pool`);
    }
  });

  test('case=the index is drawn by rejection on bytes, not by modulo', () => {
    // 1,000 codes → 10 bits from 2 bytes, the top byte masked to 2 bits.
    const pool = parsePool(['+442079460000-+442079460999']);
    // 1. 0x03ff = 1023 ≥ 1000: rejected (modulo would have mapped it to 23).
    // 2. 0x0005 = 5: the 6th code. One number has it, so no byte is spent choosing it.
    const random = scriptedRandom([0xff, 0xff, 0xfc, 0x05]);
    assert.deepEqual(drawCaller(pool, 4, random), { from: '+442079460005', code: '0005' });
    assert.equal(random.served, 4);
  });

  test('case=codes are uniform over a full block (chi-square, fixed seed)', () => {
    const pool = parsePool(['+442079000000-+442079999999']);
    const random = seededRandom('uniform-full');
    const n = 20_000;
    const first = new Array<number>(10).fill(0);
    const last = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const { code } = drawCaller(pool, 5, random);
      first[Number(code[0])]! += 1;
      last[Number(code[4])]! += 1;
    }
    // 9 degrees of freedom; 33.72 is the 0.9999 quantile. The seed is fixed, so this never flakes.
    assert.ok(chiSquare(first) < 33.72, `first digit: ${first.join(',')}`);
    assert.ok(chiSquare(last) < 33.72, `last digit: ${last.join(',')}`);
  });

  test('case=SEC-17 a suffix that 100 numbers share is no likelier than one that a single number has', () => {
    // Threat: drawing a number uniformly would make the code that 100 numbers share about 100×
    // likelier than any other (≈9% instead of 0.1%), so guessing it would win far too often.
    // Pool: …0000–…0999 once each, and 99 more numbers ending in 0007: 1,000 codes, 1,099 numbers.
    const pool = parsePool(['+442079460000-+442079460999', ...sharedSuffixNumbers('0007')]);
    assert.equal(pool.size, 1099);
    assert.equal(distinctCodes(pool, 4), 1000);
    const random = seededRandom('uniform-biased');
    const n = 50_000;
    const counts = new Array<number>(1000).fill(0);
    const callersOf0007 = new Set<string>();
    for (let i = 0; i < n; i++) {
      const { from, code } = drawCaller(pool, 4, random);
      counts[Number(code)]! += 1;
      if (code === '0007') callersOf0007.add(from);
    }
    // 50 expected; number-uniform drawing would give about 4,500.
    assert.ok(counts[7]! >= 25 && counts[7]! <= 80, `code 0007 drawn ${counts[7]} times; about 50 expected`);
    // 999 degrees of freedom: mean 999, sd ≈ 44.7; 1,250 is more than 5 sd above.
    const x2 = chiSquare(counts);
    assert.ok(x2 < 1250, `chi-square over 1,000 codes is ${x2.toFixed(1)}`);
    // Within the code, the number is itself drawn among the 100 that carry it.
    assert.ok(callersOf0007.size >= 20, `${callersOf0007.size} different callers gave 0007`);
  });

  test('case=exclude: an excluded number is never used', () => {
    const pool = parsePool(['+442079460000-+442079460999']);
    const random = seededRandom('exclude');
    const used = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const { from } = drawCaller(pool, 4, random, (e164) => used.has(e164));
      assert.ok(!used.has(from), `${from} was used twice`);
      used.add(from);
    }
  });

  test('case=exclude: the predicate sees E.164 numbers; half excluded still draws', () => {
    const pool = parsePool(['+442079460000-+442079460999']);
    const random = seededRandom('exclude-half');
    const seen: string[] = [];
    for (let i = 0; i < 200; i++) {
      const { code } = drawCaller(pool, 4, random, (e164) => {
        seen.push(e164);
        return Number(e164.slice(-4)) % 2 === 0;
      });
      assert.equal(Number(code) % 2, 1);
    }
    for (const e164 of seen) assert.match(e164, /^\+44207946\d{4}$/);
  });

  test('case=exclude: every number excluded → exhausted, after a bounded number of draws', () => {
    const pool = parsePool(['+442079460000-+442079460999']);
    let calls = 0;
    assertPoolError(
      () => drawCaller(pool, 4, seededRandom('exhausted'), () => (calls++, true)),
      'exhausted',
      /the pool is exhausted for this recipient/,
    );
    assert.equal(calls, MAX_DRAWS);
  });

  test('case=a code length outside 4 to 6 is refused', () => {
    const pool = parsePool(['+442079000000-+442079999999']);
    assertPoolError(() => drawCaller(pool, 7, seededRandom('length')), 'unusable', /4 to 6 digits; got 7/);
  });
});

describe('visiblePrefix', () => {
  const cases: Array<[string, number, string]> = [
    ['+442079460123', 4, '+44 20 7946 ••••'],
    ['+442079460123', 5, '+44 20 794• ••••'],
    ['+442079460123', 6, '+44 20 79•• ••••'],
    ['+31201234567', 4, '+31 20 123 ••••'],
    ['+31201234567', 5, '+31 20 12• ••••'],
    ['+31612345678', 5, '+31 6 123•••••'],
    ['+12015550123', 4, '+1 201 555 ••••'],
    ['+12015550123', 5, '+1 201 55• ••••'],
    ['+12015550123', 6, '+1 201 5•• ••••'],
  ];
  for (const [from, digits, expected] of cases) {
    test(`case=${from} N=${digits} → "${expected}"`, () => {
      assert.deepEqual(visiblePrefix(from, digits), { callerPrefix: expected, digits });
    });
  }

  test('case=the visible digits are the number without its code', () => {
    const { from, code } = drawCaller(parsePool(['+442079460000-+442079469999']), 5, seededRandom('prefix'));
    const { callerPrefix } = visiblePrefix(from, 5);
    assert.equal(callerPrefix.replace(/\D/g, ''), from.slice(1, -5));
    assert.equal([...callerPrefix].filter((c) => c === '•').length, code.length);
  });

  test('case=refuses what is not an E.164 number longer than the code', () => {
    assert.throws(() => visiblePrefix('02079460123', 5), RangeError);
    assert.throws(() => visiblePrefix('+1234', 5), RangeError);
  });
});

describe('codeEntropyBits', () => {
  test('case=SEC-17 50 numbers, N=4 → log2(50) ≈ 5.64 bits, and the pool is refused', () => {
    // Threat: reporting log2(10^4) ≈ 13.3 bits for a 4-digit missed-call code overstates it
    // when only 50 caller numbers exist: a guesser picks among 50 codes, not 10,000.
    const spec = Array.from({ length: 50 }, (_, i) => `+44207946${String(1000 + i * 13).padStart(4, '0')}`);
    const pool: Pool = parsePool(spec);
    const bits = codeEntropyBits(pool, 4);
    assert.equal(bits, Math.log2(50));
    assert.equal(bits.toFixed(2), '5.64');
    assert.deepEqual(poolProblems(pool, 4), ['the pool gives 50 distinct 4-digit codes; at least 1,000 are needed']);
  });

  test('case=numbers sharing suffixes add no entropy', () => {
    assert.equal(codeEntropyBits(parsePool(sharedSuffixNumbers('0007')), 4), 0);
  });

  test('case=a full block gives N·log2(10) bits', () => {
    const pool = parsePool(['+442079000000-+442079999999']);
    assert.equal(codeEntropyBits(pool, 5), Math.log2(100_000));
    assert.equal(codeEntropyBits(pool, 6), Math.log2(1_000_000));
  });
});
