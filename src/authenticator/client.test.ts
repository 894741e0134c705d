// The client against a strict peer on 127.0.0.1 that checks every JWS and response signature.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createDeviceClient, enroll, type DeviceClient } from './client.ts';
import { DeviceApiError } from './errors.ts';
import { startFakeDeviceApi, type FakeDeviceApi } from '../../test/helpers/fake-device-api.ts';
import type { StoredAuthenticator } from './key-file.ts';
import type { DeviceRequest, Withdrawal } from './objects.ts';

const FAST = { initialDelayMs: 20, maxDelayMs: 100, idleTimeoutMs: 2000 };

describe('device API client', () => {
  let peer: FakeDeviceApi;
  let authenticator: StoredAuthenticator;
  let client: DeviceClient;

  beforeEach(async () => {
    peer = await startFakeDeviceApi();
    ({ authenticator } = await enroll(peer.issueLink().link, { name: 'Test CLI', capabilities: ['push', 'pin'] }));
    client = createDeviceClient(authenticator, { streamTiming: FAST });
  });
  afterEach(async () => {
    await peer.close();
  });

  test('method=enroll: sends token, public key (no d), name, capabilities, stream transport; keeps what the server answered', async () => {
    const call = peer.calls[0];
    assert.ok(call !== undefined);
    assert.equal(call.url, '/v1/device-api/enroll');
    assert.equal('kid' in call.header, false);
    const body = JSON.parse(call.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['token', 'public_key', 'name', 'capabilities', 'transport']);
    assert.deepEqual(Object.keys(body['public_key'] as object).sort(), ['crv', 'kty', 'x', 'y']);
    assert.deepEqual(body['capabilities'], ['push', 'pin']);
    assert.deepEqual(body['transport'], { type: 'stream' });
    assert.equal(authenticator.device_id, 'dev_1');
    assert.equal(authenticator.name, 'Test CLI');
    assert.equal(authenticator.audience, `${peer.api}/v1/device-api`);
    assert.equal(authenticator.api, peer.api);
    assert.equal(typeof authenticator.private_jwk.d, 'string');
  });

  test('method=enroll case=token used twice: activation_invalid', async () => {
    const { link } = peer.issueLink();
    await enroll(link, { capabilities: ['push'] });
    await assert.rejects(enroll(link, { capabilities: ['push'] }), (e: unknown) => e instanceof DeviceApiError && e.status === 400 && e.code === 'activation_invalid');
  });

  test('method=device, requests, request: signed with kid, fresh jti each call', async () => {
    assert.equal((await client.device()).id, 'dev_1');
    const added = peer.addRequest('dev_1');
    assert.deepEqual(await client.requests(), [added]);
    assert.deepEqual(await client.request(added.id), added);
    const signed = peer.calls.slice(1);
    assert.deepEqual(
      signed.map((c) => [c.method, c.url, c.header['kid']]),
      [
        ['GET', '/v1/device-api/device', 'dev_1'],
        ['GET', '/v1/device-api/requests', 'dev_1'],
        ['GET', `/v1/device-api/requests/${added.id}`, 'dev_1'],
      ],
    );
    assert.equal(new Set(peer.calls.map((c) => c.claims['jti'])).size, peer.calls.length);
    await assert.rejects(client.request('vrf_nope'), (e: unknown) => e instanceof DeviceApiError && e.status === 404 && e.code === 'request_not_found');
  });

  test('method=respond: signs over the challenge it read; pick sends the answer; read_back returns the code', async () => {
    const pick = peer.addRequest('dev_1', { matching: 'pick', choices: ['42', '07', '91'] });
    const readBack = peer.addRequest('dev_1', { matching: 'read_back' });
    const plain = peer.addRequest('dev_1');
    await client.requests();
    assert.deepEqual(await client.respond(pick.id, { decision: 'approve', userVerification: 'pin', answer: '42' }), { id: pick.id, status: 'approved', reason: null });
    const result = await client.respond(readBack.id, { decision: 'approve', userVerification: 'biometric' });
    assert.equal(result.read_back_code, '123456');
    // Not read before: the client fetches it for the challenge first.
    const fresh = createDeviceClient(authenticator);
    assert.equal((await fresh.respond(plain.id, { decision: 'report_fraud', userVerification: 'none' })).reason, 'fraud_reported');
    assert.deepEqual(peer.responses, [
      { id: pick.id, decision: 'approve', user_verification: 'pin', answer: '42' },
      { id: readBack.id, decision: 'approve', user_verification: 'biometric' },
      { id: plain.id, decision: 'report_fraud', user_verification: 'none' },
    ]);
    const respondCall = peer.calls.find((c) => c.url === `/v1/device-api/requests/${pick.id}/respond`);
    assert.deepEqual(Object.keys(JSON.parse(respondCall?.body ?? '{}') as object), ['decision', 'user_verification', 'answer', 'signature']);
  });

  test('method=respond case=refusals: typed errors with status and code', async () => {
    const request = peer.addRequest('dev_1');
    await assert.rejects(client.respond(request.id, { decision: 'approve', userVerification: 'none' }), (e: unknown) => e instanceof DeviceApiError && e.status === 422 && e.code === 'user_verification_required');
    await client.respond(request.id, { decision: 'deny', userVerification: 'none' });
    await assert.rejects(client.respond(request.id, { decision: 'deny', userVerification: 'none' }), (e: unknown) => e instanceof DeviceApiError && e.status === 409 && e.code === 'verification_not_pending');
  });

  test('case=unknown device: invalid_device_signature', async () => {
    peer.revoke('dev_1');
    await assert.rejects(client.device(), (e: unknown) => e instanceof DeviceApiError && e.status === 401 && e.code === 'invalid_device_signature');
  });

  test('method=stream: pending on connect, new ones, withdrawals; reconnects after a drop with a new jti and gets the pending again; ends on revoked', async () => {
    const first = peer.addRequest('dev_1');
    const seen: string[] = [];
    const opened: number[] = [];
    const errors: unknown[] = [];
    let onEvent = () => {};
    const next = () => new Promise<void>((resolve) => (onEvent = resolve));
    const record = (line: string) => {
      seen.push(line);
      onEvent();
    };
    let wait = next();
    const ended = client.stream({
      signal: AbortSignal.timeout(10_000),
      onOpen: () => opened.push(Date.now()),
      onRequest: (r: DeviceRequest) => record(`request ${r.id}`),
      onWithdrawn: (w: Withdrawal) => record(`withdrawn ${w.id} ${w.status}`),
      onRevoked: () => record('revoked'),
      onError: (error) => errors.push(error),
    });
    await wait; // 1. the pending one on connect
    wait = next();
    const second = peer.addRequest('dev_1');
    await wait; // 2. a new one
    wait = next();
    peer.withdraw(first.id, 'expired');
    await wait; // 3. a withdrawal
    wait = next();
    peer.dropStreams();
    await wait; // 4. after the reconnect: the still-pending one again
    assert.equal(opened.length, 2);
    assert.ok(errors.length >= 1);
    peer.revoke('dev_1');
    assert.equal(await ended, 'revoked');
    assert.deepEqual(seen, [`request ${first.id}`, `request ${second.id}`, `withdrawn ${first.id} expired`, `request ${second.id}`, 'revoked']);
    const streamCalls = peer.calls.filter((c) => c.url === '/v1/device-api/stream');
    assert.equal(streamCalls.length, 2);
    assert.notEqual(streamCalls[0]?.claims['jti'], streamCalls[1]?.claims['jti']);
  });

  test('method=stream case=abort: resolves "aborted"', async () => {
    const controller = new AbortController();
    const ended = client.stream({ signal: controller.signal, onOpen: () => controller.abort(), onRequest() {}, onWithdrawn() {}, onRevoked() {} });
    assert.equal(await ended, 'aborted');
  });

  test('method=stream case=device unknown to the server: rejects with the 401, no endless retry', async () => {
    peer.revoke('dev_1');
    await assert.rejects(
      client.stream({ signal: AbortSignal.timeout(5000), onRequest() {}, onWithdrawn() {}, onRevoked() {} }),
      (e: unknown) => e instanceof DeviceApiError && e.code === 'invalid_device_signature',
    );
  });
});
