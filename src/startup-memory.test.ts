import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSpaceStatistics } from 'node:v8';
import { releaseStartupMemory } from './startup-memory.ts';

const youngGeneration = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;

test('releaseStartupMemory shrinks a grown young generation and leaves no global gc behind', () => {
  // Allocate as a start does: many short-lived objects, some surviving a while, so V8 grows the young generation.
  let kept: object[] = [];
  for (let i = 0; i < 2_000_000; i++) {
    kept.push({ i, text: `item ${i}` });
    if (kept.length > 100_000) kept = [];
  }
  kept = [];
  const grown = youngGeneration();
  assert.ok(grown >= 8 * 1024 * 1024, `the young generation grew (${grown} bytes)`);
  releaseStartupMemory();
  const after = youngGeneration();
  assert.ok(after <= grown / 4, `${grown} → ${after} bytes`);
  assert.equal((globalThis as { gc?: unknown }).gc, undefined);
});
