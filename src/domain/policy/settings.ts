import { isSupportedCountry } from 'libphonenumber-js/max';
import {
  CHANNELS,
  PHONE_CHANNELS,
  PUSH_BY_DEVICE,
  type Application,
  type ApplicationSettings,
  type AssuranceProfile,
  type Channel,
  type FraudSettings,
  type PhoneChannel,
  type Plan,
  type PushDefaults,
} from '../application.ts';
import { MAX_DEVICES } from '../device/device.ts';
import { OutbandError } from '../errors.ts';
import { AUTHENTICATOR_FAILURE_CAP, CODE_LENGTH, DEVICE_SHARE_CAP, DAILY_CAP, MAX_ATTEMPTS, TTL_SECONDS, USAGE_LIMIT } from './limits.ts';

/**
 * Application settings as the API shows and takes them (snake_case), and the pure rules of a
 * change: every value is checked against its range here, and a bad one is refused with 422
 * invalid_setting naming the field and what it allows. Nothing else decides a setting's range.
 */

type Range = { min: number; max: number };

/** Counts and windows of the fraud controls: wide enough for any tenant, narrow enough to mean something. */
export const FRAUD_RANGES = {
  count: { min: 1, max: 100_000 },
  windowSeconds: { min: 60, max: 7 * 86_400 },
  coolOffSeconds: { min: 60, max: 7 * 86_400 },
  /** How recent a SIM swap or port refuses a number: 0 (never) to 90 days. */
  recentChangeSeconds: { min: 0, max: 90 * 86_400 },
} as const;

export interface LowConversionView {
  scope: 'country' | 'prefix';
  min_volume: number;
  min_rate_percent: number;
  window_seconds: number;
  block_seconds: number;
}

/** Number types libphonenumber knows, as refused_number_types may name them (UNKNOWN: a number of no known type). */
export const NUMBER_TYPES = [
  'PREMIUM_RATE',
  'SHARED_COST',
  'TOLL_FREE',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
  'FIXED_LINE',
  'MOBILE',
  'FIXED_LINE_OR_MOBILE',
  'UNKNOWN',
] as const;

const SAFE_LIST_ENTRY = /^\+[1-9][0-9]{0,14}$/;
const MAX_SAFE_LIST = 1000;

export interface WindowView {
  max: number;
  window_seconds: number;
}

export interface FraudView {
  authenticator_failure_cap: number;
  device_share_cap: number;
  recipient_failures: WindowView & { cool_off_seconds: number };
  recipient_sends: WindowView;
  push_cooldown: WindowView & { cool_off_seconds: number };
  prefix_velocity: WindowView;
  country_velocity: WindowView & { block_seconds: number };
  refused_number_types: string[];
  voip: 'allow' | 'deny';
  safe_list: string[];
  low_conversion: LowConversionView;
  sim_swap_block_seconds: number;
  port_block_seconds: number;
}

/** The settings as GET /v1/settings shows them, without the assurance report the service adds. */
export interface SettingsFields {
  enabled: boolean;
  plan: Plan;
  channels: Record<Channel, { enabled: boolean; provider: string | null }>;
  ttl_seconds: number;
  max_ttl_seconds: number;
  max_attempts: number;
  code_length: number;
  max_devices: number;
  default_locale: string;
  push: { user_verification: PushDefaults['userVerification']; matching: PushDefaults['matching'] };
  allowed_countries: Record<PhoneChannel, string[] | null>;
  usage_limits: Partial<Record<Channel, { used: number; unused: number }>>;
  daily_caps: Record<Channel, number | null>;
  fraud: FraudView;
  assurance_profile: AssuranceProfile;
  restricted_authenticators: 'allow' | 'deny';
}

type Partialize<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : Partialize<T[K]>) : T[K] };

/** A PATCH body: any subset of the fields; `null` in a channel map removes that channel's entry. */
export interface SettingsPatch {
  enabled?: boolean;
  plan?: Plan;
  channels?: Partial<Record<Channel, { enabled: boolean; provider?: string }>>;
  ttl_seconds?: number;
  max_ttl_seconds?: number;
  max_attempts?: number;
  code_length?: number;
  max_devices?: number;
  default_locale?: string;
  push?: Partial<SettingsFields['push']>;
  allowed_countries?: Partial<Record<PhoneChannel, string[] | null>>;
  usage_limits?: Partial<Record<Channel, { used?: number; unused?: number } | null>>;
  daily_caps?: Partial<Record<Channel, number | null>>;
  fraud?: Partialize<FraudView>;
  assurance_profile?: AssuranceProfile;
  restricted_authenticators?: 'allow' | 'deny';
}

export function settingsFields(app: Pick<Application, 'plan' | 'settings'>): SettingsFields {
  const s = app.settings;
  const f = s.fraud;
  return {
    enabled: s.enabled,
    plan: app.plan,
    channels: Object.fromEntries(CHANNELS.map((c) => [c, { enabled: s.providers[c] !== undefined, provider: s.providers[c] ?? null }])) as SettingsFields['channels'],
    ttl_seconds: s.ttlSeconds,
    max_ttl_seconds: s.maxTtlSeconds,
    max_attempts: s.maxAttempts,
    code_length: s.codeLength,
    max_devices: s.maxDevices,
    default_locale: s.defaultLocale,
    push: { user_verification: s.push.userVerification, matching: s.push.matching },
    allowed_countries: Object.fromEntries(PHONE_CHANNELS.map((c) => [c, s.allowedCountries[c] ?? null])) as SettingsFields['allowed_countries'],
    usage_limits: Object.fromEntries(Object.entries(s.usageLimits).map(([c, l]) => [c, { used: l.used, unused: l.unused }])),
    daily_caps: Object.fromEntries(CHANNELS.map((c) => [c, s.dailyCaps[c] ?? null])) as SettingsFields['daily_caps'],
    fraud: {
      authenticator_failure_cap: f.authenticatorFailureCap,
      device_share_cap: f.deviceShareCap,
      recipient_failures: { max: f.recipientFailures.max, window_seconds: f.recipientFailures.windowSeconds, cool_off_seconds: f.recipientFailures.coolOffSeconds },
      recipient_sends: { max: f.recipientSends.max, window_seconds: f.recipientSends.windowSeconds },
      push_cooldown: { max: f.pushCooldown.max, window_seconds: f.pushCooldown.windowSeconds, cool_off_seconds: f.pushCooldown.coolOffSeconds },
      prefix_velocity: { max: f.prefixVelocity.max, window_seconds: f.prefixVelocity.windowSeconds },
      country_velocity: { max: f.countryVelocity.max, window_seconds: f.countryVelocity.windowSeconds, block_seconds: f.countryVelocity.blockSeconds },
      refused_number_types: [...f.refusedNumberTypes],
      voip: f.voip,
      safe_list: [...f.safeList],
      low_conversion: {
        scope: f.lowConversion.scope,
        min_volume: f.lowConversion.minVolume,
        min_rate_percent: f.lowConversion.minRatePercent,
        window_seconds: f.lowConversion.windowSeconds,
        block_seconds: f.lowConversion.blockSeconds,
      },
      sim_swap_block_seconds: f.simSwapBlockSeconds,
      port_block_seconds: f.portBlockSeconds,
    },
    assurance_profile: s.assuranceProfile,
    restricted_authenticators: s.restrictedAuthenticators,
  };
}

function invalid(field: string, detail: string, allowed: Range | readonly unknown[] | string): never {
  throw new OutbandError('invalid_setting', `${field}: ${detail}`, { field, allowed });
}

function inRange(field: string, value: number | undefined, range: Range): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    invalid(field, `${value} is outside the allowed range ${range.min}–${range.max}`, { min: range.min, max: range.max });
  }
}

function windowOf<T extends { max: number; windowSeconds: number }>(field: string, current: T, patch: { max?: number; window_seconds?: number } | undefined): T {
  if (patch === undefined) return current;
  inRange(`${field}.max`, patch.max, FRAUD_RANGES.count);
  inRange(`${field}.window_seconds`, patch.window_seconds, FRAUD_RANGES.windowSeconds);
  return { ...current, max: patch.max ?? current.max, windowSeconds: patch.window_seconds ?? current.windowSeconds };
}

function lowConversionOf(current: FraudSettings['lowConversion'], patch: Partial<LowConversionView> | undefined): FraudSettings['lowConversion'] {
  if (patch === undefined) return current;
  inRange('fraud.low_conversion.min_volume', patch.min_volume, FRAUD_RANGES.count);
  inRange('fraud.low_conversion.min_rate_percent', patch.min_rate_percent, { min: 0, max: 100 });
  inRange('fraud.low_conversion.window_seconds', patch.window_seconds, FRAUD_RANGES.windowSeconds);
  inRange('fraud.low_conversion.block_seconds', patch.block_seconds, FRAUD_RANGES.coolOffSeconds);
  return {
    scope: patch.scope ?? current.scope,
    minVolume: patch.min_volume ?? current.minVolume,
    minRatePercent: patch.min_rate_percent ?? current.minRatePercent,
    windowSeconds: patch.window_seconds ?? current.windowSeconds,
    blockSeconds: patch.block_seconds ?? current.blockSeconds,
  };
}

function fraudOf(current: FraudSettings, patch: SettingsPatch['fraud']): FraudSettings {
  if (patch === undefined) return current;
  inRange('fraud.sim_swap_block_seconds', patch.sim_swap_block_seconds, FRAUD_RANGES.recentChangeSeconds);
  inRange('fraud.port_block_seconds', patch.port_block_seconds, FRAUD_RANGES.recentChangeSeconds);
  inRange('fraud.authenticator_failure_cap', patch.authenticator_failure_cap, AUTHENTICATOR_FAILURE_CAP);
  inRange('fraud.device_share_cap', patch.device_share_cap, DEVICE_SHARE_CAP);
  inRange('fraud.recipient_failures.cool_off_seconds', patch.recipient_failures?.cool_off_seconds, FRAUD_RANGES.coolOffSeconds);
  inRange('fraud.push_cooldown.cool_off_seconds', patch.push_cooldown?.cool_off_seconds, FRAUD_RANGES.coolOffSeconds);
  inRange('fraud.country_velocity.block_seconds', patch.country_velocity?.block_seconds, FRAUD_RANGES.coolOffSeconds);
  for (const type of patch.refused_number_types ?? []) {
    if (!(NUMBER_TYPES as readonly string[]).includes(type)) invalid('fraud.refused_number_types', `"${type}" is not a number type`, NUMBER_TYPES);
  }
  if (patch.safe_list !== undefined) {
    if (patch.safe_list.length > MAX_SAFE_LIST) invalid('fraud.safe_list', `${patch.safe_list.length} entries; at most ${MAX_SAFE_LIST}`, { min: 0, max: MAX_SAFE_LIST });
    for (const entry of patch.safe_list) {
      if (!SAFE_LIST_ENTRY.test(entry)) invalid('fraud.safe_list', `"${entry}" is not an E.164 number or prefix`, 'E.164 numbers or prefixes such as "+3161234"');
    }
  }
  return {
    authenticatorFailureCap: patch.authenticator_failure_cap ?? current.authenticatorFailureCap,
    deviceShareCap: patch.device_share_cap ?? current.deviceShareCap,
    recipientFailures: {
      ...windowOf('fraud.recipient_failures', current.recipientFailures, patch.recipient_failures),
      coolOffSeconds: patch.recipient_failures?.cool_off_seconds ?? current.recipientFailures.coolOffSeconds,
    },
    recipientSends: windowOf('fraud.recipient_sends', current.recipientSends, patch.recipient_sends),
    pushCooldown: {
      ...windowOf('fraud.push_cooldown', current.pushCooldown, patch.push_cooldown),
      coolOffSeconds: patch.push_cooldown?.cool_off_seconds ?? current.pushCooldown.coolOffSeconds,
    },
    prefixVelocity: windowOf('fraud.prefix_velocity', current.prefixVelocity, patch.prefix_velocity),
    countryVelocity: {
      ...windowOf('fraud.country_velocity', current.countryVelocity, patch.country_velocity),
      blockSeconds: patch.country_velocity?.block_seconds ?? current.countryVelocity.blockSeconds,
    },
    refusedNumberTypes: patch.refused_number_types === undefined ? current.refusedNumberTypes : [...new Set(patch.refused_number_types)],
    voip: patch.voip ?? current.voip,
    safeList: patch.safe_list === undefined ? current.safeList : [...new Set(patch.safe_list)],
    lowConversion: lowConversionOf(current.lowConversion, patch.low_conversion),
    simSwapBlockSeconds: patch.sim_swap_block_seconds ?? current.simSwapBlockSeconds,
    portBlockSeconds: patch.port_block_seconds ?? current.portBlockSeconds,
  };
}

function providersOf(current: ApplicationSettings['providers'], patch: SettingsPatch['channels'], checkProvider: (channel: Channel, name: string) => void) {
  if (patch === undefined) return current;
  const next = { ...current };
  for (const [channel, change] of Object.entries(patch) as [Channel, { enabled: boolean; provider?: string }][]) {
    const field = `channels.${channel}`;
    if (!change.enabled) {
      if (change.provider !== undefined) invalid(`${field}.provider`, 'a disabled channel has no provider; leave provider out', []);
      delete next[channel];
      continue;
    }
    const provider = change.provider ?? (channel === 'push' ? PUSH_BY_DEVICE : current[channel]);
    if (provider === undefined) invalid(`${field}.provider`, 'enabling a channel needs the provider that carries it', 'a provider configured on this server for the channel');
    checkProvider(channel, provider);
    next[channel] = provider;
  }
  return next;
}

/** The settings after a PATCH, every value checked; throws 422 invalid_setting on the first bad one. */
export function applySettingsPatch(
  app: Pick<Application, 'plan' | 'settings'>,
  patch: SettingsPatch,
  /** Throws (422) when `name` is not a provider of `channel` on this server. */
  checkProvider: (channel: Channel, name: string) => void,
): { plan: Plan; settings: ApplicationSettings } {
  const s = app.settings;
  inRange('max_ttl_seconds', patch.max_ttl_seconds, TTL_SECONDS);
  const maxTtl = patch.max_ttl_seconds ?? s.maxTtlSeconds;
  inRange('ttl_seconds', patch.ttl_seconds, { min: TTL_SECONDS.min, max: maxTtl });
  const ttl = patch.ttl_seconds ?? s.ttlSeconds;
  if (ttl > maxTtl) invalid('max_ttl_seconds', `${maxTtl} is below ttl_seconds (${ttl}); lower ttl_seconds in the same change`, { min: ttl, max: TTL_SECONDS.max });
  inRange('max_attempts', patch.max_attempts, MAX_ATTEMPTS);
  inRange('code_length', patch.code_length, CODE_LENGTH);
  inRange('max_devices', patch.max_devices, MAX_DEVICES);
  let defaultLocale = s.defaultLocale;
  if (patch.default_locale !== undefined) {
    try {
      defaultLocale = Intl.getCanonicalLocales(patch.default_locale)[0] ?? '';
    } catch {
      defaultLocale = '';
    }
    if (defaultLocale === '') invalid('default_locale', `"${patch.default_locale}" is not a BCP 47 language tag`, 'a BCP 47 language tag such as "en" or "nl-BE"');
  }
  const allowedCountries = { ...s.allowedCountries };
  for (const [channel, countries] of Object.entries(patch.allowed_countries ?? {}) as [PhoneChannel, string[] | null][]) {
    if (countries === null) {
      delete allowedCountries[channel];
      continue;
    }
    const upper = countries.map((c) => c.toUpperCase());
    for (const country of upper) {
      if (!isSupportedCountry(country)) invalid(`allowed_countries.${channel}`, `"${country}" is not an ISO 3166-1 alpha-2 country with phone numbers`, 'ISO 3166-1 alpha-2 codes such as "NL"');
    }
    allowedCountries[channel] = [...new Set(upper)];
  }
  const usageLimits = { ...s.usageLimits };
  for (const [channel, limit] of Object.entries(patch.usage_limits ?? {}) as [Channel, { used?: number; unused?: number } | null][]) {
    if (limit === null) {
      delete usageLimits[channel];
      continue;
    }
    inRange(`usage_limits.${channel}.used`, limit.used, USAGE_LIMIT);
    inRange(`usage_limits.${channel}.unused`, limit.unused, USAGE_LIMIT);
    const current = usageLimits[channel] ?? USAGE_LIMIT.default;
    usageLimits[channel] = { used: limit.used ?? current.used, unused: limit.unused ?? current.unused };
  }
  const dailyCaps = { ...s.dailyCaps };
  for (const [channel, cap] of Object.entries(patch.daily_caps ?? {}) as [Channel, number | null][]) {
    if (cap === null) {
      delete dailyCaps[channel];
      continue;
    }
    inRange(`daily_caps.${channel}`, cap, DAILY_CAP);
    dailyCaps[channel] = cap;
  }
  return {
    plan: patch.plan ?? app.plan,
    settings: {
      ...s,
      enabled: patch.enabled ?? s.enabled,
      providers: providersOf(s.providers, patch.channels, checkProvider),
      ttlSeconds: ttl,
      maxTtlSeconds: maxTtl,
      maxAttempts: patch.max_attempts ?? s.maxAttempts,
      codeLength: patch.code_length ?? s.codeLength,
      maxDevices: patch.max_devices ?? s.maxDevices,
      defaultLocale,
      push: { userVerification: patch.push?.user_verification ?? s.push.userVerification, matching: patch.push?.matching ?? s.push.matching },
      allowedCountries,
      usageLimits,
      dailyCaps,
      fraud: fraudOf(s.fraud, patch.fraud),
      assuranceProfile: patch.assurance_profile ?? s.assuranceProfile,
      restrictedAuthenticators: patch.restricted_authenticators ?? s.restrictedAuthenticators,
    },
  };
}

export interface SettingChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** Each leaf that differs between two views, by its dotted API name; lists compare whole. */
export function settingChanges(before: SettingsFields, after: SettingsFields): SettingChange[] {
  const changes: SettingChange[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    const nested = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (nested(a) || nested(b)) {
      const x = (nested(a) ? a : {}) as Record<string, unknown>;
      const y = (nested(b) ? b : {}) as Record<string, unknown>;
      for (const key of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) walk(x[key], y[key], path === '' ? key : `${path}.${key}`);
      return;
    }
    if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) changes.push({ field: path, before: a ?? null, after: b ?? null });
  };
  walk(before, after, '');
  return changes;
}

/** Channels on in `before` and off in `after`: their devices are unpaired. */
export function channelsDisabled(before: ApplicationSettings, after: ApplicationSettings): Channel[] {
  return CHANNELS.filter((c) => before.providers[c] !== undefined && after.providers[c] === undefined);
}

/**
 * The one check that a disabled application starts nothing: its tokens still read, but a new
 * verification, a resend, a pairing or an enrolment answers 409 application_disabled.
 */
export function requireEnabled(app: Pick<Application, 'settings'>): void {
  if (!app.settings.enabled) {
    throw new OutbandError('application_disabled', 'this application is disabled: nothing new starts until an administrator enables it (PATCH /v1/settings {"enabled": true})');
  }
}
