import type { Clock } from '../../src/services/deps.ts';

/** A clock tests move by hand. */
export class TestClock implements Clock {
  current: number;
  constructor(start = Date.UTC(2026, 10, 25, 9, 0, 0)) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
