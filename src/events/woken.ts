import type { Notifier } from './notifier.ts';
import { onAbort } from './on-abort.ts';

/**
 * Resolves when `woken` does or after `ms`, whichever comes first; waking first clears the
 * timer. How a waiter (a long-poll, an event stream, an outbox wait) sleeps until its next
 * look. Not an async function: thousands of waiters wake at once, and each added step of
 * promises is work for every one of them.
 */
export function wokenOrAfter(woken: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  void woken.then(() => clearTimeout(timer));
  return Promise.race([woken, timeUp]);
}

/**
 * A long-poll's loop: `look` answers what to send, or how long at most to wait (ms) before
 * looking again; in between it sleeps until `subject` is woken, that time passes or `shutdown`
 * aborts (then `look` must answer). Subscribed before the first look, so a change between a look
 * and the wait is not missed. The verification's long-poll and the outbox's wait use it.
 */
export async function longPoll<T extends object>(notifier: Pick<Notifier, 'subscribe'>, subject: string, shutdown: AbortSignal, look: () => Promise<T | number>): Promise<T> {
  let changed = () => {};
  let woken = new Promise<void>((resolve) => (changed = resolve));
  // One closure for both: thousands of waiters may be open at once.
  const wake = () => changed();
  const unsubscribe = notifier.subscribe(subject, wake);
  const forgetShutdown = onAbort(shutdown, wake);
  try {
    for (;;) {
      const looked = await look();
      if (typeof looked !== 'number') return looked;
      await wokenOrAfter(woken, looked);
      woken = new Promise<void>((resolve) => (changed = resolve));
    }
  } finally {
    unsubscribe();
    forgetShutdown();
  }
}
