import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import type { RandomSource } from '../random.ts';

/**
 * Caller-ID pools for missed-call verification: the user's phone rings from a number it does
 * not answer, and the code is the last N digits of that number. The code space is only as
 * large as the set of distinct last-N-digit suffixes the pool reaches, so this module counts
 * that set exactly, refuses pools that are too small, draws codes uniformly over it, and
 * reports its real entropy (SEC-17). Ranges are handled as intervals and never enumerated.
 */

/** Digits of a missed-call code: the last N digits of the calling number. */
export const MISSED_CALL_CODE_LENGTH = { min: 4, max: 6, default: 5 } as const;

/** Whatever the code length, a pool must reach at least this many distinct codes. */
export const MIN_DISTINCT_CODES = 1_000;

/** How many candidate callers `drawCaller` tries before it declares the pool exhausted. */
export const MAX_DRAWS = 64;

/** One interval of the pool: consecutive numbers of one length in one country. */
export interface PoolSpan {
  /** First number, E.164. */
  readonly first: string;
  /** Last number, E.164; equal to `first` for a single number. */
  readonly last: string;
  /** ISO 3166-1 alpha-2 code, or the calling code (`+800`) for non-geographic numbers. */
  readonly country: string;
  /** Digits after the country calling code; a code must be shorter than this. */
  readonly nationalLength: number;
  /** `first` and `last` as integers (the digits after "+"); E.164's 15 digits fit exactly. */
  readonly start: number;
  readonly end: number;
}

/**
 * A parsed caller-ID pool: disjoint spans sorted by number, overlapping or touching entries
 * merged. Build it with `parsePool`; it is frozen, so it may be shared and cached.
 */
export interface Pool {
  readonly spans: readonly PoolSpan[];
  /** How many numbers the pool holds (not how many codes: see `distinctCodes`). */
  readonly size: number;
}

/** A number drawn to call from, and the code the user reads off it. */
export interface Caller {
  /** The calling number, E.164. */
  from: string;
  /** Its last N digits. */
  code: string;
}

export type PoolErrorKind = 'invalid_entry' | 'unusable' | 'exhausted';

/**
 * A pool that cannot be parsed (`invalid_entry`, naming the entry), is too small or does not
 * fit the code length (`unusable`), or has no caller left outside the excluded ones (`exhausted`).
 */
export class PoolError extends Error {
  readonly kind: PoolErrorKind;
  /** The configured entry at fault, as written, for `invalid_entry`. */
  readonly entry: string | null;

  constructor(kind: PoolErrorKind, message: string, entry: string | null = null) {
    super(message);
    this.name = 'PoolError';
    this.kind = kind;
    this.entry = entry;
  }
}

interface ParsedEnd {
  e164: string;
  value: number;
  country: string;
  nationalLength: number;
}

interface ParsedEntry extends PoolSpan {
  readonly entry: string;
}

/** Longest number E.164 allows, in digits after "+". */
const E164_MAX_DIGITS = 15;

/**
 * Parses the configured pool. Each entry is one number or an inclusive range, both in E.164;
 * whitespace is ignored, and a range is two numbers joined by "-":
 *
 * @example
 * parsePool(['+12015550123', '+44 20 7946 0000 - +44 20 7946 9999'])
 *
 * Every number, and both ends of a range, must be a valid number for libphonenumber-js/max
 * (the metadata recipients are checked against) and already in canonical E.164 form. A
 * range's ends have the same length and country and come in order; the numbers between
 * them are not checked one by one. Overlapping or touching entries are merged.
 * Throws `PoolError` (`invalid_entry`) naming the first entry at fault.
 */
export function parsePool(spec: readonly string[]): Pool {
  if (!Array.isArray(spec) || spec.length === 0) {
    throw new PoolError('invalid_entry', 'the caller-ID pool has no numbers: list at least one number or range');
  }
  const parsed = spec.map(parseEntry);
  parsed.sort((a, b) => a.start - b.start);

  const spans: PoolSpan[] = [];
  let current: ParsedEntry | undefined;
  for (const next of parsed) {
    // A number's length follows from its value (E.164 never starts with 0), so sorting by
    // value keeps lengths apart; only spans of one length and one country merge.
    if (current !== undefined && next.start <= current.end + 1 && next.first.length === current.first.length) {
      if (next.country !== current.country) {
        if (next.start <= current.end) {
          throw new PoolError('invalid_entry', `pool entries "${current.entry}" and "${next.entry}" overlap but are in different countries (${current.country} and ${next.country})`, next.entry);
        }
      } else {
        if (next.end > current.end) current = { ...current, end: next.end, last: next.last };
        continue;
      }
    }
    if (current !== undefined) spans.push(toSpan(current));
    current = next;
  }
  if (current !== undefined) spans.push(toSpan(current));

  const size = spans.reduce((sum, span) => sum + span.end - span.start + 1, 0);
  return Object.freeze({ spans: Object.freeze(spans), size });
}

function toSpan(entry: ParsedEntry): PoolSpan {
  const { first, last, country, nationalLength, start, end } = entry;
  return Object.freeze({ first, last, country, nationalLength, start, end });
}

function parseEntry(entry: string): ParsedEntry {
  if (typeof entry !== 'string') {
    throw new PoolError('invalid_entry', `pool entry ${JSON.stringify(entry)} is not a string`, String(entry));
  }
  const compact = entry.replace(/\s+/g, '');
  const match = /^(\+\d+)(?:-(\+\d+))?$/.exec(compact);
  if (match === null) {
    throw new PoolError('invalid_entry', `pool entry "${entry}" is neither an E.164 number ("+442079460000") nor a range of two joined by "-" ("+442079460000-+442079469999")`, entry);
  }
  const first = parseEnd(entry, match[1]!);
  const last = match[2] === undefined ? first : parseEnd(entry, match[2]);
  if (first.e164.length !== last.e164.length) {
    throw new PoolError('invalid_entry', `pool entry "${entry}": the ends have different lengths (${first.e164.length - 1} and ${last.e164.length - 1} digits); a range runs between numbers of one length`, entry);
  }
  if (first.country !== last.country) {
    throw new PoolError('invalid_entry', `pool entry "${entry}": the ends are in different countries (${first.country} and ${last.country}); use one range per country`, entry);
  }
  if (first.value > last.value) {
    throw new PoolError('invalid_entry', `pool entry "${entry}" is reversed: its first number is above its last; write "${last.e164}-${first.e164}"`, entry);
  }
  return {
    entry,
    first: first.e164,
    last: last.e164,
    country: first.country,
    nationalLength: first.nationalLength,
    start: first.value,
    end: last.value,
  };
}

function parseEnd(entry: string, text: string): ParsedEnd {
  if (text.length - 1 > E164_MAX_DIGITS) {
    throw new PoolError('invalid_entry', `pool entry "${entry}": "${text}" has ${text.length - 1} digits; E.164 allows at most ${E164_MAX_DIGITS}`, entry);
  }
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(text);
  } catch (error) {
    const why = error instanceof Error ? error.message.toLowerCase() : 'unparseable';
    throw new PoolError('invalid_entry', `pool entry "${entry}": "${text}" is not a phone number (${why})`, entry);
  }
  const region = parsed.country ?? `+${parsed.countryCallingCode}`;
  if (parsed.number !== text) {
    throw new PoolError('invalid_entry', `pool entry "${entry}": "${text}" is not in E.164 form; write it as "${parsed.number}"`, entry);
  }
  if (!parsed.isValid()) {
    throw new PoolError('invalid_entry', `pool entry "${entry}": "${text}" is not a valid number for ${region}`, entry);
  }
  return { e164: text, value: Number(text.slice(1)), country: region, nationalLength: parsed.nationalNumber.length };
}

/** The smallest number of distinct codes a pool must reach for `codeLength`: 10^N / 10, and never below 1,000. */
export function requiredDistinctCodes(codeLength: number): number {
  return Math.max(10 ** codeLength / 10, MIN_DISTINCT_CODES);
}

/**
 * What makes `pool` unfit for codes of `codeLength` digits, as sentences for the operator;
 * empty when it is fit. A pool must reach `requiredDistinctCodes(codeLength)` distinct codes:
 * "the pool gives 500 distinct 5-digit codes; at least 10,000 are needed".
 */
export function poolProblems(pool: Pool, codeLength: number): string[] {
  const lengthProblem = codeLengthProblem(codeLength);
  if (lengthProblem !== null) return [lengthProblem];
  const problems: string[] = [];
  const short = pool.spans.find((span) => span.nationalLength <= codeLength);
  if (short !== undefined) {
    problems.push(`"${short.first}" has ${short.nationalLength} digits after its country code; a ${codeLength}-digit code would leave none of them visible`);
  }
  const distinct = distinctCodes(pool, codeLength);
  const required = requiredDistinctCodes(codeLength);
  if (distinct < required) {
    problems.push(`the pool gives ${grouped(distinct)} distinct ${codeLength}-digit codes; at least ${grouped(required)} are needed`);
  }
  return problems;
}

/** Throws `PoolError` (`unusable`) with every problem `poolProblems` finds. */
export function assertPoolUsable(pool: Pool, codeLength: number): void {
  const problems = poolProblems(pool, codeLength);
  if (problems.length > 0) throw new PoolError('unusable', problems.join('; '));
}

/** How many different `codeLength`-digit codes the pool can produce: its distinct suffixes. */
export function distinctCodes(pool: Pool, codeLength: number): number {
  return suffixCoverage(pool, codeLength).total;
}

/**
 * The entropy a missed-call code really has: log2 of the distinct codes, not of 10^N
 * (SEC-17: 50 numbers and N=4 give log2(50) ≈ 5.64 bits, whatever 10^4 suggests).
 */
export function codeEntropyBits(pool: Pool, codeLength: number): number {
  return Math.log2(distinctCodes(pool, codeLength));
}

/**
 * Draws the number to call from so that the CODE is uniform over the pool's distinct codes:
 * first a code, uniformly among the reachable suffixes, then a number uniformly among those
 * ending in it. Numbers sharing a suffix therefore never make that code likelier.
 *
 * `exclude` rejects numbers that must not be used (SEC-17: a number already used for this
 * recipient inside its TTL); a rejected candidate is redrawn whole, code included, up to
 * `MAX_DRAWS` times, after which it throws `PoolError` (`exhausted`). Pool size is not
 * checked here: call `assertPoolUsable` when the pool is configured.
 *
 * @example
 * const { from, code } = drawCaller(pool, 5, random, (e164) => recentlyUsed.has(e164));
 */
export function drawCaller(pool: Pool, codeLength: number, random: RandomSource, exclude?: (e164: string) => boolean): Caller {
  const lengthProblem = codeLengthProblem(codeLength);
  if (lengthProblem !== null) throw new PoolError('unusable', lengthProblem);
  const coverage = suffixCoverage(pool, codeLength);
  const modulus = 10 ** codeLength;
  for (let attempt = 0; attempt < MAX_DRAWS; attempt++) {
    const suffix = nthSuffix(coverage, uniformInt(coverage.total, random));
    const from = `+${pickWithSuffix(pool, suffix, modulus, random)}`;
    if (exclude?.(from) === true) continue;
    return { from, code: from.slice(-codeLength) };
  }
  throw new PoolError('exhausted', `no caller number outside the excluded ones turned up in ${MAX_DRAWS} draws: the pool is exhausted for this recipient`);
}

/** What the user is shown of the calling number, and how many digits to type. */
export interface VisibleCaller {
  /** The number in international format with the code digits as bullets: "+44 20 794• ••••". */
  callerPrefix: string;
  /** How many digits the user types: the code length. */
  digits: number;
}

/**
 * The calling number as the user will see it ring, with the code hidden. The number is
 * formatted internationally with libphonenumber's grouping, then its last `codeLength`
 * digits are replaced one for one by "•", so separators and groups stay where they are:
 * "+442079460123", 5 → "+44 20 794• ••••"; "+12015550123", 4 → "+1 201 555 ••••".
 */
export function visiblePrefix(from: string, codeLength: number): VisibleCaller {
  if (!/^\+\d+$/.test(from) || from.length - 1 <= codeLength) {
    throw new RangeError(`"${from}" is not an E.164 number longer than ${codeLength} digits`);
  }
  let formatted: string;
  try {
    formatted = parsePhoneNumberWithError(from).formatInternational();
  } catch {
    formatted = from;
  }
  const chars = [...formatted];
  let hidden = 0;
  for (let i = chars.length - 1; i >= 0 && hidden < codeLength; i--) {
    if (/\d/.test(chars[i]!)) {
      chars[i] = '•';
      hidden++;
    }
  }
  return { callerPrefix: chars.join(''), digits: codeLength };
}

function codeLengthProblem(codeLength: number): string | null {
  const { min, max } = MISSED_CALL_CODE_LENGTH;
  if (Number.isInteger(codeLength) && codeLength >= min && codeLength <= max) return null;
  return `a missed-call code has ${min} to ${max} digits; got ${codeLength}`;
}

/** Reachable suffixes as sorted, disjoint, non-touching inclusive intervals, and their count. */
interface Coverage {
  intervals: ReadonlyArray<readonly [number, number]>;
  total: number;
}

// Pools are frozen and live as long as the config, so their coverage is worth keeping.
const coverageCache = new WeakMap<Pool, Map<number, Coverage>>();

function suffixCoverage(pool: Pool, codeLength: number): Coverage {
  let byLength = coverageCache.get(pool);
  if (byLength === undefined) {
    byLength = new Map();
    coverageCache.set(pool, byLength);
  }
  let coverage = byLength.get(codeLength);
  if (coverage === undefined) {
    coverage = computeCoverage(pool, 10 ** codeLength);
    byLength.set(codeLength, coverage);
  }
  return coverage;
}

function computeCoverage(pool: Pool, modulus: number): Coverage {
  const pieces: Array<[number, number]> = [];
  for (const { start, end } of pool.spans) {
    // modulus consecutive numbers take every suffix once.
    if (end - start + 1 >= modulus) return { intervals: [[0, modulus - 1]], total: modulus };
    const low = start % modulus;
    const high = end % modulus;
    if (low <= high) {
      pieces.push([low, high]);
    } else {
      // The span crosses a multiple of 10^N: its suffixes wrap from …999 to …000.
      pieces.push([low, modulus - 1], [0, high]);
    }
  }
  pieces.sort((a, b) => a[0] - b[0]);
  const intervals: Array<[number, number]> = [];
  for (const [low, high] of pieces) {
    const last = intervals.at(-1);
    if (last !== undefined && low <= last[1] + 1) {
      last[1] = Math.max(last[1], high);
    } else {
      intervals.push([low, high]);
    }
  }
  const total = intervals.reduce((sum, [low, high]) => sum + high - low + 1, 0);
  return { intervals, total };
}

/** The `index`-th reachable suffix in ascending order. */
function nthSuffix(coverage: Coverage, index: number): number {
  let rest = index;
  for (const [low, high] of coverage.intervals) {
    const width = high - low + 1;
    if (rest < width) return low + rest;
    rest -= width;
  }
  throw new RangeError(`suffix index ${index} is beyond the ${coverage.total} the pool reaches`);
}

/** A number of the pool ending in `suffix`, uniformly among all such numbers. */
function pickWithSuffix(pool: Pool, suffix: number, modulus: number, random: RandomSource): number {
  const firsts: Array<{ first: number; count: number }> = [];
  let total = 0;
  for (const { start, end } of pool.spans) {
    const first = start + ((suffix - (start % modulus) + modulus) % modulus);
    const count = first > end ? 0 : Math.floor((end - first) / modulus) + 1;
    firsts.push({ first, count });
    total += count;
  }
  let rest = uniformInt(total, random);
  for (const { first, count } of firsts) {
    if (rest < count) return first + rest * modulus;
    rest -= count;
  }
  throw new RangeError(`no number of the pool ends in ${suffix}`);
}

/**
 * A uniform integer in [0, bound) from CSPRNG bytes, without modulo bias: take just enough
 * bytes, mask the top one down to the bound's bit length, and reject values ≥ bound
 * (fewer than half of them, so under two draws are expected).
 */
function uniformInt(bound: number, random: RandomSource): number {
  if (!Number.isSafeInteger(bound) || bound < 1) throw new RangeError(`cannot draw below ${bound}`);
  if (bound === 1) return 0;
  let bits = 0;
  while (2 ** bits < bound) bits++;
  const length = Math.ceil(bits / 8);
  const topMask = bits % 8 === 0 ? 0xff : (1 << (bits % 8)) - 1;
  for (;;) {
    const bytes = random.bytes(length);
    let value = bytes[0]! & topMask;
    for (let i = 1; i < length; i++) value = value * 256 + bytes[i]!;
    if (value < bound) return value;
  }
}

/** 10000 → "10,000", without depending on the host's locale. */
function grouped(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
