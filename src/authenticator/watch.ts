/**
 * The watch loop: follows the streams of one or more devices and answers their requests one at a
 * time, asking the user (or not, with `--approve-all` / `--deny-all`). It owns no terminal: the
 * caller gives it a way to print and a way to ask, so it runs the same under a test.
 */
import { autoAnswer, parseReply, type Answer, type AutoMode } from './answers.ts';
import type { DeviceClient } from './client.ts';
import type { DeviceRequest, Withdrawal } from './objects.ts';
import type { UserVerification } from './signing-input.ts';
import type { DeviceLabel, WatchFormat } from './watch-format.ts';

export interface WatchIo {
  format: WatchFormat;
  print(text: string): void;
  /**
   * Asks one question; `prompt` gives its text now (a countdown changes each second). Answers
   * the line typed, or null when `signal` aborts or the input has ended.
   */
  ask(prompt: () => string, signal: AbortSignal): Promise<string | null>;
  now(): number;
}

export interface WatchOptions {
  devices: Array<{ client: DeviceClient; label: DeviceLabel }>;
  /** `ask` the user, or answer everything at once. */
  mode: 'ask' | AutoMode;
  /** What to report as `user_verification` with an approval; a denial reports `none`. */
  userVerification: UserVerification;
  signal: AbortSignal;
  io: WatchIo;
}

interface Item {
  request: DeviceRequest;
  device: { client: DeviceClient; label: DeviceLabel };
}

/** Answers true when every stream ended by itself without error (revoked) or was stopped. */
export async function watch(options: WatchOptions): Promise<{ ok: boolean }> {
  const { io, signal } = options;
  const queue: Item[] = [];
  /** The request being asked about, and how to stop asking. */
  let active: { id: string; client: DeviceClient; stop: AbortController } | null = null;
  /** Answered, skipped, expired or withdrawn: the stream re-sends pending requests on reconnect. */
  const done = new Set<string>();
  /** Answered from here: its withdrawal (the server telling the other devices) says nothing new. */
  const answered = new Set<string>();
  const finish = new AbortController();
  const abortAll = () => finish.abort();
  signal.addEventListener('abort', abortAll, { once: true });
  let pumping: Promise<void> = Promise.resolve();
  let running = false;

  async function respond(item: Item, answer: Answer): Promise<void> {
    const { request, device } = item;
    try {
      const result = await device.client.respond(request.id, {
        decision: answer.decision,
        userVerification: answer.decision === 'approve' ? options.userVerification : 'none',
        answer: answer.answer,
      });
      answered.add(request.id);
      io.print(io.format.result(request, result));
    } catch (error) {
      io.print(io.format.failed(request, error));
    }
  }

  async function handle(item: Item): Promise<void> {
    const { request } = item;
    io.print(io.format.request(request, item.device.label, io.now()));
    if (options.mode !== 'ask') {
      const outcome = autoAnswer(request, options.mode);
      if (outcome.kind === 'skip') io.print(io.format.skipped(request, outcome.why));
      else await respond(item, outcome.answer);
      return;
    }
    for (;;) {
      const stop = new AbortController();
      active = { id: request.id, client: item.device.client, stop };
      const onFinish = () => stop.abort('stopped');
      finish.signal.addEventListener('abort', onFinish, { once: true });
      const expiry = setTimeout(() => stop.abort('expired'), Math.max(0, Date.parse(request.expires_at) - io.now()));
      let line: string | null;
      try {
        line = await io.ask(() => io.format.ask(request, io.now()), stop.signal);
      } finally {
        clearTimeout(expiry);
        finish.signal.removeEventListener('abort', onFinish);
        active = null;
      }
      if (line === null) {
        if (stop.signal.reason === 'expired') io.print(io.format.expired(request));
        else if (!stop.signal.aborted) io.print(io.format.skipped(request, 'no_input'));
        return; // withdrawn or stopped: already said
      }
      const reply = parseReply(request, line);
      if ('error' in reply) {
        io.print(io.format.invalid(request, reply.error));
        continue;
      }
      await respond(item, reply);
      return;
    }
  }

  function pump(): void {
    if (running) return;
    running = true;
    pumping = (async () => {
      while (queue.length > 0 && !finish.signal.aborted) {
        const item = queue.shift() as Item;
        await handle(item);
        done.add(item.request.id);
      }
      running = false;
    })();
  }

  /** A device that is gone (revoked, refused) can answer nothing more. */
  function forget(client: DeviceClient): void {
    for (let i = queue.length - 1; i >= 0; i--) if (queue[i]?.device.client === client) queue.splice(i, 1);
    if (active !== null && active.client === client) active.stop.abort('stopped');
  }

  function onRequest(device: Item['device'], request: DeviceRequest): void {
    if (done.has(request.id) || active?.id === request.id || queue.some((i) => i.request.id === request.id)) return;
    // Shown in full when its turn comes, right above its question; until then only a note.
    if (running) io.print(io.format.waiting(request));
    queue.push({ request, device });
    pump();
  }

  function onWithdrawn(withdrawal: Withdrawal): void {
    if (answered.has(withdrawal.id)) return;
    const queued = queue.findIndex((i) => i.request.id === withdrawal.id);
    if (queued >= 0) queue.splice(queued, 1);
    if (active?.id === withdrawal.id) active.stop.abort('withdrawn');
    done.add(withdrawal.id);
    io.print(io.format.withdrawn(withdrawal));
  }

  const results = await Promise.all(
    options.devices.map(async (device) => {
      try {
        await device.client.stream({
          signal: finish.signal,
          onOpen: () => io.print(io.format.connected(device.label)),
          onRequest: (request) => onRequest(device, request),
          onWithdrawn,
          onRevoked: () => {
            forget(device.client);
            io.print(io.format.revoked(device.label));
          },
          onError: (error, retryInMs) => io.print(retryInMs === null ? io.format.skippedEvent(device.label, error) : io.format.reconnecting(device.label, retryInMs, error)),
        });
        return true;
      } catch (error) {
        forget(device.client);
        io.print(io.format.stopped(device.label, error));
        return false;
      }
    }),
  );
  // Every stream has ended: nothing that is still queued can be answered any more.
  finish.abort();
  await pumping;
  signal.removeEventListener('abort', abortAll);
  return { ok: results.every(Boolean) };
}
