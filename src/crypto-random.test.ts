import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCryptoRandom } from './crypto-random.ts';

test('draws of every size are fresh bytes, across pool refills, and no two draws repeat', () => {
  const random = createCryptoRandom();
  const seen = new Set<string>();
  let total = 0;
  for (let i = 0; i < 2000; i++) {
    const length = [1, 12, 16, 32, 5000][i % 5]!;
    const bytes = random.bytes(length);
    assert.equal(bytes.length, length);
    total += length;
    if (length >= 12) {
      const hex = Buffer.from(bytes).toString('hex');
      assert.ok(!seen.has(hex), 'a draw repeated');
      seen.add(hex);
    }
  }
  assert.ok(total > 10 * 4096, 'the pool was refilled many times');
});

test('the bytes look uniform: each value of a byte about equally often', () => {
  const random = createCryptoRandom();
  const counts = new Array<number>(256).fill(0);
  const n = 256 * 400;
  for (let i = 0; i < n / 16; i++) for (const b of random.bytes(16)) counts[b]!++;
  // Chi-square with 255 degrees of freedom: above 400 happens by chance with p < 1e-7.
  const chi = counts.reduce((sum, c) => sum + (c - 400) ** 2 / 400, 0);
  assert.ok(chi < 400, `chi-square ${chi.toFixed(1)}`);
});
