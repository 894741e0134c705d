/**
 * waiters: 10,000 open long-polls (GET /v1/verifications/{id}?wait=30) and 10,000 open SSE
 * streams (GET /v1/verifications/{id}/stream) held by one server: its RSS before (idle, after a
 * warm-up) and while all are open, the RSS each open waiter costs, and how long it takes for all
 * of them to hear a status change.
 *
 * This container allows 20,000 open files per process (a hard limit), so one server cannot hold
 * 20,000 sockets beside its own files. The benchmark runs three phases, each on a fresh server
 * (memory freed by one phase stays with the process and would flatter the next): 10,000
 * long-polls; 10,000 SSE streams; and both kinds together, as many as fit under the limit with
 * some headroom (about 9,700 of each; quick: 1,000 of each only). The waiters are spread evenly
 * over 100 SMS verifications (outbox provider); the change is the 100 right codes checked at
 * once (each read from GET /v1/outbox?verification_id=…).
 *
 * The clients are bench/load/waiter-client.ts processes (2,500 sockets each at most, raw
 * HTTP/1.1 over node:net, so that they cost little and timestamp each arrival). Connections
 * are opened gradually (the server's accept backlog is 511); a long-poll whose wait (at most
 * 30 s) runs out before the change is asked again at once, as a relying party would. A phase
 * counts as open when every TCP connection is established, every SSE stream has had its first
 * event (the server has subscribed it then), the server process holds a descriptor for each
 * waiter (/proc/<pid>/fd), and the server's CPU has gone quiet (every long-poll parsed and
 * waiting). A waiter that heard keeps its connection, as a pooled HTTP client would (until
 * 12-06 it reset it at once, which put the server's teardown of every socket, about a third of
 * its work in that window, into the time measured; the baseline's clients never closed); all
 * are reset after the arrivals are collected.
 *
 * Figures:
 * - memory: the server is started with bench/server-memory-hook.ts, which on SIGUSR2 runs a full
 *   garbage collection and reports process.memoryUsage(); readings are taken before the phase,
 *   with half and with all waiters open. RSS per waiter = (RSS all open − before) ÷ waiters
 *   (the target's figure); "2nd half" = (all − half) ÷ the second half, the cost of one more
 *   waiter once the heap has grown; "heap" = the JS heap's share. VmRSS before the GC is kept
 *   as "raw".
 * - heard: from the first check's answer (the first change acknowledged) to the last waiter
 *   hearing its change; also per waiter, the time from its own verification's acknowledgement
 *   to its arrival (negative when a waiter heard before the checker did).
 * - baseline: the bare Fastify route with as many idle keep-alive connections (each answered
 *   once), memory read the same way: what Node and Fastify cost per connection; and the span
 *   for all of them to be answered when one GET each is sent at the same moment.
 *
 *   node_modules/.bin/node bench/waiters.ts [--quick] [--waiters 10000] [--phases polls,streams,both]
 *        [--profile DIR]   (DIR: a CPU profile of the server, node --cpu-prof)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Pool } from 'undici';
import { api, createUsers, NODE, ROOT, rssOf, startOutband, type OutbandUnderTest } from './lib/outband.ts';
import { isMain, percentile, printTable, printTargets, ratio, round, target, type BenchSummary, type Target, flagValue } from './lib/report.ts';
import type { WaiterArrivals, WaiterJob, WaiterKind, WaiterProgress } from './load/waiter-client.ts';
import { collectedMemory, cpuSeconds, memoryHookFlags, openFds, type MemoryReading } from './proc.ts';

/** The container's open-file limit per process (ulimit -n, hard). */
const FILE_LIMIT = 20_000;
/**
 * Descriptors left free in the combined phase: at about 19,500 sockets the server's accept
 * already failed with EMFILE now and then (libuv then accepts and drops a connection, which the
 * client sees as ECONNRESET), so the phase stays well below the limit.
 */
const HEADROOM = 500;
const VERIFICATIONS = 100;
/** Waiters per client process. */
const PER_CLIENT = 2_500;
const WAIT_SECONDS = 30;
const CODE = /code is (\d{4,10})/;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started = performance.now();
/** Progress on stderr (stdout carries the table and the JSON). */
const note = (text: string) => process.stderr.write(`[waiters +${((performance.now() - started) / 1000).toFixed(1)} s] ${text}\n`);

export type PhaseName = 'polls' | 'streams' | 'both';

export interface WaitersOptions {
  quick?: boolean;
  /** Waiters of each kind in the polls and streams phases (default 10,000). */
  waiters?: number;
  phases?: PhaseName[];
  /** A directory for a CPU profile of the server (node --cpu-prof). */
  profileDir?: string;
}

/** A waiter client process and its request/answer messages. */
class WaiterClient {
  readonly child: ChildProcess;
  private readonly waiting = new Map<string, Array<(body: any) => void>>();
  constructor() {
    this.child = spawn(NODE, [join(ROOT, 'bench/load/waiter-client.ts')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: { type: string }) => this.waiting.get(message.type)?.shift()?.(message));
  }
  ask<T>(type: string, body: object = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(type) ?? [];
      this.waiting.set(type, queue);
      queue.push(resolve);
      this.child.send({ type, ...body }, (error) => error && reject(error));
    });
  }
  stop(): void {
    if (this.child.connected) this.child.disconnect();
    this.child.kill('SIGTERM');
  }
}

interface Assignment {
  client: WaiterClient;
  job: WaiterJob;
}

/** Splits `count` waiters of a kind over clients (PER_CLIENT each at most), spread evenly over the verifications. */
function assign(clients: WaiterClient[], kind: WaiterKind, count: number, port: number, token: string, verificationIds: string[], openPerSecond: number): Assignment[] {
  const used = Math.min(clients.length, Math.ceil(count / PER_CLIENT));
  const assignments: Assignment[] = [];
  let first = 0;
  for (let c = 0; c < used; c++) {
    const share = Math.floor(count / used) + (c < count % used ? 1 : 0);
    assignments.push({ client: clients[c]!, job: { kind, port, token, verificationIds, first, count: share, waitSeconds: WAIT_SECONDS, openPerSecond: openPerSecond / used } });
    first += share;
  }
  return assignments;
}

async function progressOf(assignments: Assignment[]): Promise<WaiterProgress> {
  const all = await Promise.all(assignments.map((a) => a.client.ask<WaiterProgress>('progress')));
  const failures: Record<string, number> = {};
  for (const p of all) for (const [k, n] of Object.entries(p.failures)) failures[k] = (failures[k] ?? 0) + n;
  const sum = (key: 'connected' | 'ready' | 'heard' | 'repolls') => all.reduce((s, p) => s + p[key], 0);
  return { connected: sum('connected'), ready: sum('ready'), heard: sum('heard'), repolls: sum('repolls'), failures };
}

const failed = (p: WaiterProgress) => Object.values(p.failures).reduce((a, b) => a + b, 0);

/**
 * Opens each assignment's waiters up to `share` of its count and waits until the server holds
 * them all: every connection established and ready, a descriptor for each in the server
 * (`fdsBefore` + waiters), and the server's CPU quiet again.
 */
async function openShare(what: string, pid: number, assignments: Assignment[], share: number, fdsBefore: number, output: () => string, deadline: number): Promise<number> {
  const until = (a: Assignment) => Math.ceil(a.job.count * share);
  const total = assignments.reduce((sum, a) => sum + until(a), 0);
  await Promise.all(assignments.map((a) => a.client.ask('open', { until: until(a) })));
  let progress = await progressOf(assignments);
  while (progress.connected < total || progress.ready < total || openFds(pid) < fdsBefore + total) {
    if (failed(progress) > 0 || Date.now() > deadline) {
      throw new Error(`${what}: ${progress.connected}/${total} connected, ${progress.ready} ready, server fds ${openFds(pid) - fdsBefore} more; failures ${JSON.stringify(progress.failures)}\n${output().slice(-3000)}`);
    }
    await sleep(100);
    progress = await progressOf(assignments);
  }
  await quiet(pid);
  return total;
}

/** Waits until the server's CPU use stays under `percent` of a core for `quietMs`. */
async function quiet(pid: number, percent = 10, quietMs = 300, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const before = cpuSeconds(pid);
    await sleep(quietMs);
    if (((cpuSeconds(pid) - before) * 1000 * 100) / quietMs < percent) return;
  }
}

/** SMS verifications (one per user) with their codes, read from the development outbox. */
async function createVerifications(server: OutbandUnderTest, userIds: string[]): Promise<Array<{ id: string; code: string }>> {
  const out: Array<{ id: string; code: string }> = new Array(userIds.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < userIds.length) {
        const i = next++;
        const id = (await api(server, 'POST', '/v1/verifications', { channel: 'sms', user_id: userIds[i] }))['id'] as string;
        for (let round = 0; ; round++) {
          const listed = await api(server, 'GET', `/v1/outbox?verification_id=${id}`);
          const code = CODE.exec(((listed['items'] as Array<{ body: string }>)[0]?.body as string | undefined) ?? '')?.[1];
          if (code !== undefined) {
            out[i] = { id, code };
            break;
          }
          if (round > 500) throw new Error(`no outbox message for ${id}`);
          await sleep(10);
        }
      }
    }),
  );
  return out;
}

/**
 * What the open waiters cost a server: its memory before, with half and with all of them open,
 * each read after a full garbage collection (bench/server-memory-hook.ts), and VmRSS as read
 * without one (the garbage of the opening burst included).
 */
export interface MemoryFigures {
  rawRssBeforeBytes: number;
  rawRssOpenBytes: number;
  before: MemoryReading;
  half: MemoryReading;
  open: MemoryReading;
  /** (RSS with all open − before) ÷ waiters, after a full GC: the target's figure. */
  rssPerWaiterBytes: number;
  /** (RSS all open − RSS half open) ÷ the second half: one more waiter once the heap has grown to its working size. */
  rssPerWaiterSecondHalfBytes: number;
  /** (JS heap used, all open − before) ÷ waiters: the part V8 holds; the rest is native (sockets, parsers, buffers). */
  heapPerWaiterBytes: number;
}

function memoryFigures(rawBefore: number, rawOpen: number, before: MemoryReading, half: MemoryReading, open: MemoryReading, count: number, halfCount: number): MemoryFigures {
  return {
    rawRssBeforeBytes: rawBefore,
    rawRssOpenBytes: rawOpen,
    before,
    half,
    open,
    rssPerWaiterBytes: round((open.rss - before.rss) / count, 0),
    rssPerWaiterSecondHalfBytes: round((open.rss - half.rss) / (count - halfCount), 0),
    heapPerWaiterBytes: round((open.heapUsed - before.heapUsed) / count, 0),
  };
}

export interface PhaseResult {
  phase: PhaseName | 'warm-up';
  polls: number;
  streams: number;
  /** From the first connection to everything open and quiet. */
  openMs: number;
  serverFdsOpen: number;
  memory: MemoryFigures;
  heard: number;
  /** Long-polls whose 30 s wait ran out while the others were still opening, asked again by the client. */
  repolls: number;
  failures: Record<string, number>;
  /** First check sent → last check answered. */
  checksMs: number;
  /** First change acknowledged → last waiter heard it. */
  allHeardMs: number;
  /** Per waiter: its verification's acknowledgement → its arrival. */
  perWaiter: { p50Ms: number; p99Ms: number; maxMs: number };
  /** Per kind: first acknowledgement → the last waiter of that kind. */
  allHeardMsByKind: Partial<Record<WaiterKind, number>>;
}

async function runPhase(
  phase: PhaseResult['phase'],
  server: OutbandUnderTest,
  pollClients: WaiterClient[],
  streamClients: WaiterClient[],
  userIds: string[],
  polls: number,
  streams: number,
  openPerSecond: number,
): Promise<PhaseResult> {
  note(`${phase}: ${polls} long-polls, ${streams} SSE streams; creating ${userIds.length} verifications`);
  const verifications = await createVerifications(server, userIds);
  const ids = verifications.map((v) => v.id);
  const assignments = [
    ...(polls > 0 ? assign(pollClients, 'poll', polls, server.port, server.token, ids, (openPerSecond * polls) / (polls + streams)) : []),
    ...(streams > 0 ? assign(streamClients, 'sse', streams, server.port, server.token, ids, (openPerSecond * streams) / (polls + streams)) : []),
  ];
  const total = polls + streams;
  await quiet(server.pid);
  await sleep(500);
  const fdsBefore = openFds(server.pid);
  const rawBefore = server.rssBytes();
  const before = await collectedMemory(server.pid, server.output);

  // 1. Open every waiter, gradually, and make sure the server holds them all: half first, so
  //    the cost of the second half shows what one more waiter costs once the heap has grown.
  note(`${phase}: opening`);
  const openedAt = performance.now();
  const openDeadline = Date.now() + 60_000;
  await Promise.all(assignments.map((a) => a.client.ask('open', { job: a.job, until: 0 })));
  const half = await openShare(phase, server.pid, assignments, 0.5, fdsBefore, server.output, openDeadline);
  const halfMemory = await collectedMemory(server.pid, server.output);
  await openShare(phase, server.pid, assignments, 1, fdsBefore, server.output, openDeadline);
  const openMs = performance.now() - openedAt;
  const serverFdsOpen = openFds(server.pid);
  const rawOpen = server.rssBytes();
  const open = await collectedMemory(server.pid, server.output);

  // 2. The change: the 100 right codes checked at once.
  note(`${phase}: all open after ${Math.round(openMs)} ms; checking the codes`);
  // Their own connections, closed afterwards, so the next phase starts from the same descriptors.
  const checker = new Pool(server.baseUrl, { connections: verifications.length });
  const windowFrom = process.hrtime.bigint() / 1000n;
  const sentAt = now();
  const ackAt = await Promise.all(
    verifications.map(async (v) => {
      const response = await checker.request({
        method: 'POST',
        path: `/v1/verifications/${v.id}/check`,
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ code: v.code }),
      });
      const at = now();
      const checked = (await response.body.json()) as { status?: string };
      if (checked.status !== 'approved') throw new Error(`${phase}: check of ${v.id} answered ${response.statusCode} ${JSON.stringify(checked)}`);
      return at;
    }),
  );
  await checker.close();

  // 3. Wait for every waiter to hear it (or give up), then collect the arrival times.
  const heardDeadline = Date.now() + 15_000;
  let progress: WaiterProgress;
  do {
    await sleep(50);
    progress = await progressOf(assignments);
  } while (progress.heard + failed(progress) < total && Date.now() < heardDeadline);
  // The window of the checks and the wake-ups, on the clock of a CPU profile's samples (bench/cpuprofile.ts --window).
  note(`${phase}: ${progress.heard} heard, ${failed(progress)} failed; window ${windowFrom},${process.hrtime.bigint() / 1000n}`);
  const arrivals = await Promise.all(assignments.map(async (a) => ({ kind: a.job.kind, ...(await a.client.ask<WaiterArrivals>('collect')) })));
  await Promise.all(assignments.map((a) => a.client.ask('close')));
  // Let the server see the connections go before the next phase measures its idle RSS.
  const closeDeadline = Date.now() + 10_000;
  while (openFds(server.pid) > fdsBefore + 5 && Date.now() < closeDeadline) await sleep(50);

  const firstAck = Math.min(...ackAt);
  const latencies: number[] = [];
  let last = -Infinity;
  const lastByKind: Partial<Record<WaiterKind, number>> = {};
  for (const a of arrivals) {
    a.at.forEach((at, i) => {
      if (at === null) return;
      latencies.push(at - ackAt[a.verification[i]!]!);
      last = Math.max(last, at);
      lastByKind[a.kind] = Math.max(lastByKind[a.kind] ?? -Infinity, at);
    });
  }
  latencies.sort((x, y) => x - y);
  return {
    phase,
    polls,
    streams,
    openMs: round(openMs, 0),
    serverFdsOpen,
    memory: memoryFigures(rawBefore, rawOpen, before, halfMemory, open, total, half),
    heard: progress.heard,
    repolls: progress.repolls,
    failures: progress.failures,
    checksMs: round(Math.max(...ackAt) - sentAt, 1),
    allHeardMs: round(last - firstAck, 1),
    perWaiter: { p50Ms: round(percentile(latencies, 0.5), 1), p99Ms: round(percentile(latencies, 0.99), 1), maxMs: round(latencies.at(-1) ?? 0, 1) },
    allHeardMsByKind: Object.fromEntries(Object.entries(lastByKind).map(([k, at]) => [k, round(at - firstAck, 1)])),
  };
}

export interface BaselineResult {
  connections: number;
  memory: MemoryFigures;
  /** One GET /baseline on every open connection at once: first sent → last answered. */
  allAnsweredMs: number;
}

/** bench/baseline-server.ts, as bench/lib/baseline.ts starts it, with the memory hook and its output kept. */
async function startHookedBaseline(): Promise<{ port: number; pid: number; output(): string; stop(): Promise<void> }> {
  const child = spawn(NODE, [...memoryHookFlags(ROOT), join(ROOT, 'bench/baseline-server.ts')], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const deadline = Date.now() + 10_000;
  let match: RegExpExecArray | null = null;
  while ((match = /listening (\d+)/.exec(output)) === null) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the baseline server did not start: ${output}`);
    }
    await sleep(20);
  }
  return {
    port: Number(match[1]),
    pid: child.pid ?? 0,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await closed;
    },
  };
}

async function measureBaseline(clients: WaiterClient[], connections: number, openPerSecond: number): Promise<BaselineResult> {
  const baseline = await startHookedBaseline();
  try {
    const assignments = assign(clients, 'baseline', connections, baseline.port, '', ['-'], openPerSecond);
    await quiet(baseline.pid);
    const rawBefore = rssOf(baseline.pid);
    const before = await collectedMemory(baseline.pid, baseline.output);
    const deadline = Date.now() + 30_000;
    await Promise.all(assignments.map((a) => a.client.ask('open', { job: a.job, until: 0 })));
    const fdsBefore = openFds(baseline.pid);
    const half = await openShare('baseline', baseline.pid, assignments, 0.5, fdsBefore, baseline.output, deadline);
    const halfMemory = await collectedMemory(baseline.pid, baseline.output);
    await openShare('baseline', baseline.pid, assignments, 1, fdsBefore, baseline.output, deadline);
    const rawOpen = rssOf(baseline.pid);
    const open = await collectedMemory(baseline.pid, baseline.output);
    await Promise.all(assignments.map((a) => a.client.ask('fire')));
    const heardDeadline = Date.now() + 15_000;
    let progress: WaiterProgress;
    do {
      await sleep(50);
      progress = await progressOf(assignments);
    } while (progress.heard + failed(progress) < connections && Date.now() < heardDeadline);
    const arrivals = await Promise.all(assignments.map((a) => a.client.ask<WaiterArrivals>('collect')));
    await Promise.all(assignments.map((a) => a.client.ask('close')));
    const fired = Math.min(...arrivals.map((a) => a.firedAt ?? Infinity));
    const last = Math.max(...arrivals.flatMap((a) => a.at.filter((at): at is number => at !== null)));
    return { connections, memory: memoryFigures(rawBefore, rawOpen, before, halfMemory, open, connections, half), allAnsweredMs: round(last - fired, 1) };
  } finally {
    await baseline.stop();
  }
}

export async function run(options: WaitersOptions = {}): Promise<BenchSummary> {
  const count = options.waiters ?? (options.quick ? 1_100 : 10_000);
  const verificationCount = options.quick ? 20 : VERIFICATIONS;
  // Quick: both kinds together on one server, 1,000 of each.
  const phases = options.phases ?? (options.quick ? ['both'] : ['polls', 'streams', 'both']);
  const openPerSecond = 2_500;
  const clientCount = Math.ceil(count / PER_CLIENT);
  const pollClients = Array.from({ length: clientCount }, () => new WaiterClient());
  const streamClients = Array.from({ length: clientCount }, () => new WaiterClient());
  let server: OutbandUnderTest | undefined;
  try {
    note(`baseline: ${count} connections`);
    const baseline = await measureBaseline(pollClients, count, openPerSecond);
    const warmups: PhaseResult[] = [];
    const results: PhaseResult[] = [];
    // A fresh server per phase: memory freed after one phase stays with the process (V8 and
    // malloc keep it for reuse), so a second phase on the same server would look cheaper.
    for (const phase of phases) {
      note(`${phase}: starting a server`);
      server = await startOutband({
        database: 'sqlite',
        nodeFlags: [...memoryHookFlags(ROOT), ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=waiters-${phase}.cpuprofile`] : [])],
      });
      const userIds = await createUsers(server, verificationCount);
      // Warm-up: every path once (and V8's optimisation of it) before the idle memory is read.
      warmups.push(await runPhase('warm-up', server, pollClients, streamClients, userIds, Math.min(500, count / 2), Math.min(500, count / 2), openPerSecond));
      if (phase === 'polls') results.push(await runPhase(phase, server, pollClients, streamClients, userIds, count, 0, openPerSecond));
      if (phase === 'streams') results.push(await runPhase(phase, server, pollClients, streamClients, userIds, 0, count, openPerSecond));
      if (phase === 'both') {
        // What fits: the limit less the server's own descriptors, the checkers' connections and some headroom.
        const each = Math.min(count - 100, Math.floor((FILE_LIMIT - openFds(server.pid) - verificationCount - HEADROOM) / 2));
        results.push(await runPhase(phase, server, pollClients, streamClients, userIds, each, each, openPerSecond));
      }
      await server.stop();
      server = undefined;
    }

    const kib = (bytes: number) => round(bytes / 1024, 2);
    const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
    const memoryColumns = (m: MemoryFigures) => ({
      'RSS before MiB': mib(m.before.rss),
      'RSS open MiB': mib(m.open.rss),
      'raw RSS open MiB': mib(m.rawRssOpenBytes),
      'KiB/waiter': kib(m.rssPerWaiterBytes),
      '2nd half KiB/w': kib(m.rssPerWaiterSecondHalfBytes),
      'heap KiB/w': kib(m.heapPerWaiterBytes),
    });
    printTable(
      `waiters (SQLite; spread over ${verificationCount} SMS verifications, the change: their codes checked at once; memory after a full GC unless "raw"; ms)`,
      [
        { phase: 'baseline (bare Fastify, idle keep-alive)', waiters: baseline.connections, ...memoryColumns(baseline.memory), 'all heard ms': baseline.allAnsweredMs },
        ...results.map((r) => ({
          phase: r.phase === 'both' ? 'long-polls + SSE streams' : r.phase === 'polls' ? 'long-polls' : 'SSE streams',
          waiters: r.polls + r.streams,
          ...memoryColumns(r.memory),
          'KiB÷base': ratio(r.memory.rssPerWaiterBytes, baseline.memory.rssPerWaiterBytes),
          'open s': round(r.openMs / 1000, 1),
          'checks ms': r.checksMs,
          'all heard ms': r.allHeardMs,
          'heard÷base': ratio(r.allHeardMs, baseline.allAnsweredMs),
          'p50 ms': r.perWaiter.p50Ms,
          'p99 ms': r.perWaiter.p99Ms,
          heard: r.heard,
          repolls: r.repolls,
          failures: Object.entries(r.failures)
            .map(([k, n]) => `${k} ×${n}`)
            .join('; '),
        })),
      ],
    );

    const targets: Target[] = [];
    for (const r of results) {
      const label = r.phase === 'both' ? `${r.polls} long-polls + ${r.streams} SSE` : `${r.polls + r.streams} ${r.phase === 'polls' ? 'long-polls' : 'SSE streams'}`;
      targets.push(target(`waiters RSS KiB per open waiter, ${label}`, kib(r.memory.rssPerWaiterBytes), '≤ 5', r.memory.rssPerWaiterBytes <= 5 * 1024));
      const everyone = r.heard === r.polls + r.streams;
      targets.push(target(`waiters all heard the change, ms, ${label}`, everyone ? r.allHeardMs : `${r.heard}/${r.polls + r.streams} heard`, '< 1000', everyone && r.allHeardMs < 1000));
    }
    return {
      benchmark: 'waiters',
      baseline: { route: 'GET /baseline (bare Fastify 5), idle keep-alive connections', ...baseline },
      results: { database: 'sqlite (synchronous=FULL, group commit)', verifications: verificationCount, waitSeconds: WAIT_SECONDS, fileLimit: FILE_LIMIT, warmups, phases: results },
      targets,
    };
  } finally {
    for (const client of [...pollClients, ...streamClients]) client.stop();
    await server?.stop();
  }
}

if (isMain(import.meta)) {
  const argv = process.argv.slice(2);
  const waiters = flagValue('--waiters');
  const phases = flagValue('--phases');
  const profile = flagValue('--profile');
  const summary = await run({
    ...(profile ? { profileDir: profile } : {}),
    quick: argv.includes('--quick'),
    ...(waiters ? { waiters: Number(waiters) } : {}),
    ...(phases ? { phases: phases.split(',') as PhaseName[] } : {}),
  });
  printTargets('waiters targets', summary.targets);
  console.log(JSON.stringify(summary));
}
