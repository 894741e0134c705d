import { Type, type TSchema } from 'typebox';
import { MAX_DEVICES } from '../../domain/device/device.ts';
import { AUTHENTICATOR_FAILURE_CAP, CODE_LENGTH, DEVICE_SHARE_CAP, DAILY_CAP, MAX_ATTEMPTS, TTL_SECONDS, USAGE_LIMIT } from '../../domain/policy/limits.ts';
import { FRAUD_RANGES } from '../../domain/policy/settings.ts';

// Ranges are in the descriptions, not in the schema: a value out of range is answered 422
// invalid_setting naming the field and its range (src/domain/policy/settings.ts), not 400.

const range = (r: { min: number; max: number }) => `${r.min}–${r.max}`;
const int = (description: string) => Type.Integer({ description });

const channelMap = <T extends TSchema>(value: (channel: string) => T, description: string, channels = ['sms', 'email', 'voice', 'missed_call', 'push']) =>
  Type.Object(Object.fromEntries(channels.map((c) => [c, Type.Optional(value(c))])), { additionalProperties: false, description });

const profile = Type.Union([Type.Literal('standard'), Type.Literal('nist')], {
  description: 'standard: the usual behaviour, reporting which NIST rows it does not meet; nist: NIST SP 800-63B-4 enforced for authentication (see docs/assurance.md)',
});
const plan = Type.Union([Type.Literal('trial'), Type.Literal('licensed')], { description: 'trial: small fixed limits; licensed: the configured limits' });
const userVerification = Type.Union([Type.Literal('required'), Type.Literal('preferred')], { description: 'Default of push user_verification: required — an approval needs a PIN or biometric' });
const matching = Type.Union([Type.Literal('none'), Type.Literal('pick'), Type.Literal('type'), Type.Literal('read_back')], { description: 'Default number matching of push requests (nist: type)' });
const voip = Type.Union([Type.Literal('allow'), Type.Literal('deny')], { description: 'Whether VoIP numbers may receive codes (SEC-15)' });
const restricted = Type.Union([Type.Literal('allow'), Type.Literal('deny')], {
  description: 'deny: sms and voice may not authenticate (purpose authentication answers 422 channel_not_permitted); they still confirm contacts (SEC-13)',
});
const countries = (c: string) =>
  Type.Union([Type.Null(), Type.Array(Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2' }), { maxItems: 250, description: 'Allowed countries' })], {
    description: `${c}: ISO 3166-1 alpha-2 countries numbers may be in; null: any`,
  });

const windowFields = (what: string, extra: Record<string, TSchema> = {}) => ({
  max: int(`${what}: the most allowed in the window, ${range(FRAUD_RANGES.count)}`),
  window_seconds: int(`The window in seconds, ${range(FRAUD_RANGES.windowSeconds)}`),
  ...extra,
});
const coolOff = int(`Seconds refused after the limit is passed, ${range(FRAUD_RANGES.coolOffSeconds)}`);
const blockSeconds = int(`Seconds a country stays blocked, ${range(FRAUD_RANGES.coolOffSeconds)}`);

const fraudProperties = {
  authenticator_failure_cap: int(`Consecutive failures per authenticator before it is locked, ${range(AUTHENTICATOR_FAILURE_CAP)} (NIST: at most 100)`),
  device_share_cap: int(
    `Users whose devices may share one phone number or e-mail address; pairing it for one more user is 409 device_share_limit (SEC-30), ${range(DEVICE_SHARE_CAP)}`,
  ),
  recipient_failures: Type.Object(windowFields('Failed codes per recipient', { cool_off_seconds: coolOff }), { additionalProperties: false, description: 'Failed codes per recipient across verifications' }),
  recipient_sends: Type.Object(windowFields('Messages per recipient'), { additionalProperties: false, description: 'Messages sent to one recipient in a window' }),
  push_cooldown: Type.Object(windowFields('Unanswered or denied pushes per user', { cool_off_seconds: coolOff }), { additionalProperties: false, description: 'Push bombing guard' }),
  prefix_velocity: Type.Object(windowFields('New verifications per number prefix'), { additionalProperties: false, description: 'Velocity guard per number prefix' }),
  country_velocity: Type.Object(windowFields('New verifications per country', { block_seconds: blockSeconds }), { additionalProperties: false, description: 'Velocity guard per country' }),
  refused_number_types: Type.Array(Type.String({ description: 'A libphonenumber number type' }), { maxItems: 20, description: 'Number types refused for phone channels, e.g. PREMIUM_RATE, SHARED_COST, UNKNOWN' }),
  voip,
  safe_list: Type.Array(Type.String({ description: 'An E.164 number or prefix' }), { description: 'Numbers or prefixes no fraud block applies to (limits still do)' }),
  low_conversion: Type.Object(
    {
      scope: Type.Union([Type.Literal('country'), Type.Literal('prefix')], { description: 'What is counted: the destination country, or its number prefix (the number minus its last 3 digits)' }),
      min_volume: int(`New verifications in the window before conversion is judged, ${range(FRAUD_RANGES.count)}`),
      min_rate_percent: int('The share approved, in percent, below which the destination is blocked, 0–100'),
      window_seconds: int(`The window in seconds, ${range(FRAUD_RANGES.windowSeconds)}`),
      block_seconds: int(`Seconds of the first block, doubled for each block in the last 24 h (at most 12 h), ${range(FRAUD_RANGES.coolOffSeconds)}`),
    },
    { additionalProperties: false, description: 'Volume and conversion guard (SEC-34): many verifications that are not approved block their destination' },
  ),
  sim_swap_block_seconds: int(`Refuse a number whose SIM was swapped this recently, when the number lookup knows; 0: never. ${range(FRAUD_RANGES.recentChangeSeconds)}`),
  port_block_seconds: int(`Refuse a number ported this recently, when the number lookup knows; 0: never. ${range(FRAUD_RANGES.recentChangeSeconds)}`),
};

const channelState = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Whether the channel is on' }),
    provider: Type.Union([Type.Null(), Type.String()], { description: 'The provider that carries it (push: "devices"); null when off' }),
  },
  { description: 'A channel' },
);

const Unmet = Type.Object(
  {
    row: Type.String({ description: 'The row of the security requirements (SEC-nn)' }),
    requirement: Type.String({ description: 'What NIST SP 800-63B-4 asks' }),
    setting: Type.String({ description: 'The setting or field that does not meet it' }),
  },
  { description: 'A NIST row not met' },
);

export const AssuranceReport = Type.Object(
  {
    profile,
    unmet: Type.Array(Unmet, { description: 'NIST rows not met; empty under nist, which refuses what would break them' }),
  },
  { description: 'Which NIST SP 800-63B-4 rows the settings meet' },
);

export const SettingsView = Type.Object({
  enabled: Type.Boolean({ description: 'false: tokens still read, but nothing new starts (409 application_disabled)' }),
  plan,
  channels: Type.Object(
    {
      sms: channelState,
      email: channelState,
      voice: channelState,
      missed_call: channelState,
      push: channelState,
    },
    { description: 'Each channel and its provider' },
  ),
  ttl_seconds: int('Default TTL of a code'),
  max_ttl_seconds: int('The longest TTL a request or policy may ask for'),
  max_attempts: int('Checks per verification'),
  code_length: int('Digits of a code'),
  max_devices: int('Devices per user, pending ones included'),
  default_locale: Type.String({ description: 'Language when neither request nor user names one' }),
  push: Type.Object({ user_verification: userVerification, matching }, { description: 'Defaults of push requests' }),
  allowed_countries: Type.Object({ sms: countries('sms'), voice: countries('voice'), missed_call: countries('missed_call') }, { description: 'Destination countries per phone channel' }),
  usage_limits: channelMap(
    () => Type.Object({ used: int('Answered verifications per user per UTC day'), unused: int('Unanswered verifications per user per UTC day') }, { description: 'Per user per UTC day' }),
    'Per user, per channel, per UTC day; a channel absent has no per-user limit',
  ),
  daily_caps: Type.Object(
    Object.fromEntries(['sms', 'email', 'voice', 'missed_call', 'push'].map((c) => [c, Type.Union([Type.Null(), Type.Integer()], { description: `${c}: messages per application per UTC day; null: none` })])),
    { description: 'Per application, per channel, per UTC day' },
  ),
  fraud: Type.Object(fraudProperties, { description: 'Fraud and abuse controls' }),
  assurance_profile: profile,
  restricted_authenticators: restricted,
  assurance: AssuranceReport,
});

/** An object schema with every property optional (a PATCH of a nested setting); other schemas as they are. */
function partialObject(schema: TSchema): TSchema {
  const s = schema as unknown as { type?: string; properties?: Record<string, TSchema>; description?: string };
  if (s.type !== 'object' || s.properties === undefined) return schema;
  const properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, Type.Optional(v)]));
  return Type.Object(properties, { additionalProperties: false, description: s.description ?? '' });
}

export const SettingsPatchBody = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'false disables the application: nothing new starts, pairing fails; reads still work' })),
    plan: Type.Optional(plan),
    channels: Type.Optional(
      channelMap(
        (c) =>
          Type.Object(
            {
              enabled: Type.Boolean({ description: 'On or off. Turning a channel off unpairs every device of that kind; turning it on again pairs nothing back' }),
              provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: `The provider for ${c}: one configured on this server (push: "devices")` })),
            },
            { additionalProperties: false, description: c },
          ),
        'Channels to turn on or off',
      ),
    ),
    ttl_seconds: Type.Optional(int(`Default TTL of a code, ${TTL_SECONDS.min}–max_ttl_seconds`)),
    max_ttl_seconds: Type.Optional(int(`The longest TTL a request or policy may ask for, ${range(TTL_SECONDS)}`)),
    max_attempts: Type.Optional(int(`Checks per verification, ${range(MAX_ATTEMPTS)}`)),
    code_length: Type.Optional(int(`Digits of a code, ${range(CODE_LENGTH)} (nist: at least 6)`)),
    max_devices: Type.Optional(int(`Devices per user, ${range(MAX_DEVICES)}`)),
    default_locale: Type.Optional(Type.String({ minLength: 1, maxLength: 35, description: 'A BCP 47 language tag' })),
    push: Type.Optional(
      Type.Object({ user_verification: Type.Optional(userVerification), matching: Type.Optional(matching) }, { additionalProperties: false, description: 'Defaults of push requests' }),
    ),
    allowed_countries: Type.Optional(
      Type.Object(
        { sms: Type.Optional(countries('sms')), voice: Type.Optional(countries('voice')), missed_call: Type.Optional(countries('missed_call')) },
        { additionalProperties: false, description: 'Destination countries per phone channel' },
      ),
    ),
    usage_limits: Type.Optional(
      channelMap(
        () =>
          Type.Union(
            [
              Type.Null(),
              Type.Object(
                { used: Type.Optional(int(`Answered, ${range(USAGE_LIMIT)}`)), unused: Type.Optional(int(`Unanswered, ${range(USAGE_LIMIT)}`)) },
                { additionalProperties: false, description: 'Limits' },
              ),
            ],
            { description: 'Per user per UTC day; null removes the limit' },
          ),
        'Per user, per channel, per UTC day',
      ),
    ),
    daily_caps: Type.Optional(
      channelMap(() => Type.Union([Type.Null(), Type.Integer()], { description: `Messages per UTC day, ${range(DAILY_CAP)}; null: no cap` }), 'Per application, per channel, per UTC day'),
    ),
    fraud: Type.Optional(
      Type.Object(
        Object.fromEntries(
          Object.entries(fraudProperties).map(([k, v]) => [
            k,
            Type.Optional(partialObject(v as TSchema)),
          ]),
        ),
        { additionalProperties: false, description: 'Fraud and abuse controls; give only what changes' },
      ),
    ),
    assurance_profile: Type.Optional(profile),
    restricted_authenticators: Type.Optional(restricted),
  },
  { additionalProperties: false, minProperties: 1, description: 'Only the settings that change' },
);

export const ChannelList = Type.Object({
  items: Type.Array(
    Type.Object({
      channel: Type.String({ description: 'The channel' }),
      enabled: Type.Boolean({ description: 'Whether this application has it on' }),
      restricted: Type.Boolean({ description: 'sms and voice: a restricted authenticator (NIST SP 800-63B-4 §3.1.3.3); offer users an unrestricted one too' }),
      aal: Type.Union([Type.Null(), Type.Literal(1)], { description: 'Assurance it can contribute alone; null for e-mail and missed calls, which only confirm a contact. push reaches 2 with a PIN or biometric' }),
      notice: Type.Union([Type.Null(), Type.String()], { description: 'The risk notice to show users of a restricted channel' }),
    }),
    { description: 'Every channel' },
  ),
});
