import type { ApplicationSettings, Channel } from '../application.ts';
import { OutbandError } from '../errors.ts';
import type { Matching, Purpose, UserVerificationRequirement } from '../verification/verification.ts';
import { assertConformant, isRestricted, verificationUnmet, type EffectiveVerification } from './assurance.ts';

/**
 * Named verification policies: the options a relying party would otherwise repeat on every
 * start. A start that names a policy takes the policy's fields; it may give a field the policy
 * sets only if the policy lists it in `overridable`. Pure: storage and the user's devices are
 * the service's business.
 */

export const POLICY_FIELDS = ['channel', 'workflow', 'purpose', 'ttl_seconds', 'max_attempts', 'code_length', 'user_verification', 'matching', 'device', 'message'] as const;
export type PolicyField = (typeof POLICY_FIELDS)[number];

export const POLICY_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export type WorkflowStep = { channel: 'sms' | 'email' | 'voice'; timeout_seconds?: number };

/** A policy as the API takes and shows it. */
export interface PolicyBody {
  channel?: Channel;
  workflow?: WorkflowStep[];
  purpose?: Exclude<Purpose, 'pairing'>;
  ttl_seconds?: number;
  max_attempts?: number;
  code_length?: number;
  user_verification?: UserVerificationRequirement;
  matching?: Matching;
  /** push: `primary` sends to the user's primary push authenticator only, not to all of them. */
  device?: 'primary';
  /** push: what the authenticator shows. */
  message?: string;
  overridable?: PolicyField[];
}

export interface Policy {
  name: string;
  body: PolicyBody;
  builtIn: boolean;
}

/**
 * Built in, for every application. An application may save its own policy under the same name,
 * which then replaces the built-in one for it; deleting that brings the built-in one back.
 */
export const BUILT_IN_POLICIES: Readonly<Record<string, PolicyBody>> = {
  /** The console's Verify caller button: the caller approves on their own phone while the agent waits. */
  'verify-caller': { channel: 'push', device: 'primary', ttl_seconds: 120, user_verification: 'required', matching: 'pick', purpose: 'caller_verification', overridable: [] },
  /** Re-authentication before a sensitive action; matching follows the application's push default unless given. */
  'step-up': { channel: 'push', ttl_seconds: 120, user_verification: 'required', purpose: 'authentication', overridable: ['matching'] },
};

/** The request fields a policy can set, as POST /v1/verifications names them. */
export interface PolicyRequest {
  channel?: Channel;
  workflow?: Array<{ channel: Channel; timeout_seconds?: number }>;
  purpose?: Purpose;
  ttl_seconds?: number;
  max_attempts?: number;
  code_length?: number;
  user_verification?: UserVerificationRequirement;
  matching?: Matching;
  device_id?: string;
  message?: string;
}

const PUSH_ONLY = ['user_verification', 'matching', 'device', 'message'] as const;

function invalidPolicy(detail: string): never {
  throw new OutbandError('invalid_policy', detail);
}

/** The channel a policy starts on. */
export function policyChannel(body: PolicyBody): Channel {
  const channel = body.channel ?? body.workflow?.[0]?.channel;
  if (channel === undefined) invalidPolicy('a policy names a channel or a workflow');
  return channel;
}

/** A policy's own consistency (the schema checked types and ranges). */
export function validatePolicy(body: PolicyBody): void {
  const channel = policyChannel(body);
  if (body.channel !== undefined && body.workflow !== undefined && body.workflow[0]?.channel !== body.channel) {
    invalidPolicy(`the workflow's first step must be the policy's channel (${body.channel})`);
  }
  if (channel !== 'push') {
    for (const field of PUSH_ONLY) if (body[field] !== undefined) invalidPolicy(`${field} is for channel "push" only`);
  } else if (body.code_length !== undefined) {
    invalidPolicy('code_length does not apply to channel "push"');
  }
  if (channel === 'missed_call' && body.workflow !== undefined) invalidPolicy('a missed call cannot start a workflow');
  for (const field of body.overridable ?? []) {
    if (!(POLICY_FIELDS as readonly string[]).includes(field)) invalidPolicy(`overridable: "${field}" is not a field of a policy`);
  }
}

/** A verification as the policy would start it, every default of the application applied. */
export function effectiveOf(body: PolicyBody, settings: Pick<ApplicationSettings, 'ttlSeconds' | 'codeLength' | 'push'>, pushTtlSeconds: number): EffectiveVerification {
  const channel = policyChannel(body);
  return {
    channel,
    // A workflow's first step is the channel itself: index i is workflow[i].
    channels: [channel, ...(body.workflow ?? []).slice(1).map((s) => s.channel)],
    purpose: body.purpose ?? (channel === 'missed_call' ? 'confirm_contact' : 'authentication'),
    ttlSeconds: body.ttl_seconds ?? (channel === 'push' ? pushTtlSeconds : settings.ttlSeconds),
    codeLength: channel === 'push' || channel === 'missed_call' ? null : (body.code_length ?? settings.codeLength),
    matching: channel === 'push' ? (body.matching ?? settings.push.matching) : null,
  };
}

/**
 * What the application's settings forbid of a verification: a channel that is off, a TTL
 * above max_ttl_seconds, sms or voice authentication while restricted authenticators are
 * denied (422 not_permitted_by_settings); then, under nist, the profile's rows (not_conformant).
 */
export function assertPermitted(v: EffectiveVerification, settings: ApplicationSettings, what: string): void {
  for (const [i, channel] of v.channels.entries()) {
    if (settings.providers[channel] === undefined) {
      throw new OutbandError('not_permitted_by_settings', `${what}: the ${channel} channel is not enabled for this application`, { field: i === 0 ? 'channel' : `workflow[${i}].channel` });
    }
  }
  if (v.ttlSeconds > settings.maxTtlSeconds) {
    throw new OutbandError('not_permitted_by_settings', `${what}: ttl_seconds ${v.ttlSeconds} is above the application's max_ttl_seconds (${settings.maxTtlSeconds})`, { field: 'ttl_seconds' });
  }
  if (settings.restrictedAuthenticators === 'deny' && v.purpose === 'authentication' && v.channels.some(isRestricted)) {
    throw new OutbandError('not_permitted_by_settings', `${what}: the application denies sms and voice for authentication (restricted_authenticators)`, { field: 'channel' });
  }
  assertConformant(settings.assuranceProfile, verificationUnmet(v), what);
}

/**
 * The request a policy makes of a start: the policy's fields, then the request's own. A field
 * the policy sets may be given only if `overridable` lists it (giving the same value is no
 * override). `device: primary` is answered as `primaryDevice: true`, for the service to resolve.
 */
export function resolvePolicy<R extends PolicyRequest>(policy: Policy, request: R): { request: R; primaryDevice: boolean } {
  const body = policy.body;
  const overridable = new Set<string>(body.overridable ?? []);
  const fromPolicy: PolicyRequest = {
    channel: policyChannel(body),
    ...(body.workflow === undefined ? {} : { workflow: body.workflow }),
    ...(body.purpose === undefined ? {} : { purpose: body.purpose }),
    ...(body.ttl_seconds === undefined ? {} : { ttl_seconds: body.ttl_seconds }),
    ...(body.max_attempts === undefined ? {} : { max_attempts: body.max_attempts }),
    ...(body.code_length === undefined ? {} : { code_length: body.code_length }),
    ...(body.user_verification === undefined ? {} : { user_verification: body.user_verification }),
    ...(body.matching === undefined ? {} : { matching: body.matching }),
    ...(body.message === undefined ? {} : { message: body.message }),
  };
  for (const [field, value] of Object.entries(fromPolicy) as [keyof PolicyRequest, unknown][]) {
    const given = request[field];
    if (given === undefined || overridable.has(field) || JSON.stringify(given) === JSON.stringify(value)) continue;
    throw new OutbandError('policy_override_not_allowed', `policy "${policy.name}" sets ${field} and does not let a request override it`, { field, policy: policy.name });
  }
  if (body.device !== undefined && request.device_id !== undefined && !overridable.has('device')) {
    throw new OutbandError('policy_override_not_allowed', `policy "${policy.name}" chooses the device (${body.device}) and does not let a request override it`, { field: 'device_id', policy: policy.name });
  }
  // Overridable means the request wins; where it gave nothing, the policy's value stands.
  const merged = { ...request } as R;
  for (const [field, value] of Object.entries(fromPolicy)) {
    if ((merged as Record<string, unknown>)[field] === undefined) (merged as Record<string, unknown>)[field] = value;
  }
  return { request: merged, primaryDevice: body.device === 'primary' && request.device_id === undefined };
}

