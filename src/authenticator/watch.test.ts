import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceClient, RespondInput } from './client.ts';
import { DeviceApiError } from './errors.ts';
import type { DeviceRequest, ResponseResult } from './objects.ts';
import type { StreamHandlers } from './stream.ts';
import { watch, type WatchIo, type WatchOptions } from './watch.ts';
import { plain } from './watch-format.ts';

const NOW = Date.UTC(2026, 11, 1, 10, 0, 0);

function request(id: string, fields: Partial<DeviceRequest> = {}): DeviceRequest {
  return {
    id,
    challenge: 'c',
    application: 'Acme Bank',
    message: 'Sign in?',
    context: { agent: 'Sam' },
    purpose: 'authentication',
    user_verification: 'required',
    matching: 'none',
    choices: null,
    created_at: new Date(NOW).toISOString(),
    expires_at: new Date(NOW + 90_000).toISOString(),
    ...fields,
  };
}

/** A client whose stream the test drives, answering respond() as the server would. */
function fakeClient(id = 'dev_1') {
  let handlers: StreamHandlers | undefined;
  let end: (value: 'revoked' | 'aborted') => void = () => {};
  const answered: Array<[string, RespondInput]> = [];
  const opened = Promise.withResolvers<void>();
  const client: DeviceClient = {
    deviceId: id,
    api: 'http://127.0.0.1:1',
    device: () => Promise.reject(new Error('unused')),
    updateTransport: () => Promise.reject(new Error('unused')),
    requests: () => Promise.resolve([]),
    request: () => Promise.reject(new Error('unused')),
    async respond(requestId, input) {
      answered.push([requestId, input]);
      if (requestId === 'vrf_gone') throw new DeviceApiError(409, 'verification_expired', 'expired');
      const result: ResponseResult = { id: requestId, status: input.decision === 'approve' ? 'approved' : 'denied', reason: input.decision === 'report_fraud' ? 'fraud_reported' : null };
      if (requestId.includes('readback') && input.decision === 'approve') result.read_back_code = '123456';
      return result;
    },
    stream(h) {
      handlers = h;
      h.onOpen?.();
      opened.resolve();
      h.signal.addEventListener('abort', () => end('aborted'), { once: true });
      return new Promise((resolve) => (end = resolve));
    },
  };
  return {
    client,
    answered,
    opened: opened.promise,
    send: (r: DeviceRequest) => handlers?.onRequest(r),
    withdraw: (requestId: string, status: string) => handlers?.onWithdrawn({ id: requestId, status, reason: null }),
    revoke() {
      handlers?.onRevoked();
      end('revoked');
    },
  };
}

/** Plain output into an array; replies given by the test, or null (no input) when it runs out. */
function fakeIo(replies: string[] = []) {
  const lines: string[] = [];
  const asked: Array<{ resolve: (line: string | null) => void }> = [];
  let changed = () => {};
  const io: WatchIo = {
    format: plain,
    now: () => NOW,
    print: (text) => {
      lines.push(...text.split('\n').filter(Boolean));
      changed();
    },
    ask(prompt, signal) {
      io.print(prompt());
      if (replies.length > 0) return Promise.resolve(replies.shift() as string);
      return new Promise((resolve) => {
        asked.push({ resolve });
        signal.addEventListener('abort', () => resolve(null), { once: true });
      });
    },
  };
  /** Waits until a printed line matches. */
  const until = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (lines.some((l) => pattern.test(l))) resolve();
      };
      changed = check;
      check();
    });
  return { io, lines, until };
}

function options(fake: ReturnType<typeof fakeClient>, io: WatchIo, mode: WatchOptions['mode'], signal = new AbortController().signal): WatchOptions {
  return { devices: [{ client: fake.client, label: { id: fake.client.deviceId, name: 'Test' } }], mode, userVerification: 'pin', signal, io };
}

describe('watch', () => {
  test('mode=approve-all: approves none and read_back (printing the code), skips pick and type, reports failures', async () => {
    const fake = fakeClient();
    const { io, lines, until } = fakeIo();
    const done = watch(options(fake, io, 'approve-all'));
    await fake.opened;
    fake.send(request('vrf_1'));
    fake.send(request('vrf_pick', { matching: 'pick', choices: ['07', '42'] }));
    fake.send(request('vrf_type', { matching: 'type' }));
    fake.send(request('vrf_readback', { matching: 'read_back' }));
    fake.send(request('vrf_gone'));
    await until(/^error vrf_gone/);
    fake.revoke();
    assert.deepEqual(await done, { ok: true });
    assert.deepEqual(
      lines.filter((l) => !l.startsWith('request ')),
      [
        'connected dev_1',
        'approved vrf_1',
        'skipped vrf_pick pick 07,42',
        'skipped vrf_type type',
        'approved vrf_readback',
        'read_back_code vrf_readback 123456',
        'error vrf_gone verification_expired 409',
        'revoked dev_1',
      ],
    );
    assert.match(lines.find((l) => l.startsWith('request vrf_pick ')) ?? '', /^request vrf_pick dev_1 pick 90 \{.*"choices":\["07","42"\]/);
    assert.deepEqual(fake.answered.map(([id, input]) => [id, input.decision, input.userVerification]), [
      ['vrf_1', 'approve', 'pin'],
      ['vrf_readback', 'approve', 'pin'],
      ['vrf_gone', 'approve', 'pin'],
    ]);
  });

  test('mode=deny-all: denies everything, reporting user verification none', async () => {
    const fake = fakeClient();
    const { io, until } = fakeIo();
    const done = watch(options(fake, io, 'deny-all'));
    await fake.opened;
    fake.send(request('vrf_1', { matching: 'pick', choices: ['07'] }));
    await until(/^denied vrf_1$/);
    fake.revoke();
    await done;
    assert.deepEqual(fake.answered, [['vrf_1', { decision: 'deny', userVerification: 'none', answer: undefined }]]);
  });

  test('mode=ask: asks one at a time; a wrong reply asks again; pick sends the number; a re-sent request is not asked twice', async () => {
    const fake = fakeClient();
    const { io, lines, until } = fakeIo(['x', '42', 'f']);
    const done = watch(options(fake, io, 'ask'));
    await fake.opened;
    const pick = request('vrf_pick', { matching: 'pick', choices: ['07', '42'] });
    fake.send(pick);
    fake.send(request('vrf_2'));
    fake.send(pick); // as after a reconnect
    await until(/^denied vrf_2 fraud_reported$/);
    fake.send(pick); // answered already
    fake.revoke();
    await done;
    assert.match(lines[1] ?? '', /^request vrf_pick /);
    assert.match(lines[6] ?? '', /^request vrf_2 /);
    assert.deepEqual(lines, [
      'connected dev_1',
      lines[1],
      'ask vrf_pick pick:07,42|deny|fraud',
      'invalid vrf_pick type the number shown to you (one of 07, 42), d to deny or f to report fraud',
      'ask vrf_pick pick:07,42|deny|fraud',
      'approved vrf_pick',
      lines[6],
      'ask vrf_2 approve|deny|fraud',
      'denied vrf_2 fraud_reported',
      'revoked dev_1',
    ]);
    assert.deepEqual(fake.answered.map(([id, input]) => [id, input.decision, input.answer]), [
      ['vrf_pick', 'approve', '42'],
      ['vrf_2', 'report_fraud', undefined],
    ]);
  });

  test('mode=ask case=withdrawn: the open question is dropped, a queued one is never asked', async () => {
    const fake = fakeClient();
    const { io, lines, until } = fakeIo();
    const done = watch(options(fake, io, 'ask'));
    await fake.opened;
    fake.send(request('vrf_1'));
    fake.send(request('vrf_2'));
    await until(/^ask vrf_1 /);
    fake.withdraw('vrf_2', 'cancelled');
    fake.withdraw('vrf_1', 'approved');
    await until(/^withdrawn vrf_1 approved$/);
    fake.revoke();
    await done;
    assert.deepEqual(lines.filter((l) => !l.startsWith('request ')), ['connected dev_1', 'ask vrf_1 approve|deny|fraud', 'withdrawn vrf_2 cancelled', 'withdrawn vrf_1 approved', 'revoked dev_1']);
    assert.deepEqual(fake.answered, []);
  });

  test('mode=ask case=expired while asking: stops asking and says so', async () => {
    const fake = fakeClient();
    const { io, until } = fakeIo();
    const done = watch(options(fake, io, 'ask'));
    await fake.opened;
    fake.send(request('vrf_1', { expires_at: new Date(NOW + 50).toISOString() }));
    await until(/^expired vrf_1$/);
    fake.revoke();
    await done;
  });

  test('case=signal: stops the streams and the question; resolves', async () => {
    const fake = fakeClient();
    const { io, until } = fakeIo();
    const stop = new AbortController();
    const done = watch(options(fake, io, 'ask', stop.signal));
    await fake.opened;
    fake.send(request('vrf_1'));
    await until(/^ask vrf_1/);
    stop.abort();
    assert.deepEqual(await done, { ok: true });
    assert.deepEqual(fake.answered, []);
  });
});
