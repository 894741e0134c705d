import { Type } from 'typebox';

export const UsageQuery = Type.Object(
  {
    user_id: Type.Optional(Type.String({ maxLength: 64, description: "The user whose counters to show; without it, the application's own" })),
    date: Type.Optional(Type.String({ maxLength: 10, description: 'The UTC day, YYYY-MM-DD; today (UTC) by default' })),
  },
  { additionalProperties: false },
);

const Limit = Type.Object(
  {
    name: Type.String({ description: 'user_daily, trial_user_daily, application_daily or trial_pairing_messages' }),
    used: Type.Optional(Type.Integer({ description: 'A start passes while used is below this' })),
    unused: Type.Optional(Type.Integer({ description: 'A start passes while unused is below this' })),
    total: Type.Optional(Type.Integer({ description: 'A start passes while used + unused is below this' })),
  },
  { description: 'The limit on this counter' },
);

export const UsageView = Type.Object({
  date: Type.String({ description: 'The UTC day shown' }),
  user_id: Type.Union([Type.Null(), Type.String()], { description: "The user, or null for the application's own counters" }),
  resets_at: Type.String({ format: 'date-time', description: 'When the daily counters start again (00:00 UTC after date)' }),
  counters: Type.Array(
    Type.Object({
      scope: Type.Union([Type.Literal('user'), Type.Literal('application')], { description: "The user's counter or the application's" }),
      channel: Type.String({ description: 'A channel; "*" for all channels together (trial plan); "pairing" for the trial pairing messages' }),
      used: Type.Integer({ description: 'Verifications answered (a right or wrong code, an approval, a denial)' }),
      unused: Type.Integer({ description: 'Verifications never answered' }),
      limit: Type.Union([Type.Null(), Limit], { description: 'The limit that applies, or null' }),
    }),
    { description: 'Each counter of the day' },
  ),
});

export const AuthenticatorParams = Type.Object({
  authenticator: Type.String({ minLength: 1, maxLength: 320, description: 'An E.164 phone number, an e-mail address or a device id' }),
});

export const AuthenticatorStatus = Type.Object({
  consecutive_failures: Type.Integer({ description: 'Failed answers in a row across verifications' }),
  cap: Type.Integer({ description: "The application's cap (fraud.authenticator_failure_cap)" }),
  locked: Type.Boolean({ description: 'Whether it is locked until an admin re-binds it' }),
  locked_at: Type.Union([Type.Null(), Type.String({ format: 'date-time' })], { description: 'When it was locked' }),
});
