// The console's server side (/console/api, see docs/console.md): JSON over fetch, the session
// cookie sent same-origin, X-CSRF-Token on every state change.

export interface Agent {
  id: string;
  email: string;
  role: 'agent' | 'admin';
  locale: string | null;
}
export interface Application {
  id: string;
  name: string;
}
export interface Session {
  agent: Agent;
  csrf_token: string;
  applications: Application[];
}
export interface PersonSummary {
  id: string;
  display_name: string | null;
  email: string | null;
  phone: string | null;
  external_id: string | null;
}
export interface Person extends PersonSummary {
  locale: string | null;
  status: string;
}
export interface Device {
  id: string;
  name: string;
  kind: string;
  role: string;
  status: string;
  last_used_at: string | number | null;
  capabilities: string[];
  can_verify_caller: boolean;
  can_send_code: boolean;
}
export type VerificationStatus = 'pending' | 'approved' | 'denied' | 'failed' | 'expired' | 'cancelled' | 'blocked';
export interface Verification {
  id: string;
  status: VerificationStatus;
  reason: string | null;
  channel: string;
  device_id: string | null;
  device_name: string | null;
  created_at: string | number;
  expires_at: string | number;
  decided_at: string | number | null;
  seconds_left: number;
  matching: 'none' | 'pick' | 'type' | 'read_back';
  match_number: string | null;
  awaiting_read_back: boolean;
  user_verified_with: 'pin' | 'biometric' | 'webauthn' | 'none' | null;
  delivery: 'sending' | 'sent' | 'failed' | null;
  attempts_left?: number | null;
}
export interface Problem {
  status: number;
  code: string;
  detail?: string;
  title?: string;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.status = problem.status;
    this.problem = problem;
  }
  get code(): string {
    return this.problem.code;
  }
}

export const API = '/console/api';

let csrfToken = '';
let onSignedOut: () => void = () => {};

export function setCsrfToken(token: string): void {
  csrfToken = token;
}
/** Called when any request answers 401: the session is gone, the page goes to sign-in. */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

async function send(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(API + path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal === undefined ? {} : { signal }),
  });
}

async function problemOf(res: Response): Promise<Problem> {
  try {
    const body = (await res.json()) as Partial<Problem>;
    return { ...body, status: res.status, code: body.code ?? `http_${res.status}` };
  } catch {
    return { status: res.status, code: `http_${res.status}` };
  }
}

/**
 * One call. A 403 csrf_token_invalid (the session was renewed elsewhere) re-reads the token from
 * GET /session and tries once more; a 401 hands over to sign-in.
 */
export async function api<T>(method: string, path: string, body?: unknown, options: { signal?: AbortSignal; quiet401?: boolean } = {}): Promise<T> {
  let res = await send(method, path, body, options.signal);
  if (res.status === 403 && method !== 'GET') {
    const problem = await problemOf(res.clone());
    if (problem.code === 'csrf_token_invalid') {
      const session = await send('GET', '/session', undefined, options.signal);
      if (session.ok) {
        setCsrfToken(((await session.json()) as Session).csrf_token);
        res = await send(method, path, body, options.signal);
      }
    }
  }
  if (res.status === 204) return undefined as T;
  if (!res.ok) {
    const problem = await problemOf(res);
    if (res.status === 401 && options.quiet401 !== true) onSignedOut();
    throw new ApiError(problem);
  }
  return (await res.json()) as T;
}

export const appPath = (app: string) => `/apps/${encodeURIComponent(app)}`;
