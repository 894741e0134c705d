import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afterFailure, MAX_DELIVERY_ATTEMPTS, retryDelayMs } from './delivery.ts';

describe('retryDelayMs', () => {
  const bases = [1_000, 4_000, 16_000, 64_000];

  test('without jitter offset (jitter 0.5) is 1 s, 4 s, 16 s, 64 s after tries 1..4', () => {
    assert.deepEqual([1, 2, 3, 4].map((attempts) => retryDelayMs(attempts, 0.5)), bases);
  });

  test('stays within ±20 % of the base for any jitter in [0, 1)', () => {
    for (const [i, base] of bases.entries()) {
      for (const jitter of [0, 0.001, 0.25, 0.5, 0.75, 0.999999]) {
        const delay = retryDelayMs(i + 1, jitter);
        assert.ok(delay >= base * 0.8 && delay <= base * 1.2, `try ${i + 1}, jitter ${jitter}: ${delay} ms`);
      }
      assert.equal(retryDelayMs(i + 1, 0), base * 0.8);
    }
  });

  test('grows with every failed try, even between the extremes of the jitter', () => {
    for (let attempts = 1; attempts < MAX_DELIVERY_ATTEMPTS; attempts++) {
      assert.ok(retryDelayMs(attempts + 1, 0) > retryDelayMs(attempts, 0.999999), `after try ${attempts + 1}`);
    }
  });

  test('spreads retries: different jitter gives different delays', () => {
    const delays = new Set([0, 0.2, 0.4, 0.6, 0.8].map((jitter) => retryDelayMs(2, jitter)));
    assert.equal(delays.size, 5);
  });

  test('treats a count below one as the first try', () => {
    assert.equal(retryDelayMs(0, 0.5), 1_000);
  });
});

describe('afterFailure', () => {
  test('retries a temporary failure until the last allowed try', () => {
    assert.equal(MAX_DELIVERY_ATTEMPTS, 5);
    for (let attempts = 1; attempts < MAX_DELIVERY_ATTEMPTS; attempts++) assert.equal(afterFailure(attempts, false), 'retry');
    assert.equal(afterFailure(MAX_DELIVERY_ATTEMPTS, false), 'give_up');
    assert.equal(afterFailure(MAX_DELIVERY_ATTEMPTS + 1, false), 'give_up');
  });

  test('gives up at once on a permanent failure', () => {
    assert.equal(afterFailure(1, true), 'give_up');
  });
});
