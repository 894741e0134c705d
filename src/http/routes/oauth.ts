import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError } from 'fastify';
import { Type } from 'typebox';
import { OutbandError } from '../../domain/errors.ts';
import type { TokenService } from '../../services/tokens.ts';
import { problemFor, sendProblem } from '../plugins/problem.ts';
import { problems } from '../schemas/common.ts';

const TokenRequest = Type.Object(
  {
    grant_type: Type.String({ description: 'Must be client_credentials' }),
    client_id: Type.Optional(Type.String({ maxLength: 128, description: 'The client id, unless sent with HTTP Basic authentication' })),
    client_secret: Type.Optional(Type.String({ maxLength: 256, description: 'The client secret, unless sent with HTTP Basic authentication' })),
    scope: Type.Optional(Type.String({ maxLength: 1024, description: 'Space-separated scopes to request; default all the client holds' })),
  },
  { additionalProperties: true, description: 'RFC 6749 §4.4 access token request, as a form or as JSON' },
);

const TokenResponse = Type.Object({
  access_token: Type.String({ description: 'An ES256-signed JWT; send it as "Authorization: Bearer <token>"' }),
  token_type: Type.Literal('Bearer', { description: 'Always "Bearer"' }),
  expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
  scope: Type.String({ description: 'The scopes granted, space-separated' }),
});

const Jwks = Type.Object(
  { keys: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'Public keys (JWK) that verify access tokens' }) },
  { description: 'JSON Web Key Set' },
);

function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const match = header === undefined ? null : /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
  if (match?.[1] === undefined) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  // RFC 6749 §2.3.1: both parts are form-urlencoded inside Basic credentials.
  const unescape = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
}

export const oauthRoutes: FastifyPluginAsyncTypebox<{ tokens: TokenService; bodyLimitBytes: number }> = async (app, { tokens, bodyLimitBytes }) => {
  // Form bodies here only (RFC 6749 §4.4.2); the rest of the API takes JSON and answers 415 to a form.
  await app.register(formbody, { bodyLimit: bodyLimitBytes });

  // RFC 6749 §5.2: every error of the token endpoint carries `error`, also those raised before
  // the handler runs (schema, JSON, media type, size), and a failed Basic authentication is
  // answered with WWW-Authenticate. This error handler applies to this plugin's routes only.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = problemFor(error, request);
    if (problem.code === 'invalid_client' && /^Basic /i.test(request.headers.authorization ?? '')) {
      reply.header('www-authenticate', 'Basic realm="outband"');
    }
    const withError = problem.status >= 500 || problem.extra['error'] !== undefined ? problem : new OutbandError(problem.code, problem.detail, { ...problem.extra, error: 'invalid_request' });
    reply.header('cache-control', 'no-store');
    return sendProblem(reply, request, withError);
  });

  app.post(
    '/oauth/token',
    {
      schema: {
        tags: ['auth'],
        summary: 'Get an access token (OAuth 2.0 client credentials)',
        description:
          'Authenticate with client_id and client_secret, by HTTP Basic or in the body (form or JSON). Errors carry the RFC 6749 `error` member besides `code`.',
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: TokenRequest,
        response: { 200: TokenResponse, ...problems(400, 401, 413, 415) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const body = request.body;
      if (body.grant_type !== 'client_credentials') {
        throw new OutbandError('unsupported_grant_type', `grant_type "${body.grant_type}" is not supported; use client_credentials`, { error: 'unsupported_grant_type' });
      }
      const basic = basicCredentials(request.headers.authorization);
      if (basic !== null && (body.client_id !== undefined || body.client_secret !== undefined)) {
        throw new OutbandError('invalid_request', 'send the client credentials either by Basic authentication or in the body, not both', { error: 'invalid_request' });
      }
      const id = basic?.id ?? body.client_id;
      const secret = basic?.secret ?? body.client_secret;
      if (id === undefined || secret === undefined) {
        throw new OutbandError('invalid_client', 'give client_id and client_secret, by Basic authentication or in the body', { error: 'invalid_client' });
      }
      return tokens.issue(id, secret, body.scope);
    },
  );

  app.get(
    '/.well-known/jwks.json',
    { schema: { tags: ['auth'], summary: 'Public keys that verify access tokens', response: { 200: Jwks } } },
    async () => tokens.jwks(),
  );
};
