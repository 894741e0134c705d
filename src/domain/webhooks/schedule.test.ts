import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DISABLE_AFTER_MS, MAX_ATTEMPTS, nextRetryDelayMs, RETRY_SCHEDULE_MS, retryAfterMs, shouldDisable, unitFromBytes, verdictOf } from './schedule.ts';

describe('webhook retry schedule (SEC-41)', () => {
  test('SEC-41: ten attempts: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h; over three days in all', () => {
    assert.equal(MAX_ATTEMPTS, 10);
    const h = 3_600_000;
    assert.deepEqual(RETRY_SCHEDULE_MS, [0, 5000, 300_000, 1_800_000, 2 * h, 5 * h, 10 * h, 14 * h, 20 * h, 24 * h]);
    const total = RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    assert.ok(total > 72 * h && total < 76 * h);
  });

  test('SEC-41: the delay after the n-th failure is the schedule entry n, moved by at most ±10 %', () => {
    for (let n = 1; n < MAX_ATTEMPTS; n++) {
      const base = RETRY_SCHEDULE_MS[n]!;
      assert.equal(nextRetryDelayMs(n, 0.5), base);
      assert.equal(nextRetryDelayMs(n, 0), Math.round(base * 0.9));
      assert.equal(nextRetryDelayMs(n, 0.999999), Math.round(base * 1.1 - base * 0.2 * 0.000001));
    }
    assert.equal(nextRetryDelayMs(MAX_ATTEMPTS, 0.5), null, 'after the tenth failure the message has failed');
    assert.equal(nextRetryDelayMs(0, 0.5), null);
  });

  test("SEC-41: a receiver's Retry-After lengthens a retry, never shortens it", () => {
    assert.equal(nextRetryDelayMs(1, 0.5, 60_000), 60_000);
    assert.equal(nextRetryDelayMs(2, 0.5, 60_000), 300_000);
  });

  test('SEC-41: Retry-After is read on 429/502/503/504 only, as seconds or an HTTP date, capped at 24 h', () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(retryAfterMs(429, '120', now), 120_000);
    assert.equal(retryAfterMs(503, new Date(now + 90_000).toUTCString(), now), 90_000);
    assert.equal(retryAfterMs(504, '999999', now), 24 * 3_600_000);
    assert.equal(retryAfterMs(502, 'soon', now), null);
    assert.equal(retryAfterMs(500, '120', now), null);
    assert.equal(retryAfterMs(429, undefined, now), null);
  });

  test('SEC-41: only 2xx delivers; 410 is gone; 3xx, 4xx, 5xx and no answer are retried', () => {
    assert.equal(verdictOf(200), 'delivered');
    assert.equal(verdictOf(204), 'delivered');
    assert.equal(verdictOf(299), 'delivered');
    assert.equal(verdictOf(410), 'gone');
    for (const status of [301, 302, 307, 400, 404, 429, 500, 503]) assert.equal(verdictOf(status), 'retry');
    assert.equal(verdictOf(null), 'retry');
  });

  test('an endpoint is disabled only after 3 days without a success since the failed message began', () => {
    const day = 86_400_000;
    assert.equal(shouldDisable(0, null, DISABLE_AFTER_MS), true);
    assert.equal(shouldDisable(0, null, DISABLE_AFTER_MS - 1), false);
    // Every delay at its shortest (jitter −10 %): the last attempt still comes late enough to disable.
    let shortest = 0;
    for (let made = 1; made < MAX_ATTEMPTS; made++) shortest += nextRetryDelayMs(made, 0)!;
    assert.ok(shouldDisable(0, null, shortest), `the whole schedule at its shortest (${shortest} ms) disables`);
    assert.ok(DISABLE_AFTER_MS > 3 * day - 5 * 3_600_000, 'still about three days');
    assert.equal(shouldDisable(0, 5, 4 * day), false, 'a success after the first attempt keeps it');
    assert.equal(shouldDisable(10, 5, 4 * day), true, 'a success before does not');
  });

  test('unitFromBytes is in [0, 1)', () => {
    assert.equal(unitFromBytes(new Uint8Array([0, 0, 0, 0])), 0);
    const top = unitFromBytes(new Uint8Array([255, 255, 255, 255]));
    assert.ok(top < 1 && top > 0.999999);
  });
});
