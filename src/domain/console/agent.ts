import { OutbandError } from '../errors.ts';

/**
 * Console agents and their sessions: pure rules. An agent acts on the applications it is granted;
 * an admin also manages agents, settings and templates of those applications (ADR 0016).
 */

export const AGENT_ROLES = ['agent', 'admin'] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

export interface Agent {
  id: string;
  email: string;
  role: AgentRole;
  locale: string | null;
  createdAt: number;
  disabledAt: number | null;
}

export interface ConsoleSession {
  /** SHA-256 (hex) of the cookie's session id. */
  idHash: string;
  agentId: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

/** A session ends 12 h after sign-in, however busy (OWASP session management: absolute timeout). */
export const SESSION_ABSOLUTE_MS = 12 * 3600 * 1000;
/** Random bytes of a session id and of a CSRF token: 256 bits each. */
export const SESSION_ID_BYTES = 32;
/** Shortest password an operator or admin may set; generated ones are longer. */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** Whether a session is still in force at `now`: before its absolute end and not idle too long. */
export function sessionAlive(session: Pick<ConsoleSession, 'lastSeenAt' | 'expiresAt'>, now: number, idleMs: number): boolean {
  return now < session.expiresAt && now < session.lastSeenAt + idleMs;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** An agent's e-mail as stored and compared: trimmed, lower-cased. Not a mailbox check; it signs in. */
export function normalizeAgentEmail(text: string): string {
  const email = text.trim().toLowerCase();
  if (!EMAIL.test(email)) throw new OutbandError('invalid_email', `"${text}" is not an e-mail address`);
  return email;
}

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new OutbandError('invalid_request', `a password has ${MIN_PASSWORD_LENGTH}–${MAX_PASSWORD_LENGTH} characters`);
  }
}

export function isAgentRole(value: string): value is AgentRole {
  return (AGENT_ROLES as readonly string[]).includes(value);
}
