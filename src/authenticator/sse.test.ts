import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSseParser, readSse, type SseEvent } from './sse.ts';

function parseAll(chunks: string[]): { events: SseEvent[]; comments: string[]; retries: number[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const parser = createSseParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c), onRetry: (ms) => retries.push(ms) });
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return { events, comments, retries };
}

const STREAM =
  ': ping\r\n' +
  'event: request\r\n' +
  'id: 1\r\n' +
  'data: {"id":"vrf_1",\r\n' +
  'data: "x":"é"}\r\n' +
  '\r\n' +
  ':\n' +
  'retry: 2500\n' +
  'event: withdrawn\rdata:{"id":"vrf_1"}\r\r' +
  'data\n\n' +
  'event: revoked\n' +
  'data: {}\n' +
  '\n' +
  'event: half\ndata: never dispatched';

const EXPECTED: SseEvent[] = [
  { type: 'request', data: '{"id":"vrf_1",\n"x":"é"}', lastEventId: '1' },
  { type: 'withdrawn', data: '{"id":"vrf_1"}', lastEventId: '1' },
  { type: 'message', data: '', lastEventId: '1' },
  { type: 'revoked', data: '{}', lastEventId: '1' },
];

describe('SSE parser', () => {
  test('case=whole: events, comments, multi-line data, CRLF/CR/LF, retry; the unfinished event is dropped', () => {
    const { events, comments, retries } = parseAll([STREAM]);
    assert.deepEqual(events, EXPECTED);
    assert.deepEqual(comments, ['ping', '']);
    assert.deepEqual(retries, [2500]);
  });

  test('case=split anywhere: every single split point, and one character per chunk, give the same events', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      assert.deepEqual(parseAll([STREAM.slice(0, i), STREAM.slice(i)]).events, EXPECTED, `split at ${i}: ${JSON.stringify(STREAM.slice(i - 2, i + 2))}`);
    }
    assert.deepEqual(parseAll([...STREAM]).events, EXPECTED);
  });

  test('case=CRLF split between chunks: one line end, not two', () => {
    const { events } = parseAll(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
    assert.deepEqual(events, [{ type: 'message', data: 'a\nb', lastEventId: '' }]);
  });

  test('case=fields: one leading space is dropped; no colon is a field with an empty value; unknown fields and bad retry ignored', () => {
    const { events, retries } = parseAll(['data:  two spaces\nfoo: bar\nretry: 1s\nevent\ndata\n\n']);
    assert.deepEqual(events, [{ type: 'message', data: ' two spaces\n', lastEventId: '' }]);
    assert.deepEqual(retries, []);
  });

  test('case=event without data: not dispatched, and its type does not leak into the next', () => {
    const { events } = parseAll(['event: request\n\ndata: x\n\n']);
    assert.deepEqual(events, [{ type: 'message', data: 'x', lastEventId: '' }]);
  });

  test('case=BOM: a leading byte order mark is skipped', () => {
    assert.deepEqual(parseAll(['\uFEFFdata: x\n\n']).events, [{ type: 'message', data: 'x', lastEventId: '' }]);
  });
});

describe('readSse', () => {
  test('case=UTF-8 split inside a character across byte chunks', async () => {
    const bytes = new TextEncoder().encode('event: request\ndata: {"m":"Grüße ✓"}\n\n');
    const at = bytes.indexOf(0xc3) + 1; // inside the two bytes of "ü"
    async function* body() {
      yield bytes.slice(0, at);
      yield bytes.slice(at, at + 1);
      yield bytes.slice(at + 1);
    }
    const events: SseEvent[] = [];
    for await (const event of readSse(body())) events.push(event);
    assert.deepEqual(events, [{ type: 'request', data: '{"m":"Grüße ✓"}', lastEventId: '' }]);
  });
});
