import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeviceApiError } from './errors.ts';
import { backoffDelay, runStream, type OpenStream } from './stream.ts';

const REQUEST = { id: 'vrf_1', challenge: 'c', application: 'A', message: 'm', context: {}, purpose: 'authentication', user_verification: 'required', matching: 'none', choices: null, created_at: '2026-12-01T10:00:00Z', expires_at: '2026-12-01T10:02:00Z' };
const TIMING = { initialDelayMs: 10, maxDelayMs: 40, idleTimeoutMs: 5000 };

/** A response whose body is the given chunks; it stays open after them when `hold` is set. */
function sse(chunks: string[], hold = false): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      if (!hold) controller.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

function problem(status: number, code: string): Response {
  return new Response(JSON.stringify({ code, detail: code, status }), { status, headers: { 'content-type': 'application/problem+json' } });
}

/** Answers the responses in turn (the last one again after the end); ignores the abort signal, as a careless fetch might. */
function opener(responses: Array<() => Response>): { open: OpenStream; count: () => number } {
  let n = 0;
  return {
    open: async () => (responses[Math.min(n++, responses.length - 1)] as () => Response)(),
    count: () => n,
  };
}

describe('backoffDelay', () => {
  test('doubles per attempt between half and the whole, capped', () => {
    const timing = { initialDelayMs: 1000, maxDelayMs: 30_000 };
    assert.equal(backoffDelay(0, timing, () => 0), 500);
    assert.equal(backoffDelay(0, timing, () => 1), 1000);
    assert.equal(backoffDelay(3, timing, () => 1), 8000);
    assert.equal(backoffDelay(10, timing, () => 0), 15_000);
    assert.equal(backoffDelay(1000, timing, () => 1), 30_000);
  });
});

describe('runStream', () => {
  test('case=retryable failures (network, 503, 429, a clean close): reconnects until revoked', async () => {
    const { open, count } = opener([
      () => {
        throw new TypeError('fetch failed');
      },
      () => problem(503, 'service_unavailable'),
      () => problem(429, 'rate_limited'),
      () => sse([`event: request\ndata: ${JSON.stringify(REQUEST)}\n\n`]),
      () => sse(['event: revoked\ndata: {}\n\n']),
    ]);
    const errors: Array<[string, number | null]> = [];
    const requests: string[] = [];
    let revoked = 0;
    const end = await runStream(open, {
      signal: AbortSignal.timeout(5000),
      onRequest: (r) => requests.push(r.id),
      onWithdrawn() {},
      onRevoked: () => revoked++,
      onError: (error, retry) => errors.push([error instanceof DeviceApiError ? error.code : (error as Error).name, retry]),
    }, TIMING);
    assert.equal(end, 'revoked');
    assert.equal(revoked, 1);
    assert.equal(count(), 5);
    assert.deepEqual(requests, ['vrf_1']);
    assert.deepEqual(errors.map(([code]) => code), ['TypeError', 'service_unavailable', 'rate_limited', 'StreamClosed']);
    for (const [, retry] of errors) assert.ok(retry !== null && retry <= TIMING.maxDelayMs);
  });

  test('case=refused (403): rejects at once with the error', async () => {
    const { open, count } = opener([() => problem(403, 'forbidden')]);
    await assert.rejects(runStream(open, { signal: AbortSignal.timeout(5000), onRequest() {}, onWithdrawn() {}, onRevoked() {} }, TIMING), (e: unknown) => e instanceof DeviceApiError && e.status === 403);
    assert.equal(count(), 1);
  });

  test('case=malformed events: skipped and reported with retry null; the good ones still arrive; unknown types ignored', async () => {
    const { open } = opener([
      () => sse(['event: request\ndata: {not json\n\n', 'event: request\ndata: {"id":"x"}\n\n', 'event: future\ndata: 1\n\n', `event: request\ndata: ${JSON.stringify(REQUEST)}\n\n`, 'event: withdrawn\ndata: {"id":"vrf_1","status":"expired","reason":null}\n\nevent: revoked\ndata: {}\n\n']),
    ]);
    const seen: string[] = [];
    const end = await runStream(open, {
      signal: AbortSignal.timeout(5000),
      onRequest: (r) => seen.push(`request ${r.id}`),
      onWithdrawn: (w) => seen.push(`withdrawn ${w.id} ${w.status}`),
      onRevoked: () => seen.push('revoked'),
      onError: (_e, retry) => seen.push(`error ${retry}`),
    }, TIMING);
    assert.equal(end, 'revoked');
    assert.deepEqual(seen, ['error null', 'error null', 'request vrf_1', 'withdrawn vrf_1 expired', 'revoked']);
  });

  test('case=silent connection: dropped after the idle timeout and reopened', async () => {
    const { open, count } = opener([() => sse([': ping\n\n'], true), () => sse(['event: revoked\ndata: {}\n\n'])]);
    const errors: string[] = [];
    const end = await runStream(open, { signal: AbortSignal.timeout(5000), onRequest() {}, onWithdrawn() {}, onRevoked() {}, onError: (e) => errors.push((e as Error).name) }, { ...TIMING, idleTimeoutMs: 100 });
    assert.equal(end, 'revoked');
    assert.equal(count(), 2);
    assert.deepEqual(errors, ['IdleTimeout']);
  });

  test('case=retry field: the server-given delay is used for the next reconnect', async () => {
    const { open } = opener([() => sse(['retry: 7\n: hi\n\n']), () => sse(['event: revoked\ndata: {}\n\n'])]);
    const delays: Array<number | null> = [];
    await runStream(open, { signal: AbortSignal.timeout(5000), onRequest() {}, onWithdrawn() {}, onRevoked() {}, onError: (_e, retry) => delays.push(retry) }, TIMING);
    assert.deepEqual(delays, [7]);
  });

  test('case=aborted while waiting to reconnect: resolves "aborted"', async () => {
    const controller = new AbortController();
    const { open } = opener([() => problem(503, 'service_unavailable')]);
    const end = runStream(open, { signal: controller.signal, onRequest() {}, onWithdrawn() {}, onRevoked() {}, onError: () => controller.abort() }, { ...TIMING, initialDelayMs: 60_000, maxDelayMs: 60_000 });
    assert.equal(await end, 'aborted');
  });
});
