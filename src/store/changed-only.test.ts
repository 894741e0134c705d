import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedOnly } from './unit-of-work.ts';

test('an update sets only the columns whose value differs from the row it was decided on', () => {
  const before = { status: 'pending', attempts: 0, recipient: '+31612345678', expires_at: 1000, error: null as string | null };
  assert.deepEqual(changedOnly({ ...before, status: 'approved', attempts: 1 }, before), { status: 'approved', attempts: 1 });
  assert.deepEqual(changedOnly({ ...before, error: 'gone' }, before), { error: 'gone' });
  assert.deepEqual(changedOnly({ ...before, error: null }, { ...before, error: 'gone' }), { error: null }, 'a value set back to null is written');
});

test('an update that changes nothing still sets one column, so its guard is still checked', () => {
  const row = { version: 3, status: 'pending' };
  assert.deepEqual(changedOnly(row, { ...row }), { version: 3 });
});
