/**
 * Many listeners on one long-lived AbortSignal (the server's shutdown, heard by every open
 * long-poll and event stream). Node's EventTarget scans its listener list on each add and
 * remove, so 10,000 waiters adding and removing their own listener cost O(n²); here a signal
 * gets one real listener, and each waiter is an entry in a Set.
 */
const listenersOf = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `listener` once when `signal` aborts (at once if it already has); the answer unregisters it. */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  if (signal.aborted) {
    listener();
    return () => {};
  }
  let listeners = listenersOf.get(signal);
  if (listeners === undefined) {
    const set = new Set<() => void>();
    listenersOf.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        listenersOf.delete(signal);
        for (const each of set) each();
      },
      { once: true },
    );
    listeners = set;
  }
  listeners.add(listener);
  const registered = listeners;
  return () => registered.delete(listener);
}
