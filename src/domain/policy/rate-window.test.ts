import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressKey, createRateWindows } from './rate-window.ts';

const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);

describe('rate windows', () => {
  test('a key gets its quota per window, then is refused until the window ends', () => {
    const windows = createRateWindows({ name: 'ip', quota: 3, windowSeconds: 60 }, 100);
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => {
        const d = windows.hit('a', T0 + i * 1000);
        return [d.allowed, d.remaining, d.resetSeconds];
      }),
      [
        [true, 2, 60],
        [true, 1, 59],
        [true, 0, 58],
        [false, 0, 57],
      ],
    );
    // Another key has its own budget.
    assert.equal(windows.hit('b', T0 + 3000).allowed, true);
    // Just before the end: still refused, 1 s to go; at the end, a fresh window.
    const late = windows.hit('a', T0 + 59_500);
    assert.deepEqual([late.allowed, late.resetSeconds], [false, 1]);
    const fresh = windows.hit('a', T0 + 60_000);
    assert.deepEqual([fresh.allowed, fresh.remaining, fresh.resetSeconds], [true, 2, 60]);
  });

  test('a clock set back starts a new window instead of one that never ends', () => {
    const windows = createRateWindows({ name: 'ip', quota: 1, windowSeconds: 10 }, 10);
    windows.hit('a', T0);
    assert.equal(windows.hit('a', T0).allowed, false);
    assert.equal(windows.hit('a', T0 - 3_600_000).allowed, true);
  });

  test('memory is bounded: ended windows are dropped, and past maxKeys the oldest live one goes', () => {
    const windows = createRateWindows({ name: 'ip', quota: 1, windowSeconds: 60 }, 1000);
    for (let i = 0; i < 1000; i++) windows.hit(`k${i}`, T0 + i);
    assert.equal(windows.size, 1000);
    // One minute later every window has ended: a new key sweeps them all away.
    windows.hit('late', T0 + 61_000);
    assert.equal(windows.size, 1);
    // A flood of distinct keys never holds more than maxKeys windows.
    for (let i = 0; i < 5000; i++) windows.hit(`flood${i}`, T0 + 62_000);
    assert.equal(windows.size, 1000);
    // The newest keys are the ones kept, still limited.
    assert.equal(windows.hit('flood4999', T0 + 62_000).allowed, false);
  });

  test('bad limits are refused', () => {
    assert.throws(() => createRateWindows({ name: 'x', quota: 0, windowSeconds: 60 }, 10), RangeError);
    assert.throws(() => createRateWindows({ name: 'x', quota: 1, windowSeconds: 60 }, 0), RangeError);
  });
});

describe('addressKey', () => {
  test('IPv4 is its own key; IPv4-mapped IPv6 is the IPv4 address', () => {
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('::ffff:cb00:7107'), '203.0.113.7');
  });

  test('IPv6 is keyed by its /64, whatever the spelling', () => {
    const key = '2001:db8:1:2::/64';
    for (const a of ['2001:db8:1:2::1', '2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:DB8:1:2:0:0:0:9', '2001:db8:1:2::1%eth0', '2001:db8:1:2::192.0.2.1']) {
      assert.equal(addressKey(a), key, a);
    }
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.notEqual(addressKey('2001:db8:1:3::1'), key);
  });

  test('no address or a malformed one still gets a bounded key of its own', () => {
    assert.equal(addressKey(undefined), 'unknown');
    assert.equal(addressKey(''), 'unknown');
    assert.equal(addressKey('1:2:3'), 'other:1:2:3');
    assert.equal(addressKey('x'.repeat(500)).length, 'other:'.length + 64);
    assert.equal(addressKey('1:2::3::4').startsWith('other:'), true);
    assert.equal(addressKey('256.1.1.1'), 'other:256.1.1.1');
  });
});
