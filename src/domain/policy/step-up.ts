import type { AssuranceProfile } from '../application.ts';
import type { Device } from '../device/device.ts';
import type { User } from '../user.ts';
import type { Verification } from '../verification/verification.ts';

/**
 * SEC-12 (NIST SP 800-63B-4 §4.1.2): setting or changing a user's phone number binds a new
 * authenticator, so under the nist profile it needs prior authentication of the user — a
 * step-up: a recent approved authentication of the same user on another authenticator, spent
 * once. Pure: the caller reads the verification and whether it was spent.
 */

/** How long after its approval a step-up authorises a change (NIST's 10 minutes for an OOB secret). */
export const STEP_UP_MAX_AGE_SECONDS = 600;

/** What a spent step-up is recorded as having authorised. */
export const PHONE_CHANGE = 'phone_change';

/** The number a change binds: the new phone when it is set or changed, null when it is kept or cleared. */
export function phoneBound(before: Pick<User, 'phone'>, after: Pick<User, 'phone'>): string | null {
  return after.phone !== null && after.phone !== before.phone ? after.phone : null;
}

/**
 * Whether binding a number needs a step-up: under nist, when the user has an authenticator to
 * step up with (a paired push, sms or voice device). A user with none is enrolling: there is
 * nothing to authenticate with, and the new number still authenticates only once it is paired.
 */
export function stepUpRequired(profile: AssuranceProfile, devices: readonly Pick<Device, 'kind' | 'status'>[]): boolean {
  return profile === 'nist' && devices.some((d) => d.status === 'paired' && (d.kind === 'push' || d.kind === 'sms' || d.kind === 'voice'));
}

/** Why a verification does not authorise binding `newPhone` to `user` at `now`; null when it does. */
export function stepUpProblem(
  v: Pick<Verification, 'userId' | 'purpose' | 'status' | 'bypass' | 'recipient' | 'decidedAt'> | undefined,
  user: Pick<User, 'id'>,
  newPhone: string,
  now: number,
  alreadyUsed: boolean,
): string | null {
  if (v === undefined || v.userId !== user.id) return 'it is not a verification of this user';
  if (v.purpose !== 'authentication') return `its purpose is ${v.purpose}, not authentication`;
  if (v.status !== 'approved' || v.decidedAt === null) return `it is ${v.status}, not approved`;
  if (v.bypass) return 'it was approved by a bypass, without authenticating the user';
  if (v.recipient === newPhone) return 'it went to the new number itself; authenticate on another authenticator';
  if (now - v.decidedAt > STEP_UP_MAX_AGE_SECONDS * 1000) return `it was approved more than ${STEP_UP_MAX_AGE_SECONDS / 60} minutes ago`;
  if (alreadyUsed) return 'it was spent on an earlier change already';
  return null;
}
