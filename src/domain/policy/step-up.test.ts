import assert from 'node:assert/strict';
import { test } from 'node:test';
import { phoneBound, stepUpProblem, stepUpRequired } from './step-up.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const approved = {
  userId: 'usr_a',
  purpose: 'authentication' as const,
  status: 'approved' as const,
  bypass: false,
  recipient: '+31612345678',
  decidedAt: NOW - 60_000,
};

test('SEC-12 a phone set or changed is bound; kept or cleared is not', () => {
  assert.equal(phoneBound({ phone: null }, { phone: '+31600000000' }), '+31600000000');
  assert.equal(phoneBound({ phone: '+31611111111' }, { phone: '+31600000000' }), '+31600000000');
  assert.equal(phoneBound({ phone: '+31611111111' }, { phone: '+31611111111' }), null);
  assert.equal(phoneBound({ phone: '+31611111111' }, { phone: null }), null);
});

test('SEC-12 a step-up is required under nist only, and only of a user with a paired authenticator', () => {
  const paired = [{ kind: 'sms' as const, status: 'paired' as const }];
  assert.equal(stepUpRequired('nist', paired), true);
  assert.equal(stepUpRequired('nist', [{ kind: 'push', status: 'paired' }]), true);
  assert.equal(stepUpRequired('standard', paired), false);
  assert.equal(stepUpRequired('nist', []), false, 'enrolment: nothing to step up with');
  assert.equal(stepUpRequired('nist', [{ kind: 'sms', status: 'pending' }]), false);
  assert.equal(stepUpRequired('nist', [{ kind: 'email', status: 'paired' }]), false, 'e-mail is not an authenticator under nist');
});

test('SEC-12 a step-up is a recent approved authentication of the same user, on another authenticator, not spent before', () => {
  const user = { id: 'usr_a' };
  const problem = (v: Partial<typeof approved> | undefined, used = false, now = NOW) => stepUpProblem(v === undefined ? undefined : { ...approved, ...v }, user, '+31687654321', now, used);
  assert.equal(problem({}), null);
  assert.match(problem(undefined) ?? '', /not a verification of this user/);
  assert.match(problem({ userId: 'usr_b' }) ?? '', /not a verification of this user/);
  assert.match(problem({ purpose: 'transaction' as never }) ?? '', /purpose is transaction/);
  assert.match(problem({ status: 'pending' as never, decidedAt: null as never }) ?? '', /pending, not approved/);
  assert.match(problem({ bypass: true }) ?? '', /bypass/);
  assert.match(problem({ recipient: '+31687654321' }) ?? '', /new number itself/);
  assert.equal(problem({ decidedAt: NOW - 600_000 }), null, 'exactly 10 minutes is still recent');
  assert.match(problem({ decidedAt: NOW - 600_001 }) ?? '', /more than 10 minutes ago/);
  assert.match(problem({}, true) ?? '', /spent/);
});
