import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';
import { generateDeviceKey, privateKeyObject } from './device-key.ts';
import { bodyHash, newJti, requestTarget, signDeviceJws } from './device-jws.ts';

const NOW = Date.UTC(2026, 11, 1, 10, 0, 0, 750);
const AUD = 'https://outband.example/v1/device-api';

describe('device JWS', () => {
  test('case=with body: header alg/typ/kid; claims aud, iat, jti, htm, htu with query, bsh over the exact bytes; verifies with the public key', async () => {
    const { privateJwk, publicJwk } = generateDeviceKey();
    const body = new TextEncoder().encode('{"decision":"approve","user_verification":"pin","signature":"…"}');
    const jws = await signDeviceJws({
      key: privateKeyObject(privateJwk),
      kid: 'dev_c3k9',
      audience: AUD,
      method: 'post',
      url: 'https://outband.example/v1/device-api/requests/vrf_1/respond?x=1',
      body,
      now: NOW,
      jti: 'AAECAwQFBgcICQoLDA0ODw',
    });
    assert.deepEqual(decodeProtectedHeader(jws), { alg: 'ES256', typ: 'device-api+jwt', kid: 'dev_c3k9' });
    const claims = decodeJwt(jws);
    assert.deepEqual(claims, {
      aud: AUD,
      iat: Math.floor(NOW / 1000),
      jti: 'AAECAwQFBgcICQoLDA0ODw',
      htm: 'POST',
      htu: '/v1/device-api/requests/vrf_1/respond?x=1',
      bsh: createHash('sha256').update(body).digest('base64url'),
    });
    const { protectedHeader } = await compactVerify(jws, await importJWK({ ...publicJwk }, 'ES256'));
    assert.equal(protectedHeader.alg, 'ES256');
    const signature = Buffer.from(jws.split('.')[2] as string, 'base64url');
    assert.equal(signature.length, 64, 'JWS ES256 signatures are r||s');
  });

  test('case=no body, no kid (enrolment): no bsh member, no kid in the header', async () => {
    const { privateJwk } = generateDeviceKey();
    const jws = await signDeviceJws({ key: privateKeyObject(privateJwk), audience: AUD, method: 'GET', url: 'https://outband.example/v1/device-api/stream', now: NOW, jti: newJti() });
    assert.deepEqual(decodeProtectedHeader(jws), { alg: 'ES256', typ: 'device-api+jwt' });
    const claims = decodeJwt(jws);
    assert.equal(claims['htm'], 'GET');
    assert.equal(claims['htu'], '/v1/device-api/stream');
    assert.equal('bsh' in claims, false);
  });

  test('case=empty body: bsh is still present (the hash of zero bytes)', () => {
    assert.equal(bodyHash(new Uint8Array()), '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
  });

  test('case=jti: 16 random bytes, base64url, different each time', () => {
    const a = newJti();
    assert.match(a, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(a, 'base64url').length, 16);
    assert.notEqual(newJti(), a);
  });

  test('case=htu: path and query as fetch sends them, with a base path kept and percent-encoding normalised', () => {
    assert.equal(requestTarget('https://h.example/outband/v1/device-api/requests?a=1&b=2'), '/outband/v1/device-api/requests?a=1&b=2');
    assert.equal(requestTarget('https://h.example/v1/device-api/requests/vrf 1'), '/v1/device-api/requests/vrf%201');
  });
});
