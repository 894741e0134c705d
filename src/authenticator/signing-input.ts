/**
 * The bytes an authenticator signs to answer a request, and the server verifies. Shared by both
 * sides on purpose: one function, so they cannot drift apart. No imports, so the server can take it.
 *
 * @example
 * responseSigningInput({
 *   requestId: 'vrf_3k7…', deviceId: 'dev_q2m…', challenge: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg',
 *   decision: 'approve', userVerification: 'pin', answer: '42',
 * });
 * // 'outband-push-response/v1\nvrf_3k7…\ndev_q2m…\nn4bQ…Cgg\napprove\npin\n42'
 */

/** The first line: names the format, so a signature over it means nothing in any other protocol. */
export const RESPONSE_SIGNING_CONTEXT = 'outband-push-response/v1';

export const DECISIONS = ['approve', 'deny', 'report_fraud'] as const;
export type Decision = (typeof DECISIONS)[number];
export const USER_VERIFICATIONS = ['pin', 'biometric', 'none'] as const;
export type UserVerification = (typeof USER_VERIFICATIONS)[number];

export interface ResponseFields {
  requestId: string;
  deviceId: string;
  /** The request's `challenge`, exactly as the server sent it. */
  challenge: string;
  decision: Decision;
  /** `webauthn` only in a web authenticator's answer, whose WebAuthn assertion proves it. */
  userVerification: UserVerification | 'webauthn';
  /** The picked number or the typed code; absent (signed as an empty line) otherwise. */
  answer?: string | null | undefined;
}

/**
 * The signing input: seven lines joined by LF, no trailing LF. A line break inside a field would
 * let one field pose as the next, so such fields are refused rather than signed.
 */
export function responseSigningInput(fields: ResponseFields): string {
  const lines = [
    RESPONSE_SIGNING_CONTEXT,
    fields.requestId,
    fields.deviceId,
    fields.challenge,
    fields.decision,
    fields.userVerification,
    fields.answer ?? '',
  ];
  for (const line of lines) {
    if (typeof line !== 'string') throw new TypeError('every field of the response signing input must be a string');
    if (/[\r\n]/.test(line)) throw new TypeError('a field of the response signing input contains a line break');
  }
  return lines.join('\n');
}
