// docs/device-api.md promises that its worked example is real. This keeps it so: every value is
// re-derived here with the client's own functions and checked against the document.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { compactVerify, importJWK } from 'jose';
import { parseEnrollmentLink } from './enrollment-link.ts';
import { responseSigningInput, type Decision, type UserVerification } from './signing-input.ts';

const DOC = readFileSync(new URL('../../docs/device-api.md', import.meta.url), 'utf8');

/** The code block right after `<!-- example:NAME -->`, exactly as written. */
function example(name: string): string {
  const match = new RegExp(`<!-- example:${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(DOC);
  assert.ok(match, `docs/device-api.md has no example "${name}"`);
  return match[1] as string;
}

/** Method, path and JWS of an example HTTP request. */
function httpRequest(name: string): { method: string; path: string; jws: string } {
  const text = example(name);
  const [, method, path] = /^(\w+) (\S+) HTTP\/1\.1$/m.exec(text) ?? [];
  const [, jws] = /^Authorization: Device (\S+)$/m.exec(text) ?? [];
  assert.ok(method && path && jws, `example ${name} lacks a request line or Authorization`);
  return { method, path, jws };
}

async function checkJws(request: { method: string; path: string; jws: string }, publicJwk: Record<string, string>, header: string, claims: string, body: string): Promise<void> {
  const { payload, protectedHeader } = await compactVerify(request.jws, await importJWK(publicJwk, 'ES256'), { algorithms: ['ES256'] });
  assert.deepEqual(protectedHeader, JSON.parse(header));
  assert.equal(new TextDecoder().decode(payload), claims, 'the claims shown are the signed payload, byte for byte');
  const parsed = JSON.parse(claims) as Record<string, unknown>;
  assert.equal(parsed['htm'], request.method);
  assert.equal(parsed['htu'], request.path);
  assert.equal(parsed['bsh'], createHash('sha256').update(body, 'utf8').digest('base64url'), 'bsh is the hash of the body shown');
}

describe('docs/device-api.md worked example', () => {
  const publicJwk = JSON.parse(example('public-key')) as Record<string, string>;

  test('step=enrol: the link, the body and a JWS that verifies with the body key', async () => {
    const body = example('enroll-body');
    const parsed = JSON.parse(body) as { token: string; public_key: unknown };
    assert.deepEqual(parsed.public_key, publicJwk);
    const [, link] = /The user scans `([^`]+)`/.exec(DOC) ?? [];
    const { api, token } = parseEnrollmentLink(link ?? '');
    assert.equal(token, parsed.token);
    assert.equal((JSON.parse(example('enroll-claims')) as { aud: string }).aud, `${api}/v1/device-api`);
    const request = httpRequest('enroll-request');
    assert.equal(request.path, '/v1/device-api/enroll');
    await checkJws(request, publicJwk, example('enroll-header'), example('enroll-claims'), body);
  });

  test('step=respond: the signing input from the request and body, a signature over it, a JWS that verifies', async () => {
    const request = JSON.parse(example('request')) as { id: string; challenge: string; choices: string[] };
    const body = JSON.parse(example('respond-body')) as { decision: Decision; user_verification: UserVerification; answer: string; signature: string };
    const header = JSON.parse(example('respond-header')) as { kid: string };
    const input = responseSigningInput({ requestId: request.id, deviceId: header.kid, challenge: request.challenge, decision: body.decision, userVerification: body.user_verification, answer: body.answer });
    assert.equal(example('signing-input'), input);
    assert.ok(request.choices.includes(body.answer));
    const signature = Buffer.from(body.signature, 'base64url');
    assert.equal(signature.length, 64);
    assert.ok(verify('sha256', Buffer.from(input, 'utf8'), { key: createPublicKey({ key: publicJwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, signature), 'the signature verifies');
    const http = httpRequest('respond-request');
    assert.equal(http.path, `/v1/device-api/requests/${request.id}/respond`);
    await checkJws(http, publicJwk, example('respond-header'), example('respond-claims'), example('respond-body'));
  });
});
