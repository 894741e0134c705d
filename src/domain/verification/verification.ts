import type { Channel } from '../application.ts';
import { codeHmac, codeMatches, generateCode } from '../codes/code.ts';
import type { SecretKey } from '../codes/keys.ts';
import { newId, type RandomSource } from '../random.ts';

export const STATUSES = ['pending', 'approved', 'denied', 'failed', 'expired', 'cancelled', 'blocked'] as const;
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
export type Reason = 'max_attempts' | 'delivery_failed' | 'cancelled' | 'expired' | 'denied' | 'reported_fraud' | 'number_mismatch' | 'blocked';

/**
 * Number matching against push fatigue. `pick`: the relying party shows a two-digit number and
 * the authenticator offers three; `type`: the user types the relying party's 6-digit code into
 * the authenticator (the form NIST SP 800-63B-4 accepts); `read_back`: after approval the
 * authenticator shows a code the caller reads to the agent.
 */
export const MATCHING = ['none', 'pick', 'type', 'read_back'] as const;
export type Matching = (typeof MATCHING)[number];
export type UserVerificationRequirement = 'required' | 'preferred';
/**
 * What the device did to verify its user before answering. `webauthn`: the platform authenticator
 * verified the user (its screen lock or a biometric; WebAuthn does not say which), proven by the
 * UV flag of an assertion the server checked (docs/decisions/0015-web-authenticator.md).
 */
export type UserVerificationMethod = 'pin' | 'biometric' | 'none' | 'webauthn';
export type PushDecision = 'approve' | 'deny' | 'report_fraud';

/** The push side of a verification: what the authenticator shows and how it must answer. */
export interface PushDetails {
  message: string;
  context: Record<string, string>;
  userVerification: UserVerificationRequirement;
  matching: Matching;
  /** pick: the numbers the authenticator offers; which one is right is kept only as `codeHmac`. */
  choices: string[] | null;
  /** The server's nonce that every signed answer covers. */
  challenge: string;
  /** read_back: approved on the device; the code the caller reads out is awaited. */
  readBackPending: boolean;
  /** The device that answered, and how it verified its user. */
  answeredBy: string | null;
  method: UserVerificationMethod | null;
}

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
  { from: 'pending', to: 'denied', on: 'reported as fraud on the device' },
  { from: 'pending', to: 'denied', on: 'wrong number picked on the device' },
  { from: 'pending', to: 'approved', on: 'approved on the device' },
  { from: 'pending', to: 'pending', on: 'approved on the device, read-back code awaited' },
  { from: 'pending', to: 'approved', on: 'bypass: approved at the start' },
  { from: 'pending', to: 'blocked', on: 'refused at the start: a limit or a fraud control' },
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
  /** The device this is for: a pairing's device, or the one push device asked. */
  deviceId: string | null;
  push: PushDetails | null;
  /** Approved at the start because the user's bypass was on: the relying party decides. */
  bypass: boolean;
  /** Why a limit or fraud control refused it at the start (status `blocked`); nothing was sent. */
  blockedReasons: string[] | null;
  /** The destination's country (ISO 3166 alpha-2) for a phone number, when known. */
  country: string | null;
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
  | 'verification.resent'
  | 'verification.denied'
  | 'verification.reported_fraud'
  | 'verification.number_mismatch'
  | 'verification.device_approved'
  | 'verification.blocked';

export interface VerificationEvent {
  type: VerificationEventType;
  data: Record<string, string | number | boolean | null>;
}

export type Input =
  | { type: 'check'; code: string; codeKey: SecretKey }
  | { type: 'cancel' }
  | { type: 'expire' }
  | { type: 'delivery_failed' }
  /**
   * Send a new code, on the same or another channel. The old code stops working and the
   * attempts already used stay used (SEC-07): a resend never buys a guesser more tries.
   */
  | { type: 'resend'; codeHmac: string; channel: Channel; recipient: string; policy: ResendPolicy; callerHmac?: string | null }
  /**
   * A push authenticator's signed answer (the signature is checked before). `readBackCodeHmac`
   * is the HMAC of a fresh code for read_back matching, used when the device approves.
   */
  | {
      type: 'respond';
      deviceId: string;
      decision: PushDecision;
      method: UserVerificationMethod;
      answer: string | null;
      codeKey: SecretKey;
      readBackCodeHmac: string;
    };

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
  | { kind: 'denied'; reason: Reason }
  | { kind: 'awaiting_read_back' }
  /** A code check on a push verification that the device has not approved yet. */
  | { kind: 'awaiting_device' }
  | { kind: 'user_verification_required' }
  | { kind: 'answer_required' }
  /** The device answered already; read_back awaits the code, not another answer. */
  | { kind: 'already_answered' }
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
  deviceId?: string | null;
  push?: PushDetails | null;
  /** The user's bypass is on: approved at once, and marked so. */
  bypass?: boolean;
  /** Refused at the start by a limit or fraud control: stored `blocked` with these reasons, nothing sent. */
  blockedReasons?: string[];
  country?: string | null;
}

/** A new pending verification and its code. The code leaves here once, to be sent. */
export function createVerification(
  input: NewVerification,
  now: number,
  random: RandomSource,
  codeKey: SecretKey,
): { verification: Verification; code: string; events: VerificationEvent[] } {
  const id = newId('vrf', random);
  const code = input.code ?? generateCode(input.codeLength, random);
  const bypass = input.bypass ?? false;
  const blocked = input.blockedReasons !== undefined;
  const verification: Verification = {
    id,
    applicationId: input.applicationId,
    userId: input.userId,
    channel: input.channel,
    purpose: input.purpose,
    recipient: input.recipient,
    status: blocked ? 'blocked' : bypass ? 'approved' : 'pending',
    reason: blocked ? 'blocked' : null,
    codeHmac: codeHmac(codeKey, id, code),
    codeLength: input.codeLength,
    attempts: 0,
    maxAttempts: input.maxAttempts,
    locale: input.locale,
    createdAt: now,
    expiresAt: now + input.ttlSeconds * 1000,
    decidedAt: bypass || blocked ? now : null,
    resends: 0,
    lastSentAt: now,
    twoWay: input.twoWay ?? false,
    callerHmac: input.callerHmac ?? null,
    deviceId: input.deviceId ?? null,
    push: input.push ?? null,
    bypass: bypass && !blocked,
    blockedReasons: input.blockedReasons ?? null,
    country: input.country ?? null,
    version: 0,
  };
  if (blocked) return { verification, code, events: [event('verification.blocked', verification)] };
  const events = [event('verification.started', verification)];
  if (bypass) events.push(event('verification.approved', verification));
  return { verification, code, events };
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
      // A push verification takes a typed code only as read_back's last step.
      if (v.push !== null && !v.push.readBackPending) return { next: null, events: [], outcome: { kind: 'awaiting_device' } };
      return check(v, input.code, input.codeKey, now);
    case 'respond':
      return respond(v, input, now);
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

function check(v: Verification, code: string, codeKey: SecretKey, now: number): Decision {
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

function respond(v: Verification, input: Extract<Input, { type: 'respond' }>, now: number): Decision {
  const push = v.push;
  // Answered already (read_back awaits its code): a second answer changes nothing (SEC-24).
  if (push === null || push.readBackPending) return { next: null, events: [], outcome: { kind: 'already_answered' } };
  const answered = { ...push, answeredBy: input.deviceId, method: input.method };
  if (input.decision !== 'approve') {
    const reason: Reason = input.decision === 'report_fraud' ? 'reported_fraud' : 'denied';
    const next: Verification = { ...close(v, 'denied', reason, now), push: answered };
    const events = [event('verification.denied', next)];
    if (reason === 'reported_fraud') events.push(event('verification.reported_fraud', next));
    return { next, events, outcome: { kind: 'denied', reason } };
  }
  // Every approval is an explicit act; where the request demands it, one that verified the user (SEC-25).
  if (push.userVerification === 'required' && input.method === 'none') return { next: null, events: [], outcome: { kind: 'user_verification_required' } };
  switch (push.matching) {
    case 'none': {
      const next: Verification = { ...close(v, 'approved', null, now), push: answered };
      return { next, events: [event('verification.approved', next)], outcome: { kind: 'approved' } };
    }
    case 'pick': {
      if (input.answer === null) return { next: null, events: [], outcome: { kind: 'answer_required' } };
      if (codeMatches(input.codeKey, v.id, input.answer, v.codeHmac)) {
        const next: Verification = { ...close(v, 'approved', null, now), push: answered };
        return { next, events: [event('verification.approved', next)], outcome: { kind: 'approved' } };
      }
      // A wrong pick is a sign of a push the user did not start: denied, and recorded as such.
      const next: Verification = { ...close(v, 'denied', 'number_mismatch', now), push: answered };
      return { next, events: [event('verification.number_mismatch', next), event('verification.denied', next)], outcome: { kind: 'denied', reason: 'number_mismatch' } };
    }
    case 'type': {
      if (input.answer === null) return { next: null, events: [], outcome: { kind: 'answer_required' } };
      const decision = check(v, input.answer, input.codeKey, now);
      if (decision.next === null) return decision;
      const next: Verification = { ...decision.next, push: decision.outcome.kind === 'incorrect' ? push : answered };
      return { ...decision, next, events: decision.events.map((e) => event(e.type, next)) };
    }
    case 'read_back': {
      // The device approved; the verification approves when the agent types the code the caller reads out.
      const next: Verification = { ...v, codeHmac: input.readBackCodeHmac, attempts: 0, push: { ...answered, readBackPending: true }, version: v.version + 1 };
      return { next, events: [event('verification.device_approved', next)], outcome: { kind: 'awaiting_read_back' } };
    }
  }
}

function close(v: Verification, status: TerminalStatus, reason: Reason | null, now: number): Verification {
  return { ...v, status, reason, decidedAt: now, version: v.version + 1 };
}

function event(type: VerificationEventType, v: Verification): VerificationEvent {
  return {
    type,
    data: {
      verification_id: v.id,
      channel: v.channel,
      purpose: v.purpose,
      aal: assuranceOf(v.channel),
      status: v.status,
      reason: v.reason,
      attempts: v.attempts,
      user_id: v.userId,
      ...(v.deviceId === null ? {} : { device_id: v.deviceId }),
      ...(v.push === null ? {} : { answered_by: v.push.answeredBy, user_verification: v.push.method, matching: v.push.matching }),
      ...(v.bypass ? { bypass: true } : {}),
      ...(v.blockedReasons === null ? {} : { reasons: v.blockedReasons.join(' ') }),
      ...(v.country === null ? {} : { country: v.country }),
    },
  };
}
