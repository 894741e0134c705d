/**
 * The one registry of error codes. A code is part of the API: never rename one.
 * Each is answered as RFC 9457 problem+json with `code`, the HTTP status and a title;
 * `detail` is written for the caller and never carries internal text (SQL, provider errors).
 */
export const ERRORS = {
  invalid_request: { status: 400, title: 'The request does not match the schema' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  invalid_phone_number: { status: 422, title: 'The phone number is not valid' },
  invalid_email: { status: 422, title: 'The e-mail address is not valid' },
  invalid_locale: { status: 422, title: 'The locale is not a valid BCP 47 language tag' },
  invalid_template: { status: 422, title: 'The template is not valid' },
  invalid_grant: { status: 400, title: 'The grant is not valid' },
  unsupported_grant_type: { status: 400, title: 'Only the client_credentials grant is supported' },
  invalid_scope: { status: 400, title: 'A requested scope is not granted to this client' },
  invalid_client: { status: 401, title: 'Client authentication failed' },
  invalid_token: { status: 401, title: 'The access token is missing, expired or not valid' },
  invalid_signature: { status: 401, title: "The request does not carry the provider's valid signature" },
  insufficient_scope: { status: 403, title: 'The access token lacks a scope this route requires' },
  not_found: { status: 404, title: 'No such route' },
  user_not_found: { status: 404, title: 'No such user' },
  verification_not_found: { status: 404, title: 'No such verification' },
  template_not_found: { status: 404, title: 'No such template' },
  user_exists: { status: 409, title: 'A user with this external_id already exists' },
  user_suspended: { status: 409, title: 'The user is suspended' },
  verification_not_pending: { status: 409, title: 'The verification is no longer pending' },
  verification_expired: { status: 409, title: 'The verification has expired' },
  max_attempts_reached: { status: 409, title: 'The verification failed: no attempts are left' },
  concurrent_update: { status: 409, title: 'The resource changed concurrently; try again' },
  purpose_not_permitted: { status: 422, title: 'This channel cannot serve this purpose' },
  caller_pool_exhausted: { status: 409, title: 'Every caller id of the pool is in use for this recipient' },
  invalid_workflow: { status: 422, title: 'The workflow cannot run as given' },
  two_way_not_supported: { status: 422, title: 'Two-way replies work only on the sms channel' },
  provider_not_found: { status: 404, title: 'No such provider takes inbound messages here' },
  recipient_missing: { status: 422, title: 'The user has no address for this channel' },
  recipient_ambiguous: { status: 422, title: 'Give either user_id or to, not both' },
  channel_not_enabled: { status: 422, title: 'The channel is not enabled for this application' },
  destination_not_allowed: { status: 422, title: "The destination country is not allowed for this channel by the application's settings" },
  number_type_not_permitted: { status: 422, title: 'This type of number is refused for this channel' },
  line_type_not_permitted: { status: 422, title: "The application's policy does not permit this line type" },
  return_code_not_allowed: { status: 403, title: 'return_code needs the verifications:code scope' },
  resend_cooldown: { status: 429, title: 'A new code was sent moments ago; wait before asking again' },
  resend_limit_reached: { status: 429, title: 'This verification was resent as often as allowed' },
  rate_limited: { status: 429, title: 'Too many requests from this client; slow down' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  uri_too_long: { status: 414, title: 'A path parameter is too long' },
  unsupported_media_type: { status: 415, title: 'The content type is not supported' },
  device_not_found: { status: 404, title: 'No such device' },
  request_not_found: { status: 404, title: 'No such request for this device' },
  device_not_pushable: { status: 409, title: 'The device cannot take push requests' },
  no_push_device: { status: 409, title: 'The user has no paired push authenticator' },
  max_devices_reached: { status: 409, title: 'The user has as many devices as allowed' },
  pairing_not_permitted: { status: 422, title: 'This kind of device cannot be paired this way' },
  activation_invalid: { status: 400, title: 'The activation token is not valid' },
  invalid_push_subscription: { status: 400, title: 'The push subscription is not valid' },
  invalid_device_signature: { status: 401, title: 'The device request is not validly signed' },
  invalid_response_signature: { status: 403, title: "The answer is not signed by this device's key" },
  user_verification_required: { status: 422, title: 'This request needs user verification (PIN or biometric)' },
  user_verification_not_capable: { status: 422, title: 'The device did not declare this user verification method' },
  webauthn_registration_invalid: { status: 400, title: 'The WebAuthn registration does not verify' },
  webauthn_assertion_required: { status: 422, title: 'This device approves with a WebAuthn assertion' },
  answer_required: { status: 422, title: 'Number matching needs the answer' },
  verification_awaiting_device: { status: 409, title: 'The verification waits for the device to answer' },
  already_answered: { status: 409, title: 'The device has answered this request already' },
  invalid_bypass: { status: 422, title: 'The bypass is not valid' },
  invalid_setting: { status: 422, title: 'A setting is outside its allowed values' },
  application_disabled: { status: 409, title: 'The application is disabled' },
  not_conformant: { status: 422, title: "This does not conform to the application's assurance profile" },
  not_permitted_by_settings: { status: 422, title: "The application's settings do not permit this" },
  channel_not_permitted: { status: 422, title: 'This channel may not authenticate under the application\'s settings' },
  recipient_not_confirmed: { status: 422, title: 'The phone number is not confirmed for this user' },
  step_up_required: { status: 403, title: 'This change binds a new authenticator and needs a recent step-up authentication of the user' },
  step_up_invalid: { status: 403, title: 'The step-up verification does not authorise this change' },
  device_share_limit: { status: 409, title: 'This address serves as many users as the application allows' },
  policy_not_found: { status: 404, title: 'No such policy' },
  policy_built_in: { status: 409, title: 'A built-in policy cannot be deleted' },
  invalid_policy: { status: 422, title: 'The policy is not valid' },
  policy_override_not_allowed: { status: 422, title: 'The policy does not allow overriding this field' },
  daily_limit_reached: { status: 429, title: 'A daily usage limit is reached' },
  push_cooldown: { status: 429, title: 'Too many push requests went unanswered or were denied; wait before pushing again' },
  recipient_cooling_off: { status: 429, title: 'Too many wrong codes for this recipient; wait before starting again' },
  authenticator_locked: { status: 403, title: 'This authenticator is locked after too many failed answers' },
  verification_blocked: { status: 403, title: 'A fraud control refused this verification' },
  authenticator_not_locked: { status: 404, title: 'This authenticator is not locked' },
  webhook_url_not_allowed: { status: 422, title: 'The webhook URL is not an allowed target' },
  webhook_not_found: { status: 404, title: 'No such webhook endpoint' },
  webhook_delivery_not_found: { status: 404, title: 'No such webhook delivery' },
  webhook_delivery_in_progress: { status: 409, title: 'The webhook delivery is being sent right now' },
  invalid_credentials: { status: 401, title: 'The e-mail address or the password is wrong' },
  not_signed_in: { status: 401, title: 'Sign in to the console first' },
  csrf_token_invalid: { status: 403, title: 'The X-CSRF-Token header is missing or does not match the session' },
  admin_required: { status: 403, title: 'Only a console admin may do this' },
  application_not_granted: { status: 404, title: 'No such application among those granted to this agent' },
  agent_not_found: { status: 404, title: 'No such agent' },
  agent_exists: { status: 409, title: 'An agent with this e-mail address already exists' },
  internal_error: { status: 500, title: 'Internal error' },
  service_unavailable: { status: 503, title: 'The service is not ready' },
  number_lookup_unavailable: { status: 503, title: 'The phone number could not be checked; try again later' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An expected failure with a stable machine code; `extra` members are added to the problem body. */
export class OutbandError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(detail ?? ERRORS[code].title, options);
    this.name = 'OutbandError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.detail = detail ?? ERRORS[code].title;
    this.extra = extra;
  }
}

export function isOutbandError(value: unknown): value is OutbandError {
  return value instanceof OutbandError;
}
