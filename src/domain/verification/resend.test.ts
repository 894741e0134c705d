import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeHmac } from '../codes/code.ts';
import type { RandomSource } from '../random.ts';
import { createVerification, decide, type Input } from './verification.ts';

const key = new Uint8Array(32).fill(7);
let counter = 0;
const random: RandomSource = { bytes: (n) => Uint8Array.from({ length: n }, () => counter++ % 250) };
const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);
const policy = { cooldownSeconds: 30, maxResends: 3 };

function fresh() {
  return createVerification(
    { applicationId: 'app_x', userId: null, channel: 'sms', purpose: 'authentication', recipient: '+31612345678', locale: 'en', ttlSeconds: 600, codeLength: 6, maxAttempts: 3 },
    T0,
    random,
    key,
  );
}

const resendInput = (id: string, code: string): Input => ({ type: 'resend', codeHmac: codeHmac(key, id, code), channel: 'sms', recipient: '+31612345678', policy });

test('SEC-07 resend swaps the code hash, keeps attempts and expiry, and counts the resend', () => {
  const { verification, code } = fresh();
  const afterWrong = decide(verification, { type: 'check', code: code === '000000' ? '111111' : '000000', codeKey: key }, T0 + 1000).next;
  assert.ok(afterWrong);
  const d = decide(afterWrong, resendInput(verification.id, '424242'), T0 + 31_000);
  assert.equal(d.outcome.kind, 'resent');
  assert.ok(d.next);
  assert.equal(d.next.attempts, 1);
  assert.equal(d.next.expiresAt, verification.expiresAt);
  assert.equal(d.next.resends, 1);
  assert.equal(d.next.lastSentAt, T0 + 31_000);
  assert.deepEqual(d.events.map((e) => e.type), ['verification.resent']);
  assert.equal(decide(d.next, { type: 'check', code, codeKey: key }, T0 + 32_000).outcome.kind, 'incorrect', 'the old code is void');
  assert.equal(decide(d.next, { type: 'check', code: '424242', codeKey: key }, T0 + 32_000).outcome.kind, 'approved');
});

test('resend: cooldown from the last send, a cap, and nothing on a final verification', () => {
  const { verification } = fresh();
  const early = decide(verification, resendInput(verification.id, '1'), T0 + 12_500);
  assert.deepEqual(early.outcome, { kind: 'resend_cooldown', retryAfterSeconds: 18 });
  assert.equal(early.next, null);
  let v = verification;
  let now = T0;
  for (let i = 0; i < 3; i++) {
    now += 30_000;
    const next = decide(v, resendInput(v.id, String(i)), now).next;
    assert.ok(next);
    v = next;
  }
  assert.deepEqual(decide(v, resendInput(v.id, 'x'), now + 30_000).outcome, { kind: 'resend_limit', limit: 3 });
  const cancelled = decide(verification, { type: 'cancel' }, T0).next;
  assert.ok(cancelled);
  assert.equal(decide(cancelled, resendInput(v.id, 'y'), T0 + 60_000).outcome.kind, 'closed');
  assert.equal(decide(verification, resendInput(v.id, 'z'), verification.expiresAt).outcome.kind, 'closed', 'expired first');
});
