import { MAX_DEVICES } from './device/device.ts';
import { CODE_LENGTH, MAX_ATTEMPTS, TTL_SECONDS } from './policy/limits.ts';

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
}

export interface Application {
  id: string;
  name: string;
  plan: Plan;
  settings: ApplicationSettings;
  createdAt: number;
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
    ...overrides,
  };
}
