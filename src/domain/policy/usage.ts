import type { Application, Channel } from '../application.ts';
import { TRIAL } from './limits.ts';

/** The UTC day of a time, as YYYY-MM-DD: usage counters reset at 00:00 UTC. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** Whole seconds from `now` to the next 00:00 UTC, when daily counters start again (at least 1). */
export function secondsToUtcMidnight(now: number): number {
  const d = new Date(now);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now) / 1000));
}

/**
 * The limits a start can meet, by the name the 429 gives:
 * - `user_daily_unused` / `user_daily_used`: the application's per-user, per-channel limits;
 * - `trial_user_daily`: plan `trial`, verifications per user per day on any channel;
 * - `application_daily`: the application's cap per channel and day (the spend gate);
 * - `trial_pairing_messages`: plan `trial`, pairing messages per application in total.
 */
export type LimitName = 'user_daily' | 'trial_user_daily' | 'application_daily' | 'trial_pairing_messages';

/** A counter a start counts on, and what it may hold before. */
export interface Reservation {
  subject: string;
  channel: string;
  day: string;
  max: { used?: number; unused?: number; total?: number };
  limit: LimitName;
}

/** Who a per-user counter is for: the user, or the raw recipient of a verification without one. */
export function usageSubject(userId: string | null, recipient: string): string {
  return userId === null ? `to:${recipient}` : `user:${userId}`;
}

export const APPLICATION_SUBJECT = 'application';

/**
 * The counters a new verification counts on. A verification counts as unused when it starts
 * and moves to used at its first answer; a start passes while the counters are under their
 * limits, so a day's starts never exceed them, answered or not.
 */
export function reservationsFor(app: Pick<Application, 'plan' | 'settings'>, start: { channel: Channel; subject: string; pairing: boolean }, now: number): Reservation[] {
  const day = utcDay(now);
  const out: Reservation[] = [];
  if (start.pairing) {
    if (app.plan === 'trial') out.push({ subject: APPLICATION_SUBJECT, channel: 'pairing', day: 'all', max: { total: TRIAL.pairingMessages }, limit: 'trial_pairing_messages' });
  } else {
    const perUser = app.settings.usageLimits[start.channel];
    if (perUser !== undefined) out.push({ subject: start.subject, channel: start.channel, day, max: { used: perUser.used, unused: perUser.unused }, limit: 'user_daily' });
    if (app.plan === 'trial') out.push({ subject: start.subject, channel: '*', day, max: { total: TRIAL.verificationsPerUserPerDay }, limit: 'trial_user_daily' });
  }
  const cap = app.settings.dailyCaps[start.channel];
  if (cap !== undefined) out.push({ subject: APPLICATION_SUBJECT, channel: start.channel, day, max: { total: cap }, limit: 'application_daily' });
  return out;
}

/** The counters a verification's first answer moves from unused to used (those it was counted on). */
export function answeredCounters(v: { userId: string | null; recipient: string; channel: Channel; createdAt: number; purpose: string }): Array<{ subject: string; channel: string; day: string }> {
  if (v.purpose === 'pairing') return [];
  const day = utcDay(v.createdAt);
  const subject = usageSubject(v.userId, v.recipient);
  return [
    { subject, channel: v.channel, day },
    { subject, channel: '*', day },
    { subject: APPLICATION_SUBJECT, channel: v.channel, day },
  ];
}

/** Which part of a per-user limit a counter is at, for the 429: its unused or its used verifications. */
export function exhaustedPart(counter: { used: number; unused: number } | undefined, max: { used?: number; unused?: number; total?: number }): 'unused' | 'used' | 'total' {
  if (counter === undefined) return 'total';
  if (max.unused !== undefined && counter.unused >= max.unused) return 'unused';
  if (max.used !== undefined && counter.used >= max.used) return 'used';
  return 'total';
}
