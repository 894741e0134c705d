import { Type } from 'typebox';
import { PURPOSES, TEMPLATE_CHANNELS } from '../../domain/templates/catalog.ts';
import { NullableString } from './common.ts';

// The agent console's API (/console/api, docs/console.md). Hidden from the public OpenAPI
// document: it is the bundled console's own API, authenticated by a session cookie, not a
// relying party's integration surface (ADR 0016).

const AnyId = (description: string) => Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z]{3}_[a-z2-7]{1,58}$', description });
const NullableTime = (description: string) => Type.Union([Type.Null(), Type.String({ format: 'date-time' })], { description });

export const SignInBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320, description: "The agent's e-mail address (compared lower-cased)" }),
    password: Type.String({ minLength: 1, maxLength: 256, description: "The agent's password" }),
  },
  { additionalProperties: false },
);

export const AgentSelf = Type.Object({
  id: Type.String({ description: 'The agent id (agt_…)' }),
  email: Type.String({ description: "The agent's e-mail address" }),
  role: Type.Union([Type.Literal('agent'), Type.Literal('admin')], { description: 'admin also manages agents, settings and templates' }),
  locale: NullableString({ description: "The agent's preferred console language, or null: the browser's" }),
});

export const ApplicationRef = Type.Object({
  id: Type.String({ description: 'The application id' }),
  name: Type.String({ description: 'The application name' }),
});

export const SessionView = Type.Object({
  agent: AgentSelf,
  csrf_token: Type.String({ description: 'Send it as the X-CSRF-Token header with every request other than GET' }),
  applications: Type.Array(ApplicationRef, { description: 'The applications the agent is granted' }),
});

export const AppParams = Type.Object({ app: AnyId('The application id (one of the session\'s applications)') });
export const PersonParams = Type.Object({ app: AnyId('The application id'), user: AnyId('The person (user) id') });
export const VerificationParams = Type.Object({ app: AnyId('The application id'), id: AnyId('The verification id') });
export const AgentParams = Type.Object({ id: AnyId('The agent id') });

export const SearchQuery = Type.Object(
  { q: Type.String({ minLength: 2, maxLength: 320, description: 'At least 2 characters: the start of an e-mail, phone number (digits, with or without +), external id or display name' }) },
  { additionalProperties: false },
);

const personFields = {
  id: Type.String({ description: 'The user id' }),
  display_name: NullableString({ description: 'Display name' }),
  email: NullableString({ description: 'E-mail address, in full: the agent verifies this person' }),
  phone: NullableString({ description: 'Phone number (E.164), in full' }),
  external_id: NullableString({ description: "The relying party's own id of the person" }),
};

export const PersonList = Type.Object({ items: Type.Array(Type.Object(personFields), { description: 'At most 20 people, by display name' }) });

export const PersonDetail = Type.Object({
  person: Type.Object({
    ...personFields,
    locale: NullableString({ description: "The person's language" }),
    status: Type.String({ description: 'active or suspended' }),
  }),
  devices: Type.Array(
    Type.Object({
      id: Type.String({ description: 'The device id' }),
      name: Type.String({ description: 'The device name' }),
      kind: Type.String({ description: 'push, sms, voice or email' }),
      role: Type.String({ description: 'primary or secondary' }),
      status: Type.String({ description: 'pending or paired' }),
      last_used_at: NullableTime('When the device last answered'),
      capabilities: Type.Array(Type.String(), { description: 'push, pin, biometric' }),
      can_verify_caller: Type.Boolean({ description: 'Whether Verify caller may push to this device (its application\'s verify-caller policy)' }),
      can_send_code: Type.Boolean({ description: 'Whether Send code may send a code to this phone device' }),
    }),
    { description: "The person's devices, oldest first" },
  ),
});

export const DeviceBody = Type.Object({ device_id: AnyId('The device to use') }, { additionalProperties: false });
export const CheckBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 32, description: 'The code the caller read out' }) }, { additionalProperties: false });

export const ConsoleVerification = Type.Object({
  id: Type.String({ description: 'The verification id' }),
  status: Type.String({ description: 'pending, approved, denied, failed, expired, cancelled or blocked' }),
  reason: NullableString({ description: 'Why it ended, when it did not end approved' }),
  channel: Type.String({ description: 'push, sms or voice' }),
  device_id: NullableString({ description: 'The device asked' }),
  device_name: NullableString({ description: "The device's name" }),
  created_at: Type.String({ format: 'date-time', description: 'When it started' }),
  expires_at: Type.String({ format: 'date-time', description: "The server's expiry: the end of the countdown" }),
  decided_at: NullableTime('When it ended'),
  seconds_left: Type.Integer({ description: "Seconds until expires_at by the server's clock at the time of this answer; 0 once ended" }),
  matching: Type.String({ description: 'none, pick, type or read_back' }),
  match_number: NullableString({ description: 'pick: the number the agent reads to the caller (type: in the start answer only)' }),
  awaiting_read_back: Type.Boolean({ description: 'read_back: the device approved; the agent types the code the caller reads out' }),
  attempts_left: Type.Union([Type.Null(), Type.Integer({ minimum: 0 })], { description: 'Checks left before it fails, where the agent types a code (send-code, read_back); null for other pushes' }),
  user_verified_with: NullableString({ description: 'How the device verified its user: pin, biometric, webauthn or none' }),
  delivery: NullableString({ description: 'sending, sent or failed: how far the request or message got' }),
});

export const VerificationAnswer = Type.Object({ verification: ConsoleVerification });
export const CheckAnswer = Type.Object({ verification: ConsoleVerification, valid: Type.Boolean({ description: 'Whether the code was right' }) });

export const AuditQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ maxLength: 40, description: 'From (inclusive): an ISO 8601 date-time or a UTC date' })),
    to: Type.Optional(Type.String({ maxLength: 40, description: 'To (exclusive): an ISO 8601 date-time or a UTC date (its whole day)' })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'Items per page, default 100' })),
  },
  { additionalProperties: false },
);

export const AuditPage = Type.Object({
  items: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time', description: 'When' }),
      agent: Type.Object({ id: Type.String({ description: 'The agent id' }), email: NullableString({ description: "The agent's e-mail" }) }),
      person: Type.Union([Type.Null(), Type.Object({ id: Type.String({ description: 'The user id' }), display_name: NullableString({ description: 'Display name' }) })], { description: 'Whom' }),
      verification_id: Type.String({ description: 'The verification' }),
      channel: NullableString({ description: 'The channel' }),
      action: Type.String({ description: 'verify_caller, send_code, check, cancel or resend' }),
      result: Type.String({ description: 'For a start, the verification\'s status now; for a check: approved, wrong_code or failed; cancelled; blocked' }),
    }),
    { description: 'Console verification events, oldest first' },
  ),
  next_cursor: NullableString({ description: 'The cursor of the next page; null on the last' }),
});

export const TemplateKeyParams = Type.Object({
  app: AnyId('The application id'),
  channel: Type.Enum(TEMPLATE_CHANNELS, { description: 'sms, email, voice or push' }),
  purpose: Type.Enum(PURPOSES, { description: 'What the verification is for' }),
});

export const TemplateLocaleParams = Type.Object({
  app: AnyId('The application id'),
  channel: Type.Enum(TEMPLATE_CHANNELS, { description: 'sms, email, voice or push' }),
  purpose: Type.Enum(PURPOSES, { description: 'What the verification is for' }),
  locale: Type.String({ minLength: 1, maxLength: 35, description: 'BCP 47 language tag' }),
});

const AgentFull = Type.Object({
  id: Type.String({ description: 'The agent id' }),
  email: Type.String({ description: 'E-mail address' }),
  role: Type.String({ description: 'agent or admin' }),
  locale: NullableString({ description: 'Console language' }),
  created_at: Type.String({ format: 'date-time', description: 'When it was created' }),
  disabled_at: NullableTime('When it was disabled; null while it may sign in'),
  applications: Type.Array(Type.String(), { description: 'Ids of the granted applications (only those the admin shares)' }),
});

export const AgentList = Type.Object({ items: Type.Array(AgentFull, { description: 'The agents this admin manages' }) });
export const AgentCreated = Type.Object({
  agent: AgentFull,
  password: Type.Optional(Type.String({ description: 'The generated password, shown only in this answer' })),
});
export const AgentAnswer = Type.Object({ agent: AgentFull });

export const AgentCreateBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320, description: 'E-mail address' }),
    role: Type.Union([Type.Literal('agent'), Type.Literal('admin')], { description: 'agent or admin' }),
    password: Type.Optional(Type.String({ minLength: 12, maxLength: 256, description: 'A password of 12 or more characters; left out, one is generated and answered once' })),
    applications: Type.Optional(Type.Array(AnyId('An application id'), { maxItems: 1000, description: 'Applications to grant (only ones the admin has)' })),
  },
  { additionalProperties: false },
);

export const AgentPatchBody = Type.Object(
  {
    role: Type.Optional(Type.Union([Type.Literal('agent'), Type.Literal('admin')], { description: 'agent or admin' })),
    applications: Type.Optional(Type.Array(AnyId('An application id'), { maxItems: 1000, description: "The agent's grants among the admin's applications, exactly" })),
    disabled: Type.Optional(Type.Boolean({ description: 'true: cannot sign in, sessions end; false: may again' })),
  },
  { additionalProperties: false },
);
