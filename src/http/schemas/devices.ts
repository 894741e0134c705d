import { Type } from 'typebox';
import { CAPABILITIES, DEVICE_KINDS } from '../../domain/device/device.ts';
import { Id, Timestamp } from './common.ts';
import { AuthenticationResponse, RegistrationResponse } from './webauthn.ts';

const kind = Type.Enum(DEVICE_KINDS, { description: 'push (an authenticator app), sms or voice (a phone number), email (an address)' });
const capability = Type.Enum(CAPABILITIES, { description: 'push: takes push requests; pin, biometric: can verify its user that way before answering; webauthn: answers with a WebAuthn assertion (set by the server)' });

export const TransportInput = Type.Union(
  [
    Type.Object({ type: Type.Literal('stream', { description: 'stream' }) }, { additionalProperties: false, description: 'Requests arrive over GET /v1/device-api/stream while it is open' }),
    Type.Object(
      {
        type: Type.Literal('webpush', { description: 'webpush' }),
        subscription: Type.Object(
          {
            endpoint: Type.String({ minLength: 8, maxLength: 2048, description: "The push service's https endpoint (Web Push or a UnifiedPush distributor)" }),
            keys: Type.Object(
              {
                p256dh: Type.String({ minLength: 1, maxLength: 128, description: "The subscription's P-256 public key, base64url, uncompressed (65 bytes)" }),
                auth: Type.String({ minLength: 1, maxLength: 64, description: 'The 16-byte authentication secret, base64url' }),
              },
              { additionalProperties: true, description: 'The subscription keys' },
            ),
            expirationTime: Type.Optional(Type.Union([Type.Null(), Type.Number()], { description: 'Ignored: a push service that expires subscriptions answers 404/410, and the device registers anew' })),
          },
          { additionalProperties: false, description: 'The PushSubscription as the browser or distributor gives it' },
        ),
      },
      { additionalProperties: false, description: 'RFC 8030 Web Push (also UnifiedPush): payloads encrypted per RFC 8291, VAPID per RFC 8292' },
    ),
    Type.Object({ type: Type.Literal('fcm', { description: 'fcm' }), token: Type.String({ minLength: 1, maxLength: 4096, description: 'The FCM registration token' }) }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('apns', { description: 'apns' }), token: Type.String({ pattern: '^[0-9a-fA-F]{32,200}$', description: 'The APNs device token, hex' }) }, { additionalProperties: false }),
  ],
  { description: 'How the device is reached with new requests' },
);

export const DeviceView = Type.Object({
  id: Id('The device id'),
  user_id: Type.String({ description: 'The user it belongs to' }),
  kind,
  name: Type.String({ description: '"Phone 1", "Authenticator 1", "Email 1" … unless named' }),
  role: Type.Union([Type.Literal('primary'), Type.Literal('secondary')], { description: 'The first paired device is primary; push requests go to it first' }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('paired')], { description: 'pending until the code is confirmed or the authenticator has enrolled' }),
  capabilities: Type.Array(capability, { description: 'What the device can do' }),
  address: Type.Union([Type.Null(), Type.String()], { description: 'sms, voice, email: the address, masked' }),
  transport: Type.Union([Type.Null(), Type.Object({ type: Type.String({ description: 'stream, webpush, fcm or apns' }), stale: Type.Boolean({ description: 'The push service said the registration is gone; requests still reach the device over its stream' }) })], {
    description: 'push: how requests reach it',
  }),
  created_at: Timestamp('When the pairing started'),
  paired_at: Type.Union([Type.Null(), Timestamp('When it was paired')], { description: 'When it was paired' }),
  last_used_at: Type.Union([Type.Null(), Timestamp('When it last answered a request')], { description: 'When it last answered a request' }),
});

export const DeviceList = Type.Object({ items: Type.Array(DeviceView, { description: 'The devices, oldest first' }) });

export const DeviceCreateBody = Type.Object(
  {
    kind,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Default "Phone N", "Authenticator N", "Email N"' })),
    address: Type.Optional(Type.String({ minLength: 3, maxLength: 254, description: "sms, voice, email: the number or address to pair; default the user's own" })),
    country: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 country of a national phone number' })),
    mode: Type.Optional(
      Type.Union([Type.Literal('manual'), Type.Literal('automatic')], {
        description: 'sms, voice, email — manual (default): a code goes to the address and confirming it (POST /v1/verifications/{id}/check) pairs the device; automatic (admin scope): paired at once',
      }),
    ),
  },
  { additionalProperties: false },
);

export const Enrolment = Type.Object({
  token: Type.String({ description: 'One-time activation token, 128 bits, valid 10 minutes' }),
  link: Type.String({ description: 'The enrolment link, /authenticator/enroll#token=…, for the authenticator to open' }),
  qr_svg: Type.String({ description: 'The same link as an SVG QR code' }),
  expires_at: Timestamp('When the token stops working'),
});

export const DeviceCreated = Type.Object({
  device: Type.Object(DeviceView.properties, { description: 'The device, pending until paired' }),
  enrolment: Type.Optional(Type.Object(Enrolment.properties, { description: 'push: how the authenticator enrols' })),
  verification: Type.Optional(Type.Object({ id: Type.String({ description: 'The verification id' }), status: Type.String({ description: 'pending' }), expires_at: Type.String({ description: 'When the code expires' }) }, { additionalProperties: true, description: 'manual pairing: the verification whose code pairs the device' })),
});

export const DevicePatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The new name' })),
    role: Type.Optional(Type.Union([Type.Literal('primary'), Type.Literal('secondary')], { description: 'Making one primary makes the primary before it secondary' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const DeviceParams = Type.Object({ id: Id('The device id') });

export const BypassBody = Type.Object(
  { until: Timestamp('Until when verifications of this user are approved at once, with bypass: true; at most 24 h ahead') },
  { additionalProperties: false },
);

export const BypassView = Type.Object({
  user_id: Type.String({ description: 'The user' }),
  bypass_until: Type.Union([Type.Null(), Timestamp('Until when the bypass holds')], { description: 'Until when the bypass holds; null: no bypass' }),
});

export const EnrollBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 128, description: 'The activation token from the enrolment link' }),
    public_key: Type.Object({}, { additionalProperties: true, description: "The device's P-256 public key as a JWK; the enroll call's JWS is signed with its private half" }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A name the user chose; default the pending device\'s' })),
    capabilities: Type.Array(capability, { maxItems: 4, uniqueItems: true, description: 'What the device can do: pin, biometric (push is implied; webauthn is set by the server when `webauthn` verifies)' }),
    transport: TransportInput,
    webauthn: Type.Optional(
      Type.Object(RegistrationResponse.properties, {
        additionalProperties: true,
        description: 'The web authenticator: a WebAuthn credential made with POST /enroll/webauthn-options; it then signs every approval',
      }),
    ),
  },
  { additionalProperties: false },
);

export const EnrollResult = Type.Object({
  device: Type.Object(DeviceView.properties, { description: 'The device, now paired' }),
  audience: Type.String({ description: 'The `aud` every device JWS must carry' }),
  vapid_public_key: Type.Union([Type.Null(), Type.String()], { description: "The server's VAPID key, for a Web Push subscription (applicationServerKey)" }),
});

export const TransportBody = Type.Object({ transport: TransportInput }, { additionalProperties: false });

export const PushRequestView = Type.Object({
  id: Type.String({ description: 'The verification id' }),
  status: Type.String({ description: 'pending while it can be answered' }),
  challenge: Type.String({ description: "The server's nonce the signed answer covers" }),
  application: Type.String({ description: 'Who asks: the application name' }),
  message: Type.String({ description: 'What to show the user' }),
  context: Type.Record(Type.String(), Type.String(), { description: 'Who asks, e.g. requester and agent' }),
  purpose: Type.String({ description: 'authentication, transaction, caller_verification …' }),
  user_verification: Type.Union([Type.Literal('required'), Type.Literal('preferred')], { description: 'required: approve only after a PIN or biometric' }),
  matching: Type.Union([Type.Literal('none'), Type.Literal('pick'), Type.Literal('type'), Type.Literal('read_back')], { description: 'How the answer is matched; see docs/device-api.md' }),
  choices: Type.Union([Type.Null(), Type.Array(Type.String())], { description: 'pick: the numbers to offer' }),
  created_at: Timestamp('When it was sent'),
  expires_at: Timestamp('When it can no longer be answered'),
});

export const PushRequestList = Type.Object({ items: Type.Array(PushRequestView, { description: 'Pending requests, oldest first' }) });

export const RespondBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('deny'), Type.Literal('report_fraud')], { description: 'report_fraud: a denial that says the user did not ask for this' }),
    user_verification: Type.Union([Type.Literal('pin'), Type.Literal('biometric'), Type.Literal('none'), Type.Literal('webauthn')], {
      description: 'How the device verified its user before answering; webauthn: only with `webauthn`, whose UV flag proves it',
    }),
    answer: Type.Optional(Type.String({ pattern: '^[0-9]{2,10}$', description: 'pick: the number chosen; type: the code typed' })),
    signature: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{86}$', description: 'ES256 (r||s, base64url) over the response signing input; see docs/device-api.md. Exactly one of signature and webauthn' })),
    webauthn: Type.Optional(
      Type.Object(AuthenticationResponse.properties, {
        additionalProperties: true,
        description: "A device with a WebAuthn credential: the assertion whose challenge is base64url(SHA-256(the response signing input)). Exactly one of signature and webauthn; an approval from such a device needs it",
      }),
    ),
  },
  { additionalProperties: false },
);

export const RespondResult = Type.Object({
  id: Type.String({ description: 'The request id' }),
  status: Type.String({ description: 'The verification status after the answer' }),
  reason: Type.Union([Type.Null(), Type.String()], { description: 'Why it ended, where the status alone does not say' }),
  read_back_code: Type.Optional(Type.String({ description: 'read_back: the code to show; the caller reads it to the agent' })),
});

export const RequestParams = Type.Object({ id: Id('The request (verification) id') });
