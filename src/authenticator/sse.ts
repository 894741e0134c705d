/**
 * A server-sent events parser (WHATWG HTML §9.2.6, "Interpreting an event stream"): lines end in
 * LF, CRLF or CR, which may be split across chunks; `:` starts a comment; `data` lines join with
 * LF; a blank line dispatches; an event without data is dropped; an unfinished event at the end
 * of the stream is dropped.
 */

export interface SseEvent {
  /** `event:`; "message" when absent. */
  type: string;
  data: string;
  /** The last `id:` seen (it persists across events, as the spec says). */
  lastEventId: string;
}

export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** A `:` comment line, such as the server's `: ping`. */
  onComment?(text: string): void;
  /** A valid `retry:` field: the reconnection delay the server asks for, in ms. */
  onRetry?(ms: number): void;
}

export interface SseParser {
  /** Feeds decoded text; chunks may split lines (even a CRLF) anywhere. */
  push(text: string): void;
  /** The stream ended: drops a half-received event. */
  end(): void;
}

export function createSseParser(handlers: SseHandlers): SseParser {
  let buffer = '';
  let afterCr = false;
  let first = true;
  let type = '';
  let data = '';
  let hasData = false;
  let lastEventId = '';

  function line(text: string): void {
    if (text === '') {
      if (hasData) handlers.onEvent({ type: type === '' ? 'message' : type, data: data.endsWith('\n') ? data.slice(0, -1) : data, lastEventId });
      type = '';
      data = '';
      hasData = false;
      return;
    }
    if (text.startsWith(':')) {
      handlers.onComment?.(text.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        type = value;
        break;
      case 'data':
        data += `${value}\n`;
        hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) handlers.onRetry?.(Number(value));
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  return {
    push(text) {
      if (first && text.length > 0) {
        first = false;
        if (text.startsWith('\uFEFF')) text = text.slice(1);
      }
      // A CR that ended the previous chunk already ended its line: a LF right after it is part of that CRLF.
      if (afterCr && text.startsWith('\n')) text = text.slice(1);
      afterCr = false;
      buffer += text;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const char = buffer[i];
        if (char !== '\n' && char !== '\r') continue;
        const content = buffer.slice(start, i);
        if (char === '\r') {
          if (i + 1 === buffer.length) afterCr = true;
          else if (buffer[i + 1] === '\n') i++;
        }
        start = i + 1;
        line(content);
      }
      buffer = buffer.slice(start);
    },
    end() {
      buffer = '';
      type = '';
      data = '';
      hasData = false;
    },
  };
}

/** The events of a byte stream (such as fetch's `res.body`), decoding UTF-8 across chunk edges. */
export async function* readSse(body: AsyncIterable<Uint8Array>, handlers: Omit<SseHandlers, 'onEvent'> = {}): AsyncGenerator<SseEvent> {
  const queue: SseEvent[] = [];
  const parser = createSseParser({ ...handlers, onEvent: (event) => queue.push(event) });
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body) {
    parser.push(decoder.decode(chunk, { stream: true }));
    while (queue.length > 0) yield queue.shift() as SseEvent;
  }
  parser.push(decoder.decode());
  parser.end();
  while (queue.length > 0) yield queue.shift() as SseEvent;
}
