import type { ApplicationSettings, AssuranceProfile, Channel } from '../application.ts';
import { OutbandError } from '../errors.ts';
import type { Matching, Purpose, Verification } from '../verification/verification.ts';

/**
 * The `nist` assurance profile as a table: each rule names its row in shared/SECURITY.md and
 * its source in NIST SP 800-63B-4. The same table checks settings (switching to nist, or a
 * change under it), saved policies and starts; under `standard` it reports what is not met.
 * Pure: the caller gives the values, the table answers which rows they break.
 */

export interface Unmet {
  /** The row of shared/SECURITY.md. */
  row: string;
  requirement: string;
  /** The setting or request field that breaks it. */
  setting: string;
}

/** Limits of authentication-purpose verifications under nist. */
export const NIST = { maxTtlSeconds: 600, minCodeLength: 6 } as const;

export interface AssuranceRow {
  row: string;
  source: string;
  requirement: string;
}

export const ROWS = {
  code: { row: 'SEC-01', source: 'NIST SP 800-63B-4 §3.1.3.2', requirement: 'an authentication code has at least 6 digits' },
  ttl: { row: 'SEC-02', source: 'NIST SP 800-63B-4 §3.1.3.2', requirement: 'an authentication code is valid for at most 600 s' },
  confirmed: { row: 'SEC-12', source: 'NIST SP 800-63B-4 §3.1.3.3, §4.1.2', requirement: 'a phone number authenticates only after it was confirmed (paired) for the user, and binding a new one needs a step-up' },
  restricted: { row: 'SEC-13', source: 'NIST SP 800-63B-4 §3.1.3.3, §3.2.9', requirement: 'sms and voice are restricted authenticators: the user is told the risk and offered an unrestricted alternative' },
  email: { row: 'SEC-16', source: 'NIST SP 800-63B-4 §3.1.3.1', requirement: 'e-mail is not an authenticator: e-mail codes only confirm a contact' },
  missedCall: { row: 'SEC-17', source: 'NIST SP 800-63B-4 §3.1.3.2', requirement: 'a missed call is a possession check, not an authenticator' },
  matching: { row: 'SEC-20', source: 'NIST SP 800-63B-4 §3.1.3.2', requirement: 'a push authentication carries a secret from the primary channel: matching "type"' },
  pairingCode: { row: 'SEC-27', source: 'NIST SP 800-63B-4 §4.1.2.2', requirement: 'a pairing code has at least 40 bits and never travels by e-mail' },
} as const satisfies Record<string, AssuranceRow>;

const unmet = (rule: AssuranceRow, setting: string): Unmet => ({ row: rule.row, requirement: rule.requirement, setting });

/** The settings rows nist demands of an application's defaults. */
export function settingsUnmet(settings: Pick<ApplicationSettings, 'ttlSeconds' | 'codeLength' | 'push'>): Unmet[] {
  const out: Unmet[] = [];
  if (settings.codeLength < NIST.minCodeLength) out.push(unmet(ROWS.code, 'code_length'));
  if (settings.ttlSeconds > NIST.maxTtlSeconds) out.push(unmet(ROWS.ttl, 'ttl_seconds'));
  if (settings.push.matching !== 'type') out.push(unmet(ROWS.matching, 'push.matching'));
  return out;
}

/**
 * What `standard` does not meet: the settings rows its values break, and the rows only the nist
 * profile enforces (an unconfirmed number may authenticate and a new one binds without a step-up, e-mail may authenticate, pairing
 * codes are 6 digits and may go by e-mail). Under nist: nothing, since nothing breaking it is accepted.
 */
export function profileUnmet(settings: Pick<ApplicationSettings, 'ttlSeconds' | 'codeLength' | 'push' | 'assuranceProfile'>): Unmet[] {
  if (settings.assuranceProfile === 'nist') return [];
  return [
    ...settingsUnmet(settings),
    unmet(ROWS.confirmed, 'assurance_profile'),
    unmet(ROWS.email, 'assurance_profile'),
    unmet(ROWS.pairingCode, 'assurance_profile'),
  ];
}

/** A verification (started, or as a policy would start it) with every default already applied. */
export interface EffectiveVerification {
  channel: Channel;
  /** Every channel it may go out on: its own and its workflow's later steps. */
  channels: readonly Channel[];
  purpose: Purpose;
  ttlSeconds: number;
  /** Digits of a code the user is sent; null for push and missed calls. */
  codeLength: number | null;
  /** push only. */
  matching: Matching | null;
}

/** The rows an authentication-purpose verification breaks; the profile rules apply to authentication only. */
export function verificationUnmet(v: EffectiveVerification): Unmet[] {
  if (v.purpose !== 'authentication') return [];
  const out: Unmet[] = [];
  if (v.ttlSeconds > NIST.maxTtlSeconds) out.push(unmet(ROWS.ttl, 'ttl_seconds'));
  if (v.codeLength !== null && v.codeLength < NIST.minCodeLength) out.push(unmet(ROWS.code, 'code_length'));
  if (v.channel === 'push' && v.matching !== 'type') out.push(unmet(ROWS.matching, 'matching'));
  if (v.channels.includes('email')) out.push(unmet(ROWS.email, 'channel'));
  if (v.channels.includes('missed_call')) out.push(unmet(ROWS.missedCall, 'channel'));
  return out;
}

/** The assurance report every verification response carries (docs/assurance.md). */
export interface VerificationAssuranceReport {
  profile: AssuranceProfile;
  /** NIST rows this verification does not meet; always empty under nist, which refuses them at the start. */
  unmet: Unmet[];
  /** sms and voice: a restricted authenticator (SEC-13). */
  restricted: boolean;
  /** Restricted, and the user has no paired push authenticator to offer instead; null without a user. */
  alternative_required: boolean | null;
}

/**
 * A verification's assurance report under `profile`. `hasPushAuthenticator`: whether its user has
 * a paired push authenticator, asked only of a restricted verification with a user (null otherwise).
 */
export function verificationReport(
  profile: AssuranceProfile,
  v: Pick<Verification, 'channel' | 'purpose' | 'createdAt' | 'expiresAt' | 'codeLength' | 'push' | 'userId'>,
  hasPushAuthenticator: boolean | null,
): VerificationAssuranceReport {
  const restricted = isRestricted(v.channel);
  const rows: Unmet[] = [];
  if (profile === 'standard') {
    rows.push(
      ...verificationUnmet({
        channel: v.channel,
        channels: [v.channel],
        purpose: v.purpose,
        ttlSeconds: Math.round((v.expiresAt - v.createdAt) / 1000),
        codeLength: v.channel === 'push' || v.channel === 'missed_call' ? null : v.codeLength,
        matching: v.push?.matching ?? null,
      }),
    );
    // Under standard a number authenticates whether or not the user confirmed it.
    if (restricted && v.purpose === 'authentication') rows.push(unmet(ROWS.confirmed, 'assurance_profile'));
  }
  const alternativeRequired = !restricted ? false : v.userId === null || hasPushAuthenticator === null ? null : !hasPushAuthenticator;
  return { profile, unmet: rows, restricted, alternative_required: alternativeRequired };
}

/** SMS and voice are restricted authenticators (SEC-13). */
export function isRestricted(channel: Channel): boolean {
  return channel === 'sms' || channel === 'voice';
}

/** The risk notice shown with a restricted channel. */
export const RESTRICTED_NOTICE =
  'SMS and voice codes travel over the phone network: a SIM swap, a ported number or an intercepted message can hand them to someone else. ' +
  'They are restricted authenticators (NIST SP 800-63B-4 §3.1.3.3); offer users an authenticator app (push) as well.';

/** 422 not_conformant listing every row broken; nothing when none is. */
export function assertConformant(profile: AssuranceProfile, rows: Unmet[], what: string): void {
  if (profile !== 'nist' || rows.length === 0) return;
  throw new OutbandError('not_conformant', `${what} breaks the nist assurance profile: ${rows.map((r) => `${r.row} (${r.setting}): ${r.requirement}`).join('; ')}`, {
    unmet: rows,
  });
}
