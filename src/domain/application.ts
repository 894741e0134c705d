import { MAX_DEVICES } from './device/device.ts';
import { CODE_LENGTH, MAX_ATTEMPTS, TTL_SECONDS, USAGE_LIMIT, defaultFraudSettings } from './policy/limits.ts';

export const CHANNELS = ['sms', 'email', 'voice', 'missed_call', 'push'] as const;
export type Channel = (typeof CHANNELS)[number];
/** The channels that send a code in a message. */
export type CodeChannel = Exclude<Channel, 'push'>;

/**
 * `push` has no provider of its own: each device is reached over the transport it registered
 * (its stream, Web Push, FCM or APNs). Its entry in `providers` only says the channel is on.
 */
export const PUSH_BY_DEVICE = 'devices';

export type AssuranceProfile = 'standard' | 'nist';

export type Plan = 'trial' | 'licensed';

/** What an application (tenant) may do and how its verifications behave. */
export interface ApplicationSettings {
  /** Provider name per enabled channel; a channel absent here is disabled. */
  providers: Partial<Record<Channel, string>>;
  ttlSeconds: number;
  maxAttempts: number;
  codeLength: number;
  defaultLocale: string;
  /** Devices a user may have, pending ones included. */
  maxDevices: number;
  /**
   * `nist` enforces NIST SP 800-63B-4 where `standard` keeps the usual behaviour (issue [4]
   * makes it settable); today it chooses the strength of manual pairing codes (SEC-27).
   */
  assuranceProfile: AssuranceProfile;
  /** An application disabled by its operator: its tokens still read, nothing new starts. */
  enabled: boolean;
  /** The longest TTL a verification (or a policy) may ask for. */
  maxTtlSeconds: number;
  /** Defaults of push verifications. */
  push: PushDefaults;
  /** Destination countries (ISO 3166 alpha-2) allowed per phone channel; absent or null = any. */
  allowedCountries: Partial<Record<PhoneChannel, string[] | null>>;
  /** Per user, per channel, per UTC day; a channel absent here has no per-user limit. */
  usageLimits: Partial<Record<Channel, UsageLimit>>;
  /** Per application, per channel, per UTC day: a spend gate whatever the numbers. Absent = none. */
  dailyCaps: Partial<Record<Channel, number>>;
  fraud: FraudSettings;
  /**
   * SMS and voice are restricted authenticators (NIST SP 800-63B-4 §3.1.3.3): `deny` refuses
   * them for authentication-purpose verifications (422 channel_not_permitted); other purposes still use them.
   */
  restrictedAuthenticators: 'allow' | 'deny';
}

export type PhoneChannel = 'sms' | 'voice' | 'missed_call';
export const PHONE_CHANNELS: readonly PhoneChannel[] = ['sms', 'voice', 'missed_call'];

export interface PushDefaults {
  userVerification: 'required' | 'preferred';
  matching: 'none' | 'pick' | 'type' | 'read_back';
}

/** Verifications a user may receive on a channel in a UTC day: answered (`used`) and never answered (`unused`). */
export interface UsageLimit {
  used: number;
  unused: number;
}

/** A count in a sliding window. */
export interface WindowLimit {
  max: number;
  windowSeconds: number;
}

export interface FraudSettings {
  /** Consecutive failed answers per authenticator (phone, e-mail, device) across verifications before it is locked (NIST 63B-4 §3.2.2: at most 100). */
  authenticatorFailureCap: number;
  /**
   * A phone or e-mail address may serve several users (a family phone; NIST 63B-4 §3), up to this
   * many: pairing it for one more user than the cap is refused (SEC-30).
   */
  deviceShareCap: number;
  /** Failed codes per recipient across verifications; past it, new verifications to the recipient wait a cool-off. */
  recipientFailures: WindowLimit & { coolOffSeconds: number };
  /** Messages (sms, voice, missed call, e-mail) sent to one recipient in a window (SEC-31). */
  recipientSends: WindowLimit;
  /** Unanswered or denied pushes per user in a window before further pushes cool off (push bombing). */
  pushCooldown: WindowLimit & { coolOffSeconds: number };
  /** New verifications per destination prefix (number minus its last 3 digits) in a window (SEC-32). */
  prefixVelocity: WindowLimit;
  /** New verifications per destination country in a window: past it the country is blocked for `blockSeconds` and `fraud.suspected` recorded. */
  countryVelocity: WindowLimit & { blockSeconds: number };
  /** libphonenumber number types refused for phone channels; `UNKNOWN` stands for a number of no known type. */
  refusedNumberTypes: string[];
  /** Whether VoIP numbers may receive codes (SEC-15). */
  voip: 'allow' | 'deny';
  /** E.164 numbers or prefixes ("+3161234") that no fraud block applies to (SEC-33). Limits still do. */
  safeList: string[];
  /**
   * Volume and conversion (SEC-34): past `minVolume` new verifications in the window to one country
   * (or number prefix) of which fewer than `minRatePercent` % were approved, the destination is
   * blocked for `blockSeconds`, doubled for each block in the last 24 h (at most 12 h).
   */
  lowConversion: { scope: 'country' | 'prefix'; minVolume: number; minRatePercent: number; windowSeconds: number; blockSeconds: number };
  /** Refuse a number whose SIM was swapped this recently, when the number lookup knows (0: never). */
  simSwapBlockSeconds: number;
  /** Refuse a number ported this recently, when the number lookup knows (0: never). */
  portBlockSeconds: number;
}

export interface Application {
  id: string;
  name: string;
  plan: Plan;
  settings: ApplicationSettings;
  createdAt: number;
  /** Bumped by every settings change: a change decided on an older version is refused (application.update). */
  version: number;
}

export function defaultSettings(overrides: Partial<ApplicationSettings> = {}): ApplicationSettings {
  return {
    providers: { sms: 'outbox', email: 'outbox', push: PUSH_BY_DEVICE },
    ttlSeconds: TTL_SECONDS.default,
    maxAttempts: MAX_ATTEMPTS.default,
    codeLength: CODE_LENGTH.default,
    defaultLocale: 'en',
    maxDevices: MAX_DEVICES.default,
    assuranceProfile: 'standard',
    enabled: true,
    maxTtlSeconds: TTL_SECONDS.max,
    // As push verifications behaved before these settings existed: a PIN or biometric required, no matching.
    push: { userVerification: 'required', matching: 'none' },
    allowedCountries: {},
    usageLimits: { sms: { ...USAGE_LIMIT.default }, voice: { ...USAGE_LIMIT.default } },
    dailyCaps: {},
    fraud: defaultFraudSettings(),
    restrictedAuthenticators: 'allow',
    ...overrides,
  };
}
