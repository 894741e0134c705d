/**
 * A waiter client for bench/waiters.ts: holds thousands of open requests to one server over
 * plain sockets (node:net, one connection each, HTTP/1.1 written by hand, so the client costs
 * little per waiter and timestamps the first byte of each answer), and tells its parent over
 * the IPC channel how far it got and when each waiter heard the change.
 *
 * Kinds of waiter:
 * - `poll`: GET /v1/verifications/{id}?wait=N; it hears the change when the answer (status
 *   approved) has fully arrived. An answer `pending` (the wait ran out) is asked again at once.
 * - `sse`: GET /v1/verifications/{id}/stream; it is `ready` at its first `status` event (the
 *   server has subscribed it by then) and hears the change at the event with status approved.
 * - `baseline`: GET /baseline once on a keep-alive connection (`ready` when answered), then on
 *   `fire` once more on every connection at the same moment; it hears when that answer arrives.
 *
 * Messages from the parent: {type:'open', job?, until?} (a job, then more of it up to `until`),
 * {type:'progress'}, {type:'fire'},
 * {type:'collect'}, {type:'close'}; each is answered with a message of the same type.
 */
import { connect, type Socket } from 'node:net';

export type WaiterKind = 'poll' | 'sse' | 'baseline';

export interface WaiterJob {
  kind: WaiterKind;
  port: number;
  token: string;
  /** The verifications waited on; waiter j waits on verificationIds[(first + j) % length]. */
  verificationIds: string[];
  first: number;
  count: number;
  /** poll: the `wait` parameter in seconds. */
  waitSeconds: number;
  /** Connections opened per second (at most; fewer while many connects are still pending). */
  openPerSecond: number;
}

export interface WaiterProgress {
  /** TCP connections established. */
  connected: number;
  /** sse: first event seen; baseline: first answer seen; poll: same as connected. */
  ready: number;
  /** Waiters that heard the change. */
  heard: number;
  /** poll: waits that ran out before the change and were asked again. */
  repolls: number;
  /** Waiters that ended otherwise (an early answer, a closed stream, a socket error), by reason. */
  failures: Record<string, number>;
}

export interface WaiterArrivals {
  /** Per waiter, in job order: when it heard the change (epoch ms, sub-ms), or null. */
  at: Array<number | null>;
  /** Per waiter: the index in verificationIds of what it waited on. */
  verification: number[];
  /** baseline: when `fire` sent the requests (epoch ms). */
  firedAt: number | null;
}

const now = () => performance.timeOrigin + performance.now();
/** At most this many connects in flight per client: the server's accept backlog (511) is shared by all clients. */
const PENDING_CONNECTS = 100;
const APPROVED = /"status":"approved"/;

interface Waiter {
  socket: Socket;
  /** Unparsed bytes of the answer so far (poll, baseline) or the tail of the stream (sse). */
  text: string;
  ready: boolean;
  heardAt: number | null;
  ended: boolean;
}

let job: WaiterJob | undefined;
const waiters: Waiter[] = [];
let connected = 0;
let ready = 0;
let heard = 0;
/** poll: long-polls whose wait ran out before the change, asked again. */
let repolls = 0;
let firedAt: number | null = null;
const failures: Record<string, number> = {};

function fail(waiter: Waiter, reason: string): void {
  if (waiter.ended || waiter.heardAt !== null) return;
  waiter.ended = true;
  failures[reason] = (failures[reason] ?? 0) + 1;
}

function requestText(j: WaiterJob, index: number): string {
  const id = j.verificationIds[(j.first + index) % j.verificationIds.length]!;
  const path = j.kind === 'poll' ? `/v1/verifications/${id}?wait=${j.waitSeconds}` : j.kind === 'sse' ? `/v1/verifications/${id}/stream` : '/baseline';
  const accept = j.kind === 'sse' ? 'text/event-stream' : 'application/json';
  return `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${j.port}\r\nauthorization: Bearer ${j.token}\r\naccept: ${accept}\r\n\r\n`;
}

/** A whole HTTP/1.1 answer with a Content-Length body: its status line and body, or null while incomplete. */
function completeAnswer(text: string): { status: number; body: string } | null {
  const head = text.indexOf('\r\n\r\n');
  if (head < 0) return null;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, head));
  const body = text.slice(head + 4);
  if (length?.[1] === undefined || Buffer.byteLength(body) < Number(length[1])) return null;
  return { status: Number(text.slice(9, 12)), body };
}

function onData(waiter: Waiter, index: number, kind: WaiterKind, chunk: string): void {
  const at = now();
  if (kind === 'sse') {
    // Only the tail is kept: a marker may straddle two chunks, nothing older matters.
    const text = waiter.text + chunk;
    if (!waiter.ready && text.includes('event: status')) {
      waiter.ready = true;
      ready++;
    }
    waiter.text = text.slice(-64);
    if (waiter.heardAt === null && APPROVED.test(text)) {
      // The connection stays open, as a pooled HTTP client keeps it: the server's part is to
      // tell, and 10,000 resets at once would put the teardown of every socket into the
      // window measured (the baseline's clients do not close either). `close` resets them all.
      waiter.heardAt = at;
      heard++;
    }
    return;
  }
  waiter.text += chunk;
  const answer = completeAnswer(waiter.text);
  if (answer === null) return;
  waiter.text = '';
  if (kind === 'baseline') {
    if (!waiter.ready) {
      waiter.ready = true;
      ready++;
    } else if (waiter.heardAt === null && answer.status === 200) {
      waiter.heardAt = at;
      heard++;
    }
    return;
  }
  if (answer.status === 200 && APPROVED.test(answer.body)) {
    // Kept open, as an SSE stream is (above).
    waiter.heardAt = at;
    heard++;
    return;
  } else if (answer.status === 200 && answer.body.includes('"status":"pending"')) {
    // The wait ran out before the change (opening 10,000 takes a while): ask again at once, as
    // a relying party would, on the same connection.
    repolls++;
    waiter.socket.write(requestText(job!, index));
    return;
  } else {
    fail(waiter, answer.status === 200 ? `answered ${/"status":"(\w+)"/.exec(answer.body)?.[1] ?? '?'}` : `HTTP ${answer.status}`);
  }
  // A failed waiter: close at once, with a reset, so no TIME_WAIT piles up between phases.
  waiter.socket.resetAndDestroy();
}

function openOne(j: WaiterJob, index: number, onConnected: () => void): void {
  const socket = connect({ host: '127.0.0.1', port: j.port, noDelay: true });
  const waiter: Waiter = { socket, text: '', ready: false, heardAt: null, ended: false };
  waiters[index] = waiter;
  socket.setEncoding('utf8');
  socket.once('connect', () => {
    connected++;
    if (j.kind === 'poll') {
      waiter.ready = true;
      ready++;
    }
    socket.write(requestText(j, index));
    onConnected();
  });
  socket.on('data', (chunk: string) => onData(waiter, index, j.kind, chunk));
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (!socket.connecting) onConnected(); // a failed connect frees its slot too
    fail(waiter, `socket ${error.code ?? error.message}`);
  });
  socket.on('close', () => {
    if (j.kind === 'sse' && waiter.heardAt === null) fail(waiter, 'stream closed before the change');
    waiter.ended = true;
  });
}

let next = 0;
let pending = 0;

/** Opens the job's connections up to `until` at its rate, never more than PENDING_CONNECTS connects at once. */
async function open(j: WaiterJob, until: number): Promise<void> {
  const from = next;
  const started = performance.now();
  while (next < until) {
    const due = Math.min(until, from + Math.ceil(((performance.now() - started) / 1000) * j.openPerSecond) + 1);
    while (next < due && pending < PENDING_CONNECTS) {
      pending++;
      let freed = false;
      openOne(j, next++, () => {
        if (!freed) {
          freed = true;
          pending--;
        }
      });
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

function fire(): void {
  if (job?.kind !== 'baseline') return;
  firedAt = now();
  for (const [index, waiter] of waiters.entries()) if (!waiter.ended) waiter.socket.write(requestText(job, index));
}

function collect(): WaiterArrivals {
  const j = job!;
  return {
    at: waiters.map((w) => w.heardAt),
    verification: waiters.map((_, index) => (j.first + index) % j.verificationIds.length),
    firedAt,
  };
}

function close(): void {
  for (const waiter of waiters) {
    waiter.ended = true;
    if (!waiter.socket.destroyed) waiter.socket.resetAndDestroy();
  }
  waiters.length = 0;
  connected = ready = heard = next = pending = repolls = 0;
  firedAt = null;
  for (const key of Object.keys(failures)) delete failures[key];
}

process.on('message', (message: { type: string; job?: WaiterJob; until?: number }) => {
  const reply = (body: object) => process.send!({ type: message.type, ...body });
  switch (message.type) {
    case 'open':
      // A new job starts afresh; the same job again opens more of its waiters.
      if (message.job !== undefined) {
        close();
        job = message.job;
      }
      void open(job!, Math.min(job!.count, message.until ?? job!.count)).then(() => reply({}));
      break;
    case 'progress':
      reply({ connected, ready, heard, repolls, failures: { ...failures } } satisfies WaiterProgress);
      break;
    case 'fire':
      fire();
      reply({});
      break;
    case 'collect':
      reply(collect());
      break;
    case 'close':
      close();
      reply({});
      break;
  }
});
process.on('disconnect', () => process.exit(0));
