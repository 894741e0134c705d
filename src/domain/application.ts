import { CODE_LENGTH, MAX_ATTEMPTS, TTL_SECONDS } from './policy/limits.ts';

export const CHANNELS = ['sms', 'email', 'voice', 'missed_call'] as const;
export type Channel = (typeof CHANNELS)[number];

export type Plan = 'trial' | 'licensed';

/** What an application (tenant) may do and how its verifications behave. */
export interface ApplicationSettings {
  /** Provider name per enabled channel; a channel absent here is disabled. */
  providers: Partial<Record<Channel, string>>;
  ttlSeconds: number;
  maxAttempts: number;
  codeLength: number;
  defaultLocale: string;
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
    providers: { sms: 'outbox', email: 'outbox' },
    ttlSeconds: TTL_SECONDS.default,
    maxAttempts: MAX_ATTEMPTS.default,
    codeLength: CODE_LENGTH.default,
    defaultLocale: 'en',
    ...overrides,
  };
}
