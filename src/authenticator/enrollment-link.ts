/**
 * The enrolment link `{api}/authenticator/enroll#token=<activation token>`. The token sits in the
 * fragment so that it never reaches a server log, a proxy or a Referer header.
 */
import { AuthenticatorError } from './errors.ts';

const ENROLL_PATH = '/authenticator/enroll';
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface EnrollmentLink {
  /** The server's base URL, without a trailing slash. */
  api: string;
  /** The one-time activation token (base64url). */
  token: string;
}

export interface ParseLinkOptions {
  /** Accept plain http to a host other than this machine (a lab network; never for real users). */
  allowHttp?: boolean;
}

/** Reads `{api}` and the token out of an enrolment link; refuses anything else with the rule that failed. */
export function parseEnrollmentLink(link: string, options: ParseLinkOptions = {}): EnrollmentLink {
  const text = link.trim();
  const at = text.indexOf(ENROLL_PATH);
  if (at <= 0) throw new AuthenticatorError(`not an enrolment link: it must look like https://…${ENROLL_PATH}#token=…`);
  const api = text.slice(0, at).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    throw new AuthenticatorError(`not an enrolment link: "${api}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AuthenticatorError('not an enrolment link: the server URL must be http(s)');
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname) && options.allowHttp !== true) {
    throw new AuthenticatorError(`refusing plain http to ${url.host}: the device API must be reached over https (only this machine may use http)`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') throw new AuthenticatorError('not an enrolment link: the server URL carries a query, a fragment or credentials');
  const hash = text.indexOf('#', at);
  const token = hash < 0 ? null : new URLSearchParams(text.slice(hash + 1)).get('token');
  if (token === null || token === '') throw new AuthenticatorError('the enrolment link carries no token (#token=…); copy the whole link');
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new AuthenticatorError('the token of the enrolment link is not base64url; copy the whole link');
  return { api, token };
}

/** `{api}/v1/device-api`: the base of every call, and the `aud` of the enrolment call. */
export function deviceApiBase(api: string): string {
  return `${api.replace(/\/+$/, '')}/v1/device-api`;
}
