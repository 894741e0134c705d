// The device API's WebAuthn additions for the web authenticator, as far as they can be shown
// without a browser (test/browser/authenticator.test.ts drives a real platform authenticator).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newJti, signDeviceJws } from '../../src/authenticator/device-jws.ts';
import { generateDeviceKey, privateKeyObject, type DeviceKeyPair } from '../../src/authenticator/device-key.ts';
import { dialects } from '../helpers/databases.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

const PUBLIC_URL = 'https://verify.acme.example';
const AUDIENCE = `${PUBLIC_URL}/v1/device-api`;

for (const dialect of dialects()) {
  describe(`${dialect}: WebAuthn in the device API`, () => {
    let server: TestServer;
    let tenant: Tenant;

    before(async () => {
      server = await startTestServer({ dialect, env: { PUBLIC_URL, OUTBAND_WORKERS: 'false' } });
      tenant = await server.tenant({ name: `WebAuthn ${dialect}` });
    });
    after(() => server.close());

    /** A device-API call signed with `key` (no kid: enrolment), as the page makes it. */
    async function signed(key: DeviceKeyPair, path: string, body: unknown, kid?: string) {
      const bytes = Buffer.from(JSON.stringify(body));
      const jws = await signDeviceJws({ key: privateKeyObject(key.privateJwk), kid, audience: AUDIENCE, method: 'POST', url: `${PUBLIC_URL}/v1/device-api${path}`, body: bytes, now: Date.now(), jti: newJti() });
      return server.runtime.app.inject({ method: 'POST', url: `/v1/device-api${path}`, headers: { authorization: `Device ${jws}`, 'content-type': 'application/json' }, payload: bytes });
    }
    async function pendingToken(): Promise<string> {
      const user = (await tenant.request('POST', '/v1/users', { email: `w${Math.random().toString(36).slice(2)}@example.com` })).json().id as string;
      return (await tenant.request('POST', `/v1/users/${user}/devices`, { kind: 'push' })).json().enrolment.token as string;
    }

    test('creation options: signed with the key to enrol, for a valid token only; RP ID is PUBLIC_URL\'s host, ES256/RS256 only, platform authenticator with user verification required; a new call replaces the challenge', async () => {
      const token = await pendingToken();
      const key = generateDeviceKey();
      const anonymous = await server.runtime.app.inject({ method: 'POST', url: '/v1/device-api/enroll/webauthn-options', payload: { token, public_key: key.publicJwk } });
      assert.equal(anonymous.statusCode, 401);
      const unknown = await signed(key, '/enroll/webauthn-options', { token: 'AAAAAAAAAAAAAAAAAAAAAA', public_key: key.publicJwk });
      assert.equal(unknown.json().code, 'activation_invalid');
      const first = await signed(key, '/enroll/webauthn-options', { token, public_key: key.publicJwk });
      assert.equal(first.statusCode, 200, first.body);
      const options = first.json();
      assert.equal(options.rp.id, 'verify.acme.example');
      assert.equal(options.rp.name, tenant.name);
      assert.deepEqual(options.pubKeyCredParams.map((p: { alg: number }) => p.alg), [-7, -257]);
      assert.deepEqual([options.authenticatorSelection.authenticatorAttachment, options.authenticatorSelection.userVerification, options.authenticatorSelection.residentKey], ['platform', 'required', 'preferred']);
      assert.match(options.challenge, /^[A-Za-z0-9_-]{43}$/);
      const second = (await signed(key, '/enroll/webauthn-options', { token, public_key: key.publicJwk })).json();
      assert.notEqual(second.challenge, options.challenge);
    });

    test('a registration that does not verify is refused and leaves the token usable; without one, webauthn cannot be claimed as a capability', async () => {
      const token = await pendingToken();
      const key = generateDeviceKey();
      await signed(key, '/enroll/webauthn-options', { token, public_key: key.publicJwk });
      const bogus = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA' }, clientExtensionResults: {} };
      const body = { token, public_key: key.publicJwk, capabilities: ['webauthn'], transport: { type: 'stream' } };
      const refused = await signed(key, '/enroll', { ...body, webauthn: bogus });
      assert.deepEqual([refused.statusCode, refused.json().code], [400, 'webauthn_registration_invalid']);
      const enrolled = await signed(key, '/enroll', body);
      assert.equal(enrolled.statusCode, 201, enrolled.body);
      assert.deepEqual(enrolled.json().device.capabilities, ['push']);
    });

    test('an answer carries exactly one of signature and webauthn; a device without a credential cannot send webauthn', async () => {
      const token = await pendingToken();
      const key = generateDeviceKey();
      const device = (await signed(key, '/enroll', { token, public_key: key.publicJwk, capabilities: ['pin'], transport: { type: 'stream' } })).json().device;
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'push', user_id: device.user_id });
      const id = started.json().id as string;
      const assertion = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' }, clientExtensionResults: {} };
      const neither = await signed(key, `/requests/${id}/respond`, { decision: 'deny', user_verification: 'none' }, device.id);
      assert.deepEqual([neither.statusCode, neither.json().code], [400, 'invalid_request']);
      const both = await signed(key, `/requests/${id}/respond`, { decision: 'deny', user_verification: 'none', signature: 'A'.repeat(86), webauthn: assertion }, device.id);
      assert.deepEqual([both.statusCode, both.json().code], [400, 'invalid_request']);
      const noCredential = await signed(key, `/requests/${id}/respond`, { decision: 'approve', user_verification: 'webauthn', webauthn: assertion }, device.id);
      assert.deepEqual([noCredential.statusCode, noCredential.json().code], [400, 'invalid_request']);
      assert.equal((await tenant.request('GET', `/v1/verifications/${id}`)).json().status, 'pending');
    });
  });
}
