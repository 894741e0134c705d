/**
 * The signature over an answer: ES256 with the device key over responseSigningInput(), as the
 * 64-byte IEEE P1363 r||s, base64url. It binds the decision, the user verification and the
 * answer to this request's fresh challenge, so none can be changed or replayed on the way.
 */
import { sign, type KeyObject } from 'node:crypto';
import { responseSigningInput, type ResponseFields } from './signing-input.ts';

export function signResponse(key: KeyObject, fields: ResponseFields): string {
  const data = Buffer.from(responseSigningInput(fields), 'utf8');
  return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
}
