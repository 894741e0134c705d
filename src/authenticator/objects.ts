/**
 * The objects of the device API as they cross the wire (snake_case, as sent), and guards that
 * check an answer before anything reads it: a server answer is input like any other.
 */
import { DeviceApiError } from './errors.ts';

export const CAPABILITIES = ['push', 'pin', 'biometric'] as const;
export type Capability = (typeof CAPABILITIES)[number];
export const MATCHINGS = ['none', 'pick', 'type', 'read_back'] as const;
export type Matching = (typeof MATCHINGS)[number];

/** How the server reaches the authenticator: this open stream, or a push service. */
export type Transport =
  | { type: 'stream' }
  | { type: 'webpush'; subscription: { endpoint: string; keys: { p256dh: string; auth: string } } }
  | { type: 'fcm'; token: string }
  | { type: 'apns'; token: string };

export interface Device {
  id: string;
  user_id: string;
  kind: string;
  name: string;
  role: 'primary' | 'secondary';
  status: 'pending' | 'paired';
  capabilities: string[];
  transport: { type: Transport['type']; stale: boolean } | null;
  address: null;
  created_at: string;
  paired_at: string | null;
  last_used_at: string | null;
}

/** A verification waiting for this device's answer. */
export interface DeviceRequest {
  id: string;
  /** Fresh per request; signed into the answer. */
  challenge: string;
  application: string;
  message: string;
  context: Record<string, string>;
  purpose: string;
  user_verification: 'required' | 'preferred';
  matching: Matching;
  /** With `pick`: the numbers to offer; the user taps the one the relying party shows. */
  choices: string[] | null;
  created_at: string;
  expires_at: string;
}

/** A request that can no longer be answered (answered elsewhere, cancelled, expired). */
export interface Withdrawal {
  id: string;
  status: 'approved' | 'denied' | 'cancelled' | 'expired' | 'failed' | (string & {});
  reason: string | null;
}

export interface Enrollment {
  device: Device;
  /** The `aud` of every later device JWS. */
  audience: string;
  /** The server's VAPID key, for a Web Push subscription; null when Web Push is not set up. */
  vapid_public_key: string | null;
}

export interface ResponseResult {
  id: string;
  status: 'approved' | 'denied' | 'pending' | 'failed';
  reason: string | null;
  /** With matching `read_back` after an approval: show it; the user reads it to the agent. */
  read_back_code?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(what: string, rule: string): never {
  throw new DeviceApiError(200, 'unexpected_response', `the server's ${what} is not valid: ${rule}`);
}

function requireString(value: Record<string, unknown>, key: string, what: string): void {
  if (typeof value[key] !== 'string') fail(what, `${key} must be a string`);
}

export function assertDevice(value: unknown): asserts value is Device {
  if (!isRecord(value)) fail('device', 'not an object');
  for (const key of ['id', 'name', 'status', 'role']) requireString(value, key, 'device');
  if (!Array.isArray(value['capabilities'])) fail('device', 'capabilities must be an array');
  if (value['transport'] !== null && value['transport'] !== undefined && !isRecord(value['transport'])) fail('device', 'transport must be an object or null');
}

export function assertRequest(value: unknown): asserts value is DeviceRequest {
  if (!isRecord(value)) fail('request', 'not an object');
  for (const key of ['id', 'challenge', 'application', 'message', 'expires_at']) requireString(value, key, 'request');
  if (!(MATCHINGS as readonly unknown[]).includes(value['matching'])) fail('request', `matching must be one of ${MATCHINGS.join(', ')}`);
  const choices = value['choices'];
  if (choices !== null && choices !== undefined && !(Array.isArray(choices) && choices.every((c) => typeof c === 'string'))) fail('request', 'choices must be strings or null');
  if (value['matching'] === 'pick' && !Array.isArray(choices)) fail('request', 'a pick request carries choices');
  const context = value['context'];
  if (context !== null && context !== undefined && !(isRecord(context) && Object.values(context).every((v) => typeof v === 'string'))) fail('request', 'context values must be strings');
  if (Number.isNaN(Date.parse(value['expires_at'] as string))) fail('request', 'expires_at must be a date');
}

export function assertWithdrawal(value: unknown): asserts value is Withdrawal {
  if (!isRecord(value)) fail('withdrawal', 'not an object');
  requireString(value, 'id', 'withdrawal');
  requireString(value, 'status', 'withdrawal');
}

export function assertEnrollment(value: unknown): asserts value is Enrollment {
  if (!isRecord(value)) fail('enrolment answer', 'not an object');
  assertDevice(value['device']);
  requireString(value, 'audience', 'enrolment answer');
}

export function assertResponseResult(value: unknown): asserts value is ResponseResult {
  if (!isRecord(value)) fail('answer to a response', 'not an object');
  requireString(value, 'id', 'answer to a response');
  requireString(value, 'status', 'answer to a response');
  if (value['read_back_code'] !== undefined && value['read_back_code'] !== null && typeof value['read_back_code'] !== 'string') fail('answer to a response', 'read_back_code must be a string');
}
