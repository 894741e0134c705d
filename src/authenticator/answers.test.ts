import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { autoAnswer, parseReply, replyOptions } from './answers.ts';

const none = { matching: 'none' as const, choices: null };
const pick = { matching: 'pick' as const, choices: ['07', '42', '91'] };
const type = { matching: 'type' as const, choices: null };
const readBack = { matching: 'read_back' as const, choices: null };

describe('parseReply', () => {
  test('case=deny and fraud: the same words whatever the matching', () => {
    for (const request of [none, pick, type, readBack]) {
      assert.deepEqual(parseReply(request, ' D '), { decision: 'deny' });
      assert.deepEqual(parseReply(request, 'fraud'), { decision: 'report_fraud' });
    }
  });

  test('case=none/read_back: a or yes approves; anything else asks again', () => {
    assert.deepEqual(parseReply(none, 'a'), { decision: 'approve' });
    assert.deepEqual(parseReply(readBack, 'Yes'), { decision: 'approve' });
    assert.ok('error' in parseReply(none, '42'));
  });

  test('case=pick: one of the choices as shown (07 for 7); a number not offered asks again', () => {
    assert.deepEqual(parseReply(pick, '42'), { decision: 'approve', answer: '42' });
    assert.deepEqual(parseReply(pick, '7'), { decision: 'approve', answer: '07' });
    const error = parseReply(pick, '43');
    assert.ok('error' in error && error.error.includes('07, 42, 91'));
    assert.ok('error' in parseReply(pick, 'a'), 'no approval without a number');
  });

  test('case=type: six digits, spaces and dashes dropped; anything else asks again', () => {
    assert.deepEqual(parseReply(type, '123 456'), { decision: 'approve', answer: '123456' });
    assert.deepEqual(parseReply(type, '123-456'), { decision: 'approve', answer: '123456' });
    assert.ok('error' in parseReply(type, '12345'));
    assert.ok('error' in parseReply(type, 'a'));
  });
});

describe('autoAnswer', () => {
  test('case=approve-all: approves none and read_back, skips pick and type', () => {
    assert.deepEqual(autoAnswer(none, 'approve-all'), { kind: 'answer', answer: { decision: 'approve' } });
    assert.deepEqual(autoAnswer(readBack, 'approve-all'), { kind: 'answer', answer: { decision: 'approve' } });
    assert.deepEqual(autoAnswer(pick, 'approve-all'), { kind: 'skip', why: 'pick' });
    assert.deepEqual(autoAnswer(type, 'approve-all'), { kind: 'skip', why: 'type' });
  });

  test('case=deny-all: denies everything, with no answer', () => {
    for (const request of [none, pick, type, readBack]) assert.deepEqual(autoAnswer(request, 'deny-all'), { kind: 'answer', answer: { decision: 'deny' } });
  });
});

test('replyOptions', () => {
  assert.equal(replyOptions(none), 'approve|deny|fraud');
  assert.equal(replyOptions(pick), 'pick:07,42,91|deny|fraud');
  assert.equal(replyOptions(type), 'code|deny|fraud');
});
