/**
 * When a webhook message is tried again, and what an answer means (Standard Webhooks,
 * "Deliverability"). Pure: the jitter's randomness is passed in.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Delay before each attempt, counted from the previous one: the first goes out at once, the
 * tenth about 3 days and 3 hours after the first (75 h 35 min 5 s without jitter).
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR];

/** Attempts a message gets from the schedule; after the last one fails, the message has failed. */
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length;

/** Each delay is moved by up to ±10 %, so that the retries of many messages do not arrive together. */
export const JITTER = 0.1;

/**
 * How long an endpoint may fail without a single success before it is disabled: checked when
 * one of its messages fails for good (its last attempt, ≈3 days after its first). It is the
 * shortest span the jittered schedule can take (≈68 h), so a message that went through the whole
 * schedule always counts, whatever its jitter (72 h left about one such message in 25 short of it).
 */
export const DISABLE_AFTER_MS = Math.floor(RETRY_SCHEDULE_MS.reduce((sum, ms) => sum + ms, 0) * (1 - JITTER));

/** Longest wait a receiver's Retry-After can impose on one retry. */
export const MAX_RETRY_AFTER_MS = 24 * HOUR;

/** Statuses that mean "slow down" rather than "broken": their Retry-After is honoured. */
const THROTTLING = new Set([429, 502, 503, 504]);

export type AttemptVerdict =
  /** 2xx: delivered. */
  | 'delivered'
  /** 410 Gone: the receiver asks never to be called again; the endpoint is disabled. */
  | 'gone'
  /** Anything else (3xx included: redirects are not followed), or no answer: try again later. */
  | 'retry';

export function verdictOf(statusCode: number | null): AttemptVerdict {
  if (statusCode !== null && statusCode >= 200 && statusCode <= 299) return 'delivered';
  if (statusCode === 410) return 'gone';
  return 'retry';
}

/**
 * A Retry-After header (delay-seconds or an HTTP-date) as milliseconds from `now`; null when
 * absent, unparseable, or on a status that does not throttle.
 */
export function retryAfterMs(statusCode: number | null, header: string | undefined, now: number): number | null {
  if (statusCode === null || !THROTTLING.has(statusCode) || header === undefined) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * SECOND, MAX_RETRY_AFTER_MS);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/**
 * The delay before the next attempt after `attemptsMade` attempts failed, or null when the
 * schedule is done. `unit` is a uniform random number in [0, 1) for the jitter. A receiver's
 * Retry-After makes the wait longer, never shorter.
 */
export function nextRetryDelayMs(attemptsMade: number, unit: number, retryAfter: number | null = null): number | null {
  const base = RETRY_SCHEDULE_MS[attemptsMade];
  if (base === undefined || attemptsMade < 1) return null;
  const jittered = Math.round(base * (1 + JITTER * (2 * unit - 1)));
  return Math.max(jittered, retryAfter ?? 0);
}

/** A uniform number in [0, 1) from 4 random bytes. */
export function unitFromBytes(bytes: Uint8Array): number {
  const value = ((bytes[0] ?? 0) * 2 ** 24 + (bytes[1] ?? 0) * 2 ** 16 + (bytes[2] ?? 0) * 2 ** 8 + (bytes[3] ?? 0)) >>> 0;
  return value / 2 ** 32;
}

/**
 * Whether an endpoint whose message has just failed for good is disabled: no attempt to it
 * has succeeded since that message's first attempt, which was at least DISABLE_AFTER_MS ago.
 */
export function shouldDisable(firstAttemptAt: number, lastSuccessAt: number | null, now: number): boolean {
  if (lastSuccessAt !== null && lastSuccessAt >= firstAttemptAt) return false;
  return now - firstAttemptAt >= DISABLE_AFTER_MS;
}
