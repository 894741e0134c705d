// Thousands of waiters listen for the server's shutdown at once: each must be told once, a
// waiter that has gone must not be, and the signal itself must not collect a listener per waiter
// (Node's EventTarget scans its list on every add and remove).
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { onAbort } from './on-abort.ts';

test('10,000 waiters share one listener on the signal, and each is called once at the abort', () => {
  const controller = new AbortController();
  const calls = new Array<number>(10_000).fill(0);
  for (let i = 0; i < calls.length; i++) onAbort(controller.signal, () => calls[i]!++);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  controller.abort();
  controller.abort();
  assert.ok(calls.every((n) => n === 1));
});

test('a waiter that unregistered is not called; the others are', () => {
  const controller = new AbortController();
  const called: string[] = [];
  const forgetA = onAbort(controller.signal, () => called.push('a'));
  onAbort(controller.signal, () => called.push('b'));
  forgetA();
  controller.abort();
  assert.deepEqual(called, ['b']);
});

test('on a signal already aborted the waiter is called at once', () => {
  const called: string[] = [];
  const forget = onAbort(AbortSignal.abort(), () => called.push('now'));
  assert.deepEqual(called, ['now']);
  forget();
});

test('signals are independent', () => {
  const one = new AbortController();
  const two = new AbortController();
  const called: string[] = [];
  onAbort(one.signal, () => called.push('one'));
  onAbort(two.signal, () => called.push('two'));
  two.abort();
  assert.deepEqual(called, ['two']);
});
