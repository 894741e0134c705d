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
