/**
 * What `outband authenticator watch` prints. Two forms of the same events: `plain`, one line per
 * event, space-separated with the id second, for scripts and tests (stdout is not a TTY); and
 * `human`, for a terminal. Each function answers whole lines, ending in a newline.
 */
import { replyOptions } from './answers.ts';
import { DeviceApiError } from './errors.ts';
import type { DeviceRequest, ResponseResult, Withdrawal } from './objects.ts';

export interface DeviceLabel {
  id: string;
  name: string;
}

export interface WatchFormat {
  connected(device: DeviceLabel): string;
  reconnecting(device: DeviceLabel, delayMs: number, error: unknown): string;
  /** A malformed event was skipped. */
  skippedEvent(device: DeviceLabel, error: unknown): string;
  stopped(device: DeviceLabel, error: unknown): string;
  revoked(device: DeviceLabel): string;
  /** A request, in full, as its turn comes. */
  request(request: DeviceRequest, device: DeviceLabel, now: number): string;
  /** A request arrived while another one is being answered (plain: nothing; its `request` line comes on its turn). */
  waiting(request: DeviceRequest): string;
  /** The question (plain: an `ask` line; human: the prompt, redrawn each second with its countdown). */
  ask(request: DeviceRequest, now: number): string;
  invalid(request: DeviceRequest, message: string): string;
  result(request: DeviceRequest, result: ResponseResult): string;
  failed(request: DeviceRequest, error: unknown): string;
  skipped(request: DeviceRequest, why: 'pick' | 'type' | 'no_input'): string;
  expired(request: DeviceRequest): string;
  withdrawn(withdrawal: Withdrawal): string;
}

/** Whole seconds left, never negative. */
export function secondsLeft(request: Pick<DeviceRequest, 'expires_at'>, now: number): number {
  return Math.max(0, Math.ceil((Date.parse(request.expires_at) - now) / 1000));
}

/** `m:ss`. */
export function countdown(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** A short, one-line description of an error: the problem code when the server gave one. */
export function errorCode(error: unknown): string {
  if (error instanceof DeviceApiError) return error.code;
  if (error instanceof Error) return error.name === 'Error' || error.name === 'TypeError' ? 'network_error' : error.name;
  return 'error';
}

function errorText(error: unknown): string {
  if (error instanceof DeviceApiError) return `${error.code}: ${error.detail}`;
  if (error instanceof Error) return (error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message).replace(/\s+/g, ' ');
  return String(error);
}

function withoutChallenge(request: DeviceRequest): Omit<DeviceRequest, 'challenge'> {
  const { challenge: _challenge, ...rest } = request;
  return rest;
}

export const plain: WatchFormat = {
  connected: (device) => `connected ${device.id}\n`,
  reconnecting: (device, delayMs, error) => `reconnecting ${device.id} ${delayMs} ${errorCode(error)}\n`,
  skippedEvent: (device, error) => `bad_event ${device.id} ${errorCode(error)}\n`,
  stopped: (device, error) => `stopped ${device.id} ${errorCode(error)}\n`,
  revoked: (device) => `revoked ${device.id}\n`,
  request: (request, device, now) =>
    `request ${request.id} ${device.id} ${request.matching} ${secondsLeft(request, now)} ${JSON.stringify(withoutChallenge(request))}\n`,
  waiting: () => '',
  ask: (request) => `ask ${request.id} ${replyOptions(request)}\n`,
  invalid: (request, message) => `invalid ${request.id} ${message}\n`,
  result: (request, result) =>
    `${result.status} ${request.id}${result.reason ? ` ${result.reason}` : ''}\n` + (result.read_back_code ? `read_back_code ${request.id} ${result.read_back_code}\n` : ''),
  failed: (request, error) => `error ${request.id} ${errorCode(error)}${error instanceof DeviceApiError ? ` ${error.status}` : ''}\n`,
  skipped: (request, why) => `skipped ${request.id} ${why}${why === 'pick' ? ` ${(request.choices ?? []).join(',')}` : ''}\n`,
  expired: (request) => `expired ${request.id}\n`,
  withdrawn: (withdrawal) => `withdrawn ${withdrawal.id} ${withdrawal.status}${withdrawal.reason ? ` ${withdrawal.reason}` : ''}\n`,
};

const WITHDRAWN: Record<string, string> = {
  approved: 'was approved elsewhere',
  denied: 'was denied elsewhere',
  cancelled: 'was cancelled',
  expired: 'expired',
  failed: 'failed',
};

export const human: WatchFormat = {
  connected: (device) => `● ${device.name} (${device.id}): waiting for requests\n`,
  reconnecting: (device, delayMs, error) => `○ ${device.name}: ${errorText(error)}; reconnecting in ${Math.ceil(delayMs / 1000)} s\n`,
  skippedEvent: (device, error) => `! ${device.name}: skipped an event the server sent: ${errorText(error)}\n`,
  stopped: (device, error) => `✗ ${device.name}: stopped: ${errorText(error)}\n`,
  revoked: (device) => `✗ ${device.name} (${device.id}) was removed on the server; remove it here too\n`,
  request(request, device, now) {
    const lines = [`\n┌ ${request.application} — ${request.id} (to ${device.name})`, `│ ${request.message}`];
    for (const [key, value] of Object.entries(request.context ?? {})) if (value !== '') lines.push(`│ ${key}: ${value}`);
    lines.push(`│ ${request.purpose} · user verification ${request.user_verification} · expires in ${countdown(secondsLeft(request, now))}`);
    if (request.matching === 'pick') lines.push(`│ Tap the number you are shown:  ${(request.choices ?? []).map((c) => `[ ${c} ]`).join('  ')}`);
    if (request.matching === 'type') lines.push('│ Type the 6-digit code you are shown.');
    if (request.matching === 'read_back') lines.push('│ After approving, read the code shown here to the person asking.');
    return `${lines.join('\n')}\n`;
  },
  waiting: (request) => `  (next: ${request.application} — ${request.id})\n`,
  ask(request, now) {
    const time = `[${countdown(secondsLeft(request, now))}] ${request.application} ·`;
    if (request.matching === 'pick') return `${time} number, d(eny) or f(raud) › `;
    if (request.matching === 'type') return `${time} code, d(eny) or f(raud) › `;
    return `${time} a(pprove), d(eny) or f(raud) › `;
  },
  invalid: (_request, message) => `  ${message}\n`,
  result(request, result) {
    const verb = result.status === 'approved' ? '✓ approved' : result.status === 'denied' ? '✗ denied' : result.status;
    let text = `${verb} ${request.id}${result.reason ? ` (${result.reason})` : ''}\n`;
    if (result.read_back_code) text += `\n  Read this code to the person asking:  ${result.read_back_code.replace(/^(\d{3})(\d{3})$/, '$1 $2')}\n\n`;
    return text;
  },
  failed: (request, error) => `! ${request.id}: the answer was not taken: ${errorText(error)}\n`,
  skipped: (request, why) =>
    why === 'no_input'
      ? `  ${request.id}: no input to answer with; left pending\n`
      : `  ${request.id}: ${why === 'pick' ? `a number to pick (${(request.choices ?? []).join(', ')})` : 'a code to type'}: not approved automatically; left pending\n`,
  expired: (request) => `  ${request.id} expired\n`,
  withdrawn: (withdrawal) => `  ${withdrawal.id} ${WITHDRAWN[withdrawal.status] ?? withdrawal.status}${withdrawal.reason ? ` (${withdrawal.reason})` : ''}\n`,
};
