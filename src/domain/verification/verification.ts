import type { Channel } from '../application.ts';
import { codeHmac, codeMatches, generateCode } from '../codes/code.ts';
import { newId, type RandomSource } from '../random.ts';

export const STATUSES = ['pending', 'approved', 'denied', 'failed', 'expired', 'cancelled'] as const;
export type VerificationStatus = (typeof STATUSES)[number];
export type TerminalStatus = Exclude<VerificationStatus, 'pending'>;

/**
 * What a verification is for. `confirm_contact` proves possession of a phone number or address
 * without being an authenticator: e-mail and missed calls (SEC-16, SEC-17) serve it.
 */
export type Purpose = 'authentication' | 'pairing' | 'caller_verification' | 'transaction' | 'confirm_contact';

/**
 * The NIST SP 800-63B authenticator assurance a verification on this channel can contribute:
 * SMS and voice are a (restricted) out-of-band authenticator, AAL1 alone; e-mail (SEC-16) and
 * missed calls (SEC-17) are not authenticators at all, only confirmation of a contact.
 */
export function assuranceOf(channel: Channel): 1 | null {
  return channel === 'sms' || channel === 'voice' ? 1 : null;
}

/** Why a verification ended where its status alone does not say. */
export type Reason = 'max_attempts' | 'delivery_failed' | 'cancelled' | 'expired';

/**
 * Every transition, declared once. `state-diagram.mermaid` beside this file draws the same
 * edges, and a test holds the two together.
 */
export const TRANSITIONS = [
  { from: 'pending', to: 'pending', on: 'wrong code, attempts left' },
  { from: 'pending', to: 'pending', on: 'new code sent, old one void' },
  { from: 'pending', to: 'approved', on: 'correct code' },
  { from: 'pending', to: 'failed', on: 'wrong code, no attempts left' },
  { from: 'pending', to: 'failed', on: 'delivery failed for good' },
  { from: 'pending', to: 'expired', on: 'expires_at reached' },
  { from: 'pending', to: 'cancelled', on: 'cancelled by the relying party' },
  { from: 'pending', to: 'denied', on: 'denied on the device' },
] as const satisfies ReadonlyArray<{ from: VerificationStatus; to: VerificationStatus; on: string }>;

export interface Verification {
  id: string;
  applicationId: string;
  userId: string | null;
  channel: Channel;
  purpose: Purpose;
  /** E.164 phone number or e-mail address. */
  recipient: string;
  status: VerificationStatus;
  reason: Reason | null;
  codeHmac: string;
  /** Digits in the code, so that a resend sends a code like the first. */
  codeLength: number;
  attempts: number;
  maxAttempts: number;
  locale: string;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  /** How many times the code was sent again on request. */
  resends: number;
  /** When the code last went out (start or resend): the resend cooldown counts from here. */
  lastSentAt: number;
  /** The user may also answer by replying to the SMS with the code (two-way SMS). */
  twoWay: boolean;
  /**
   * Missed calls: HMAC of (recipient, caller id), so the same caller is not used twice for one
   * recipient while a call is pending; the caller itself is never kept (its digits are the code).
   */
  callerHmac: string | null;
  /** Bumped on every change: a write applies only to the version it was decided on. */
  version: number;
}

export type VerificationEventType =
  | 'verification.started'
  | 'verification.approved'
  | 'verification.check_failed'
  | 'verification.failed'
  | 'verification.expired'
  | 'verification.cancelled'
  | 'verification.resent';

export interface VerificationEvent {
  type: VerificationEventType;
  data: Record<string, string | number | null>;
}

export type Input =
  | { type: 'check'; code: string; codeKey: Uint8Array }
  | { type: 'cancel' }
  | { type: 'expire' }
  | { type: 'delivery_failed' }
  /**
   * Send a new code, on the same or another channel. The old code stops working and the
   * attempts already used stay used (SEC-07): a resend never buys a guesser more tries.
   */
  | { type: 'resend'; codeHmac: string; channel: Channel; recipient: string; policy: ResendPolicy; callerHmac?: string | null };

export interface ResendPolicy {
  cooldownSeconds: number;
  maxResends: number;
}

export type Outcome =
  | { kind: 'approved' }
  | { kind: 'incorrect'; attemptsLeft: number }
  | { kind: 'failed' }
  | { kind: 'cancelled' }
  | { kind: 'expired' }
  | { kind: 'closed'; status: TerminalStatus; reason: Reason | null }
  | { kind: 'resent' }
  | { kind: 'resend_cooldown'; retryAfterSeconds: number }
  | { kind: 'resend_limit'; limit: number }
  | { kind: 'unchanged' };

export interface Decision {
  /** The verification after the input, or null when nothing is to be written. */
  next: Verification | null;
  events: VerificationEvent[];
  outcome: Outcome;
}

export interface NewVerification {
  applicationId: string;
  userId: string | null;
  channel: Channel;
  purpose: Purpose;
  recipient: string;
  locale: string;
  ttlSeconds: number;
  codeLength: number;
  maxAttempts: number;
  twoWay?: boolean;
  /** A code chosen elsewhere (a missed call's caller digits) instead of a generated one. */
  code?: string;
  callerHmac?: string | null;
}

/** A new pending verification and its code. The code leaves here once, to be sent. */
export function createVerification(
  input: NewVerification,
  now: number,
  random: RandomSource,
  codeKey: Uint8Array,
): { verification: Verification; code: string; events: VerificationEvent[] } {
  const id = newId('vrf', random);
  const code = input.code ?? generateCode(input.codeLength, random);
  const verification: Verification = {
    id,
    applicationId: input.applicationId,
    userId: input.userId,
    channel: input.channel,
    purpose: input.purpose,
    recipient: input.recipient,
    status: 'pending',
    reason: null,
    codeHmac: codeHmac(codeKey, id, code),
    codeLength: input.codeLength,
    attempts: 0,
    maxAttempts: input.maxAttempts,
    locale: input.locale,
    createdAt: now,
    expiresAt: now + input.ttlSeconds * 1000,
    decidedAt: null,
    resends: 0,
    lastSentAt: now,
    twoWay: input.twoWay ?? false,
    callerHmac: input.callerHmac ?? null,
    version: 0,
  };
  return { verification, code, events: [event('verification.started', verification)] };
}

/** The status as of `now`: a pending verification past its expiry is expired, written or not. */
export function statusAt(v: Verification, now: number): VerificationStatus {
  return v.status === 'pending' && now >= v.expiresAt ? 'expired' : v.status;
}

export function attemptsLeft(v: Verification): number {
  return Math.max(0, v.maxAttempts - v.attempts);
}

/** What an input does to a verification at `now`. Pure: no clock, no I/O. */
export function decide(v: Verification, input: Input, now: number): Decision {
  if (v.status === 'pending' && now >= v.expiresAt) {
    const next = close(v, 'expired', 'expired', now);
    const outcome: Outcome = input.type === 'expire' ? { kind: 'expired' } : { kind: 'closed', status: 'expired', reason: 'expired' };
    return { next, events: [event('verification.expired', next)], outcome };
  }
  if (v.status !== 'pending') {
    return { next: null, events: [], outcome: input.type === 'expire' ? { kind: 'unchanged' } : { kind: 'closed', status: v.status, reason: v.reason } };
  }
  switch (input.type) {
    case 'check':
      return check(v, input.code, input.codeKey, now);
    case 'cancel': {
      const next = close(v, 'cancelled', 'cancelled', now);
      return { next, events: [event('verification.cancelled', next)], outcome: { kind: 'cancelled' } };
    }
    case 'expire':
      return { next: null, events: [], outcome: { kind: 'unchanged' } };
    case 'resend':
      return resend(v, input, now);
    case 'delivery_failed': {
      const next = close(v, 'failed', 'delivery_failed', now);
      return { next, events: [event('verification.failed', next)], outcome: { kind: 'failed' } };
    }
  }
}

function check(v: Verification, code: string, codeKey: Uint8Array, now: number): Decision {
  const attempts = v.attempts + 1;
  if (codeMatches(codeKey, v.id, code, v.codeHmac)) {
    const next: Verification = { ...close(v, 'approved', null, now), attempts };
    return { next, events: [event('verification.approved', next)], outcome: { kind: 'approved' } };
  }
  if (attempts >= v.maxAttempts) {
    const next: Verification = { ...close(v, 'failed', 'max_attempts', now), attempts };
    return {
      next,
      events: [event('verification.check_failed', next), event('verification.failed', next)],
      outcome: { kind: 'failed' },
    };
  }
  const next: Verification = { ...v, attempts, version: v.version + 1 };
  return { next, events: [event('verification.check_failed', next)], outcome: { kind: 'incorrect', attemptsLeft: attemptsLeft(next) } };
}

function resend(v: Verification, input: Extract<Input, { type: 'resend' }>, now: number): Decision {
  if (v.resends >= input.policy.maxResends) return { next: null, events: [], outcome: { kind: 'resend_limit', limit: input.policy.maxResends } };
  const readyAt = v.lastSentAt + input.policy.cooldownSeconds * 1000;
  if (now < readyAt) return { next: null, events: [], outcome: { kind: 'resend_cooldown', retryAfterSeconds: Math.ceil((readyAt - now) / 1000) } };
  const next: Verification = {
    ...v,
    codeHmac: input.codeHmac,
    channel: input.channel,
    recipient: input.recipient,
    callerHmac: input.callerHmac ?? null,
    resends: v.resends + 1,
    lastSentAt: now,
    version: v.version + 1,
  };
  return { next, events: [event('verification.resent', next)], outcome: { kind: 'resent' } };
}

function close(v: Verification, status: TerminalStatus, reason: Reason | null, now: number): Verification {
  return { ...v, status, reason, decidedAt: now, version: v.version + 1 };
}

function event(type: VerificationEventType, v: Verification): VerificationEvent {
  return {
    type,
    data: { verification_id: v.id, channel: v.channel, purpose: v.purpose, aal: assuranceOf(v.channel), status: v.status, reason: v.reason, attempts: v.attempts, user_id: v.userId },
  };
}
