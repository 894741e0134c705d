/**
 * The device's event stream (`GET /v1/device-api/stream`) kept open: it reconnects with backoff
 * after a drop, a server restart or silence (no byte, not even the 15 s `: ping`, for too long),
 * and stops only when asked to, when the device is revoked, or when the server refuses the
 * device itself (a 4xx such as `invalid_device_signature`: retrying would not help).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceApiError, errorFromResponse } from './errors.ts';
import { assertRequest, assertWithdrawal, type DeviceRequest, type Withdrawal } from './objects.ts';
import { readSse, type SseEvent } from './sse.ts';

export interface StreamHandlers {
  signal: AbortSignal;
  /** A request to answer: each pending one on (re)connect, then new ones as they arrive. */
  onRequest(request: DeviceRequest): void;
  /** A request can no longer be answered: answered elsewhere, cancelled or expired. */
  onWithdrawn(withdrawal: Withdrawal): void;
  /** The device was unpaired; the stream ends. */
  onRevoked(): void;
  /** A connection is open (after each reconnect too). */
  onOpen?(): void;
  /**
   * Something went wrong but the stream goes on: a connection failed and is retried in
   * `retryInMs`, or (`retryInMs` null) one malformed event was skipped.
   */
  onError?(error: unknown, retryInMs: number | null): void;
}

export interface StreamTiming {
  /** First reconnection delay; doubles per failed attempt. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Reconnect when nothing (not even a ping) arrived for this long. */
  idleTimeoutMs: number;
}

export const DEFAULT_STREAM_TIMING: StreamTiming = { initialDelayMs: 1000, maxDelayMs: 30_000, idleTimeoutMs: 45_000 };

/** How the stream ended: it was aborted, or the device was revoked. A refusal rejects instead. */
export type StreamEnd = 'aborted' | 'revoked';

/** Opens one connection: a freshly signed `GET …/stream` (new jti and iat each time). */
export type OpenStream = (signal: AbortSignal) => Promise<Response>;

/** Exponential backoff with "equal jitter": half fixed, half random, so clients spread out. */
export function backoffDelay(attempt: number, timing: Pick<StreamTiming, 'initialDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const base = Math.min(timing.maxDelayMs, timing.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + (random() * base) / 2);
}

/** A refusal of the device or the request (4xx), which no retry can change; 408 and 429 are retried. */
function isPermanent(error: unknown): boolean {
  return error instanceof DeviceApiError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

class IdleTimeout extends Error {
  constructor(ms: number) {
    super(`nothing arrived on the stream for ${Math.round(ms / 1000)} s`);
    this.name = 'IdleTimeout';
  }
}

class StreamClosed extends Error {
  constructor() {
    super('the server closed the stream');
    this.name = 'StreamClosed';
  }
}

export async function runStream(open: OpenStream, handlers: StreamHandlers, timing: StreamTiming = DEFAULT_STREAM_TIMING, random: () => number = Math.random): Promise<StreamEnd> {
  const { signal } = handlers;
  let attempt = 0;
  let serverRetryMs: number | null = null;
  while (!signal.aborted) {
    let outcome: 'revoked' | { error: unknown };
    const connection = new AbortController();
    const stop = () => connection.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => connection.abort(new IdleTimeout(timing.idleTimeoutMs)), timing.idleTimeoutMs);
    };
    try {
      arm();
      const res = await open(connection.signal);
      if (!res.ok) throw await errorFromResponse(res);
      if (!/^text\/event-stream\b/.test(res.headers.get('content-type') ?? '') || res.body === null) {
        await res.body?.cancel();
        throw new DeviceApiError(res.status, 'unexpected_response', 'the stream did not answer text/event-stream');
      }
      handlers.onOpen?.();
      outcome = { error: new StreamClosed() };
      // Any byte (an event, a `: ping`) shows the connection is alive and the server well.
      const body = chunks(res.body, connection.signal, () => {
        arm();
        attempt = 0;
      });
      for await (const event of readSse(body, { onRetry: (ms) => (serverRetryMs = ms) })) {
        if (dispatch(event, handlers) === 'revoked') {
          outcome = 'revoked';
          break;
        }
      }
    } catch (error) {
      outcome = { error: connection.signal.reason instanceof IdleTimeout ? connection.signal.reason : error };
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', stop);
      connection.abort();
    }
    if (outcome === 'revoked') return 'revoked';
    if (signal.aborted) return 'aborted';
    if (isPermanent(outcome.error)) throw outcome.error;
    const delay = attempt === 0 && serverRetryMs !== null ? serverRetryMs : backoffDelay(attempt, timing, random);
    attempt++;
    handlers.onError?.(outcome.error, delay);
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      return 'aborted';
    }
  }
  return 'aborted';
}

/**
 * The body's chunks, calling `onChunk` for each. An abort ends a pending read at once (by
 * cancelling the body) rather than trusting the fetch implementation to do it.
 */
async function* chunks(body: ReadableStream<Uint8Array>, signal: AbortSignal, onChunk: () => void): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  const onAbort = () => void reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (done) return;
      onChunk();
      yield value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    await reader.cancel().catch(() => {});
  }
}

function dispatch(event: SseEvent, handlers: StreamHandlers): 'revoked' | undefined {
  if (event.type === 'revoked') {
    handlers.onRevoked();
    return 'revoked';
  }
  if (event.type !== 'request' && event.type !== 'withdrawn') return undefined; // a later version's event: ignore
  let data: unknown;
  try {
    data = JSON.parse(event.data);
    if (event.type === 'request') assertRequest(data);
    else assertWithdrawal(data);
  } catch (error) {
    handlers.onError?.(error, null);
    return undefined;
  }
  if (event.type === 'request') handlers.onRequest(data as DeviceRequest);
  else handlers.onWithdrawn(data as Withdrawal);
  return undefined;
}
