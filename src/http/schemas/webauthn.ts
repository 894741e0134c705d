import { Type } from 'typebox';

/** WebAuthn values as the browser's `PublicKeyCredential.toJSON()` gives them (base64url strings). */
const b64u = (description: string, maxLength = 16_384) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$', description });

export const WebAuthnOptionsBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 128, description: 'The activation token from the enrolment link' }),
    public_key: Type.Object({}, { additionalProperties: true, description: "The new device key's P-256 public JWK; the call's JWS (no kid) is signed with its private half, as for POST /enroll" }),
  },
  { additionalProperties: false },
);

export const WebAuthnCreationOptions = Type.Object(
  {
    rp: Type.Object({ id: Type.String({ description: "The RP ID: PUBLIC_URL's host name" }), name: Type.String({ description: 'The application name' }) }, { additionalProperties: true, description: 'The relying party' }),
    user: Type.Object(
      { id: Type.String({ description: 'The user handle, base64url: one per device' }), name: Type.String({ description: 'Shown by the platform' }), displayName: Type.String({ description: 'Shown by the platform' }) },
      { additionalProperties: true, description: 'Whom the credential is for' },
    ),
    challenge: Type.String({ description: 'The registration challenge, base64url; single use, stored with the pending enrolment' }),
  },
  { additionalProperties: true, description: 'PublicKeyCredentialCreationOptionsJSON for PublicKeyCredential.parseCreationOptionsFromJSON (pubKeyCredParams pinned to ES256 and RS256, platform authenticator, user verification required)' },
);

const clientExtensionResults = Type.Object({}, { additionalProperties: true, description: 'The client extension results (not used)' });
const authenticatorAttachment = Type.Optional(Type.String({ maxLength: 32, description: 'platform or cross-platform' }));

export const RegistrationResponse = Type.Object(
  {
    id: b64u('The credential id', 1024),
    rawId: b64u('The credential id again', 1024),
    type: Type.Literal('public-key', { description: 'public-key' }),
    response: Type.Object(
      {
        clientDataJSON: b64u('The client data'),
        attestationObject: b64u('The attestation object (attestation "none")'),
      },
      { additionalProperties: true, description: 'The authenticator attestation response' },
    ),
    authenticatorAttachment,
    clientExtensionResults,
  },
  { additionalProperties: true, description: "RegistrationResponseJSON: navigator.credentials.create()'s credential.toJSON()" },
);

export const AuthenticationResponse = Type.Object(
  {
    id: b64u('The credential id', 1024),
    rawId: b64u('The credential id again', 1024),
    type: Type.Literal('public-key', { description: 'public-key' }),
    response: Type.Object(
      {
        clientDataJSON: b64u('The client data; its challenge is base64url(SHA-256(the response signing input))'),
        authenticatorData: b64u('The authenticator data: RP ID hash, flags (UP, UV), counter'),
        signature: b64u('The assertion signature', 1024),
        userHandle: Type.Optional(Type.String({ maxLength: 256, description: 'The user handle (not used)' })),
      },
      { additionalProperties: true, description: 'The authenticator assertion response' },
    ),
    authenticatorAttachment,
    clientExtensionResults,
  },
  { additionalProperties: true, description: "AuthenticationResponseJSON: navigator.credentials.get()'s credential.toJSON(), made over the answer (see docs/device-api.md)" },
);
