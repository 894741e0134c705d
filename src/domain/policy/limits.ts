import type { FraudSettings } from '../application.ts';

/** Bounds and defaults of a code verification. An application may narrow them, never widen. */
export const CODE_LENGTH = { min: 4, max: 10, default: 6 } as const;
export const TTL_SECONDS = { min: 30, max: 1800, default: 600 } as const;
export const MAX_ATTEMPTS = { min: 1, max: 10, default: 3 } as const;
/** Longest a long-poll may wait, in seconds. */
export const MAX_WAIT_SECONDS = 30;
/** Resends: a new code at most this often, this many times per verification. */
export const RESEND = { cooldownSeconds: 30, maxResends: 3 } as const;

/** Per user, per channel, per UTC day (issue [4]): defaults for sms and voice, each settable in this range. */
export const USAGE_LIMIT = { min: 1, max: 50, default: { used: 15, unused: 10 } } as const;
/** Plan `trial`: verifications per user per UTC day on any channel, and pairing messages per application in total. */
export const TRIAL = { verificationsPerUserPerDay: 5, pairingMessages: 100 } as const;
/** An application's daily cap per channel. */
export const DAILY_CAP = { min: 1, max: 10_000_000 } as const;
/** Consecutive failures per authenticator: NIST SP 800-63B-4 §3.2.2 allows at most 100. */
export const AUTHENTICATOR_FAILURE_CAP = { min: 1, max: 100, default: 20 } as const;
/** Users whose devices may share one phone number or e-mail address; pairing it for one more is refused (SEC-30). */
export const DEVICE_SHARE_CAP = { min: 1, max: 100, default: 5 } as const;

export function defaultFraudSettings(): FraudSettings {
  return {
    authenticatorFailureCap: AUTHENTICATOR_FAILURE_CAP.default,
    deviceShareCap: DEVICE_SHARE_CAP.default,
    recipientFailures: { max: 10, windowSeconds: 3600, coolOffSeconds: 3600 },
    recipientSends: { max: 5, windowSeconds: 600 },
    pushCooldown: { max: 3, windowSeconds: 600, coolOffSeconds: 600 },
    prefixVelocity: { max: 20, windowSeconds: 3600 },
    countryVelocity: { max: 500, windowSeconds: 600, blockSeconds: 3600 },
    refusedNumberTypes: ['PREMIUM_RATE', 'SHARED_COST', 'UNKNOWN'],
    voip: 'allow',
    safeList: [],
    lowConversion: { scope: 'country', minVolume: 100, minRatePercent: 10, windowSeconds: 3600, blockSeconds: 900 },
    simSwapBlockSeconds: 7 * 86_400,
    portBlockSeconds: 0,
  };
}
