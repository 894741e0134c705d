/**
 * A device is what a user verifies with: a phone number (sms, voice), an e-mail address, or a
 * push authenticator holding a key pair whose public half the server keeps. Pure rules only.
 */
export const DEVICE_KINDS = ['push', 'sms', 'voice', 'email'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];
export type DeviceRole = 'primary' | 'secondary';
export type DeviceStatus = 'pending' | 'paired';
/** webauthn: answers with a WebAuthn assertion of a platform authenticator (the web authenticator); set by the server, never declared. */
export const CAPABILITIES = ['push', 'pin', 'biometric', 'webauthn'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** How a push authenticator is reached: its own open stream, or a push service. */
export type Transport =
  | { type: 'stream' }
  | { type: 'webpush'; subscription: { endpoint: string; keys: { p256dh: string; auth: string } } }
  | { type: 'fcm'; token: string }
  | { type: 'apns'; token: string };

export interface Device {
  id: string;
  applicationId: string;
  userId: string;
  kind: DeviceKind;
  name: string;
  role: DeviceRole;
  status: DeviceStatus;
  /** E.164 phone number or e-mail address (sms, voice, email). */
  address: string | null;
  /** The push authenticator's P-256 public key (JWK); its private key never leaves the device. */
  publicJwk: Record<string, string> | null;
  transport: Transport | null;
  /** When a push service said the registration is gone; cleared when the device registers anew. */
  transportStaleAt: number | null;
  capabilities: Capability[];
  /** HMAC of the one-time activation token of a pending push enrolment; null once used. */
  activationHmac: string | null;
  activationExpiresAt: number | null;
  /** The pairing verification of a pending sms, voice or e-mail device. */
  pairingVerificationId: string | null;
  createdAt: number;
  pairedAt: number | null;
  lastUsedAt: number | null;
  updatedAt: number;
  version: number;
  /** The WebAuthn credential that signs this device's approvals (the web authenticator); absent or null: none. */
  webauthn?: WebAuthnCredential | null;
  /** A pending enrolment's WebAuthn registration challenge (base64url), single use. */
  webauthnChallenge?: string | null;
}

/** A platform authenticator's credential, as @simplewebauthn/server verifies its assertions. */
export interface WebAuthnCredential {
  /** The credential id, base64url. */
  id: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last seen (0: the authenticator keeps none). */
  counter: number;
}

export const MAX_DEVICES = { default: 5, min: 1, max: 20 } as const;
/** How long a push enrolment link stays usable (SEC-27: ≤ 10 min). */
export const ACTIVATION_TTL_SECONDS = 600;
/** Bytes of randomness in an activation token: 128 bits, above SEC-27's 112. */
export const ACTIVATION_TOKEN_BYTES = 16;
/** The longest a bypass may last. */
export const MAX_BYPASS_SECONDS = 24 * 3600;

const LABELS: Record<DeviceKind, string> = { sms: 'Phone', voice: 'Phone', push: 'Authenticator', email: 'Email' };

/**
 * The name of an unnamed device: "Phone 1", "Phone 2" … per label ("Authenticator 1" for push,
 * "Email 1" for e-mail), the lowest number none of the user's devices bears.
 */
export function defaultDeviceName(kind: DeviceKind, existing: readonly Pick<Device, 'name'>[]): string {
  const label = LABELS[kind];
  const taken = new Set(existing.map((d) => d.name));
  for (let n = 1; ; n++) if (!taken.has(`${label} ${n}`)) return `${label} ${n}`;
}

/** The first paired device is primary; later ones are secondary. */
export function roleForNewlyPaired(others: readonly Pick<Device, 'status' | 'role' | 'id'>[]): DeviceRole {
  return others.some((d) => d.status === 'paired' && d.role === 'primary') ? 'secondary' : 'primary';
}

/**
 * Who becomes primary when the primary goes: the oldest paired device left, so that a user with
 * devices always has a primary one to send to.
 */
export function successorOf(remaining: readonly Device[]): Device | undefined {
  return remaining
    .filter((d) => d.status === 'paired')
    .sort((a, b) => (a.pairedAt ?? 0) - (b.pairedAt ?? 0) || a.id.localeCompare(b.id))[0];
}

/** Whether a device can take a push request now. */
export function reachableByPush(d: Device): boolean {
  return d.kind === 'push' && d.status === 'paired';
}
