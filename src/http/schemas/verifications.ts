import { Type } from 'typebox';
import { CODE_LENGTH, MAX_WAIT_SECONDS, TTL_SECONDS } from '../../domain/policy/limits.ts';
import { Id, Timestamp } from './common.ts';

const channel = Type.Union([Type.Literal('sms'), Type.Literal('email'), Type.Literal('voice'), Type.Literal('missed_call'), Type.Literal('push')], {
  description:
    'Where the code is sent (with a workflow: its first step): sms, email, voice (a call that speaks the code), missed_call (a call that rings and drops; the code is the last digits of the calling number), or push (a request to the user\'s enrolled authenticators, approved with a PIN or biometric)',
});
const purpose = Type.Union(
  [Type.Literal('authentication'), Type.Literal('transaction'), Type.Literal('caller_verification'), Type.Literal('confirm_contact')],
  {
    description:
      'What the verification is for; it shapes the message and the policies that apply. Default authentication, and confirm_contact for missed_call, which is a possession check and cannot authenticate',
  },
);

export const WorkflowStep = Type.Object(
  {
    channel: Type.Union([Type.Literal('sms'), Type.Literal('email'), Type.Literal('voice')], { description: 'The channel of this step (every step carries the same code, so not missed_call)' }),
    timeout_seconds: Type.Optional(
      Type.Integer({ minimum: 10, maximum: 1800, description: 'How long to wait for the code before the next step goes out; not for the last step' }),
    ),
  },
  { additionalProperties: false },
);

export const VerificationStartBody = Type.Object(
  {
    channel: Type.Optional(channel),
    policy: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
        description:
          'A named policy (GET /v1/policies), e.g. verify-caller or step-up: its fields apply, and a field it sets may be given here only if the policy lists it in overridable. Without a policy, channel is required',
      }),
    ),
    user_id: Type.Optional(Id("A user whose address for the channel is used (the user's phone for sms, e-mail for email)")),
    to: Type.Optional(Type.String({ minLength: 3, maxLength: 254, description: 'A phone number or e-mail address to send to directly, instead of user_id' })),
    country: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 country of `to` when it is a national phone number' })),
    purpose: Type.Optional(purpose),
    locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35, description: "BCP 47 language of the message; default the user's locale, then the application's" })),
    ttl_seconds: Type.Optional(
      Type.Integer({ minimum: TTL_SECONDS.min, maximum: TTL_SECONDS.max, description: `How long the code is valid, ${TTL_SECONDS.min}–${TTL_SECONDS.max} s; default ${TTL_SECONDS.default}` }),
    ),
    code_length: Type.Optional(
      Type.Integer({ minimum: CODE_LENGTH.min, maximum: CODE_LENGTH.max, description: `Digits in the code, ${CODE_LENGTH.min}–${CODE_LENGTH.max}; default ${CODE_LENGTH.default}` }),
    ),
    params: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' }), Type.String({ maxLength: 200 }), {
        maxProperties: 20,
        // Without this, a key that does not match the pattern would be let through.
        additionalProperties: false,
        description: 'Template parameters; parameters a template does not use are ignored',
      }),
    ),
    workflow: Type.Optional(
      Type.Array(WorkflowStep, {
        minItems: 2,
        maxItems: 5,
        description:
          'Fallback steps, in order: when a step is not answered within its timeout_seconds, the next goes out, with the same code. The first step is the verification\'s channel. Every step but the last needs timeout_seconds, and together they must end before the verification expires',
      }),
    ),
    two_way: Type.Optional(
      Type.Boolean({ description: 'sms only: the user may also reply to the SMS with the code instead of typing it; a wrong reply uses up an attempt' }),
    ),
    return_code: Type.Optional(
      Type.Boolean({ description: 'Return the code once in this response, for a relying party that checks it itself. Needs the verifications:code scope' }),
    ),
    device_id: Type.Optional(Id("push: this one device instead of all the user's push devices (primary first)")),
    message: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'push: what the authenticator shows; default the purpose\'s wording' })),
    context: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' }), Type.String({ maxLength: 200 }), {
        maxProperties: 10,
        additionalProperties: false,
        description: 'push: who asks, shown with the message, e.g. {"requester":"Acme support","agent":"Sam"}',
      }),
    ),
    user_verification: Type.Optional(
      Type.Union([Type.Literal('required'), Type.Literal('preferred')], { description: 'push: required (default) — an approval must come with a PIN or biometric; preferred — a bare approval is accepted' }),
    ),
    matching: Type.Optional(
      Type.Union([Type.Literal('none'), Type.Literal('pick'), Type.Literal('type'), Type.Literal('read_back')], {
        description:
          'push, against push fatigue: none (approve/deny); pick (show match_number, the user taps it among three); type (show match_code, the user types it into the authenticator: the form NIST SP 800-63B-4 accepts); read_back (after approval the authenticator shows a code the caller reads out; check it with /check)',
      }),
    ),
  },
  { additionalProperties: false },
);

const PushView = Type.Object(
  {
    message: Type.String({ description: 'What the authenticator shows' }),
    context: Type.Record(Type.String(), Type.String(), { description: 'Who asks, shown with the message' }),
    user_verification: Type.Union([Type.Literal('required'), Type.Literal('preferred')], { description: 'Whether an approval needs a PIN or biometric' }),
    matching: Type.Union([Type.Literal('none'), Type.Literal('pick'), Type.Literal('type'), Type.Literal('read_back')], { description: 'The number matching asked for' }),
    awaiting_read_back: Type.Boolean({ description: 'read_back: the device approved; check the code the caller reads out' }),
    answered_by: Type.Union([Type.Null(), Type.String()], { description: 'The device that answered' }),
    user_verified_with: Type.Union([Type.Null(), Type.Literal('pin'), Type.Literal('biometric'), Type.Literal('none'), Type.Literal('webauthn')], {
      description: 'How that device verified its user; webauthn: its platform authenticator (screen lock or biometric), proven by a WebAuthn assertion',
    }),
  },
  { description: 'push: the request and its answer' },
);

const Assurance = Type.Object(
  {
    profile: Type.Union([Type.Literal('standard'), Type.Literal('nist')], { description: "The application's assurance profile" }),
    unmet: Type.Array(
      Type.Object(
        {
          row: Type.String({ description: 'The row of the security requirements (SEC-nn)' }),
          requirement: Type.String({ description: 'What NIST SP 800-63B-4 asks' }),
          setting: Type.String({ description: 'The setting or field that does not meet it' }),
        },
        { description: 'A NIST row not met' },
      ),
      { description: 'NIST SP 800-63B-4 rows this verification does not meet (standard profile); empty under nist' },
    ),
    restricted: Type.Boolean({ description: 'sms and voice: a restricted authenticator; tell the user the risk (GET /v1/channels has the notice)' }),
    alternative_required: Type.Union([Type.Null(), Type.Boolean()], {
      description: 'A restricted channel and the user has no paired push authenticator: offer them an unrestricted one (SEC-13); null when started with to',
    }),
  },
  { description: 'In every response about a verification (start, read, stream, check, resend, cancel): its assurance report under the application\'s profile now (docs/assurance.md)' },
);

export const VerificationView = Type.Object({
  assurance: Assurance,
  id: Id('The verification id; 128 random bits'),
  status: Type.Union(
    [Type.Literal('pending'), Type.Literal('approved'), Type.Literal('denied'), Type.Literal('failed'), Type.Literal('expired'), Type.Literal('cancelled'), Type.Literal('blocked')],
    {
      description:
        'pending until the code is checked or the device answers; then approved, denied (push), failed (no attempts left, or the message could not be delivered), expired or cancelled, and final. blocked: refused at the start by a usage limit or a fraud control, nothing sent (see blocked_reasons)',
    },
  ),
  blocked_reasons: Type.Union([Type.Null(), Type.Array(Type.String())], {
    description:
      'blocked: why, e.g. user_daily, application_daily, destination_not_allowed, number_type:PREMIUM_RATE, recipient_send_rate, prefix_velocity, country_velocity, low_conversion, sim_swap, ported, recipient_cooling_off, authenticator_locked, push_cooldown; null otherwise',
  }),
  country: Type.Union([Type.Null(), Type.String()], { description: "The destination's country (ISO 3166 alpha-2) for a phone channel; null for e-mail and push" }),
  reason: Type.Union([Type.Null(), Type.String()], {
    description: 'Why it ended, where the status alone does not say: max_attempts, delivery_failed, expired, cancelled; for denied: denied, reported_fraud or number_mismatch; blocked for blocked',
  }),
  channel,
  purpose: Type.Union(
    [Type.Literal('authentication'), Type.Literal('transaction'), Type.Literal('caller_verification'), Type.Literal('pairing'), Type.Literal('confirm_contact')],
    { description: 'What the verification is for' },
  ),
  to: Type.String({ description: 'The recipient, masked: "+31 6 •••• ••78", "j•••@example.com"' }),
  user_id: Type.Union([Type.Null(), Type.String()], { description: 'The user verified, when started with user_id' }),
  locale: Type.String({ description: 'Language of the message' }),
  attempts_left: Type.Integer({ description: 'Checks left before the verification fails' }),
  aal: Type.Union([Type.Null(), Type.Literal(1), Type.Literal(2)], {
    description:
      'Authenticator assurance this verification can contribute (NIST SP 800-63B): 1 for sms and voice, a restricted out-of-band authenticator; null for email and missed_call, which confirm a contact but do not authenticate; push: 2 once answered with a PIN or biometric (multi-factor out-of-band), else 1',
  }),
  two_way: Type.Boolean({ description: 'Whether a reply to the SMS with the code also approves it' }),
  bypass: Type.Boolean({ description: "Approved at once because the user's bypass was on: nothing was sent; the relying party decides" }),
  device_id: Type.Union([Type.Null(), Type.String()], { description: 'The device this is for: a pairing\'s device, or the one push device asked' }),
  push: Type.Union([Type.Null(), PushView], { description: 'push: the request and its answer; null on other channels' }),
  created_at: Timestamp('When it was started'),
  expires_at: Timestamp('When the code stops being valid'),
  decided_at: Type.Union([Type.Null(), Timestamp('When it reached its final status')], { description: 'When it reached its final status' }),
});

export const DeliveryView = Type.Object({
  id: Type.String({ description: 'The message id' }),
  channel: Type.String({ description: 'The channel it went out on' }),
  provider: Type.String({ description: 'The provider that carried it' }),
  status: Type.Union(
    [
      Type.Literal('queued'),
      Type.Literal('sending'),
      Type.Literal('sent'),
      Type.Literal('delivered'),
      Type.Literal('undelivered'),
      Type.Literal('failed'),
      Type.Literal('cancelled'),
    ],
    {
      description:
        'queued → sending → sent → delivered or undelivered (when the provider sends receipts); failed when no try succeeded; cancelled when the verification ended (or was resent) before it went out',
    },
  ),
  step: Type.Integer({ description: 'The workflow step it belongs to: 0 for the first message' }),
  send_at: Timestamp('When it is due to go out (a later workflow step waits for the earlier ones), or when it was last tried'),
  attempts: Type.Integer({ description: 'Tries so far' }),
  error: Type.Union([Type.Null(), Type.String()], { description: "Why the last try or the receipt failed, in the provider's terms" }),
  created_at: Timestamp('When it was queued'),
  sent_at: Type.Union([Type.Null(), Timestamp('When the provider accepted it')], { description: 'When the provider accepted it' }),
  receipt_at: Type.Union([Type.Null(), Timestamp("When the provider's receipt arrived")], { description: "When the provider's receipt arrived" }),
});

export const VerificationDetail = Type.Object({
  ...VerificationView.properties,
  deliveries: Type.Array(DeliveryView, { description: 'Every message sent for this verification, oldest first' }),
});

export const VerificationStarted = Type.Object({
  ...VerificationView.properties,
  code: Type.Optional(Type.String({ description: 'The code, only when return_code was true' })),
  digits: Type.Optional(Type.Integer({ description: 'missed_call: how many digits of the calling number to ask the user for' })),
  caller_prefix: Type.Optional(
    Type.String({ description: 'missed_call: the calling number with its last digits hidden, e.g. "+44 20 794• ••••", to show while the user waits for the call' }),
  ),
  entropy_bits: Type.Optional(
    Type.Number({ description: "missed_call: the code's real entropy, log2 of the distinct codes the caller-id pool can give (SEC-17)" }),
  ),
  match_number: Type.Optional(Type.String({ description: 'push with matching pick: the number to show the user, who taps it among three in the authenticator' })),
  match_code: Type.Optional(Type.String({ description: 'push with matching type: the code to show the user, who types it into the authenticator' })),
});

export const CheckBody = Type.Object(
  {
    code: Type.String({
      pattern: '^[0-9A-Za-z -]{1,20}$',
      description: 'The code the user typed: digits, or for a pairing code under the nist profile Crockford base32 (case, spaces and dashes do not matter)',
    }),
  },
  { additionalProperties: false },
);

export const CheckResult = Type.Object({
  ...VerificationView.properties,
  valid: Type.Boolean({ description: 'Whether the code was right. A wrong code uses up an attempt' }),
});

export const VerificationParams = Type.Object({ id: Id('The verification id') });

export const WaitQuery = Type.Object(
  {
    wait: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, description: `Long-poll: wait up to this many seconds (≤ ${MAX_WAIT_SECONDS}) for the status to change` }),
    ),
  },
  { additionalProperties: false },
);

export const ResendBody = Type.Object(
  {
    channel: Type.Optional(
      Type.Union([Type.Literal('sms'), Type.Literal('email'), Type.Literal('voice'), Type.Literal('missed_call')], {
        description: "Send the new code on this channel instead; default the verification's own",
      }),
    ),
  },
  { additionalProperties: false, description: 'Optional; an empty body resends on the same channel' },
);
