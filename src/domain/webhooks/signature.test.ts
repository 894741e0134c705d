import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { newSigningSecret, sign, signatureHeader, verifies } from './signature.ts';

const random = { bytes: (n: number) => new Uint8Array(randomBytes(n)) };

describe('webhook signatures (SEC-39)', () => {
  test('SEC-39: a secret is whsec_ + base64 of 32 random bytes, different each time', () => {
    const a = newSigningSecret(random);
    const b = newSigningSecret(random);
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(a.slice(6), 'base64').length, 32);
    assert.notEqual(a, b);
  });

  test('SEC-39: v1 signature = base64 HMAC-SHA256(base64-decoded secret, id.timestamp.body), as the reference library signs', () => {
    const secret = newSigningSecret(random);
    const body = '{"type":"user.created","timestamp":"2026-01-01T00:00:00.000Z","data":{"é":1}}';
    const expected = 'v1,' + createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`msg_1.1767225600.${body}`).digest('base64');
    assert.equal(sign(secret, 'msg_1', 1767225600, body), expected);
    assert.equal(new Webhook(secret).sign('msg_1', new Date(1767225600 * 1000), body), expected);
  });

  test('SEC-39: the header carries one signature per secret, and either secret verifies', () => {
    const [a, b] = [newSigningSecret(random), newSigningSecret(random)];
    const header = signatureHeader([a, b], 'msg_2', 100, 'body');
    assert.equal(header.split(' ').length, 2);
    assert.ok(verifies(a, 'msg_2', 100, 'body', header));
    assert.ok(verifies(b, 'msg_2', 100, 'body', header));
    assert.ok(!verifies(newSigningSecret(random), 'msg_2', 100, 'body', header));
    assert.ok(!verifies(a, 'msg_2', 100, 'body!', header));
    assert.ok(!verifies(a, 'msg_2', 101, 'body', header));
  });
});
