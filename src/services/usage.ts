import type { Application, Channel } from '../domain/application.ts';
import { OutbandError } from '../domain/errors.ts';
import { answeredCounters, exhaustedPart, reservationsFor, secondsToUtcMidnight, usageSubject, utcDay, type LimitName } from '../domain/policy/usage.ts';
import type { Verification } from '../domain/verification/verification.ts';
import type { Write } from '../store/store.ts';
import type { ServiceDeps } from './deps.ts';
import type { Principal } from './tokens.ts';

/** What GET /v1/usage shows of one counter. */
export interface UsageCounterView {
  scope: 'user' | 'application';
  channel: string;
  used: number;
  unused: number;
  /** The limit that applies to it, when one does. */
  limit: { name: LimitName; used?: number; unused?: number; total?: number } | null;
}

/**
 * Usage limits (issue [4]): which counters a start reserves, how an answer moves it from unused
 * to used, and the 429 when a counter is full. Exactness comes from the store: a reservation is
 * one guarded upsert in the start's own unit of work.
 */
export function createUsage(deps: Pick<ServiceDeps, 'store'>) {
  return {
    /** The reservations of a new verification, committed in its unit. */
    reserveWrites(app: Application, start: { channel: Channel; userId: string | null; recipient: string; pairing: boolean }, now: number): Write[] {
      const subject = usageSubject(start.userId, start.recipient);
      return reservationsFor(app, { channel: start.channel, subject, pairing: start.pairing }, now).map((r) => ({
        kind: 'usage.reserve' as const,
        counter: { applicationId: app.id, subject: r.subject, channel: r.channel, day: r.day },
        max: r.max,
        limit: r.limit,
      }));
    },

    /** A verification's first answer moves it from unused to used. */
    answerWrites(v: Verification): Write[] {
      return answeredCounters(v).map((counter) => ({ kind: 'usage.answer' as const, counter: { applicationId: v.applicationId, ...counter } }));
    },

    /** The 429 for a reservation that found its counter full; says which limit and when it resets. */
    async limitError(app: Application, start: { channel: Channel; userId: string | null; recipient: string; pairing: boolean }, limit: string, now: number, verificationId: string): Promise<OutbandError> {
      const subject = usageSubject(start.userId, start.recipient);
      const reservation = reservationsFor(app, { channel: start.channel, subject, pairing: start.pairing }, now).find((r) => r.limit === limit);
      const counters = reservation === undefined ? [] : await deps.store.usage.counters(app.id, [reservation.subject], reservation.day);
      const counter = counters.find((c) => c.channel === reservation?.channel && c.day === reservation.day);
      const part = reservation === undefined ? 'total' : exhaustedPart(counter, reservation.max);
      const max = reservation === undefined ? null : part === 'total' ? reservation.max.total : reservation.max[part];
      const resets = reservation?.day !== 'all';
      const retryAfter = resets ? secondsToUtcMidnight(now) : null;
      const what: Record<string, string> = {
        user_daily: `this ${start.channel === 'push' ? 'user' : 'recipient'} had ${max} ${part} ${start.channel} verifications today (UTC)`,
        trial_user_daily: `the trial plan allows ${max} verifications per user per day on any channel`,
        application_daily: `the application reached its daily cap of ${max} ${start.channel} verifications`,
        trial_pairing_messages: `the trial plan allows ${max} pairing messages per application in total`,
      };
      return new OutbandError('daily_limit_reached', `${what[limit] ?? `limit ${limit} reached`}${resets ? '; counters reset at 00:00 UTC' : ''}`, {
        limit: { name: limit, channel: reservation?.channel ?? start.channel, ...(part === 'total' ? {} : { part }), max },
        ...(retryAfter === null ? {} : { retry_after: retryAfter }),
        verification_id: verificationId,
        reasons: [limit],
      });
    },

    /** A user's (or the application's) counters of a UTC day, with the limits that apply. */
    async view(app: Application, userId: string | null, date: string): Promise<{ date: string; user_id: string | null; counters: UsageCounterView[]; resets_at: string }> {
      const subjects = userId === null ? ['application'] : [usageSubject(userId, ''), 'application'];
      const counters = await deps.store.usage.counters(app.id, subjects, date);
      const noon = Date.parse(`${date}T12:00:00Z`);
      const limits = (channel: string, subject: string) => {
        const all = reservationsFor(app, { channel: channel as Channel, subject, pairing: channel === 'pairing' }, noon);
        const found = all.find((r) => r.subject === subject && r.channel === channel);
        return found === undefined ? null : { name: found.limit, ...found.max };
      };
      return {
        date,
        user_id: userId,
        counters: counters.map((c) => ({
          scope: c.subject === 'application' ? ('application' as const) : ('user' as const),
          channel: c.channel,
          used: c.used,
          unused: c.unused,
          limit: c.channel === '*' ? (app.plan === 'trial' ? { name: 'trial_user_daily' as const, total: 5 } : null) : limits(c.channel, c.subject),
        })),
        resets_at: new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString(),
      };
    },

    /** GET /v1/usage: a user's counters (or the application's, without user_id) of a UTC day, today by default. */
    async viewFor(principal: Principal, userId: string | undefined, date: string | undefined, now: number) {
      const app = await deps.store.applications.byId(principal.applicationId);
      if (app === undefined) throw new OutbandError('invalid_token', 'the application of this token no longer exists');
      const day = date ?? utcDay(now);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || utcDay(Date.parse(`${day}T00:00:00Z`)) !== day) {
        throw new OutbandError('invalid_request', `date must be a UTC day as YYYY-MM-DD; got "${day}"`);
      }
      if (userId !== undefined && (await deps.store.users.byId(app.id, userId)) === undefined) throw new OutbandError('user_not_found', `no user ${userId}`);
      return this.view(app, userId ?? null, day);
    },
  };
}

export type Usage = ReturnType<typeof createUsage>;
