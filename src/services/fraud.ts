import { maskRecipient } from '../domain/address/recipient.ts';
import type { Application, Channel } from '../domain/application.ts';
import type { ErrorCode } from '../domain/errors.ts';
import { OutbandError } from '../domain/errors.ts';
import { checkDestination, destinationPrefix } from '../domain/policy/destination.ts';
import { NumberLookupError, type NumberLookup } from '../providers/number-lookup/types.ts';
import type { Decision, Input, Verification } from '../domain/verification/verification.ts';
import type { FraudWindow, Write } from '../store/store.ts';
import type { ServiceDeps } from './deps.ts';
import { eventWrite } from './events.ts';

/**
 * Where a verification goes, as the fraud controls see it. `authenticators` are what a guesser
 * attacks: the phone number or e-mail address for a code, the devices for a push.
 */
export interface Destination {
  channel: Channel;
  /** E.164 number or e-mail address; null for push. */
  recipient: string | null;
  userId: string | null;
  authenticators: string[];
}

/** The destination check of a phone number (country allow-list, number and line type). */
export type DestinationCheck = (
  app: Application,
  channel: Channel,
  e164: string,
  now: number,
) => Promise<{ ok: true; country: string | null; safeListed: boolean } | { ok: false; code: ErrorCode; reasons: string[]; country: string | null }>;

/**
 * The destination check through a number lookup: the lookup reports (country, line type), the
 * policy of src/domain/policy/destination.ts decides. A lookup that fails with `refuse` set is a 503.
 */
export function lookupDestination(lookup: NumberLookup): DestinationCheck {
  return async (app, channel, e164, now) => {
    if (channel !== 'sms' && channel !== 'voice' && channel !== 'missed_call') return { ok: true, country: null, safeListed: false };
    let info;
    try {
      info = await lookup.lookup(e164);
    } catch (error) {
      if (error instanceof NumberLookupError) throw new OutbandError('number_lookup_unavailable', 'the number lookup did not answer; try again shortly');
      throw error;
    }
    const verdict = checkDestination({ channel, e164, info, settings: app.settings, now });
    if (!verdict.ok) return { ok: false, code: verdict.code, reasons: verdict.reasons, country: verdict.country };
    // A recent SIM swap or port is an account-takeover signal: the code could reach someone else.
    if (!verdict.safeListed) {
      const { simSwapBlockSeconds, portBlockSeconds } = app.settings.fraud;
      const recent = (at: number | null | undefined, seconds: number) => seconds > 0 && at != null && now - at < seconds * 1000;
      const reasons = [...(recent(info.simSwappedAt, simSwapBlockSeconds) ? ['sim_swap'] : []), ...(recent(info.portedAt, portBlockSeconds) ? ['ported'] : [])];
      if (reasons.length > 0) return { ok: false, code: 'verification_blocked', reasons, country: verdict.country };
    }
    return { ok: true, country: verdict.country, safeListed: verdict.safeListed };
  };
}

/** Why a start is refused, and what to record with the refusal. */
export interface Refusal {
  code: ErrorCode;
  reasons: string[];
  /** Seconds until the same start may pass, when the refusal ends by itself. */
  retryAfter: number | null;
  /** Recorded with the blocked verification (a block that starts now, its event). */
  writes: Write[];
}

export interface Screening {
  refusal: Refusal | null;
  /** The occurrences this start adds to the sliding windows, committed with it. */
  marks: Write[];
  country: string | null;
  /** Authenticators still usable (locked devices are left out of a push). */
  usable: string[];
}

const PHONE = new Set<Channel>(['sms', 'voice', 'missed_call']);

/** A failure key: the recipient's address for a code, the user for a push. */
function failureKey(v: Pick<Verification, 'channel' | 'recipient' | 'userId'>): string {
  return v.channel === 'push' ? `fail:user:${v.userId}` : `fail:${v.recipient}`;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * The fraud controls of issue [4]: guessing across verifications (authenticator locks,
 * per-recipient failure cool-off), SMS pumping (destination rules, send rates per recipient,
 * velocity per prefix and country) and push bombing. Counts come from sliding windows of marks
 * in the database, so every node sees the same; a burst of concurrent starts can each read the
 * count before the others commit, so these windows are guards, not exact quotas (the usage
 * limits are exact).
 */
export function createFraudControls(deps: Pick<ServiceDeps, 'store' | 'random'>, options: { destination?: DestinationCheck } = {}) {
  /** A destination blocked until a time, and the operator told why (`fraud.suspected`). */
  function suspected(applicationId: string, key: string, until: number, now: number, data: Record<string, unknown> & { signal: string }): Write[] {
    return [
      { kind: 'fraud.block', applicationId, key, until, reason: data.signal, now },
      eventWrite(deps.random, {
        applicationId,
        type: 'fraud.suspected',
        subjectType: 'application',
        subjectId: applicationId,
        actor: 'system',
        data: { ...data, blocked_until: new Date(until).toISOString() },
        createdAt: now,
      }),
    ];
  }

  return {
    /** Decides whether a start may go out; marks what it adds to the windows if it may. */
    async screen(app: Application, to: Destination, now: number): Promise<Screening> {
      const fraud = app.settings.fraud;
      const refuse = (code: ErrorCode, reasons: string[], retryAfter: number | null = null, writes: Write[] = []): Refusal => ({ code, reasons, retryAfter, writes });
      let country: string | null = null;

      const locked = new Set(await deps.store.authenticators.locked(app.id, to.authenticators));
      const usable = to.authenticators.filter((a) => !locked.has(a));
      if (to.authenticators.length > 0 && usable.length === 0) return { refusal: refuse('authenticator_locked', ['authenticator_locked']), marks: [], country, usable };

      const failKey = failureKey({ channel: to.channel, recipient: to.recipient ?? '', userId: to.userId });
      const pushKey = `push:${to.userId}`;
      const blockKeys = [failKey];
      if (to.channel === 'push') blockKeys.push(pushKey);

      const phone = PHONE.has(to.channel) && to.recipient !== null ? to.recipient : null;
      let safe = false;
      if (phone !== null && options.destination !== undefined) {
        const verdict = await options.destination(app, to.channel, phone, now);
        country = verdict.country;
        if (!verdict.ok) return { refusal: refuse(verdict.code, verdict.reasons), marks: [], country, usable };
        safe = verdict.safeListed;
      }
      if (country !== null) blockKeys.push(`country:${country}`);
      const lowConversion = fraud.lowConversion;
      const conversionOf = phone === null ? null : lowConversion.scope === 'country' ? country : destinationPrefix(phone);
      const lowKey = conversionOf === null ? null : `lowconv:${conversionOf}`;
      if (lowKey !== null) blockKeys.push(lowKey);

      const blocks = await deps.store.fraud.blocks(app.id, blockKeys, now);
      const blockOf = (key: string) => blocks.find((b) => b.key === key);
      const cooling = blockOf(failKey);
      if (cooling !== undefined) return { refusal: refuse('recipient_cooling_off', ['recipient_cooling_off'], seconds(cooling.until - now)), marks: [], country, usable };

      // Only the windows this start is judged by are counted (a safe-listed number skips the
      // velocity and conversion guards), each only up to its limit (src/store/store.ts).
      const windows: FraudWindow[] = [];
      const sendKey = to.recipient === null ? null : `send:${to.recipient}`;
      if (sendKey !== null) windows.push({ key: sendKey, since: now - fraud.recipientSends.windowSeconds * 1000, cap: fraud.recipientSends.max });
      if (to.channel === 'push') windows.push({ key: pushKey, since: now - fraud.pushCooldown.windowSeconds * 1000, cap: fraud.pushCooldown.max });
      const prefixKey = phone === null ? null : `prefix:${destinationPrefix(phone)}`;
      const countryKey = country === null ? null : `country:${country}`;
      const startsKey = conversionOf === null ? null : `cstart:${conversionOf}`;
      const convertedKey = conversionOf === null ? null : `conv:${conversionOf}`;
      if (!safe) {
        if (prefixKey !== null) windows.push({ key: prefixKey, since: now - fraud.prefixVelocity.windowSeconds * 1000, cap: fraud.prefixVelocity.max });
        if (countryKey !== null) windows.push({ key: countryKey, since: now - fraud.countryVelocity.windowSeconds * 1000, cap: fraud.countryVelocity.max });
        // The conversion rate needs both counts whole: these two are the windows whose cost grows with the traffic.
        if (startsKey !== null && convertedKey !== null && lowKey !== null) {
          const since = now - lowConversion.windowSeconds * 1000;
          windows.push({ key: startsKey, since }, { key: convertedKey, since }, { key: lowKey, since: now - 86_400_000 });
        }
      }
      const counts = await deps.store.fraud.counts(app.id, windows);
      const countOf = (key: string) => counts.get(key) ?? { count: 0, oldest: null };
      // When the oldest occurrence leaves the window, one more fits.
      const freesIn = (key: string, windowSeconds: number) => seconds((countOf(key).oldest ?? now) + windowSeconds * 1000 - now);

      if (to.channel === 'push') {
        const pushBlock = blockOf(pushKey);
        if (pushBlock !== undefined) return { refusal: refuse('push_cooldown', ['push_cooldown', pushBlock.reason], seconds(pushBlock.until - now)), marks: [], country, usable };
        if (countOf(pushKey).count >= fraud.pushCooldown.max) {
          return { refusal: refuse('push_cooldown', ['push_cooldown'], freesIn(pushKey, fraud.pushCooldown.windowSeconds)), marks: [], country, usable };
        }
      }
      if (sendKey !== null && countOf(sendKey).count >= fraud.recipientSends.max) {
        return { refusal: refuse('verification_blocked', ['recipient_send_rate'], freesIn(sendKey, fraud.recipientSends.windowSeconds)), marks: [], country, usable };
      }
      if (!safe) {
        const countryBlock = countryKey === null ? undefined : blockOf(countryKey);
        if (countryBlock !== undefined) return { refusal: refuse('verification_blocked', ['country_velocity'], seconds(countryBlock.until - now)), marks: [], country, usable };
        if (prefixKey !== null && countOf(prefixKey).count >= fraud.prefixVelocity.max) {
          return { refusal: refuse('verification_blocked', ['prefix_velocity'], freesIn(prefixKey, fraud.prefixVelocity.windowSeconds)), marks: [], country, usable };
        }
        if (countryKey !== null && countOf(countryKey).count >= fraud.countryVelocity.max) {
          // The ceiling is crossed: the country is blocked for a while, and the operator told.
          const until = now + fraud.countryVelocity.blockSeconds * 1000;
          const writes = suspected(app.id, countryKey, until, now, {
            signal: 'country_velocity',
            country,
            count: countOf(countryKey).count,
            window_seconds: fraud.countryVelocity.windowSeconds,
          });
          return { refusal: refuse('verification_blocked', ['country_velocity'], fraud.countryVelocity.blockSeconds, writes), marks: [], country, usable };
        }
        const lowBlock = lowKey === null ? undefined : blockOf(lowKey);
        if (lowBlock !== undefined) return { refusal: refuse('verification_blocked', ['low_conversion'], seconds(lowBlock.until - now)), marks: [], country, usable };
        if (startsKey !== null && convertedKey !== null && lowKey !== null) {
          const started = countOf(startsKey).count;
          const converted = countOf(convertedKey).count;
          if (started >= lowConversion.minVolume && converted * 100 < lowConversion.minRatePercent * started) {
            // Each block in the last day doubles the next; the counts start afresh after it.
            const level = countOf(lowKey).count;
            const blockSeconds = Math.min(lowConversion.blockSeconds * 2 ** level, 12 * 3600);
            const until = now + blockSeconds * 1000;
            const writes: Write[] = [
              ...suspected(app.id, lowKey, until, now, {
                signal: 'low_conversion',
                scope: lowConversion.scope,
                ...(lowConversion.scope === 'country' ? { country } : { prefix: conversionOf }),
                started,
                approved: converted,
                window_seconds: lowConversion.windowSeconds,
                level: level + 1,
              }),
              { kind: 'fraud.mark', applicationId: app.id, key: lowKey, at: now },
              { kind: 'fraud.clear', applicationId: app.id, key: startsKey },
              { kind: 'fraud.clear', applicationId: app.id, key: convertedKey },
            ];
            return { refusal: refuse('verification_blocked', ['low_conversion'], blockSeconds, writes), marks: [], country, usable };
          }
        }
      }

      const marks: Write[] = [];
      for (const key of [sendKey, prefixKey, countryKey, startsKey, to.channel === 'push' ? pushKey : null]) {
        if (key !== null) marks.push({ kind: 'fraud.mark', applicationId: app.id, key, at: now });
      }
      return { refusal: null, marks, country, usable };
    },

    /**
     * What an answer (a typed code, a device's answer) adds to the fraud controls: a failure
     * counts against the authenticator and the recipient, and at a threshold locks it or starts a
     * cool-off; a success clears the authenticator's count and the user's unanswered pushes; a
     * report of fraud starts the push cool-off at once.
     */
    async answerWrites(app: Application, before: Verification, input: Input, decision: Decision, now: number): Promise<Write[]> {
      const next = decision.next;
      if (next === null || (input.type !== 'check' && input.type !== 'respond')) return [];
      const fraud = app.settings.fraud;
      const authenticator = before.channel === 'push' ? (input.type === 'respond' ? input.deviceId : before.push?.answeredBy ?? null) : before.recipient;
      const writes: Write[] = [];
      const eventBase = { applicationId: app.id, subjectType: 'verification' as const, subjectId: before.id, actor: 'system', createdAt: now };
      const wrong = (next.attempts > before.attempts && next.status !== 'approved') || next.reason === 'number_mismatch';
      if (wrong) {
        if (authenticator !== null) {
          writes.push({ kind: 'authenticator.failure', applicationId: app.id, authenticator, cap: fraud.authenticatorFailureCap, now });
          const failures = await deps.store.authenticators.failures(app.id, authenticator);
          if ((failures?.lockedAt ?? null) === null && (failures?.consecutive ?? 0) + 1 >= fraud.authenticatorFailureCap) {
            writes.push(
              eventWrite(deps.random, {
                ...eventBase,
                type: 'authenticator.locked',
                data: { user_id: before.userId, channel: before.channel, authenticator: before.channel === 'push' ? authenticator : maskRecipient(before.channel, authenticator), consecutive_failures: fraud.authenticatorFailureCap },
              }),
            );
          }
        }
        const key = failureKey(before);
        writes.push({ kind: 'fraud.mark', applicationId: app.id, key, at: now });
        const { count } = (await deps.store.fraud.counts(app.id, [{ key, since: now - fraud.recipientFailures.windowSeconds * 1000, cap: fraud.recipientFailures.max }])).get(key) ?? { count: 0 };
        if (count + 1 >= fraud.recipientFailures.max) {
          const until = now + fraud.recipientFailures.coolOffSeconds * 1000;
          writes.push({ kind: 'fraud.block', applicationId: app.id, key, until, reason: 'recipient_failures', now });
          if (count + 1 === fraud.recipientFailures.max) {
            writes.push(
              eventWrite(deps.random, {
                ...eventBase,
                type: 'fraud.recipient_cooling_off',
                data: { user_id: before.userId, channel: before.channel, failures: count + 1, window_seconds: fraud.recipientFailures.windowSeconds, until: new Date(until).toISOString() },
              }),
            );
          }
        }
      } else if (next.status === 'approved' || (next.push?.readBackPending === true && before.push?.readBackPending !== true)) {
        if (authenticator !== null) writes.push({ kind: 'authenticator.success', applicationId: app.id, authenticator });
        // An approved code to a phone is a conversion of its destination (SEC-34).
        if (next.status === 'approved' && PHONE.has(before.channel)) {
          const converted = fraud.lowConversion.scope === 'country' ? before.country : destinationPrefix(before.recipient);
          if (converted !== null) writes.push({ kind: 'fraud.mark', applicationId: app.id, key: `conv:${converted}`, at: now });
        }
        if (before.channel === 'push' && before.userId !== null) writes.push({ kind: 'fraud.clear', applicationId: app.id, key: `push:${before.userId}` });
      }
      if (input.type === 'respond' && input.decision === 'report_fraud' && before.userId !== null) {
        writes.push({ kind: 'fraud.block', applicationId: app.id, key: `push:${before.userId}`, until: now + fraud.pushCooldown.coolOffSeconds * 1000, reason: 'reported_fraud', now });
      }
      return writes;
    },

    /** An authenticator's consecutive failures and lock, as an admin sees them. */
    async status(applicationId: string, authenticator: string, cap: number) {
      const failures = await deps.store.authenticators.failures(applicationId, authenticator);
      return {
        consecutive_failures: failures?.consecutive ?? 0,
        cap,
        locked: (failures?.lockedAt ?? null) !== null,
        locked_at: failures?.lockedAt == null ? null : new Date(failures.lockedAt).toISOString(),
      };
    },

    /** An admin re-binds a locked authenticator (a phone number, an e-mail address, a device id). */
    async unlock(applicationId: string, authenticator: string, actor: string, now: number): Promise<boolean> {
      const failures = await deps.store.authenticators.failures(applicationId, authenticator);
      if (failures === undefined || failures.lockedAt === null) return false;
      const result = await deps.store.commit({
        writes: [
          { kind: 'authenticator.unlock', applicationId, authenticator },
          eventWrite(deps.random, { applicationId, type: 'authenticator.unlocked', subjectType: 'application', subjectId: applicationId, actor, data: { consecutive_failures: failures.consecutive }, createdAt: now }),
        ],
      });
      return result.ok;
    },
  };
}

export type FraudControls = ReturnType<typeof createFraudControls>;
