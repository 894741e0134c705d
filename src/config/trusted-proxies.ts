import { isIP } from 'node:net';

/** Named ranges Fastify's trustProxy (proxy-addr) understands. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * The trusted proxies of OUTBAND_TRUSTED_PROXIES: a comma-separated list of IP addresses, CIDR
 * ranges (`10.0.0.0/8`, `2001:db8::/32`) or the names loopback, linklocal and uniquelocal.
 * Every entry is checked here, so a typo fails the start instead of silently trusting nothing
 * (or, worse, Fastify throwing at the first request).
 */
export function parseTrustedProxies(text: string): string[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    if (NAMED_RANGES.has(entry)) continue;
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const version = isIP(address);
    if (version === 0) throw new Error(`"${entry}" is not an IP address, a CIDR range or one of ${[...NAMED_RANGES].join(', ')}`);
    if (slash !== -1) {
      const bits = entry.slice(slash + 1);
      const max = version === 4 ? 32 : 128;
      if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw new Error(`"${entry}": the prefix length must be 0–${max}`);
    }
  }
  return entries;
}
