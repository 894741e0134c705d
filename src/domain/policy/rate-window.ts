/**
 * Request rate limits: how many requests one key (a client address, an API client) may make in
 * a fixed window. Pure: the caller passes the time. The counters are node-local on purpose; see
 * docs/decisions/0013-node-local-request-rate-limits.md.
 */

/** One limit, named as the RateLimit-Policy header shows it, e.g. `"token-ip";q=30;w=60`. */
export interface RatePolicy {
  name: string;
  /** Requests allowed per window. */
  quota: number;
  windowSeconds: number;
}

export interface RateDecision {
  policy: RatePolicy;
  allowed: boolean;
  /** Requests left in the current window after this one. */
  remaining: number;
  /** Whole seconds until the window ends and the full quota is back; at least 1. */
  resetSeconds: number;
}

export interface RateWindows {
  readonly policy: RatePolicy;
  /** Counts one request of `key` at `now` (epoch ms) and says whether it is within the quota. */
  hit(key: string, now: number): RateDecision;
  /** Keys with a window in memory. */
  readonly size: number;
}

interface Window {
  start: number;
  count: number;
}

/**
 * Fixed windows that start at a key's first request. At most `maxKeys` windows are kept: the map
 * is in window-start order, so ended windows are dropped from its front as new ones begin, and
 * past the bound the oldest live window goes too (that key starts afresh: under a flood from more
 * addresses than the bound, the limiter gives way before the node's memory does).
 */
export function createRateWindows(policy: RatePolicy, maxKeys: number): RateWindows {
  if (!(policy.quota >= 1 && policy.windowSeconds >= 1 && maxKeys >= 1)) throw new RangeError('quota, window and maxKeys must be at least 1');
  const windowMs = policy.windowSeconds * 1000;
  const windows = new Map<string, Window>();

  function evictBefore(now: number): void {
    for (const [key, window] of windows) {
      if (window.start + windowMs > now && windows.size < maxKeys) return;
      windows.delete(key);
    }
  }

  return {
    policy,
    get size() {
      return windows.size;
    },
    hit(key, now) {
      let window = windows.get(key);
      // A clock set back also starts a new window, rather than one that never ends.
      if (window === undefined || now >= window.start + windowMs || now < window.start) {
        windows.delete(key);
        evictBefore(now);
        window = { start: now, count: 0 };
        windows.set(key, window);
      }
      window.count += 1;
      return {
        policy,
        allowed: window.count <= policy.quota,
        remaining: Math.max(0, policy.quota - window.count),
        resetSeconds: Math.max(1, Math.ceil((window.start + windowMs - now) / 1000)),
      };
    },
  };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The eight 16-bit groups of an IPv6 address (an embedded dotted IPv4 tail allowed), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address.split('%')[0] ?? ''; // a zone id names the interface, not the peer
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!IPV4.test(tail)) return null;
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : (halves[0] ?? '').split(':');
  const rest = halves.length === 1 || halves[1] === '' ? [] : (halves[1] ?? '').split(':');
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const parts = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...rest];
  if (!parts.every((p) => /^[0-9a-f]{1,4}$/i.test(p))) return null;
  return parts.map((p) => parseInt(p, 16));
}

/**
 * The rate-limit key of a client address. An IPv4 address (also when IPv4-mapped) is its own key;
 * an IPv6 address is keyed by its /64, because one subscriber is usually given a whole /64 and
 * could otherwise take a fresh budget with every address in it. Anything else (no address) is
 * kept, cut short, so it still counts against itself.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  if (IPV4.test(address)) return address;
  const groups = ipv6Groups(address);
  if (groups === null) return `other:${address.slice(0, 64)}`;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
