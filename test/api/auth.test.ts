// Threat (SEC-44): a caller without valid client credentials, or with a token that is forged,
// expired or lacks a scope, gets at an application's data. OAuth 2.0 client credentials
// (RFC 6749 §4.4) and bearer tokens (RFC 6750) must refuse each with the right error, and no
// failure may surface as a 500.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { TOKEN_AUDIENCE } from '../../src/services/tokens.ts';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** Injects without the tenant's token; no answer may be a 500. */
async function call(server: TestServer, options: InjectOptions): Promise<LightMyRequestResponse> {
  const res = await server.runtime.app.inject(options);
  assert.ok(res.statusCode < 500, `${options.method} ${options.url}: ${res.statusCode} ${res.body}`);
  return res;
}

function tokenRequest(server: TestServer, payload: string | Record<string, unknown>, headers: Record<string, string> = {}) {
  return call(server, {
    method: 'POST',
    url: '/oauth/token',
    headers: typeof payload === 'string' ? { ...FORM, ...headers } : headers,
    payload,
  });
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** A users:read route, called with an Authorization header of our choosing. */
function readUsers(server: TestServer, authorization?: string) {
  return call(server, { method: 'GET', url: '/v1/users?external_id=nobody', headers: authorization === undefined ? {} : { authorization } });
}

function assertInvalidToken(res: LightMyRequestResponse, context: string): void {
  assertProblem(res, 401, 'invalid_token', context);
  assert.match(String(res.headers['www-authenticate']), /^Bearer error="invalid_token"/, context);
}

/** An OAuth error answer: problem+json with RFC 6749's `error`, never cached. */
function assertOAuthError(res: LightMyRequestResponse, status: number, code: string, error: string, context = ''): void {
  const body = assertProblem(res, status, code, context);
  assert.equal(body['error'], error, context);
  assert.equal(res.headers['cache-control'], 'no-store', context);
}

for (const dialect of dialects()) {
  describe(`${dialect}: SEC-44 OAuth client credentials and bearer tokens`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    async function assertUsable(token: string, context: string): Promise<void> {
      const res = await readUsers(server, `Bearer ${token}`);
      assert.equal(res.statusCode, 200, `${context}: ${res.body}`);
    }

    test('SEC-44 a token from a form body, with every scope of the client, not cached', async () => {
      const tenant = await server.tenant({ scopes: ['users:read', 'users:write'] });
      const res = await tokenRequest(server, form({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret }));
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.expires_in, 3600);
      assert.deepEqual(body.scope.split(' ').sort(), ['users:read', 'users:write']);
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.sub, tenant.clientId);
      assert.equal(claims['app'], tenant.applicationId);
      assert.equal(claims.aud, TOKEN_AUDIENCE);
      assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 3600);
      assert.equal(decodeProtectedHeader(body.access_token).alg, 'ES256');
      await assertUsable(body.access_token, 'form token');
    });

    test('SEC-44 a token from a JSON body', async () => {
      const tenant = await server.tenant();
      const res = await tokenRequest(server, { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      await assertUsable(res.json().access_token, 'JSON token');
    });

    test('SEC-44 a token with HTTP Basic client authentication', async () => {
      const tenant = await server.tenant();
      const res = await tokenRequest(server, form({ grant_type: 'client_credentials' }), { authorization: basic(tenant.clientId, tenant.clientSecret) });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      await assertUsable(res.json().access_token, 'Basic token');
      const json = await tokenRequest(server, { grant_type: 'client_credentials' }, { authorization: basic(tenant.clientId, tenant.clientSecret) });
      assert.equal(json.statusCode, 200, json.body);
    });

    test('SEC-44 a wrong secret and an unknown client are both 401 invalid_client, alike', async () => {
      const tenant = await server.tenant();
      const wrong = await tokenRequest(server, form({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: `${tenant.clientSecret}x` }));
      assertOAuthError(wrong, 401, 'invalid_client', 'invalid_client', 'wrong secret');
      const unknown = await tokenRequest(server, form({ grant_type: 'client_credentials', client_id: 'obc_doesnotexist', client_secret: tenant.clientSecret }));
      assertOAuthError(unknown, 401, 'invalid_client', 'invalid_client', 'unknown client');
      // Nothing tells the two apart: the same detail for both.
      assert.equal(wrong.json().detail, unknown.json().detail);
      const json = await tokenRequest(server, { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: 'obs_wrong' });
      assertOAuthError(json, 401, 'invalid_client', 'invalid_client', 'wrong secret, JSON');
      const missing = await tokenRequest(server, form({ grant_type: 'client_credentials', client_id: tenant.clientId }));
      assertOAuthError(missing, 401, 'invalid_client', 'invalid_client', 'no secret');
      // RFC 6749 §5.2: a failed Basic authentication is answered with WWW-Authenticate.
      const viaBasic = await tokenRequest(server, form({ grant_type: 'client_credentials' }), { authorization: basic(tenant.clientId, 'obs_wrong') });
      assertOAuthError(viaBasic, 401, 'invalid_client', 'invalid_client', 'wrong secret by Basic');
      assert.match(String(viaBasic.headers['www-authenticate']), /^Basic /);
    });

    test('SEC-44 grant_type password is 400 unsupported_grant_type', async () => {
      const tenant = await server.tenant();
      const res = await tokenRequest(server, form({ grant_type: 'password', client_id: tenant.clientId, client_secret: tenant.clientSecret, username: 'u', password: 'p' }));
      assertOAuthError(res, 400, 'unsupported_grant_type', 'unsupported_grant_type');
    });

    test('SEC-44 a subset of the scopes: the token holds only those', async () => {
      const tenant = await server.tenant({ scopes: ['users:read', 'users:write', 'verifications:read'] });
      const res = await tokenRequest(server, form({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret, scope: 'users:read' }));
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.scope, 'users:read');
      assert.equal(decodeJwt(body.access_token)['scope'], 'users:read');
      await assertUsable(body.access_token, 'users:read token');
      const write = await call(server, {
        method: 'POST',
        url: '/v1/users',
        headers: { authorization: `Bearer ${body.access_token}` },
        payload: { external_id: 'denied' },
      });
      assertProblem(write, 403, 'insufficient_scope');
      // The refused write changed nothing.
      const found = await tenant.request('GET', '/v1/users?external_id=denied');
      assert.deepEqual(found.json().items, []);
      // A scope asked twice is granted once.
      const twice = await tokenRequest(server, form({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret, scope: 'users:read users:read verifications:read' }));
      assert.equal(twice.statusCode, 200, twice.body);
      assert.equal(twice.json().scope, 'users:read verifications:read');
    });

    test('SEC-44 a scope the client does not hold is 400 invalid_scope', async () => {
      const tenant = await server.tenant({ scopes: ['users:read'] });
      for (const scope of ['users:write', 'users:read admin', 'no-such-scope', 'constructor', '__proto__']) {
        const res = await tokenRequest(server, form({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret, scope }));
        assertOAuthError(res, 400, 'invalid_scope', 'invalid_scope', `scope "${scope}"`);
        assert.match(res.json().detail, new RegExp(scope.split(' ').at(-1) as string));
      }
    });

    test('SEC-44 credentials both by Basic and in the body are 400 invalid_request', async () => {
      const tenant = await server.tenant();
      const res = await tokenRequest(server, form({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret }), {
        authorization: basic(tenant.clientId, tenant.clientSecret),
      });
      assertOAuthError(res, 400, 'invalid_request', 'invalid_request');
    });

    test('SEC-44 errors before the handler (schema, JSON, media type) still carry error and no-store', async () => {
      const tenant = await server.tenant();
      assertOAuthError(await tokenRequest(server, {}), 400, 'invalid_request', 'invalid_request', 'no grant_type');
      assertOAuthError(
        await tokenRequest(server, '{"grant_type":', { 'content-type': 'application/json' }),
        400,
        'malformed_json',
        'invalid_request',
        'malformed JSON',
      );
      assertOAuthError(
        await tokenRequest(server, `grant_type=client_credentials&client_id=${tenant.clientId}`, { 'content-type': 'text/plain' }),
        415,
        'unsupported_media_type',
        'invalid_request',
        'text/plain',
      );
    });

    test('SEC-44 a route needing a scope the token lacks: 403 insufficient_scope naming it, with WWW-Authenticate', async () => {
      const tenant = await server.tenant({ scopes: ['users:read'] });
      const cases: Array<[string, string, string, unknown]> = [
        ['POST', '/v1/users', 'users:write', { external_id: 'x' }],
        ['POST', '/v1/verifications', 'verifications:write', { channel: 'sms', to: '+31612345678' }],
        ['GET', '/v1/verifications/vrf_aaaaaaaaaaaaaaaaaaaaaaaaaa', 'verifications:read', undefined],
        ['GET', '/v1/outbox', 'outbox:read', undefined],
      ];
      for (const [method, url, scope, body] of cases) {
        const res = await tenant.request(method, url, body);
        assert.ok(res.statusCode < 500, res.body);
        const problem = assertProblem(res, 403, 'insufficient_scope', `${method} ${url}`);
        assert.equal(problem['scope'], scope);
        assert.match(problem.detail, new RegExp(scope));
        assert.equal(res.headers['www-authenticate'], `Bearer error="insufficient_scope", scope="${scope}"`);
      }
      const outbox = await tenant.request('GET', '/v1/outbox');
      assert.equal(outbox.statusCode, 403);
    });

    test('SEC-44 no token, a garbage token or a non-Bearer scheme is 401 invalid_token', async () => {
      const tenant = await server.tenant();
      const cases: Array<[string, string | undefined]> = [
        ['no Authorization header', undefined],
        ['"Bearer" without a token', 'Bearer'],
        ['"Bearer " and spaces', 'Bearer    '],
        ['garbage', 'Bearer not-a-token'],
        ['three garbage parts', 'Bearer abc.def.ghi'],
        ['unsigned (alg none)', `Bearer ${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`],
        ['a token with its signature cut off', `Bearer ${tenant.token.split('.').slice(0, 2).join('.')}.`],
        ['a token with a changed payload', `Bearer ${tamper(tenant.token)}`],
        ['very long', `Bearer ${'a'.repeat(8000)}`],
        ['Basic credentials', basic(tenant.clientId, tenant.clientSecret)],
        ['the client secret as a bearer token', `Bearer ${tenant.clientSecret}`],
      ];
      for (const [what, authorization] of cases) assertInvalidToken(await readUsers(server, authorization), what);
    });

    test('SEC-44 a token signed by another ES256 key is 401 invalid_token, even with our kid', async () => {
      const tenant = await server.tenant();
      const real = decodeProtectedHeader(tenant.token);
      const claims = decodeJwt(tenant.token);
      const { privateKey } = await generateKeyPair('ES256');
      for (const kid of [real.kid as string, 'someone-elses-key']) {
        const forged = await new SignJWT({ scope: claims['scope'], app: tenant.applicationId })
          .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
          .setIssuer(claims.iss as string)
          .setAudience(TOKEN_AUDIENCE)
          .setSubject(tenant.clientId)
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(privateKey);
        assertInvalidToken(await readUsers(server, `Bearer ${forged}`), `forged with kid ${kid}`);
      }
      // HS256 keyed with a guessable value: a classic algorithm confusion.
      const hs = await new SignJWT({ scope: claims['scope'], app: tenant.applicationId })
        .setProtectedHeader({ alg: 'HS256', kid: real.kid as string, typ: 'at+jwt' })
        .setIssuer(claims.iss as string)
        .setAudience(TOKEN_AUDIENCE)
        .setSubject(tenant.clientId)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('x'.repeat(32)));
      assertInvalidToken(await readUsers(server, `Bearer ${hs}`), 'HS256');
    });

    test('SEC-44 /.well-known/jwks.json lists the kid of issued tokens, and no private key', async () => {
      const tenant = await server.tenant();
      const res = await call(server, { method: 'GET', url: '/.well-known/jwks.json' });
      assert.equal(res.statusCode, 200, res.body);
      const keys = res.json().keys as Array<Record<string, unknown>>;
      const kid = decodeProtectedHeader(tenant.token).kid;
      const key = keys.find((k) => k['kid'] === kid);
      assert.ok(key !== undefined, `kid ${kid} not in ${JSON.stringify(keys)}`);
      assert.equal(key['kty'], 'EC');
      assert.equal(key['crv'], 'P-256');
      assert.equal(key['alg'], 'ES256');
      for (const k of keys) assert.equal(k['d'], undefined, 'a private key member is published');
    });
  });

  describe(`${dialect}: SEC-44 token lifetime and key rotation`, () => {
    test('SEC-44 a token is refused once expired (3600 s)', async () => {
      const clock = new TestClock();
      const server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
      try {
        const tenant = await server.tenant();
        clock.advance(3599_000);
        assert.equal((await readUsers(server, `Bearer ${tenant.token}`)).statusCode, 200, 'still valid just before expiry');
        clock.advance(2_000);
        assertInvalidToken(await readUsers(server, `Bearer ${tenant.token}`), 'expired');
        // A fresh token works again.
        const fresh = await tokenRequest(server, { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret });
        assert.equal(fresh.statusCode, 200, fresh.body);
        assert.equal((await readUsers(server, `Bearer ${fresh.json().access_token}`)).statusCode, 200);
      } finally {
        await server.close();
      }
    });

    test('SEC-44 after a key rotation old tokens still work, new ones carry the new kid, jwks lists both', async () => {
      const server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
      try {
        const tenant = await server.tenant();
        const oldKid = decodeProtectedHeader(tenant.token).kid;
        const newKid = await server.runtime.tokens.rotate();
        assert.notEqual(newKid, oldKid);
        assert.equal((await readUsers(server, `Bearer ${tenant.token}`)).statusCode, 200, 'the old token still works');
        const fresh = await tokenRequest(server, { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret });
        assert.equal(fresh.statusCode, 200, fresh.body);
        assert.equal(decodeProtectedHeader(fresh.json().access_token).kid, newKid);
        assert.equal((await readUsers(server, `Bearer ${fresh.json().access_token}`)).statusCode, 200, 'the new token works');
        const kids = ((await call(server, { method: 'GET', url: '/.well-known/jwks.json' })).json().keys as Array<{ kid: string }>).map((k) => k.kid);
        assert.ok(kids.includes(oldKid as string), `old kid missing from ${kids.join(', ')}`);
        assert.ok(kids.includes(newKid), `new kid missing from ${kids.join(', ')}`);
      } finally {
        await server.close();
      }
    });
  });
}

/** The token with one claim changed and the signature kept. */
function tamper(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  claims['scope'] = 'admin users:read users:write';
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}
