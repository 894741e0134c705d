import type { Selectable } from 'kysely';
import { defaultSettings, type Application, type ApplicationSettings, type Channel, type Plan } from '../domain/application.ts';
import type { Delivery, DeliveryStatus } from '../domain/delivery.ts';
import type { StoredEvent } from '../domain/event.ts';
import type { User, UserStatus } from '../domain/user.ts';
import type { Capability, Device, DeviceKind, DeviceRole, DeviceStatus, Transport } from '../domain/device/device.ts';
import type { PushDetails, Purpose, Reason, Verification, VerificationStatus } from '../domain/verification/verification.ts';
import type { Tables } from './schema.ts';

// Row ↔ domain mapping, in one place. Values written by this code are trusted on the way back.

export function toApplication(row: Selectable<Tables['applications']>): Application {
  // Settings saved before a field existed take its default, at any depth (a new fraud setting too).
  const saved = JSON.parse(row.settings) as Partial<ApplicationSettings>;
  const settings = mergeDefaults(defaultSettings() as unknown as Record<string, unknown>, saved) as unknown as ApplicationSettings;
  return { id: row.id, name: row.name, plan: row.plan as Plan, settings, createdAt: row.created_at, version: row.version ?? 0 };
}

/**
 * Saved values over defaults, recursing into nested plain objects that hold defaults of their
 * own (fraud, push). Maps keyed by channel (providers, usage limits, caps, countries) are taken
 * as saved: a channel absent there means "off" or "none", not "default".
 */
function mergeDefaults(defaults: Record<string, unknown>, saved: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(saved)) {
    const base = defaults[key];
    out[key] = isPlainObject(base) && isPlainObject(value) && !CHANNEL_MAPS.has(key) ? mergeDefaults(base, value) : value;
  }
  return out;
}

const CHANNEL_MAPS = new Set(['providers', 'usageLimits', 'dailyCaps', 'allowedCountries']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function toUser(row: Selectable<Tables['users']>): User {
  return {
    id: row.id,
    applicationId: row.application_id,
    externalId: row.external_id,
    email: row.email,
    phone: row.phone,
    displayName: row.display_name,
    locale: row.locale,
    status: row.status as UserStatus,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
    bypassUntil: row.bypass_until,
  };
}

export function fromUser(u: User): Selectable<Tables['users']> {
  return {
    id: u.id,
    application_id: u.applicationId,
    external_id: u.externalId,
    email: u.email,
    phone: u.phone,
    display_name: u.displayName,
    locale: u.locale,
    status: u.status,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    version: u.version,
    bypass_until: u.bypassUntil,
  };
}

interface VerificationDetails {
  push?: PushDetails;
  bypass?: true;
  blocked?: string[];
  country?: string;
}

export function toVerification(row: Selectable<Tables['verifications']>): Verification {
  const details = row.details === null ? {} : (JSON.parse(row.details) as VerificationDetails);
  return {
    id: row.id,
    applicationId: row.application_id,
    userId: row.user_id,
    channel: row.channel as Channel,
    purpose: row.purpose as Purpose,
    recipient: row.recipient,
    status: row.status as VerificationStatus,
    reason: row.reason as Reason | null,
    codeHmac: row.code_hmac,
    codeLength: row.code_length,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    locale: row.locale,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedAt: row.decided_at,
    resends: row.resends,
    lastSentAt: row.last_sent_at,
    twoWay: row.two_way === 1,
    callerHmac: row.caller_hmac,
    deviceId: row.device_id,
    push: details.push ?? null,
    bypass: details.bypass === true,
    blockedReasons: details.blocked ?? null,
    country: details.country ?? null,
    version: row.version,
  };
}

function verificationDetails(v: Verification): string | null {
  const details: VerificationDetails = {
    ...(v.push === null ? {} : { push: v.push }),
    ...(v.bypass ? { bypass: true } : {}),
    ...(v.blockedReasons === null ? {} : { blocked: v.blockedReasons }),
    ...(v.country === null ? {} : { country: v.country }),
  };
  return Object.keys(details).length === 0 ? null : JSON.stringify(details);
}

export function fromVerification(v: Verification): Selectable<Tables['verifications']> {
  return {
    id: v.id,
    application_id: v.applicationId,
    user_id: v.userId,
    channel: v.channel,
    purpose: v.purpose,
    recipient: v.recipient,
    status: v.status,
    reason: v.reason,
    code_hmac: v.codeHmac,
    code_length: v.codeLength,
    attempts: v.attempts,
    max_attempts: v.maxAttempts,
    locale: v.locale,
    created_at: v.createdAt,
    expires_at: v.expiresAt,
    decided_at: v.decidedAt,
    resends: v.resends,
    last_sent_at: v.lastSentAt,
    two_way: v.twoWay ? 1 : 0,
    caller_hmac: v.callerHmac,
    version: v.version,
    device_id: v.deviceId,
    details: verificationDetails(v),
  };
}

export function toDelivery(row: Selectable<Tables['deliveries']>): Delivery {
  return {
    id: row.id,
    applicationId: row.application_id,
    verificationId: row.verification_id,
    channel: row.channel as Channel,
    provider: row.provider,
    recipient: row.recipient,
    sealedMessage: row.sealed_message,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lockedUntil: row.locked_until,
    providerMessageId: row.provider_message_id,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    sentAt: row.sent_at,
    receiptAt: row.receipt_at,
    step: row.step,
  };
}

export function fromDelivery(d: Delivery): Selectable<Tables['deliveries']> {
  return {
    id: d.id,
    application_id: d.applicationId,
    verification_id: d.verificationId,
    channel: d.channel,
    provider: d.provider,
    recipient: d.recipient,
    sealed_message: d.sealedMessage,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt,
    locked_until: d.lockedUntil,
    provider_message_id: d.providerMessageId,
    error: d.error,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    sent_at: d.sentAt,
    receipt_at: d.receiptAt,
    step: d.step,
  };
}

export function toEvent(row: Selectable<Tables['events']>): StoredEvent {
  return {
    seq: row.seq,
    id: row.id,
    applicationId: row.application_id,
    type: row.type,
    subjectType: row.subject_type as StoredEvent['subjectType'],
    subjectId: row.subject_id,
    actor: row.actor,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: row.created_at,
    appSeq: row.app_seq,
    userId: row.user_id,
  };
}

export function toDevice(row: Selectable<Tables['devices']>): Device {
  return {
    id: row.id,
    applicationId: row.application_id,
    userId: row.user_id,
    kind: row.kind as DeviceKind,
    name: row.name,
    role: row.role as DeviceRole,
    status: row.status as DeviceStatus,
    address: row.address,
    publicJwk: row.public_jwk === null ? null : (JSON.parse(row.public_jwk) as Record<string, string>),
    transport: row.transport === null ? null : (JSON.parse(row.transport) as Transport),
    transportStaleAt: row.transport_stale_at,
    capabilities: row.capabilities.split(' ').filter(Boolean) as Capability[],
    activationHmac: row.activation_hmac,
    activationExpiresAt: row.activation_expires_at,
    pairingVerificationId: row.pairing_verification_id,
    createdAt: row.created_at,
    pairedAt: row.paired_at,
    lastUsedAt: row.last_used_at,
    updatedAt: row.updated_at,
    version: row.version,
    webauthn:
      row.webauthn_credential_id === null || row.webauthn_public_key === null
        ? null
        : { id: row.webauthn_credential_id, publicKey: row.webauthn_public_key, counter: Number(row.webauthn_counter ?? 0) },
    webauthnChallenge: row.webauthn_challenge,
  };
}

export function fromDevice(d: Device): Selectable<Tables['devices']> {
  return {
    id: d.id,
    application_id: d.applicationId,
    user_id: d.userId,
    kind: d.kind,
    name: d.name,
    role: d.role,
    status: d.status,
    address: d.address,
    public_jwk: d.publicJwk === null ? null : JSON.stringify(d.publicJwk),
    transport: d.transport === null ? null : JSON.stringify(d.transport),
    transport_stale_at: d.transportStaleAt,
    capabilities: d.capabilities.join(' '),
    activation_hmac: d.activationHmac,
    activation_expires_at: d.activationExpiresAt,
    pairing_verification_id: d.pairingVerificationId,
    created_at: d.createdAt,
    paired_at: d.pairedAt,
    last_used_at: d.lastUsedAt,
    updated_at: d.updatedAt,
    version: d.version,
    webauthn_credential_id: d.webauthn?.id ?? null,
    webauthn_public_key: d.webauthn?.publicKey ?? null,
    webauthn_counter: d.webauthn?.counter ?? null,
    webauthn_challenge: d.webauthnChallenge ?? null,
  };
}
