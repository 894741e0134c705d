import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { codeHmac } from '../codes/code.ts';
import type { RandomSource } from '../random.ts';
import {
  attemptsLeft,
  createVerification,
  decide,
  statusAt,
  STATUSES,
  TRANSITIONS,
  type Decision,
  type Input,
  type NewVerification,
  type TerminalStatus,
  type Verification,
} from './verification.ts';

const CODE_KEY = new Uint8Array(32).fill(1);
const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);
const TTL_MS = 600_000;

/** A fixed byte stream: SHA-256 of a counter, so every run creates the same ids and codes. */
function fixedRandom(seed: string): RandomSource {
  let counter = 0;
  let pool = new Uint8Array(0);
  return {
    bytes(n) {
      while (pool.length < n) {
        const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
        pool = new Uint8Array([...pool, ...block]);
      }
      const out = pool.slice(0, n);
      pool = pool.slice(n);
      return out;
    },
  };
}

function start(overrides: Partial<NewVerification> = {}, seed = 'verification'): { v: Verification; code: string; wrong: string } {
  const input: NewVerification = {
    applicationId: 'app_1',
    userId: 'usr_1',
    channel: 'sms',
    purpose: 'authentication',
    recipient: '+31612345678',
    locale: 'en',
    ttlSeconds: TTL_MS / 1000,
    codeLength: 6,
    maxAttempts: 3,
    ...overrides,
  };
  const { verification, code } = createVerification(input, T0, fixedRandom(seed), CODE_KEY);
  const wrong = code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);
  return { v: verification, code, wrong };
}

const right = (code: string): Input => ({ type: 'check', code, codeKey: CODE_KEY });

/** Every kind of input, with the verification's own right and wrong codes. */
function inputsFor(code: string, wrong: string): Array<[string, Input]> {
  return [
    ['check right code', right(code)],
    ['check wrong code', right(wrong)],
    ['cancel', { type: 'cancel' }],
    ['expire', { type: 'expire' }],
    ['delivery_failed', { type: 'delivery_failed' }],
  ];
}

/** The decision's status change is one the transition table declares. */
function assertDeclared(before: Verification, decision: Decision): void {
  if (decision.next === null) return;
  const edge = TRANSITIONS.some((t) => t.from === before.status && t.to === decision.next!.status);
  assert.ok(edge, `${before.status} → ${decision.next.status} is not in TRANSITIONS`);
}

describe('transitions', () => {
  test('TRANSITIONS equals the edges of state-diagram.mermaid', () => {
    const diagram = readFileSync(join(import.meta.dirname, 'state-diagram.mermaid'), 'utf8');
    const edges = diagram
      .split('\n')
      .map((line) => /^\s*(\S+)\s*-->\s*(\S+?)\s*(?::\s*(.+?))?\s*$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .filter((m) => m[1] !== '[*]' && m[2] !== '[*]')
      .map((m) => `${m[1]} --> ${m[2]}: ${m[3] ?? ''}`)
      .sort();
    const declared = TRANSITIONS.map((t) => `${t.from} --> ${t.to}: ${t.on}`).sort();
    assert.deepEqual(edges, declared);
  });

  test('the diagram starts at pending and ends at every terminal status, and only there', () => {
    const diagram = readFileSync(join(import.meta.dirname, 'state-diagram.mermaid'), 'utf8');
    const starts = [...diagram.matchAll(/^\s*\[\*\]\s*-->\s*(\w+)/gm)].map((m) => m[1]);
    const ends = [...diagram.matchAll(/^\s*(\w+)\s*-->\s*\[\*\]/gm)].map((m) => m[1]).sort();
    assert.deepEqual(starts, ['pending']);
    assert.deepEqual(ends, STATUSES.filter((s) => s !== 'pending').sort());
  });

  test('only pending has outgoing transitions, and every status is reachable', () => {
    assert.ok(TRANSITIONS.every((t) => t.from === 'pending'));
    assert.deepEqual(new Set(TRANSITIONS.map((t) => t.to)), new Set(STATUSES));
  });
});

describe('createVerification', () => {
  test('starts pending with version 0, no attempts, and the code stored only as its HMAC', () => {
    const { verification, code, events } = createVerification(
      { applicationId: 'app_1', userId: null, channel: 'email', purpose: 'pairing', recipient: 'a@example.com', locale: 'nl-BE', ttlSeconds: 300, codeLength: 8, maxAttempts: 5 },
      T0,
      fixedRandom('create'),
      CODE_KEY,
    );
    assert.match(verification.id, /^vrf_[a-z2-7]{26}$/);
    assert.match(code, /^[0-9]{8}$/);
    assert.equal(verification.status, 'pending');
    assert.equal(verification.reason, null);
    assert.equal(verification.attempts, 0);
    assert.equal(verification.maxAttempts, 5);
    assert.equal(verification.version, 0);
    assert.equal(verification.createdAt, T0);
    assert.equal(verification.expiresAt, T0 + 300_000);
    assert.equal(verification.decidedAt, null);
    assert.equal(verification.codeHmac, codeHmac(CODE_KEY, verification.id, code));
    assert.deepEqual(events.map((e) => e.type), ['verification.started']);
    assert.equal(events[0]!.data['verification_id'], verification.id);
  });

  test('is deterministic for a fixed RandomSource and differs for another', () => {
    assert.deepEqual(start({}, 'same'), start({}, 'same'));
    assert.notEqual(start({}, 'one').v.id, start({}, 'two').v.id);
  });
});

describe('decide from pending', () => {
  const now = T0 + 1000;

  test('case=check right code: approved, one approval event', () => {
    const { v, code } = start();
    const d = decide(v, right(code), now);
    assert.deepEqual(d.outcome, { kind: 'approved' });
    assert.deepEqual(d.next, { ...v, status: 'approved', reason: null, attempts: 1, decidedAt: now, version: 1 });
    assert.deepEqual(d.events.map((e) => e.type), ['verification.approved']);
    assert.deepEqual(d.events[0]!.data, { verification_id: v.id, channel: 'sms', purpose: 'authentication', aal: 1, status: 'approved', reason: null, attempts: 1, user_id: 'usr_1' });
  });

  test('case=check wrong code, attempts left: stays pending, counts the attempt', () => {
    const { v, wrong } = start({ maxAttempts: 3 });
    const d = decide(v, right(wrong), now);
    assert.deepEqual(d.outcome, { kind: 'incorrect', attemptsLeft: 2 });
    assert.deepEqual(d.next, { ...v, attempts: 1, version: 1 });
    assert.deepEqual(d.events.map((e) => e.type), ['verification.check_failed']);
  });

  test('case=check last wrong code: failed with reason max_attempts', () => {
    const { v, wrong } = start({ maxAttempts: 3 });
    const twoWrong = { ...v, attempts: 2, version: 2 };
    const d = decide(twoWrong, right(wrong), now);
    assert.deepEqual(d.outcome, { kind: 'failed' });
    assert.deepEqual(d.next, { ...twoWrong, status: 'failed', reason: 'max_attempts', attempts: 3, decidedAt: now, version: 3 });
    assert.deepEqual(d.events.map((e) => e.type), ['verification.check_failed', 'verification.failed']);
  });

  test('case=check with maxAttempts 1: the first wrong code fails the verification', () => {
    const { v, wrong } = start({ maxAttempts: 1 });
    const d = decide(v, right(wrong), now);
    assert.equal(d.next?.status, 'failed');
    assert.equal(d.next?.reason, 'max_attempts');
  });

  test('case=cancel: cancelled', () => {
    const { v } = start();
    const d = decide(v, { type: 'cancel' }, now);
    assert.deepEqual(d.outcome, { kind: 'cancelled' });
    assert.deepEqual(d.next, { ...v, status: 'cancelled', reason: 'cancelled', decidedAt: now, version: 1 });
    assert.deepEqual(d.events.map((e) => e.type), ['verification.cancelled']);
  });

  test('case=expire before expires_at: nothing to write', () => {
    const { v } = start();
    const d = decide(v, { type: 'expire' }, v.expiresAt - 1);
    assert.deepEqual(d, { next: null, events: [], outcome: { kind: 'unchanged' } });
  });

  test('case=delivery_failed: failed with reason delivery_failed', () => {
    const { v } = start();
    const d = decide(v, { type: 'delivery_failed' }, now);
    assert.deepEqual(d.outcome, { kind: 'failed' });
    assert.deepEqual(d.next, { ...v, status: 'failed', reason: 'delivery_failed', decidedAt: now, version: 1 });
    assert.deepEqual(d.events.map((e) => e.type), ['verification.failed']);
  });

  test('every change is a declared transition, and the input is not mutated', () => {
    const { v, code, wrong } = start();
    const before = structuredClone(v);
    for (const [name, input] of inputsFor(code, wrong)) {
      for (const at of [now, v.expiresAt]) {
        const d = decide(v, input, at);
        assertDeclared(v, d);
        assert.deepEqual(v, before, `${name} at ${at - T0} ms mutated its input`);
      }
    }
  });

  test('SEC-04 a code is bound to its verification: another verification\'s code is a wrong code', () => {
    const a = start({}, 'a');
    const b = start({}, 'b');
    assert.notEqual(a.code, b.code, 'the fixed seeds give different codes');
    const d = decide(b.v, right(a.code), now);
    assert.deepEqual(d.outcome, { kind: 'incorrect', attemptsLeft: 2 });
    assert.equal(decide(a.v, right(a.code), now).next?.status, 'approved');
  });

  test('SEC-08 decisions and events never carry the code', () => {
    const { v, code, wrong } = start();
    for (const [, input] of inputsFor(code, wrong)) {
      const d = decide(v, input, now);
      const text = JSON.stringify({ next: d.next, events: d.events, outcome: d.outcome });
      assert.ok(!text.includes(code), `${input.type} leaks the code`);
    }
  });
});

describe('decide from a terminal status', () => {
  const now = T0 + 1000;

  /** One verification in each terminal status, reached the way the service reaches it. */
  function terminals(): Array<{ v: Verification; code: string; wrong: string; status: TerminalStatus }> {
    const out: Array<{ v: Verification; code: string; wrong: string; status: TerminalStatus }> = [];
    const reach = (status: TerminalStatus, input: (s: ReturnType<typeof start>) => Input, at = now, overrides: Partial<NewVerification> = {}) => {
      const s = start(overrides, status);
      const next = decide(s.v, input(s), at).next;
      assert.ok(next !== null && next.status === status, `reached ${status}`);
      out.push({ ...s, v: next, status });
    };
    reach('approved', (s) => right(s.code));
    reach('failed', (s) => right(s.wrong), now, { maxAttempts: 1 });
    reach('cancelled', () => ({ type: 'cancel' }));
    reach('expired', () => ({ type: 'expire' }), T0 + TTL_MS);
    // No input leads to denied yet (it comes with device answers); it is terminal all the same.
    const denied = start({}, 'denied');
    out.push({ ...denied, v: { ...denied.v, status: 'denied', decidedAt: now, version: 1 }, status: 'denied' });
    // blocked is reached at creation: a limit or fraud control refused the start.
    const blocked = start({ blockedReasons: ['user_daily'] }, 'blocked');
    assert.equal(blocked.v.status, 'blocked');
    out.push({ ...blocked, status: 'blocked' });
    return out;
  }

  test('every terminal status is covered', () => {
    assert.deepEqual(terminals().map((t) => t.status).sort(), STATUSES.filter((s) => s !== 'pending').sort());
  });

  for (const at of [['before expires_at', now + 1], ['after expires_at', T0 + TTL_MS * 2]] as const) {
    test(`no input changes a terminal verification (${at[0]})`, () => {
      for (const t of terminals()) {
        for (const [name, input] of inputsFor(t.code, t.wrong)) {
          const d = decide(t.v, input, at[1]);
          const outcome = input.type === 'expire' ? { kind: 'unchanged' } : { kind: 'closed', status: t.status, reason: t.v.reason };
          assert.deepEqual(d, { next: null, events: [], outcome }, `${t.status} + ${name}`);
        }
      }
    });
  }

  test('SEC-03 a code is accepted once: the right code again after approval changes nothing', () => {
    const { v, code } = start();
    const approved = decide(v, right(code), now).next!;
    const again = decide(approved, right(code), now + 1);
    assert.deepEqual(again, { next: null, events: [], outcome: { kind: 'closed', status: 'approved', reason: null } });
  });

  test('SEC-05 after the last wrong attempt even the right code fails', () => {
    const { v: created, code, wrong } = start({ maxAttempts: 3 });
    let v = created;
    for (let i = 0; i < 3; i++) v = decide(v, right(wrong), now).next!;
    assert.equal(v.status, 'failed');
    const d = decide(v, right(code), now);
    assert.equal(d.next, null);
    assert.deepEqual(d.outcome, { kind: 'closed', status: 'failed', reason: 'max_attempts' });
  });
});

describe('expiry', () => {
  test('SEC-02 the right code at expires_at expires the verification instead of approving it', () => {
    const { v, code } = start();
    const d = decide(v, right(code), v.expiresAt);
    assert.deepEqual(d.outcome, { kind: 'closed', status: 'expired', reason: 'expired' });
    assert.deepEqual(d.next, { ...v, status: 'expired', reason: 'expired', decidedAt: v.expiresAt, version: 1 });
    assert.deepEqual(d.events.map((e) => e.type), ['verification.expired']);
  });

  test('one millisecond before expires_at the right code still approves', () => {
    const { v, code } = start();
    assert.equal(decide(v, right(code), v.expiresAt - 1).next?.status, 'approved');
  });

  test('expiry applies before any input, and a late attempt is not counted', () => {
    const { v, code, wrong } = start();
    const late = v.expiresAt + 60_000;
    for (const [name, input] of inputsFor(code, wrong)) {
      const d = decide(v, input, late);
      assert.equal(d.next?.status, 'expired', name);
      assert.equal(d.next?.reason, 'expired', name);
      assert.equal(d.next?.attempts, 0, name);
      assert.equal(d.next?.decidedAt, late, name);
      assert.deepEqual(d.events.map((e) => e.type), ['verification.expired'], name);
      const outcome = input.type === 'expire' ? { kind: 'expired' } : { kind: 'closed', status: 'expired', reason: 'expired' };
      assert.deepEqual(d.outcome, outcome, name);
    }
  });
});

describe('version', () => {
  test('increments by one on each change and not on a no-op', () => {
    const { v, code, wrong } = start({ maxAttempts: 5 });
    const steps: Verification[] = [v];
    const apply = (input: Input) => {
      const d = decide(steps.at(-1)!, input, T0 + steps.length);
      if (d.next !== null) steps.push(d.next);
      return d;
    };
    apply(right(wrong));
    apply(right(wrong));
    assert.equal(apply({ type: 'expire' }).next, null);
    apply(right(code));
    assert.equal(apply(right(code)).next, null);
    assert.deepEqual(steps.map((s) => s.version), [0, 1, 2, 3]);
    assert.deepEqual(steps.map((s) => s.status), ['pending', 'pending', 'pending', 'approved']);
    assert.deepEqual(steps.map((s) => s.attempts), [0, 1, 2, 3]);
  });
});

describe('attemptsLeft', () => {
  test('is maxAttempts minus attempts, never below zero', () => {
    const { v } = start({ maxAttempts: 3 });
    assert.equal(attemptsLeft(v), 3);
    assert.equal(attemptsLeft({ ...v, attempts: 2 }), 1);
    assert.equal(attemptsLeft({ ...v, attempts: 3 }), 0);
    assert.equal(attemptsLeft({ ...v, attempts: 7 }), 0);
  });

  test('follows wrong checks down to the failure', () => {
    const { v: created, wrong } = start({ maxAttempts: 3 });
    let v = created;
    const left: number[] = [];
    for (let i = 0; i < 3; i++) {
      const d = decide(v, right(wrong), T0 + i);
      v = d.next!;
      left.push(attemptsLeft(v));
      if (i < 2) assert.deepEqual(d.outcome, { kind: 'incorrect', attemptsLeft: attemptsLeft(v) });
    }
    assert.deepEqual(left, [2, 1, 0]);
  });
});

describe('statusAt', () => {
  test('a pending verification reads as expired from expires_at on, written or not', () => {
    const { v } = start();
    assert.equal(statusAt(v, v.createdAt), 'pending');
    assert.equal(statusAt(v, v.expiresAt - 1), 'pending');
    assert.equal(statusAt(v, v.expiresAt), 'expired');
    assert.equal(statusAt(v, v.expiresAt + 1), 'expired');
  });

  test('a terminal status stays as it is after expires_at', () => {
    const { v } = start();
    for (const status of STATUSES.filter((s) => s !== 'pending')) {
      assert.equal(statusAt({ ...v, status }, v.expiresAt + 1), status);
    }
  });
});
