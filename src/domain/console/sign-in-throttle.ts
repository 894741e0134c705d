/**
 * Failed sign-ins counted per key (an e-mail, a client address) in a fixed window that starts at
 * the first failure. While a key has `max` failures in its window, sign-in is refused for it, even
 * with the right password, until the window ends; a success clears the key. Pure (the caller passes
 * the time) and node-local, like the request rate limits (ADR 0013, 0016). At most `maxKeys` keys
 * are kept: past that the oldest window is dropped.
 */
export interface SignInThrottle {
  /** Seconds until `key` may try again, or 0 when it may now. */
  retryAfter(key: string, now: number): number;
  fail(key: string, now: number): void;
  clear(key: string): void;
}

export function createSignInThrottle(options: { max: number; windowMs: number; maxKeys: number }): SignInThrottle {
  const windows = new Map<string, { start: number; count: number }>();
  const live = (key: string, now: number) => {
    const w = windows.get(key);
    if (w === undefined) return undefined;
    if (now >= w.start + options.windowMs || now < w.start) {
      windows.delete(key);
      return undefined;
    }
    return w;
  };
  return {
    retryAfter(key, now) {
      const w = live(key, now);
      if (w === undefined || w.count < options.max) return 0;
      return Math.max(1, Math.ceil((w.start + options.windowMs - now) / 1000));
    },
    fail(key, now) {
      const w = live(key, now);
      if (w !== undefined) {
        w.count += 1;
        return;
      }
      if (windows.size >= options.maxKeys) {
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      windows.set(key, { start: now, count: 1 });
    },
    clear(key) {
      windows.delete(key);
    },
  };
}
