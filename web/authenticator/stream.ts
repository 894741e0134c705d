/**
 * The device's event stream in the browser. EventSource cannot send the Authorization header,
 * so this is fetch + a ReadableStream read through the same SSE parser the reference client
 * uses. Reconnects with exponential backoff and jitter (1 s … 30 s), after silence (45 s
 * without even a ping), and when the browser comes back online; every connection signs a new JWS.
 */
import { createSseParser } from '../../src/authenticator/sse.ts';
import { ApiError, type DeviceApi, type PushRequest } from './api.ts';

export interface StreamHandlers {
  onOpen(): void;
  onRequest(request: PushRequest): void;
  onWithdrawn(change: { id: string; status: string; reason: string | null }): void;
  onRevoked(): void;
  /** The connection dropped; the next try is in `delayMs`. */
  onRetry(delayMs: number, error: unknown): void;
  /** The server refused the device itself (a 4xx other than 408/429): retrying will not help. */
  onRefused(error: ApiError): void;
}

const INITIAL_MS = 1000;
const MAX_MS = 30_000;
const IDLE_MS = 45_000;

/** Runs until `signal` aborts, the device is revoked, or the server refuses it. */
export async function follow(api: DeviceApi, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
  let attempt = 0;
  let serverRetry: number | null = null;
  while (!signal.aborted) {
    const connection = new AbortController();
    const stop = () => connection.abort();
    signal.addEventListener('abort', stop, { once: true });
    let idle = 0;
    const arm = () => {
      clearTimeout(idle);
      idle = window.setTimeout(() => connection.abort(), IDLE_MS);
    };
    let revoked = false;
    try {
      arm();
      const res = await api.stream(connection.signal);
      if (!res.ok || res.body === null) {
        const body = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
        throw new ApiError(res.status, body.code ?? 'http_error', body.detail ?? res.statusText);
      }
      handlers.onOpen();
      const parser = createSseParser({
        onEvent: (event) => {
          attempt = 0;
          let data: unknown;
          try {
            data = JSON.parse(event.data);
          } catch {
            return; // a malformed event is skipped
          }
          if (event.type === 'request') handlers.onRequest(data as PushRequest);
          else if (event.type === 'withdrawn') handlers.onWithdrawn(data as { id: string; status: string; reason: string | null });
          else if (event.type === 'revoked') revoked = true;
        },
        onComment: () => {
          attempt = 0;
        },
        onRetry: (ms) => {
          serverRetry = ms;
        },
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        parser.push(value);
        if (revoked) break;
      }
      parser.end();
      if (revoked) {
        handlers.onRevoked();
        return;
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) {
        handlers.onRefused(error);
        return;
      }
      void error;
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', stop);
      connection.abort();
    }
    if (signal.aborted) return;
    const base = serverRetry ?? Math.min(MAX_MS, INITIAL_MS * 2 ** Math.min(attempt, 30));
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    serverRetry = null;
    attempt++;
    handlers.onRetry(delay, null);
    await new Promise<void>((resolve) => {
      const timer = window.setTimeout(done, delay);
      // Back online: try at once rather than wait out the backoff.
      window.addEventListener('online', done, { once: true });
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        window.removeEventListener('online', done);
        resolve();
      }
    });
  }
}
