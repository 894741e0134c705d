/**
 * Failures the device API answers, as one error type: `status` is the HTTP status and `code` the
 * problem+json `code` (`invalid_device_signature`, `activation_invalid`, …), so callers can
 * `switch (error.code)`. An answer that is not problem+json gets the code `unexpected_response`.
 */

/** The codes the device API documents (docs/device-api.md); others may appear and are kept as given. */
export type DeviceApiErrorCode =
  | 'activation_invalid'
  | 'invalid_push_subscription'
  | 'invalid_device_signature'
  | 'invalid_response_signature'
  | 'request_not_found'
  | 'verification_not_pending'
  | 'verification_expired'
  | 'user_verification_required'
  | 'answer_required'
  | 'invalid_request'
  | 'unexpected_response'
  | (string & {});

export class DeviceApiError extends Error {
  readonly status: number;
  readonly code: DeviceApiErrorCode;
  /** The problem's `detail`, written by the server for the caller. */
  readonly detail: string;
  /** The whole problem body, for members such as `verification_status`. */
  readonly body: Readonly<Record<string, unknown>>;

  constructor(status: number, code: DeviceApiErrorCode, detail: string, body: Record<string, unknown> = {}) {
    super(`${code} (HTTP ${status}): ${detail}`);
    this.name = 'DeviceApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.body = body;
  }
}

/** A failure on this side (a bad link, a damaged key file): fix the input, do not retry. */
export class AuthenticatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthenticatorError';
  }
}

/** Reads a non-2xx answer into a DeviceApiError. */
export async function errorFromResponse(res: Response): Promise<DeviceApiError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string') {
    const problem = body as Record<string, unknown>;
    const detail = typeof problem['detail'] === 'string' ? problem['detail'] : typeof problem['title'] === 'string' ? problem['title'] : res.statusText;
    return new DeviceApiError(res.status, problem['code'] as string, detail, problem);
  }
  return new DeviceApiError(res.status, 'unexpected_response', `HTTP ${res.status} ${res.statusText}`.trim());
}
