import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which addresses a webhook may be sent to (Standard Webhooks "SSRF"; ASVS 5 1.3.6). A
 * receiver is on the public internet: anything that reaches the server's own host, its
 * network, or a cloud metadata service is refused. Pure: the caller resolves names.
 */

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'metadata'
  | 'unspecified'
  | 'shared'
  | 'multicast'
  | 'reserved'
  | 'invalid';

interface Range {
  prefix: Uint8Array;
  bits: number;
  class: Exclude<AddressClass, 'public' | 'invalid'>;
}

function v4(text: string): Uint8Array {
  return new Uint8Array(text.split('.').map(Number));
}

/** Bytes of an IPv6 address (with or without an embedded dotted IPv4 tail), or null. */
function v6(text: string): Uint8Array | null {
  let head = text;
  let tail: number[] = [];
  const lastColon = head.lastIndexOf(':');
  if (head.slice(lastColon + 1).includes('.')) {
    const quad = head.slice(lastColon + 1);
    if (!isIPv4(quad)) return null;
    tail = [...v4(quad)];
    head = head.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(halves[0] ?? '');
  const right = halves.length === 2 ? parse(halves[1] ?? '') : [];
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = (g >> 8) & 0xff;
    bytes[2 * i + 1] = g & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}

function range(cidr: string, cls: Range['class']): Range {
  const [address, bits] = cidr.split('/') as [string, string];
  const prefix = isIPv4(address) ? v4(address) : v6(address);
  if (prefix === null) throw new Error(`bad range ${cidr}`);
  return { prefix, bits: Number(bits), class: cls };
}

function inRange(bytes: Uint8Array, r: Range): boolean {
  if (bytes.length !== r.prefix.length) return false;
  for (let bit = 0; bit < r.bits; bit++) {
    const mask = 0x80 >> bit % 8;
    if (((bytes[bit >> 3] ?? 0) & mask) !== ((r.prefix[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

// Most specific first: the metadata address lies inside link-local.
const V4_RANGES: readonly Range[] = [
  range('169.254.169.254/32', 'metadata'),
  range('0.0.0.0/32', 'unspecified'),
  range('0.0.0.0/8', 'reserved'),
  range('127.0.0.0/8', 'loopback'),
  range('10.0.0.0/8', 'private'),
  range('172.16.0.0/12', 'private'),
  range('192.168.0.0/16', 'private'),
  range('169.254.0.0/16', 'link_local'),
  range('100.64.0.0/10', 'shared'),
  range('192.0.0.0/24', 'reserved'),
  range('192.0.2.0/24', 'reserved'),
  range('198.18.0.0/15', 'reserved'),
  range('198.51.100.0/24', 'reserved'),
  range('203.0.113.0/24', 'reserved'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'),
];

const V6_RANGES: readonly Range[] = [
  range('fd00:ec2::254/128', 'metadata'),
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('fe80::/10', 'link_local'),
  range('fc00::/7', 'private'),
  range('fec0::/10', 'private'),
  range('ff00::/8', 'multicast'),
  range('100::/64', 'reserved'),
  range('2001:db8::/32', 'reserved'),
];

/** IPv6 forms that carry an IPv4 address in their last 32 bits: mapped, compatible, NAT64. */
const EMBEDS_V4: readonly Range[] = [range('::ffff:0:0/96', 'reserved'), range('::/96', 'reserved'), range('64:ff9b::/96', 'reserved')];

/** The class of an IP address (text); IPv4 inside IPv6 is judged as the IPv4 it carries. */
export function classifyAddress(address: string): AddressClass {
  const text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(text)) return classifyBytes(v4(text));
  if (!isIPv6(text)) return 'invalid';
  const bytes = v6(text);
  if (bytes === null) return 'invalid';
  // The metadata address, :: and ::1 first: the last two are inside ::/96 but are not IPv4 addresses.
  for (const r of V6_RANGES.slice(0, 3)) if (inRange(bytes, r)) return r.class;
  if (EMBEDS_V4.some((r) => inRange(bytes, r))) return classifyBytes(bytes.slice(12));
  return classifyBytes(bytes);
}

function classifyBytes(bytes: Uint8Array): AddressClass {
  for (const r of bytes.length === 4 ? V4_RANGES : V6_RANGES) if (inRange(bytes, r)) return r.class;
  return 'public';
}

export interface TargetPolicy {
  /** Development only: loopback receivers (and plain http) are allowed. */
  allowLoopback: boolean;
}

/** Whether a webhook may be sent to an address of this class. */
export function isAllowedTarget(cls: AddressClass, policy: TargetPolicy): boolean {
  return cls === 'public' || (cls === 'loopback' && policy.allowLoopback);
}

/**
 * The first refused address of a name's addresses, or null when all are allowed. Every
 * address must pass: a name with one public and one private address is refused, since the
 * connection could go to either.
 */
export function refusedAddress(addresses: readonly string[], policy: TargetPolicy): { address: string; class: AddressClass } | null {
  for (const address of addresses) {
    const cls = classifyAddress(address);
    if (!isAllowedTarget(cls, policy)) return { address, class: cls };
  }
  return null;
}

export type UrlProblem = { reason: string };

/** Checks a webhook URL's shape before its host is resolved; answers the problem or null. */
export function urlProblem(raw: string, options: { allowInsecure: boolean }): UrlProblem | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { reason: 'it is not an absolute URL' };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && options.allowInsecure)) {
    return { reason: options.allowInsecure ? 'only http and https URLs are allowed' : 'it must use https' };
  }
  if (url.username !== '' || url.password !== '') return { reason: 'it must not carry a user name or password' };
  if (url.hostname === '') return { reason: 'it has no host' };
  return null;
}

/** A URL's host as an address to classify, without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}
