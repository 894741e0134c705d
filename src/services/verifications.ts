import { createHash } from 'node:crypto';
import { CHANNEL_DEFINITIONS } from '../channels/index.ts';
import type { OutgoingMessage } from '../channels/types.ts';
import { parseLocale } from '../domain/address/locale.ts';
import { maskRecipient, parseRecipient } from '../domain/address/recipient.ts';
import type { Application, Channel, CodeChannel } from '../domain/application.ts';
import { callerHmac, codeHmac, generateCode, normalizeBase32Code } from '../domain/codes/code.ts';
import { codeEntropyBits, drawCaller, PoolError, visiblePrefix, type Pool } from '../domain/missed-call/pool.ts';
import { seal } from '../domain/codes/keys.ts';
import { queuedDelivery, type Delivery } from '../domain/delivery.ts';
import type { User } from '../domain/user.ts';
import { OutbandError } from '../domain/errors.ts';
import { longPoll, wokenOrAfter } from '../events/woken.ts';
import { MAX_WAIT_SECONDS, RESEND } from '../domain/policy/limits.ts';
import type { RandomSource } from '../domain/random.ts';
import { reachableByPush, type Device } from '../domain/device/device.ts';
import type { ChannelTemplate } from '../domain/templates/catalog.ts';
import { renderMessage } from '../domain/templates/render.ts';
import {
  assuranceOf,
  attemptsLeft,
  createVerification,
  decide,
  statusAt,
  type Decision,
  type Input,
  type Matching,
  type PushDecision,
  type PushDetails,
  type Purpose,
  type UserVerificationMethod,
  type UserVerificationRequirement,
  type Reason,
  type Verification,
  type VerificationStatus,
} from '../domain/verification/verification.ts';
import type { Write } from '../store/store.ts';
import type { TemplateService } from './templates.ts';
import type { ServiceDeps } from './deps.ts';
import { verificationEventWrites } from './events.ts';
import { createFraudControls, type Destination, type FraudControls } from './fraud.ts';
import { createUsage, type Usage } from './usage.ts';
import { pairingOutcomeWrites } from './pairing.ts';
import { actorOf, type Principal } from './tokens.ts';
import type { PolicyService, StartRequest } from './policies.ts';
import { verificationAssurance } from './verification-assurance.ts';
import type { VerificationAssuranceReport } from '../domain/policy/assurance.ts';
import { requireEnabled } from '../domain/policy/settings.ts';

export interface StartInput {
  channel: Channel;
  user_id?: string;
  to?: string;
  country?: string;
  purpose?: Purpose;
  locale?: string;
  ttl_seconds?: number;
  code_length?: number;
  params?: Record<string, string>;
  return_code?: boolean;
  two_way?: boolean;
  workflow?: Array<{ channel: Channel; timeout_seconds?: number }>;
  /** push: one device instead of all the user's push devices. */
  device_id?: string;
  /** push: shown to the user in the authenticator. */
  message?: string;
  /** push: who asks, shown with the message. */
  context?: Record<string, string>;
  user_verification?: UserVerificationRequirement;
  matching?: Matching;
  /** Set by a policy only (services/policies.ts): attempts instead of the application's max_attempts. */
  max_attempts?: number;
}

/** What a push verification's relying party shows, besides the verification itself. */
export interface PushStartExtras {
  /** pick: the number to show (the authenticator offers it among three). */
  match_number?: string;
  /** type: the code to show; the user types it into the authenticator. */
  match_code?: string;
}

/** A verification as the API shows it: the recipient masked, never the code or its hash. */
export interface VerificationView {
  id: string;
  status: VerificationStatus;
  reason: Reason | null;
  channel: Channel;
  purpose: Purpose;
  to: string;
  user_id: string | null;
  locale: string;
  attempts_left: number;
  aal: 1 | 2 | null;
  two_way: boolean;
  /** Approved at the start because the user's bypass was on. */
  bypass: boolean;
  blocked_reasons: string[] | null;
  country: string | null;
  device_id: string | null;
  push: PushView | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
}

/** A verification as every relying-party response shows it: with its assurance report (docs/assurance.md). */
export type ReportedVerificationView = VerificationView & { assurance: VerificationAssuranceReport };

export interface PushView {
  message: string;
  context: Record<string, string>;
  user_verification: UserVerificationRequirement;
  matching: Matching;
  /** read_back: the device approved; the code the caller reads out is awaited. */
  awaiting_read_back: boolean;
  answered_by: string | null;
  /** How the answering device verified its user. */
  user_verified_with: UserVerificationMethod | null;
}

/**
 * The assurance a verification can contribute: a push answered with a PIN or biometric is a
 * multi-factor out-of-band authenticator (AAL2, NIST SP 800-63B-4 §3.1.4); without one, AAL1.
 */
function assuranceOfVerification(v: Verification): 1 | 2 | null {
  if (v.channel !== 'push') return assuranceOf(v.channel);
  const method = v.push?.method ?? null;
  return method === 'pin' || method === 'biometric' || method === 'webauthn' ? 2 : 1;
}

export function toView(v: Verification, now: number): VerificationView {
  const status = statusAt(v, now);
  return {
    id: v.id,
    status,
    reason: status === 'expired' ? 'expired' : v.reason,
    channel: v.channel,
    purpose: v.purpose,
    to: v.channel === 'push' ? v.recipient : maskRecipient(v.channel, v.recipient),
    user_id: v.userId,
    locale: v.locale,
    attempts_left: attemptsLeft(v),
    aal: assuranceOfVerification(v),
    two_way: v.twoWay,
    bypass: v.bypass,
    blocked_reasons: v.blockedReasons,
    country: v.country,
    device_id: v.deviceId,
    push:
      v.push === null
        ? null
        : {
            message: v.push.message,
            context: v.push.context,
            user_verification: v.push.userVerification,
            matching: v.push.matching,
            awaiting_read_back: v.push.readBackPending,
            answered_by: v.push.answeredBy,
            user_verified_with: v.push.method,
          },
    created_at: new Date(v.createdAt).toISOString(),
    expires_at: new Date(v.expiresAt).toISOString(),
    decided_at: v.decidedAt === null ? null : new Date(status === 'expired' && v.status === 'pending' ? v.expiresAt : v.decidedAt).toISOString(),
  };
}

export interface DeliveryView {
  id: string;
  channel: string;
  provider: string;
  status: Delivery['status'];
  step: number;
  send_at: string;
  attempts: number;
  error: string | null;
  created_at: string;
  sent_at: string | null;
  receipt_at: string | null;
}

function deliveryView(d: Delivery): DeliveryView {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return { id: d.id, channel: d.channel, provider: d.provider, status: d.status, step: d.step, send_at: new Date(d.nextAttemptAt).toISOString(), attempts: d.attempts, error: d.error, created_at: new Date(d.createdAt).toISOString(), sent_at: iso(d.sentAt), receipt_at: iso(d.receiptAt) };
}

/** The user's address for a channel (phone or e-mail), or 422 recipient_missing. */
function userAddress(user: User | undefined, channel: Channel): string {
  const field = CHANNEL_DEFINITIONS[channel].userAddress;
  if (field === null) throw new OutbandError('invalid_request', `${channel} goes to the user's devices, not to an address`);
  const address = user?.[field] ?? null;
  if (address === null) throw new OutbandError('recipient_missing', `the user has no ${field === 'phone' ? 'phone number' : 'e-mail address'} for ${channel}`);
  return address;
}

/** The 409 for an input on a verification that is no longer pending. */
function closedError(status: VerificationStatus, reason: Reason | null): OutbandError {
  const extra = { verification_status: status, reason };
  if (status === 'expired') return new OutbandError('verification_expired', 'the verification has expired; start a new one', extra);
  if (status === 'failed' && reason === 'max_attempts') {
    return new OutbandError('max_attempts_reached', 'no attempts are left on this verification, not even for the right code; start a new one', extra);
  }
  return new OutbandError('verification_not_pending', `the verification is ${status} and can no longer change`, extra);
}

/** A write that goes with a decision hit a unique key: what it records was recorded before. */
export class DuplicateWrite extends Error {
  constructor() {
    super('already recorded');
    this.name = 'DuplicateWrite';
  }
}

/** A manual pairing fails after this many wrong codes, whatever the application's setting. */
export const PAIRING_MAX_ATTEMPTS = 3;

/** Push requests are short-lived by default: an approval is meant to follow the request at once. */
export const PUSH_TTL_SECONDS = 120;
/** Digits of the code shown for `type` matching and of a read-back code: the general 6-digit floor (SEC-20). */
export const MATCH_CODE_LENGTH = 6;

/** Three distinct two-digit numbers for `pick` matching, in random order. */
function pickChoices(random: RandomSource): string[] {
  const picked = new Set<string>();
  while (picked.size < 3) {
    const byte = random.bytes(1)[0]!;
    if (byte < 200) picked.add(String(byte % 100).padStart(2, '0'));
  }
  return [...picked];
}

function bypassOn(user: User, now: number): boolean {
  return user.bypassUntil !== null && user.bypassUntil > now;
}

/** One message to queue: where, through which provider, when, and with which of the application's templates. */
interface MessageStep {
  channel: Channel;
  recipient: string;
  provider: string;
  index: number;
  sendAt: number;
  callerId?: string;
  own?: { locale: string; template: ChannelTemplate } | null;
  params?: Record<string, string>;
}

/** How many times a decision is re-made on fresh state when a concurrent write got there first. */
const MAX_DECISION_ROUNDS = 32;
/** Overdue verifications the sweeper expires at once on SQLite. */
const EXPIRE_IN_PARALLEL = 16;

export function createVerificationService(
  deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'keys' | 'notifier' | 'metrics'>,
  options: {
    wakeDelivery: () => void;
    shutdown: AbortSignal;
    /** The operator's caller-id pool; null when missed calls are not configured. */
    missedCalls?: { pool: Pool; codeLength: number; ringSeconds: number } | null;
    /** The applications' own templates; without it, the built-in ones. */
    templates?: Pick<TemplateService, 'resolve'>;
    /** Policies, the application's defaults and its assurance profile, applied to a start (services/policies.ts). */
    policies?: Pick<PolicyService, 'resolveStart'>;
    /** Fraud controls and usage limits (issue [4]); built from `deps` when not given. */
    fraud?: FraudControls;
    usage?: Usage;
  },
) {
  const fraud = options.fraud ?? createFraudControls(deps);
  const usage = options.usage ?? createUsage(deps);

  /** What a start is, as limits and fraud controls see it. */
  interface Admission {
    app: Application;
    /** Who started it: `client:<id>` or, for a pairing, its actor. */
    actor: string;
    channel: Channel;
    purpose: Purpose;
    userId: string | null;
    recipient: string;
    locale: string;
    country: string | null;
    pairing: boolean;
  }

  /**
   * A refused start is kept as a `blocked` verification with its reasons and an event, and
   * nothing is sent (SEC-37); the error names the verification.
   */
  async function block(a: Admission, reasons: string[], extraWrites: Write[], now: number): Promise<string> {
    const { verification, events } = createVerification(
      { applicationId: a.app.id, userId: a.userId, channel: a.channel, purpose: a.purpose, recipient: a.recipient, locale: a.locale, ttlSeconds: 0, codeLength: 6, maxAttempts: 1, blockedReasons: reasons, country: a.country },
      now,
      deps.random,
      deps.keys.codeKey,
    );
    await deps.store.commit({
      writes: [
        { kind: 'verification.insert', verification },
        ...extraWrites,
        ...verificationEventWrites(events, { applicationId: a.app.id, verificationId: verification.id, actor: a.actor, now, random: deps.random }),
      ],
    });
    deps.metrics.verificationsEnded.inc({ channel: a.channel, status: 'blocked' });
    return verification.id;
  }

  /** Screens a start with the fraud controls; a refusal is recorded and thrown. */
  async function screen(a: Admission, to: Destination, now: number): Promise<{ marks: Write[]; country: string | null; usable: string[] }> {
    const screening = await fraud.screen(a.app, to, now);
    if (screening.refusal !== null) {
      const r = screening.refusal;
      const id = await block({ ...a, country: screening.country }, r.reasons, r.writes, now);
      const detail =
        r.code === 'verification_blocked' ? `a fraud control refused this verification: ${r.reasons.join(', ')}; nothing was sent` : undefined;
      throw new OutbandError(r.code, detail, { verification_id: id, reasons: r.reasons, ...(r.retryAfter === null ? {} : { retry_after: r.retryAfter }) });
    }
    return screening;
  }

  /** Commits a start's unit with its usage reservations; a full counter is recorded and thrown as a 429. */
  async function commitStart(a: Admission, writes: Write[], now: number): Promise<void> {
    const reservations = usage.reserveWrites(a.app, { channel: a.channel, userId: a.userId, recipient: a.recipient, pairing: a.pairing }, now);
    const result = await deps.store.commit({ writes: [...reservations, ...writes] });
    if (result.ok) return;
    if (result.reason === 'limit') {
      const id = await block(a, [result.limit], [], now);
      throw await usage.limitError(a.app, { channel: a.channel, userId: a.userId, recipient: a.recipient, pairing: a.pairing }, result.limit, now, id);
    }
    if (a.pairing) throw new OutbandError('concurrent_update', "the user's devices changed while the pairing started; try again");
    throw new Error(`could not store a new verification: ${result.reason}`);
  }

  /** A verification as GET answers it. */
  type ReadView = ReportedVerificationView & { deliveries: DeliveryView[] };

  async function readView(applicationId: string, id: string): Promise<ReadView> {
    const v = await load(applicationId, id);
    const now = deps.clock.now();
    return { ...(await reported(v, now)), deliveries: (await deps.store.deliveries.byVerification(v.id)).map(deliveryView) };
  }

  const viewsInFlight = new Map<string, Promise<ReadView>>();
  const serializedViews = new WeakMap<ReadView, { json: string; digest: string }>();

  /** A view's JSON and its digest, made once per view object: the waiters of one change share it. */
  function serialized(view: ReadView): { json: string; digest: string } {
    let done = serializedViews.get(view);
    if (done === undefined) {
      const json = JSON.stringify(view);
      done = { json, digest: createHash('sha256').update(json).digest('base64') };
      serializedViews.set(view, done);
    }
    return done;
  }

  /**
   * readView, one read shared by concurrent waiters: a change wakes every long-poll and event
   * stream on a verification at once, and they need one read, not one each. A read under way
   * when a change is published here stops being shared, so a waiter woken by it never gets the
   * state from before it. Only for callers already subscribed to the verification: a read may
   * also have started just before a change committed on another node, whose notification then
   * wakes them again (a plain GET reads for itself, so it always sees what was acknowledged).
   */
  function currentView(applicationId: string, id: string): Promise<ReadView> {
    const key = `${applicationId}/${id}`;
    const shared = viewsInFlight.get(key);
    if (shared !== undefined) return shared;
    let read: Promise<ReadView> | undefined;
    const unshare = () => {
      if (read !== undefined && viewsInFlight.get(key) === read) viewsInFlight.delete(key);
    };
    const unsubscribe = deps.notifier.subscribe(id, unshare);
    read = readView(applicationId, id).finally(() => {
      unsubscribe();
      unshare();
    });
    viewsInFlight.set(key, read);
    return read;
  }

  async function load(applicationId: string, id: string): Promise<Verification> {
    const v = await deps.store.verifications.byId(applicationId, id);
    if (v === undefined) throw new OutbandError('verification_not_found', `no verification ${id}`);
    return v;
  }

  /**
   * Reads, decides and commits the decision guarded by the version it was made on; when a
   * concurrent write got there first, decides again on the new state. Each round that loses
   * means another write won, and a verification takes only a few writes before it is final,
   * so this ends quickly even under a burst of parallel requests.
   */
  async function apply(
    applicationId: string,
    id: string,
    input: Input,
    actor: string,
    extra: {
      /** Writes that go with a decision that changes the verification (a resend's message). */
      alongside?: (next: Verification, now: number) => Write[] | Promise<Write[]>;
      ip?: string | null;
      /** The state the caller read just now, decided on in the first round instead of a read (its version guards it as any). */
      justRead?: Verification;
      /** The application, when the caller has loaded it. */
      app?: Application;
    } = {},
  ): Promise<{ decision: Decision; before: Verification }> {
    const { alongside = () => [], ip = null, justRead, app } = extra;
    for (let round = 0; round < MAX_DECISION_ROUNDS; round++) {
      const before = round === 0 && justRead !== undefined ? justRead : await load(applicationId, id);
      const now = deps.clock.now();
      const decision = decide(before, input, now);
      if (decision.next === null) return { decision, before };
      const answered = input.type === 'check' || input.type === 'respond' ? await answerWrites(before, input, decision, now, app) : [];
      const writes: Write[] = [
          ...answered,
          { kind: 'verification.update', verification: decision.next, before },
          // A final verification sends nothing more: later workflow steps and unsent messages are dropped.
          ...(decision.next.status !== 'pending' ? [{ kind: 'delivery.cancelQueued' as const, verificationId: id, now }] : []),
          ...(await alongside(decision.next, now)),
          ...(await pairingOutcomeWrites(deps, decision.next, actor, now, ip)),
          ...verificationEventWrites(decision.events, { applicationId, verificationId: id, actor, now, random: deps.random }),
      ];
      const result = await deps.store.commit({ writes });
      if (!result.ok && result.reason === 'duplicate') throw new DuplicateWrite();
      if (result.ok) {
        if (writes.some((w) => w.kind === 'delivery.insert')) options.wakeDelivery();
        if (decision.next.status !== 'pending') deps.metrics.verificationsEnded.inc({ channel: before.channel, status: decision.next.status });
        return { decision, before };
      }
    }
    throw new OutbandError('concurrent_update', 'the verification kept changing while this request was applied; try again');
  }

  /**
   * What an answer adds besides the decision: the usage counters' move from unused to used at
   * the first answer, and the fraud controls' failure and success counts.
   */
  async function answerWrites(before: Verification, input: Input, decision: Decision, now: number, loaded?: Application): Promise<Write[]> {
    const app = loaded ?? (await deps.store.applications.byId(before.applicationId));
    if (app === undefined) return [];
    const firstAnswer = before.attempts === 0 && before.push?.answeredBy == null;
    return [...(firstAnswer ? usage.answerWrites(before) : []), ...(await fraud.answerWrites(app, before, input, decision, now))];
  }

  /**
   * The outgoing message with the code, sealed, queued in the same unit as the decision. A later
   * workflow step is queued now too, due at its time (`sendAt`), carrying the same code.
   */
  function messageWrite(
    app: Application,
    v: Verification,
    code: string,
    now: number,
    step: MessageStep,
  ): Write {
    const message: OutgoingMessage =
      step.channel === 'missed_call'
        ? // No words: the caller's number is the message. Kept sealed like any message, since its digits are the code.
          { text: '', callerId: step.callerId ?? '', ringSeconds: options.missedCalls?.ringSeconds ?? 20 }
        : renderMessage(step.channel, v.locale, {
            code,
            appName: app.name,
            ttlSeconds: Math.max(0, Math.round((v.expiresAt - step.sendAt) / 1000)),
            purpose: v.purpose,
            defaultLocale: app.settings.defaultLocale,
            now: step.sendAt,
            expiresAt: v.expiresAt,
            override: step.own ?? undefined,
            params: step.params,
          });
    const delivery = queuedDelivery(
      {
        applicationId: app.id,
        verificationId: v.id,
        channel: step.channel,
        provider: step.provider,
        recipient: step.recipient,
        sealedMessage: seal(deps.keys.sealKey, JSON.stringify(message), deps.random),
        sendAt: step.sendAt,
        step: step.index,
      },
      now,
      deps.random,
    );
    return { kind: 'delivery.insert', delivery };
  }

  /**
   * A missed call's caller and code: drawn so the code is uniform over the pool's distinct codes,
   * never from a caller still pending for this recipient. The code is a possession check of
   * `entropy_bits` bits, so it cannot serve authentication (SEC-17).
   */
  async function drawMissedCall(recipient: string, input: StartInput, now: number) {
    const missedCalls = options.missedCalls;
    if (missedCalls === null || missedCalls === undefined) {
      throw new OutbandError('channel_not_enabled', 'missed calls need a caller-id pool on this server (MISSED_CALL_POOL)');
    }
    const entropyBits = Math.round(codeEntropyBits(missedCalls.pool, missedCalls.codeLength) * 100) / 100;
    if ((input.purpose ?? 'confirm_contact') === 'authentication') {
      throw new OutbandError(
        'purpose_not_permitted',
        `a missed call's code is the last ${missedCalls.codeLength} digits of a number from a finite pool (${entropyBits} bits): a possession check, not an authenticator; use purpose confirm_contact`,
        { entropy_bits: entropyBits },
      );
    }
    if (input.code_length !== undefined && input.code_length !== missedCalls.codeLength) {
      throw new OutbandError('invalid_request', `missed calls on this server use ${missedCalls.codeLength} digits (MISSED_CALL_CODE_LENGTH)`);
    }
    if (input.workflow !== undefined) throw new OutbandError('invalid_workflow', "a missed call cannot start a workflow: its code is the caller's digits, which no other message can carry");
    const pending = await deps.store.verifications.pendingCallerHmacs(recipient, now);
    let drawn;
    try {
      drawn = drawCaller(missedCalls.pool, missedCalls.codeLength, deps.random, (from) => pending.has(callerHmac(deps.keys.codeKey, recipient, from)));
    } catch (error) {
      if (error instanceof PoolError && error.kind === 'exhausted') {
        throw new OutbandError('caller_pool_exhausted', 'every caller id of the pool is in use for this recipient; wait for the pending missed calls to end');
      }
      throw error;
    }
    const { callerPrefix } = visiblePrefix(drawn.from, missedCalls.codeLength);
    return { ...drawn, codeLength: missedCalls.codeLength, callerHmac: callerHmac(deps.keys.codeKey, recipient, drawn.from), callerPrefix, entropyBits };
  }

  /** The application's own template for each step's channel, and the request's parameters. */
  async function withTemplates(app: Application, v: Verification, steps: MessageStep[], params: Record<string, string> | undefined): Promise<MessageStep[]> {
    return Promise.all(
      steps.map(async (step) => {
        if (step.channel === 'missed_call') return step;
        const own = (await options.templates?.resolve(app.id, step.channel, v.purpose, v.locale, app.settings.defaultLocale)) ?? null;
        return { ...step, own, ...(params === undefined ? {} : { params }) };
      }),
    );
  }

  /** Every message a new verification sends: its channel now, then each fallback step at its time. */
  async function workflowSteps(app: Application, v: Verification, input: StartInput, ttlSeconds: number, now: number) {
    const first: MessageStep = {
      channel: v.channel,
      recipient: v.recipient,
      provider: app.settings.providers[v.channel] ?? '',
      index: 0,
      sendAt: now,
    };
    const workflow = input.workflow;
    if (workflow === undefined) return [first];
    if (workflow[0]?.channel !== v.channel) {
      throw new OutbandError('invalid_workflow', `the workflow's first step must be the verification's channel (${v.channel})`);
    }
    const steps = [first];
    let sendAt = now;
    for (const [index, step] of workflow.entries()) {
      if (index === 0) {
        if (step.timeout_seconds === undefined) throw new OutbandError('invalid_workflow', 'step 1 needs timeout_seconds: how long to wait before step 2 goes out');
        sendAt += step.timeout_seconds * 1000;
        continue;
      }
      const provider = app.settings.providers[step.channel];
      if (provider === undefined) throw new OutbandError('channel_not_enabled', `workflow step ${index + 1}: the ${step.channel} channel is not enabled for this application`);
      if (index < workflow.length - 1 && step.timeout_seconds === undefined) {
        throw new OutbandError('invalid_workflow', `step ${index + 1} needs timeout_seconds: how long to wait before step ${index + 2} goes out`);
      }
      steps.push({ channel: step.channel, recipient: await recipientOn(v, step.channel), provider, index, sendAt });
      sendAt += (step.timeout_seconds ?? 0) * 1000;
    }
    const lastAt = steps[steps.length - 1]?.sendAt ?? now;
    if (lastAt >= now + ttlSeconds * 1000) {
      throw new OutbandError('invalid_workflow', `the last step would go out ${(lastAt - now) / 1000} s after the start, but the code expires after ${ttlSeconds} s`);
    }
    return steps;
  }

  async function loadApplication(principal: Principal): Promise<Application> {
    const app = await deps.store.applications.byId(principal.applicationId);
    if (app === undefined) throw new OutbandError('invalid_token', 'the application of this token no longer exists');
    return app;
  }

  /** A response's view: the verification and its assurance report, from `app` when the caller has loaded it. */
  async function reported(v: Verification, now: number, app?: Application): Promise<ReportedVerificationView> {
    const application = app ?? (await deps.store.applications.byId(v.applicationId));
    if (application === undefined) throw new OutbandError('invalid_token', 'the application of this token no longer exists');
    return { ...toView(v, now), assurance: await verificationAssurance(deps.store, application, v) };
  }

  /** The recipient of a verification moved to `channel`: the user's address there, or the same phone. */
  async function recipientOn(v: Verification, channel: Channel): Promise<string> {
    if (channel === v.channel) return v.recipient;
    if (v.userId !== null) return userAddress(await deps.store.users.byId(v.applicationId, v.userId), channel);
    if (CHANNEL_DEFINITIONS[v.channel].userAddress === CHANNEL_DEFINITIONS[channel].userAddress) return v.recipient;
    throw new OutbandError('recipient_missing', `this verification was started with "to", which has no address for ${channel}; start a new one`);
  }


  async function loadActiveUser(applicationId: string, userId: string): Promise<User> {
    const user = await deps.store.users.byId(applicationId, userId);
    if (user === undefined) throw new OutbandError('user_not_found', `no user ${userId}`);
    if (user.status === 'suspended') throw new OutbandError('user_suspended', 'a suspended user cannot be verified; reactivate the user first');
    return user;
  }

  /**
   * A push request to the user's paired push devices (primary first) or to one of them. Each
   * device gets a delivery: a push through its transport, or, for a device on its own stream
   * (or whose push registration went stale), a record only — its stream and request list show
   * the request at once. Every device's stream is woken in the same unit.
   */
  async function startPush(principal: Principal, app: Application, input: StartInput): Promise<{ view: ReportedVerificationView; push: PushStartExtras }> {
    if (input.to !== undefined) throw new OutbandError('invalid_request', 'push goes to a user\'s devices: give user_id or device_id, not to');
    for (const field of ['two_way', 'workflow', 'code_length', 'return_code'] as const) {
      if (input[field] !== undefined) throw new OutbandError('invalid_request', `${field} does not apply to channel "push"`);
    }
    let userId = input.user_id;
    let targets: Device[];
    if (input.device_id !== undefined) {
      const device = await deps.store.devices.byId(app.id, input.device_id);
      if (device === undefined || (userId !== undefined && device.userId !== userId)) throw new OutbandError('device_not_found', `no device ${input.device_id}`);
      if (!reachableByPush(device)) throw new OutbandError('device_not_pushable', `device ${device.id} is not a paired push authenticator`);
      userId = device.userId;
      targets = [device];
    } else {
      if (userId === undefined) throw new OutbandError('recipient_ambiguous', 'push needs user_id (all the user\'s push devices) or device_id');
      targets = (await deps.store.devices.forUser(app.id, userId)).filter(reachableByPush).sort((a, b) => (a.role === b.role ? 0 : a.role === 'primary' ? -1 : 1));
    }
    const user = await loadActiveUser(app.id, userId);
    const now = deps.clock.now();
    const bypass = bypassOn(user, now);
    if (targets.length === 0 && !bypass) throw new OutbandError('no_push_device', 'the user has no paired push authenticator; enrol one with POST /v1/users/{id}/devices');
    const locale = parseLocale(input.locale ?? user.locale ?? app.settings.defaultLocale);
    const purpose = input.purpose ?? 'authentication';
    const admission: Admission = { app, actor: actorOf(principal), channel: 'push', purpose, userId: user.id, recipient: targets.map((d) => d.name).join(', '), locale, country: null, pairing: false };
    let marks: Write[] = [];
    if (!bypass) {
      // Locked devices are left out; with none left, the push is refused.
      const screened = await screen(admission, { channel: 'push', recipient: null, userId: user.id, authenticators: targets.map((d) => d.id) }, now);
      marks = screened.marks;
      targets = targets.filter((d) => screened.usable.includes(d.id));
    }
    const ttlSeconds = input.ttl_seconds ?? PUSH_TTL_SECONDS;
    const matching = input.matching ?? 'none';
    // The notice through third-party push services: the purpose's generic wording, no details.
    const notice = renderMessage('push', locale, { code: '', appName: app.name, ttlSeconds, purpose, defaultLocale: app.settings.defaultLocale, now, expiresAt: now + ttlSeconds * 1000 });
    const extras: PushStartExtras = {};
    let code: string | undefined;
    let choices: string[] | null = null;
    if (matching === 'pick') {
      choices = pickChoices(deps.random);
      code = choices[deps.random.bytes(1)[0]! % 3]!;
      extras.match_number = code;
    } else if (matching === 'type') {
      code = generateCode(MATCH_CODE_LENGTH, deps.random);
      extras.match_code = code;
    }
    const details: PushDetails = {
      message: input.message ?? notice.title ?? notice.text,
      context: input.context ?? {},
      userVerification: input.user_verification ?? 'required',
      matching,
      choices,
      challenge: Buffer.from(deps.random.bytes(32)).toString('base64url'),
      readBackPending: false,
      answeredBy: null,
      method: null,
    };
    const { verification, events } = createVerification(
      {
        applicationId: app.id,
        userId: user.id,
        channel: 'push',
        purpose,
        recipient: targets.map((d) => d.name).join(', ') || 'bypass',
        locale,
        ttlSeconds,
        codeLength: MATCH_CODE_LENGTH,
        maxAttempts: input.max_attempts ?? app.settings.maxAttempts,
        deviceId: input.device_id ?? null,
        push: details,
        bypass,
        // none and read_back take no code before the device answers: a random one nobody knows.
        ...(code === undefined ? {} : { code }),
      },
      now,
      deps.random,
      deps.keys.codeKey,
    );
    const writes: Write[] = [{ kind: 'verification.insert', verification }];
    if (!bypass) {
      for (const device of targets) {
        const transport = device.transport;
        const byStream = transport === null || transport.type === 'stream' || device.transportStaleAt !== null;
        const base = { applicationId: app.id, verificationId: verification.id, channel: 'push' as const, recipient: device.id, sendAt: now };
        // A device on its stream needs no send: the request is there the moment it commits.
        const delivery = byStream
          ? { ...queuedDelivery({ ...base, provider: 'stream', sealedMessage: null }, now, deps.random), status: 'sent' as const, sentAt: now }
          : queuedDelivery(
              {
                ...base,
                provider: transport.type,
                sealedMessage: seal(
                  deps.keys.sealKey,
                  JSON.stringify({ text: '', push: { target: transport, title: notice.title ?? '', body: notice.text, expiresAt: verification.expiresAt } } satisfies OutgoingMessage),
                  deps.random,
                ),
              },
              now,
              deps.random,
            );
        writes.push({ kind: 'delivery.insert', delivery });
        writes.push({ kind: 'wake', subjectId: device.id });
      }
    }
    writes.push(...marks);
    writes.push(...verificationEventWrites(events, { applicationId: app.id, verificationId: verification.id, actor: actorOf(principal), now, random: deps.random }));
    if (bypass) {
      const result = await deps.store.commit({ writes });
      if (!result.ok) throw new Error(`could not store a new verification: ${result.reason}`);
    } else {
      await commitStart(admission, writes, now);
    }
    deps.metrics.verificationsStarted.inc({ channel: 'push' });
    options.wakeDelivery();
    return { view: await reported(verification, now, app), push: bypass ? {} : extras };
  }

  return {
    async start(
      principal: Principal,
      request: StartRequest,
    ): Promise<{ view: ReportedVerificationView; code?: string; missedCall?: { digits: number; caller_prefix: string; entropy_bits: number }; push?: PushStartExtras }> {
      const app = await loadApplication(principal);
      requireEnabled(app);
      const input: StartInput = options.policies ? await options.policies.resolveStart(app, request) : (request as StartInput);
      const provider = app.settings.providers[input.channel];
      if (provider === undefined) throw new OutbandError('channel_not_enabled', `the ${input.channel} channel is not enabled for this application`);
      if (input.return_code === true && !principal.scopes.has('verifications:code')) {
        throw new OutbandError('return_code_not_allowed', 'return_code: true needs a token with the verifications:code scope');
      }
      if (input.two_way === true && input.channel !== 'sms') {
        throw new OutbandError('two_way_not_supported', `two_way needs channel "sms"; this is ${input.channel}`);
      }
      if (input.channel === 'push') return startPush(principal, app, input);
      for (const field of ['device_id', 'message', 'context', 'user_verification', 'matching'] as const) {
        if (input[field] !== undefined) throw new OutbandError('invalid_request', `${field} is for channel "push" only`);
      }
      if ((input.user_id === undefined) === (input.to === undefined)) {
        throw new OutbandError('recipient_ambiguous', 'give exactly one of user_id (to use the user\'s address) or to');
      }

      let recipient: string;
      let userLocale: string | null = null;
      let bypass = false;
      if (input.user_id !== undefined) {
        const user = await loadActiveUser(principal.applicationId, input.user_id);
        recipient = userAddress(user, input.channel);
        userLocale = user.locale;
        bypass = bypassOn(user, deps.clock.now());
      } else {
        recipient = parseRecipient(input.channel, input.to as string, input.country);
      }

      const locale = parseLocale(input.locale ?? userLocale ?? app.settings.defaultLocale);
      const ttlSeconds = input.ttl_seconds ?? app.settings.ttlSeconds;
      const now = deps.clock.now();
      const purpose = input.purpose ?? (input.channel === 'missed_call' ? 'confirm_contact' : 'authentication');
      const admission: Admission = { app, actor: actorOf(principal), channel: input.channel, purpose, userId: input.user_id ?? null, recipient, locale, country: null, pairing: false };
      // Under a bypass nothing is sent and nothing is counted: the relying party decides.
      const screened = bypass ? { marks: [], country: null } : await screen(admission, { channel: input.channel, recipient, userId: input.user_id ?? null, authenticators: [recipient] }, now);
      const missed = input.channel === 'missed_call' ? await drawMissedCall(recipient, input, now) : null;
      const { verification, code, events } = createVerification(
        {
          applicationId: app.id,
          userId: input.user_id ?? null,
          channel: input.channel,
          purpose,
          recipient,
          locale,
          ttlSeconds,
          country: screened.country,
          codeLength: missed?.codeLength ?? input.code_length ?? app.settings.codeLength,
          maxAttempts: input.max_attempts ?? app.settings.maxAttempts,
          twoWay: input.two_way ?? false,
          bypass,
          ...(missed === null ? {} : { code: missed.code, callerHmac: missed.callerHmac }),
        },
        now,
        deps.random,
        deps.keys.codeKey,
      );
      const steps = await withTemplates(app, verification, await workflowSteps(app, verification, input, ttlSeconds, now), input.params);
      if (missed !== null) steps[0] = { ...steps[0]!, callerId: missed.from };
      let messages: Write[];
      try {
        // Under a bypass nothing is sent: the verification is approved already.
        messages = bypass ? [] : steps.map((step) => messageWrite(app, verification, code, now, step));
      } catch (error) {
        // An application template that needs a parameter this request did not pass.
        if (error instanceof OutbandError) throw error;
        throw new OutbandError('invalid_template', `the application's template cannot be rendered for this request: ${(error as Error).message}`, { problems: [] });
      }
      const writes: Write[] = [
        { kind: 'verification.insert', verification },
        ...messages,
        ...screened.marks,
        ...verificationEventWrites(events, { applicationId: app.id, verificationId: verification.id, actor: actorOf(principal), now, random: deps.random }),
      ];
      if (bypass) {
        const result = await deps.store.commit({ writes });
        if (!result.ok) throw new Error(`could not store a new verification: ${result.reason}`);
      } else {
        await commitStart({ ...admission, country: screened.country }, writes, now);
      }
      deps.metrics.verificationsStarted.inc({ channel: input.channel });
      options.wakeDelivery();
      const view = await reported(verification, now, app);
      const extra = missed === null ? {} : { missedCall: { digits: missed.codeLength, caller_prefix: missed.callerPrefix, entropy_bits: missed.entropyBits } };
      return input.return_code === true ? { view, code, ...extra } : { view, ...extra };
    },

    /** Fails with verification_not_found unless the principal's application has this verification. */
    async ensureExists(principal: Principal, id: string): Promise<void> {
      await load(principal.applicationId, id);
    },

    /**
     * The verification; with `waitSeconds`, a long-poll that answers as soon as the status
     * changes (or the verification expires), or after the wait with the current state.
     */
    async get(principal: Principal, id: string, waitSeconds = 0): Promise<ReadView> {
      const wait = Math.min(Math.max(0, waitSeconds), MAX_WAIT_SECONDS) * 1000;
      if (wait === 0) return readView(principal.applicationId, id);
      const deadline = deps.clock.now() + wait;
      // The answer if the wait is over, else how long to wait at most: no view is held while
      // waiting (an await keeps its function's variables, and thousands may wait at once).
      return longPoll(deps.notifier, id, options.shutdown, async (): Promise<ReadView | number> => {
        let view = await currentView(principal.applicationId, id);
        const now = deps.clock.now();
        // A shared read may have begun before its expiry passed: never answer "pending" after it.
        if (view.status === 'pending' && now >= Date.parse(view.expires_at)) view = await readView(principal.applicationId, id);
        if (view.status !== 'pending' || now >= deadline || options.shutdown.aborted) return view;
        return Math.min(deadline, Date.parse(view.expires_at)) - now + 1;
      });
    },

    /**
     * Calls `send` with the verification (and it as JSON) now and at every change of it, until
     * it is final or `until` resolves (the client went away, the server stops). Each open stream
     * keeps only the verification id and a digest of what it sent last: thousands may be open at
     * once, and the streams woken by one change share one view, one JSON text and one digest.
     */
    async follow(principal: Principal, id: string, send: (view: ReadView, json: string) => void, until: Promise<void>): Promise<void> {
      let wake = () => {};
      let changed = new Promise<void>((resolve) => (wake = resolve));
      const unsubscribe = deps.notifier.subscribe(id, () => wake());
      let gone = false;
      void until.then(() => {
        gone = true;
        wake();
      });
      let last = '';
      // Reads and sends if changed; answers only what the wait needs, so no view is held while waiting.
      const step = async (): Promise<{ final: boolean; expiresAt: number }> => {
        const view = await currentView(principal.applicationId, id);
        const { json, digest } = serialized(view);
        if (digest !== last) send(view, json);
        last = digest;
        return { final: view.status !== 'pending', expiresAt: Date.parse(view.expires_at) };
      };
      try {
        for (;;) {
          // Read now that a change cannot be missed (the first time too: one may have come since the caller's read).
          const { final, expiresAt } = await step();
          if (final || gone) return;
          await wokenOrAfter(changed, Math.max(0, expiresAt - deps.clock.now()) + 1);
          changed = new Promise<void>((resolve) => (wake = resolve));
          if (gone) return;
        }
      } finally {
        unsubscribe();
      }
    },

    /** Checks a code: `valid` tells whether it was right; a wrong one uses up an attempt. */
    async check(principal: Principal, id: string, typed: string, ip: string | null = null): Promise<ReportedVerificationView & { valid: boolean }> {
      const started = performance.now();
      // Digits pass unchanged; a base32 pairing code is read as Crockford's alphabet reads it.
      const code = normalizeBase32Code(typed);
      const app = await loadApplication(principal);
      const { decision, before } = await apply(principal.applicationId, id, { type: 'check', code, codeKey: deps.keys.codeKey }, actorOf(principal), { ip, app });
      deps.metrics.checkDuration.observe({ channel: before.channel }, (performance.now() - started) / 1000);
      const outcome = decision.outcome;
      if (outcome.kind === 'closed') throw closedError(outcome.status, outcome.reason);
      if (outcome.kind === 'awaiting_device') {
        throw new OutbandError('verification_awaiting_device', 'a push verification is answered on the device; only a read_back code, after the device approved, is checked here');
      }
      const now = deps.clock.now();
      return { ...(await reported(decision.next ?? before, now, app)), valid: outcome.kind === 'approved' };
    },

    /** Push requests a device can answer now, oldest first. */
    async pendingForDevice(device: Device): Promise<Verification[]> {
      return deps.store.verifications.pendingForDevice(device, deps.clock.now());
    },

    /**
     * A request as its device sees it. Another device's or another application's request, and
     * one that does not exist, answer alike: 404 request_not_found.
     */
    async requestForDevice(device: Device, id: string): Promise<Verification> {
      const v = await deps.store.verifications.byId(device.applicationId, id);
      const sentTo = v === undefined ? [] : await deps.store.deliveries.byVerification(v.id);
      if (v === undefined || v.push === null || !sentTo.some((d) => d.channel === 'push' && d.recipient === device.id)) {
        throw new OutbandError('request_not_found', `no request ${id} for this device`);
      }
      return v;
    },

    /**
     * A device's answer, its signature already checked against the request's challenge. Final
     * and idempotent (SEC-24): a second answer, or one after the request ended, changes nothing.
     */
    async respond(
      device: Device,
      v: Verification,
      input: { decision: PushDecision; method: UserVerificationMethod; answer: string | null },
    ): Promise<{ view: VerificationView; readBackCode?: string }> {
      if (input.method !== 'none' && !device.capabilities.includes(input.method)) {
        throw new OutbandError('user_verification_not_capable', `the device did not declare "${input.method}" among its capabilities at enrolment`);
      }
      const readBackCode = generateCode(MATCH_CODE_LENGTH, deps.random);
      const { decision, before } = await apply(
        v.applicationId,
        v.id,
        { type: 'respond', deviceId: device.id, decision: input.decision, method: input.method, answer: input.answer, codeKey: deps.keys.codeKey, readBackCodeHmac: codeHmac(deps.keys.codeKey, v.id, readBackCode) },
        `device:${device.id}`,
        { justRead: v },
      );
      const outcome = decision.outcome;
      if (outcome.kind === 'closed') throw closedError(outcome.status, outcome.reason);
      if (outcome.kind === 'already_answered') throw new OutbandError('already_answered', 'this request was approved on a device already; the caller reads its code to the agent');
      if (outcome.kind === 'user_verification_required') {
        throw new OutbandError('user_verification_required', 'approving this request needs user verification: unlock the key with a PIN or biometric and report which');
      }
      if (outcome.kind === 'answer_required') throw new OutbandError('answer_required', `matching "${v.push?.matching}" needs the answer the user gave`);
      const view = toView(decision.next ?? before, deps.clock.now());
      return outcome.kind === 'awaiting_read_back' ? { view, readBackCode } : { view };
    },

    /**
     * The pairing verification of a new sms, voice or e-mail device: the code goes to the
     * address, and confirming it pairs the device (pairingOutcomeWrites). `writes` (the pending
     * device, the pairings it replaces) commit in the same unit.
     */
    async startPairing(
      app: Application,
      user: User,
      pairing: { deviceId: string; channel: CodeChannel; address: string; code: string; actor: string },
      writes: (verification: Verification) => Write[],
    ): Promise<VerificationView> {
      const provider = app.settings.providers[pairing.channel];
      if (provider === undefined) throw new OutbandError('channel_not_enabled', `the ${pairing.channel} channel is not enabled for this application`);
      const now = deps.clock.now();
      const { verification, events } = createVerification(
        {
          applicationId: app.id,
          userId: user.id,
          channel: pairing.channel,
          purpose: 'pairing',
          recipient: pairing.address,
          locale: parseLocale(user.locale ?? app.settings.defaultLocale),
          ttlSeconds: app.settings.ttlSeconds,
          codeLength: pairing.code.length,
          maxAttempts: PAIRING_MAX_ATTEMPTS,
          code: pairing.code,
          deviceId: pairing.deviceId,
        },
        now,
        deps.random,
        deps.keys.codeKey,
      );
      const [step] = await withTemplates(app, verification, [{ channel: pairing.channel, recipient: pairing.address, provider, index: 0, sendAt: now }], undefined);
      const admission: Admission = { app, actor: pairing.actor, channel: pairing.channel, purpose: 'pairing', userId: user.id, recipient: pairing.address, locale: verification.locale, country: null, pairing: true };
      const screened = await screen(admission, { channel: pairing.channel, recipient: pairing.address, userId: user.id, authenticators: [] }, now);
      await commitStart({ ...admission, country: screened.country }, [
        ...writes(verification),
        { kind: 'verification.insert', verification: { ...verification, country: screened.country } },
        messageWrite(app, verification, pairing.code, now, step!),
        ...screened.marks,
        ...verificationEventWrites(events, { applicationId: app.id, verificationId: verification.id, actor: pairing.actor, now, random: deps.random }),
      ], now);
      deps.metrics.verificationsStarted.inc({ channel: pairing.channel });
      options.wakeDelivery();
      return toView(verification, now);
    },

    /** Cancels a pending verification on the server's own account (a device unpaired, a pairing replaced). */
    async cancelFor(applicationId: string, id: string, actor: string): Promise<void> {
      await apply(applicationId, id, { type: 'cancel' }, actor);
    },

    /** A verification, unscoped to a token: for the streams that follow it. */
    async current(applicationId: string, id: string): Promise<Verification> {
      return load(applicationId, id);
    },

    async cancel(principal: Principal, id: string): Promise<ReportedVerificationView> {
      const { decision, before } = await apply(principal.applicationId, id, { type: 'cancel' }, actorOf(principal));
      if (decision.outcome.kind === 'closed') throw closedError(decision.outcome.status, decision.outcome.reason);
      return reported(decision.next ?? before, deps.clock.now());
    },

    /**
     * A code that arrived by SMS reply (two-way): checked like a typed one, a wrong one uses up
     * an attempt. `alongside` records the inbound message in the same unit, so a repeated
     * delivery of it finds it recorded and changes nothing.
     */
    async checkReply(v: Verification, code: string, actor: string, alongside: Write[]): Promise<Decision['outcome']> {
      const { decision } = await apply(v.applicationId, v.id, { type: 'check', code, codeKey: deps.keys.codeKey }, actor, { alongside: () => alongside });
      return decision.outcome;
    },

    /**
     * Sends a new code, on the same channel or another enabled one. The old code stops working;
     * attempts already used stay used (SEC-07). A cooldown and a cap bound how often.
     */
    async resend(principal: Principal, id: string, input: { channel?: Channel }): Promise<ReportedVerificationView> {
      const app = await loadApplication(principal);
      requireEnabled(app);
      const current = await load(app.id, id);
      const channel = input.channel ?? current.channel;
      const provider = app.settings.providers[channel];
      if (provider === undefined) throw new OutbandError('channel_not_enabled', `the ${channel} channel is not enabled for this application`);
      if ((channel === 'missed_call') !== (current.channel === 'missed_call')) {
        throw new OutbandError('invalid_request', "a missed call's code is its caller's digits: a resend cannot move between missed_call and another channel; start a new verification");
      }
      const recipient = await recipientOn(current, channel);
      // A missed call gets a new caller (its digits are the new code); other channels a new code.
      const missed = channel === 'missed_call' ? await drawMissedCall(recipient, { channel, purpose: current.purpose }, deps.clock.now()) : null;
      const code = missed?.code ?? generateCode(current.codeLength, deps.random);
      const own = channel === 'missed_call' ? null : ((await options.templates?.resolve(app.id, channel, current.purpose, current.locale, app.settings.defaultLocale)) ?? null);
      const { decision, before } = await apply(
        app.id,
        id,
        { type: 'resend', codeHmac: codeHmac(deps.keys.codeKey, id, code), channel, recipient, policy: RESEND, callerHmac: missed?.callerHmac ?? null },
        actorOf(principal),
        // The new code replaces the old in every message not yet sent, so those go: a resend ends the workflow.
        {
          alongside: (next, now) => {
            const step: MessageStep = { channel, recipient, provider, index: 0, sendAt: now, own, ...(missed === null ? {} : { callerId: missed.from }) };
            let message: Write;
            try {
              message = messageWrite(app, next, code, now, step);
            } catch {
              // The request's parameters are not kept, so an own template that needs them gives way to the built-in one.
              message = messageWrite(app, next, code, now, { ...step, own: null });
            }
            return [{ kind: 'delivery.cancelQueued', verificationId: id, now }, message];
          },
        },
      );
      const outcome = decision.outcome;
      if (outcome.kind === 'closed') throw closedError(outcome.status, outcome.reason);
      if (outcome.kind === 'resend_cooldown') {
        throw new OutbandError('resend_cooldown', `wait ${outcome.retryAfterSeconds} s before sending the code again`, { retry_after: outcome.retryAfterSeconds });
      }
      if (outcome.kind === 'resend_limit') throw new OutbandError('resend_limit_reached', `the code was already sent again ${outcome.limit} times; start a new verification`);
      options.wakeDelivery();
      return reported(decision.next ?? before, deps.clock.now(), app);
    },

    /** Records the expiry of overdue verifications (the sweeper). Answers how many it recorded. */
    async expireOverdue(limit: number): Promise<number> {
      const overdue = await deps.store.verifications.overdue(deps.clock.now(), limit);
      let expired = 0;
      // SQLite: a few at a time, so that their commits share a group commit instead of waiting
      // for one each (one by one, a busy server expired only a few dozen a second). Its one
      // connection takes their reads and commits in turn, so the events keep the overdue order;
      // on PostgreSQL's pool they would not, and there each commit is its own anyway.
      const batch = deps.store.dialect === 'sqlite' ? EXPIRE_IN_PARALLEL : 1;
      for (let from = 0; from < overdue.length; from += batch) {
        await Promise.all(
          overdue.slice(from, from + batch).map(async (v) => {
            try {
              const { decision } = await apply(v.applicationId, v.id, { type: 'expire' }, 'system');
              if (decision.outcome.kind === 'expired') expired++;
            } catch (error) {
              if (!(error instanceof OutbandError)) throw error;
            }
          }),
        );
      }
      return expired;
    },
  };
}

export type VerificationService = ReturnType<typeof createVerificationService>;
