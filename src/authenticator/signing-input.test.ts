import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import { generateDeviceKey, privateKeyObject } from './device-key.ts';
import { signResponse } from './response-signature.ts';
import { RESPONSE_SIGNING_CONTEXT, responseSigningInput, type ResponseFields } from './signing-input.ts';

const FIELDS: ResponseFields = {
  requestId: 'vrf_7xq2m4kz3n5c6v7b8n9m0q1w2e',
  deviceId: 'dev_c3k9w2m7x4q8z5n6b1v0t2r3y4',
  challenge: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg',
  decision: 'approve',
  userVerification: 'pin',
  answer: '42',
};

describe('responseSigningInput', () => {
  test('case=all fields: seven LF-separated lines, no trailing LF', () => {
    assert.equal(
      responseSigningInput(FIELDS),
      'outband-push-response/v1\nvrf_7xq2m4kz3n5c6v7b8n9m0q1w2e\ndev_c3k9w2m7x4q8z5n6b1v0t2r3y4\nn4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg\napprove\npin\n42',
    );
  });

  test('case=no answer: the last line is empty', () => {
    for (const answer of [undefined, null, '']) {
      const input = responseSigningInput({ ...FIELDS, decision: 'deny', userVerification: 'none', answer });
      assert.ok(input.endsWith('\ndeny\nnone\n'), JSON.stringify(input));
      assert.equal(input.split('\n').length, 7);
    }
  });

  test('case=fields differ: the input differs (decision, uv and answer are all bound)', () => {
    const base = responseSigningInput(FIELDS);
    assert.notEqual(responseSigningInput({ ...FIELDS, decision: 'deny' }), base);
    assert.notEqual(responseSigningInput({ ...FIELDS, userVerification: 'none' }), base);
    assert.notEqual(responseSigningInput({ ...FIELDS, answer: '43' }), base);
    assert.ok(base.startsWith(`${RESPONSE_SIGNING_CONTEXT}\n`));
  });

  test('case=line break in a field: refused, so no field can pose as the next', () => {
    assert.throws(() => responseSigningInput({ ...FIELDS, answer: '42\npin' }), /line break/);
    assert.throws(() => responseSigningInput({ ...FIELDS, requestId: 'vrf_1\r' }), /line break/);
  });
});

describe('signResponse', () => {
  test('a 64-byte P1363 ES256 signature over the UTF-8 signing input, verifiable with the public JWK', () => {
    const { privateJwk, publicJwk } = generateDeviceKey();
    const signature = Buffer.from(signResponse(privateKeyObject(privateJwk, publicJwk), FIELDS), 'base64url');
    assert.equal(signature.length, 64);
    const publicKey = createPublicKey({ key: { ...publicJwk }, format: 'jwk' });
    const data = Buffer.from(responseSigningInput(FIELDS), 'utf8');
    assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature));
    assert.ok(!verify('sha256', Buffer.from(responseSigningInput({ ...FIELDS, answer: '91' })), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature));
  });
});
