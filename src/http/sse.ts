import type { FastifyReply } from 'fastify';
import { onAbort } from '../events/on-abort.ts';

/** Comment lines keep proxies and clients from taking a quiet stream for a dead one. */
const KEEPALIVE_MS = 15_000;

export interface EventStream {
  /** `event: null` sends an unnamed event (a `message` to EventSource); `id` sets the id a client resumes from. */
  send(event: string | null, data: unknown, id?: string): void;
  /** As send, with the data already JSON (one line: JSON.stringify never writes a newline). */
  sendJson(event: string | null, json: string, id?: string): void;
  /** An event already encoded by `encodeEvent`: streams that send the same event share its bytes. */
  sendEncoded(bytes: Buffer): void;
  /** Ends the stream; `closed` resolves. */
  end(): void;
  /** Resolves when the stream ends, from either side. */
  closed: Promise<void>;
  readonly isClosed: boolean;
}

function eventText(event: string | null, json: string, id: string | undefined): string {
  return `${id === undefined ? '' : `id: ${id}\n`}${event === null ? '' : `event: ${event}\n`}data: ${json}\n\n`;
}

/**
 * An event as the bytes a stream writes. Many streams woken by one change send the same event:
 * encoded once, each write is a copy of bytes, where a text would be joined, measured and encoded
 * again per stream (masked addresses make the JSON two-byte text, slow to measure and encode).
 */
export function encodeEvent(event: string | null, json: string, id?: string): Buffer {
  return Buffer.from(eventText(event, json, id), 'utf8');
}

/**
 * Takes over the reply as a Server-Sent Events stream (text/event-stream). The route then
 * awaits `closed`: the client went, the server shuts down (`shutdown`), or `end` was called.
 */
export function openEventStream(reply: FastifyReply, shutdown: AbortSignal): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(reply.request.id),
  });
  raw.write(': stream open\n\n');
  let isClosed = false;
  let finish = () => {};
  const closed = new Promise<void>((resolve) => (finish = resolve));
  const keepalive = setInterval(() => raw.write(': ping\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  let forgetShutdown = () => {};
  const end = () => {
    if (isClosed) return;
    isClosed = true;
    clearInterval(keepalive);
    forgetShutdown();
    raw.end();
    finish();
  };
  raw.on('close', end);
  forgetShutdown = onAbort(shutdown, end);
  const sendJson = (event: string | null, json: string, id?: string) => {
    if (isClosed) return;
    raw.write(eventText(event, json, id));
  };
  return {
    send: (event, data, id) => sendJson(event, JSON.stringify(data), id),
    sendJson,
    sendEncoded: (bytes) => {
      if (!isClosed) raw.write(bytes);
    },
    end,
    closed,
    get isClosed() {
      return isClosed;
    },
  };
}
