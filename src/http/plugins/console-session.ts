import { createHash, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Agent, ConsoleSession } from '../../domain/console/agent.ts';
import { OutbandError } from '../../domain/errors.ts';
import type { AgentService, SignedIn } from '../../services/agents.ts';

export const CONSOLE_COOKIE = 'outband_console';
const COOKIE_PATH = '/console';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `public`: a console route that needs no session (sign-in). Every other console route does. */
    consoleAccess?: 'public';
  }
  interface FastifyRequest {
    consoleAgent: Agent | null;
    consoleSession: ConsoleSession | null;
    /** The cookie's session id, for sign-out. */
    consoleSessionId: string | null;
  }
}

/** The signed-in agent of a console route (the session hook has run). */
export function agentOf(request: FastifyRequest): Agent {
  if (request.consoleAgent === null) throw new OutbandError('not_signed_in', 'sign in to the console first');
  return request.consoleAgent;
}

/** Equal in time whatever the values: both sides are hashed to the same length first. */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The console's session, on the routes it is registered for (under /console/api): the
 * `outband_console` cookie (HttpOnly, SameSite=Strict, Path=/console, Secure behind https) names a
 * session; an ended or unknown one answers 401 not_signed_in. Every request other than GET and HEAD
 * must send the session's synchronizer token as X-CSRF-Token, else 403 csrf_token_invalid (ADR 0016).
 */
export const consoleSessionPlugin = fp(
  async (app: FastifyInstance, options: { agents: AgentService; secure: boolean }) => {
    await app.register(cookie);
    const cookieOptions = { path: COOKIE_PATH, httpOnly: true, sameSite: 'strict' as const, secure: options.secure };

    app.decorateRequest('consoleAgent', null);
    app.decorateRequest('consoleSession', null);
    app.decorateRequest('consoleSessionId', null);
    app.decorateReply('startConsoleSession', function (this: FastifyReply, signedIn: SignedIn) {
      this.setCookie(CONSOLE_COOKIE, signedIn.sessionId, cookieOptions);
    });
    app.decorateReply('endConsoleSession', function (this: FastifyReply) {
      this.clearCookie(CONSOLE_COOKIE, cookieOptions);
    });

    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.config.consoleAccess === 'public') return;
      const sessionId = request.cookies[CONSOLE_COOKIE];
      const resolved = sessionId === undefined || sessionId === '' ? null : await options.agents.resolve(sessionId);
      if (resolved === null) {
        // A stale cookie is dropped, so the browser stops sending it.
        if (sessionId !== undefined) reply.clearCookie(CONSOLE_COOKIE, cookieOptions);
        throw new OutbandError('not_signed_in', 'sign in to the console first (POST /console/api/sign-in); a session ends after being idle, and 12 hours after sign-in');
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        const given = request.headers['x-csrf-token'];
        if (typeof given !== 'string' || !sameToken(given, resolved.session.csrfToken)) {
          throw new OutbandError('csrf_token_invalid', 'send the session\'s csrf_token (from sign-in or GET /console/api/session) as the X-CSRF-Token header');
        }
      }
      request.consoleAgent = resolved.agent;
      request.consoleSession = resolved.session;
      request.consoleSessionId = sessionId as string;
    });
  },
  { name: 'outband-console-session' },
);

declare module 'fastify' {
  interface FastifyReply {
    /** Sets the session cookie of a new sign-in. */
    startConsoleSession(signedIn: SignedIn): void;
    /** Clears the session cookie. */
    endConsoleSession(): void;
  }
}
