import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { OutbandError } from '../../domain/errors.ts';
import type { Scope } from '../../domain/scopes.ts';
import type { Principal, TokenService } from '../../services/tokens.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a bearer token must hold for this route; routes without one are public. */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The principal of an authenticated route (the auth hook has run). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new Error('route has no scope: it is not authenticated');
  return request.principal;
}

/**
 * Bearer authentication. Each route declares `config.scope`; the hook verifies the token and
 * the scope before the body is even parsed, and the same declaration becomes the route's
 * `security` in the OpenAPI document.
 */
export const authPlugin = fp(
  async (
    app: FastifyInstance,
    options: {
      tokens: TokenService;
      /** Hears each request refused for a missing scope (the audit, SEC-45); must not throw or wait. */
      onDenied?: (principal: Principal, request: FastifyRequest, scope: Scope) => void;
    },
  ) => {
    app.decorateRequest('principal', null);

    app.addHook('onRoute', (route) => {
      const scope = route.config?.scope;
      if (scope === undefined) return;
      route.schema = { ...route.schema, security: [{ bearer: [scope] }] } as NonNullable<typeof route.schema>;
    });

    app.addHook('onRequest', async (request) => {
      const scope = request.routeOptions.config.scope;
      if (scope === undefined) return;
      const header = request.headers.authorization;
      const match = header === undefined ? null : /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
      if (match?.[1] === undefined) {
        throw new OutbandError('invalid_token', 'send an access token from POST /oauth/token as "Authorization: Bearer <token>"');
      }
      const principal = await options.tokens.verify(match[1]);
      if (!principal.scopes.has(scope)) {
        options.onDenied?.(principal, request, scope);
        throw new OutbandError('insufficient_scope', `this route needs the "${scope}" scope; the token has: ${[...principal.scopes].join(' ') || 'none'}`, { scope });
      }
      request.principal = principal;
    });
  },
  { name: 'outband-auth' },
);
