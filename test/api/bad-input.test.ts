// Threat (SEC-47): malformed input reaches code that does not expect it, and the server
// answers 500 (leaking internals), or half-applies the request. Every route must refuse bad
// input with a 4xx problem+json whose code is in the registry, and change nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const BODY_LIMIT_BYTES = 65536;
const JSON_TYPE = 'application/json';

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with `contentType`. */
  raw?: string;
  contentType?: string;
  status: number;
  code: string;
  /** false: sent without the tenant's token (the token endpoint). */
  auth?: false;
}

/** The malformed requests, against a real user (`u`) and a real pending verification (`v`). */
function table(u: string, v: string, client: { id: string; secret: string }): Case[] {
  const big = JSON.stringify({ display_name: 'x'.repeat(BODY_LIMIT_BYTES) });
  const token = (fields: Record<string, unknown>) => ({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret, ...fields });
  return [
    // POST /v1/users
    { name: 'users create: malformed JSON', method: 'POST', url: '/v1/users', raw: '{"external_id": "bad-1",', contentType: JSON_TYPE, status: 400, code: 'malformed_json' },
    { name: 'users create: empty JSON body', method: 'POST', url: '/v1/users', raw: '', contentType: JSON_TYPE, status: 400, code: 'malformed_json' },
    { name: 'users create: JSON array', method: 'POST', url: '/v1/users', body: [{ external_id: 'bad-2' }], status: 400, code: 'invalid_request' },
    { name: 'users create: JSON null', method: 'POST', url: '/v1/users', raw: 'null', contentType: JSON_TYPE, status: 400, code: 'invalid_request' },
    { name: 'users create: JSON string', method: 'POST', url: '/v1/users', raw: '"bad-3"', contentType: JSON_TYPE, status: 400, code: 'invalid_request' },
    { name: 'users create: number for email', method: 'POST', url: '/v1/users', body: { external_id: 'bad-4', email: 42 }, status: 400, code: 'invalid_request' },
    { name: 'users create: number for external_id', method: 'POST', url: '/v1/users', body: { external_id: 5 }, status: 400, code: 'invalid_request' },
    { name: 'users create: boolean for phone', method: 'POST', url: '/v1/users', body: { external_id: 'bad-5', phone: true }, status: 400, code: 'invalid_request' },
    { name: 'users create: null status', method: 'POST', url: '/v1/users', body: { external_id: 'bad-6', status: null }, status: 400, code: 'invalid_request' },
    { name: 'users create: unknown status', method: 'POST', url: '/v1/users', body: { external_id: 'bad-7', status: 'deleted' }, status: 400, code: 'invalid_request' },
    { name: 'users create: unknown field', method: 'POST', url: '/v1/users', body: { external_id: 'bad-8', is_admin: true }, status: 400, code: 'invalid_request' },
    { name: 'users create: __proto__ member', method: 'POST', url: '/v1/users', raw: '{"external_id":"bad-9","__proto__":{"status":"suspended"}}', contentType: JSON_TYPE, status: 400, code: 'malformed_json' },
    { name: 'users create: empty external_id', method: 'POST', url: '/v1/users', body: { external_id: '' }, status: 400, code: 'invalid_request' },
    { name: 'users create: external_id of 129 characters', method: 'POST', url: '/v1/users', body: { external_id: 'x'.repeat(129) }, status: 400, code: 'invalid_request' },
    { name: 'users create: display_name of 201 characters', method: 'POST', url: '/v1/users', body: { external_id: 'bad-10', display_name: 'x'.repeat(201) }, status: 400, code: 'invalid_request' },
    { name: 'users create: NUL in display_name', method: 'POST', url: '/v1/users', body: { external_id: 'bad-11', display_name: 'a\u0000b' }, status: 400, code: 'invalid_request' },
    { name: 'users create: NUL in external_id', method: 'POST', url: '/v1/users', body: { external_id: 'bad\u000012' }, status: 400, code: 'invalid_request' },
    { name: 'users create: phone that is not a number', method: 'POST', url: '/v1/users', body: { external_id: 'bad-13', phone: 'call me maybe' }, status: 422, code: 'invalid_phone_number' },
    { name: 'users create: national phone without country', method: 'POST', url: '/v1/users', body: { external_id: 'bad-14', phone: '06 12345678' }, status: 422, code: 'invalid_phone_number' },
    { name: 'users create: phone too short for its country', method: 'POST', url: '/v1/users', body: { external_id: 'bad-15', phone: '+31 6 123' }, status: 422, code: 'invalid_phone_number' },
    { name: 'users create: country of three letters', method: 'POST', url: '/v1/users', body: { external_id: 'bad-16', phone: '06 12345678', country: 'NLD' }, status: 400, code: 'invalid_request' },
    { name: 'users create: e-mail without @', method: 'POST', url: '/v1/users', body: { external_id: 'bad-17', email: 'alice.example.com' }, status: 422, code: 'invalid_email' },
    { name: 'users create: e-mail with two @', method: 'POST', url: '/v1/users', body: { external_id: 'bad-18', email: 'a@b@example.com' }, status: 422, code: 'invalid_email' },
    { name: 'users create: e-mail without a dotted domain', method: 'POST', url: '/v1/users', body: { external_id: 'bad-19', email: 'alice@localhost' }, status: 422, code: 'invalid_email' },
    { name: 'users create: invalid locale', method: 'POST', url: '/v1/users', body: { external_id: 'bad-20', locale: 'not a locale!' }, status: 422, code: 'invalid_locale' },
    { name: 'users create: number for locale', method: 'POST', url: '/v1/users', body: { external_id: 'bad-21', locale: 1 }, status: 400, code: 'invalid_request' },
    { name: 'users create: body over BODY_LIMIT_BYTES', method: 'POST', url: '/v1/users', raw: big, contentType: JSON_TYPE, status: 413, code: 'payload_too_large' },
    { name: 'users create: text/plain', method: 'POST', url: '/v1/users', raw: '{"external_id":"bad-22"}', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
    { name: 'users create: application/xml', method: 'POST', url: '/v1/users', raw: '<user/>', contentType: 'application/xml', status: 415, code: 'unsupported_media_type' },
    { name: 'users create: form-urlencoded', method: 'POST', url: '/v1/users', raw: 'external_id=bad-23', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'unsupported_media_type' },

    // PATCH /v1/users/:id
    { name: 'users patch: empty body', method: 'PATCH', url: `/v1/users/${u}`, body: {}, status: 400, code: 'invalid_request' },
    { name: 'users patch: unknown field', method: 'PATCH', url: `/v1/users/${u}`, body: { nickname: 'x' }, status: 400, code: 'invalid_request' },
    { name: 'users patch: number for external_id', method: 'PATCH', url: `/v1/users/${u}`, body: { external_id: 7 }, status: 400, code: 'invalid_request' },
    { name: 'users patch: null status', method: 'PATCH', url: `/v1/users/${u}`, body: { status: null }, status: 400, code: 'invalid_request' },
    { name: 'users patch: malformed JSON', method: 'PATCH', url: `/v1/users/${u}`, raw: '{"display_name": }', contentType: JSON_TYPE, status: 400, code: 'malformed_json' },
    { name: 'users patch: invalid e-mail', method: 'PATCH', url: `/v1/users/${u}`, body: { email: 'nope' }, status: 422, code: 'invalid_email' },
    { name: 'users patch: invalid phone', method: 'PATCH', url: `/v1/users/${u}`, body: { phone: '+999 1' }, status: 422, code: 'invalid_phone_number' },
    { name: 'users patch: valid field and invalid locale', method: 'PATCH', url: `/v1/users/${u}`, body: { display_name: 'Changed', locale: '$$' }, status: 422, code: 'invalid_locale' },
    { name: 'users patch: id of the wrong shape', method: 'PATCH', url: '/v1/users/USR-1', body: { display_name: 'x' }, status: 400, code: 'invalid_request' },
    { name: 'users patch: text/plain', method: 'PATCH', url: `/v1/users/${u}`, raw: 'display_name=x', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },

    // GET and DELETE /v1/users/:id
    { name: 'users get: id of the wrong shape', method: 'GET', url: '/v1/users/not-an-id', status: 400, code: 'invalid_request' },
    { name: 'users get: id with upper case', method: 'GET', url: `/v1/users/${u.toUpperCase()}`, status: 400, code: 'invalid_request' },
    { name: 'users get: id longer than any id', method: 'GET', url: `/v1/users/usr_${'a'.repeat(70)}`, status: 400, code: 'invalid_request' },
    { name: 'users get: id longer than the router takes', method: 'GET', url: `/v1/users/usr_${'a'.repeat(200)}`, status: 414, code: 'uri_too_long' },
    { name: 'users get: id with an encoded NUL', method: 'GET', url: `/v1/users/${u}%00`, status: 400, code: 'invalid_request' },
    { name: 'users delete: id of the wrong shape', method: 'DELETE', url: '/v1/users/1', status: 400, code: 'invalid_request' },
    { name: 'users delete: id with a digit outside base32', method: 'DELETE', url: '/v1/users/usr_a0b1', status: 400, code: 'invalid_request' },

    // GET /v1/users (lookup)
    { name: 'users lookup: no query', method: 'GET', url: '/v1/users', status: 400, code: 'invalid_request' },
    { name: 'users lookup: two query parameters', method: 'GET', url: '/v1/users?email=a%40example.com&external_id=x', status: 400, code: 'invalid_request' },
    { name: 'users lookup: unknown query parameter', method: 'GET', url: '/v1/users?name=alice', status: 400, code: 'invalid_request' },
    { name: 'users lookup: the same parameter twice', method: 'GET', url: '/v1/users?email=a%40example.com&email=b%40example.com', status: 400, code: 'invalid_request' },
    { name: 'users lookup: empty external_id', method: 'GET', url: '/v1/users?external_id=', status: 400, code: 'invalid_request' },
    { name: 'users lookup: invalid e-mail', method: 'GET', url: '/v1/users?email=nope%40', status: 422, code: 'invalid_email' },
    { name: 'users lookup: invalid phone', method: 'GET', url: '/v1/users?phone=12', status: 400, code: 'invalid_request' },
    { name: 'users lookup: national phone', method: 'GET', url: '/v1/users?phone=0612345678', status: 422, code: 'invalid_phone_number' },
    { name: 'users lookup: NUL in external_id', method: 'GET', url: '/v1/users?external_id=a%00b', status: 400, code: 'invalid_request' },

    // POST /v1/verifications
    { name: 'verifications start: malformed JSON', method: 'POST', url: '/v1/verifications', raw: "{channel: 'sms'}", contentType: JSON_TYPE, status: 400, code: 'malformed_json' },
    { name: 'verifications start: no channel', method: 'POST', url: '/v1/verifications', body: { to: '+31612345678' }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: unknown channel', method: 'POST', url: '/v1/verifications', body: { channel: 'fax', to: '+31612345678' }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: both user_id and to', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', user_id: u, to: '+31612345678' }, status: 422, code: 'recipient_ambiguous' },
    { name: 'verifications start: neither user_id nor to', method: 'POST', url: '/v1/verifications', body: { channel: 'sms' }, status: 422, code: 'recipient_ambiguous' },
    { name: 'verifications start: null to', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: null }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: ttl_seconds 1801', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', ttl_seconds: 1801 }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: ttl_seconds 29', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', ttl_seconds: 29 }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: string for ttl_seconds', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', ttl_seconds: '600' }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: fraction for ttl_seconds', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', ttl_seconds: 60.5 }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: code_length 3', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', code_length: 3 }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: code_length 11', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', code_length: 11 }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: invalid phone', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31 6 12' }, status: 422, code: 'invalid_phone_number' },
    { name: 'verifications start: e-mail address for sms', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: 'alice@example.com' }, status: 422, code: 'invalid_phone_number' },
    { name: 'verifications start: invalid e-mail', method: 'POST', url: '/v1/verifications', body: { channel: 'email', to: 'alice at example.com' }, status: 422, code: 'invalid_email' },
    { name: 'verifications start: invalid locale', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', locale: 'english please' }, status: 422, code: 'invalid_locale' },
    { name: 'verifications start: user_id of the wrong shape', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', user_id: 'alice' }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: unknown purpose', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', purpose: 'pairing' }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: number as a template parameter', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', params: { amount: 12 } }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: template parameter name with capitals', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', params: { Amount: '12' } }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: string for return_code', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', return_code: 'true' }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: unknown field', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '+31612345678', priority: 'high' }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: country name for country', method: 'POST', url: '/v1/verifications', body: { channel: 'sms', to: '06 12345678', country: 'Netherlands' }, status: 400, code: 'invalid_request' },
    { name: 'verifications start: body over BODY_LIMIT_BYTES', method: 'POST', url: '/v1/verifications', raw: big, contentType: JSON_TYPE, status: 413, code: 'payload_too_large' },
    { name: 'verifications start: text/plain', method: 'POST', url: '/v1/verifications', raw: 'channel=sms', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },

    // GET /v1/verifications/:id
    { name: 'verifications get: wait=31', method: 'GET', url: `/v1/verifications/${v}?wait=31`, status: 400, code: 'invalid_request' },
    { name: 'verifications get: wait=-1', method: 'GET', url: `/v1/verifications/${v}?wait=-1`, status: 400, code: 'invalid_request' },
    { name: 'verifications get: wait=soon', method: 'GET', url: `/v1/verifications/${v}?wait=soon`, status: 400, code: 'invalid_request' },
    { name: 'verifications get: unknown query parameter', method: 'GET', url: `/v1/verifications/${v}?expand=user`, status: 400, code: 'invalid_request' },
    { name: 'verifications get: id of the wrong shape', method: 'GET', url: '/v1/verifications/12345', status: 400, code: 'invalid_request' },

    // POST /v1/verifications/:id/check
    { name: 'verifications check: code with symbols', method: 'POST', url: `/v1/verifications/${v}/check`, body: { code: '12#456' }, status: 400, code: 'invalid_request' },
    { name: 'verifications check: number for code', method: 'POST', url: `/v1/verifications/${v}/check`, body: { code: 123456 }, status: 400, code: 'invalid_request' },
    { name: 'verifications check: empty code', method: 'POST', url: `/v1/verifications/${v}/check`, body: { code: '' }, status: 400, code: 'invalid_request' },
    { name: 'verifications check: code of 21 characters', method: 'POST', url: `/v1/verifications/${v}/check`, body: { code: '1'.repeat(21) }, status: 400, code: 'invalid_request' },
    { name: 'verifications check: no code', method: 'POST', url: `/v1/verifications/${v}/check`, body: {}, status: 400, code: 'invalid_request' },
    { name: 'verifications check: unknown field', method: 'POST', url: `/v1/verifications/${v}/check`, body: { code: '123456', force: true }, status: 400, code: 'invalid_request' },
    { name: 'verifications check: malformed JSON', method: 'POST', url: `/v1/verifications/${v}/check`, raw: '{"code":"123456"', contentType: JSON_TYPE, status: 400, code: 'malformed_json' },
    { name: 'verifications check: text/plain', method: 'POST', url: `/v1/verifications/${v}/check`, raw: '123456', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
    { name: 'verifications check: id of the wrong shape', method: 'POST', url: '/v1/verifications/vrf-1/check', body: { code: '123456' }, status: 400, code: 'invalid_request' },

    // POST /v1/verifications/:id/cancel
    { name: 'verifications cancel: id of the wrong shape', method: 'POST', url: '/v1/verifications/VRF_X/cancel', status: 400, code: 'invalid_request' },
    { name: 'verifications cancel: malformed JSON', method: 'POST', url: `/v1/verifications/${v}/cancel`, raw: '{', contentType: JSON_TYPE, status: 400, code: 'malformed_json' },
    { name: 'verifications cancel: text/plain', method: 'POST', url: `/v1/verifications/${v}/cancel`, raw: 'cancel', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },

    // GET /v1/outbox
    { name: 'outbox: limit=0', method: 'GET', url: '/v1/outbox?limit=0', status: 400, code: 'invalid_request' },
    { name: 'outbox: limit=201', method: 'GET', url: '/v1/outbox?limit=201', status: 400, code: 'invalid_request' },
    { name: 'outbox: limit=all', method: 'GET', url: '/v1/outbox?limit=all', status: 400, code: 'invalid_request' },
    { name: 'outbox: verification_id of the wrong shape', method: 'GET', url: '/v1/outbox?verification_id=abc', status: 400, code: 'invalid_request' },
    { name: 'outbox: unknown query parameter', method: 'GET', url: '/v1/outbox?channel=sms', status: 400, code: 'invalid_request' },
    { name: 'outbox: NUL in to', method: 'GET', url: '/v1/outbox?to=%00', status: 400, code: 'invalid_request' },

    // POST /oauth/token
    { name: 'oauth token: malformed JSON', method: 'POST', url: '/oauth/token', raw: '{"grant_type":"client_credentials"', contentType: JSON_TYPE, status: 400, code: 'malformed_json', auth: false },
    { name: 'oauth token: no grant_type', method: 'POST', url: '/oauth/token', body: { client_id: client.id, client_secret: client.secret }, status: 400, code: 'invalid_request', auth: false },
    { name: 'oauth token: number for grant_type', method: 'POST', url: '/oauth/token', body: token({ grant_type: 1 }), status: 400, code: 'invalid_request', auth: false },
    { name: 'oauth token: array for scope', method: 'POST', url: '/oauth/token', body: token({ scope: ['users:read'] }), status: 400, code: 'invalid_request', auth: false },
    { name: 'oauth token: client_id of 129 characters', method: 'POST', url: '/oauth/token', body: token({ client_id: 'x'.repeat(129) }), status: 400, code: 'invalid_request', auth: false },
    { name: 'oauth token: client_id twice in a form', method: 'POST', url: '/oauth/token', raw: `grant_type=client_credentials&client_id=${client.id}&client_id=x&client_secret=${client.secret}`, contentType: 'application/x-www-form-urlencoded', status: 400, code: 'invalid_request', auth: false },
    { name: 'oauth token: text/plain', method: 'POST', url: '/oauth/token', raw: 'grant_type=client_credentials', contentType: 'text/plain', status: 415, code: 'unsupported_media_type', auth: false },
    { name: 'oauth token: body over BODY_LIMIT_BYTES', method: 'POST', url: '/oauth/token', raw: `grant_type=client_credentials&scope=${'a'.repeat(BODY_LIMIT_BYTES)}`, contentType: 'application/x-www-form-urlencoded', status: 413, code: 'payload_too_large', auth: false },
  ];
}

function send(server: TestServer, tenant: Tenant, c: Case): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  if (c.auth !== false) headers['authorization'] = `Bearer ${tenant.token}`;
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  const payload = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
  if (payload !== undefined && c.contentType === undefined) headers['content-type'] = JSON_TYPE;
  return server.runtime.app.inject({ method: c.method, url: c.url, headers, ...(payload === undefined ? {} : { payload }) });
}

/** Everything a rejected request could have changed, as seen by the tenant. */
async function snapshot(server: TestServer, tenant: Tenant, userId: string, verificationId: string) {
  await server.runtime.worker.runOnce();
  const events = await server.runtime.store.events.list(tenant.applicationId, 0, 10_000);
  const outbox = await tenant.request('GET', '/v1/outbox?limit=200');
  const lookups: Record<string, number> = {};
  for (const query of ['external_id=known', 'email=known%40example.com', 'phone=%2B31612345678', 'email=alice%40example.com']) {
    const res = await tenant.request('GET', `/v1/users?${query}`);
    assert.equal(res.statusCode, 200, `${query}: ${res.body}`);
    lookups[query] = res.json().items.length;
  }
  for (let i = 1; i <= 23; i++) lookups[`bad-${i}`] = (await tenant.request('GET', `/v1/users?external_id=bad-${i}`)).json().items.length;
  return {
    events: events.length,
    outbox: outbox.json().items.length,
    lookups,
    user: (await tenant.request('GET', `/v1/users/${userId}`)).json(),
    verification: (await tenant.request('GET', `/v1/verifications/${verificationId}`)).json(),
  };
}

for (const dialect of dialects()) {
  describe(`${dialect}: malformed input`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    test('SEC-47 malformed input gets 4xx problem+json, never 500', async (t) => {
      const tenant = await server.tenant();
      const user = await tenant.request('POST', '/v1/users', { external_id: 'known', email: 'known@example.com', phone: '+31612345678' });
      assert.equal(user.statusCode, 201, user.body);
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.json().id });
      assert.equal(started.statusCode, 201, started.body);
      const userId = user.json().id as string;
      const verificationId = started.json().id as string;

      const cases = table(userId, verificationId, { id: tenant.clientId, secret: tenant.clientSecret });
      assert.ok(cases.length >= 40, `only ${cases.length} cases`);
      const routes = new Set(cases.map((c) => `${c.method} ${c.url.replace(/\?.*/, '').replace(/^(\/v1\/(?:users|verifications))\/[^/]+/, '$1/:id')}`));
      for (const route of ['POST /v1/users', 'GET /v1/users', 'GET /v1/users/:id', 'PATCH /v1/users/:id', 'DELETE /v1/users/:id', 'POST /v1/verifications', 'GET /v1/verifications/:id', 'POST /v1/verifications/:id/check', 'POST /v1/verifications/:id/cancel', 'GET /v1/outbox', 'POST /oauth/token']) {
        assert.ok(routes.has(route), `no malformed request for ${route} (have ${[...routes].join(', ')})`);
      }

      const before = await snapshot(server, tenant, userId, verificationId);
      assert.equal(before.outbox, 1);
      assert.equal(before.verification.status, 'pending');

      for (const c of cases) {
        await t.test(c.name, async () => {
          const res = await send(server, tenant, c);
          assert.ok(res.statusCode >= 400 && res.statusCode <= 499, `${c.name}: ${res.statusCode} ${res.body.slice(0, 300)}`);
          assertProblem(res, c.status, c.code, c.name);
        });
      }

      const afterwards = await snapshot(server, tenant, userId, verificationId);
      assert.deepEqual(afterwards, before, 'a rejected request changed something');
      assert.equal(afterwards.verification.attempts_left, 3, 'a rejected check used up an attempt');
      assert.doesNotMatch(server.logs.join(''), /unexpected error/, 'a request was answered 500');
    });
  });
}
