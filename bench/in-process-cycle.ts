/**
 * otp-cycle without HTTP: the same cycle (start an SMS verification, read its code from the
 * development outbox, check it) run by calling Outband's services in one process, with the
 * server's configuration and its delivery worker, and no socket, parser, router, schema or token
 * check in between. It answers how fast the services and the store are on their own, so the
 * HTTP otp-cycle's figures can be split into what the requests' transport costs and what the
 * work behind them costs (bench/README.md, "Where the targets are missed").
 *
 * Run by otp-cycle.ts (configuration `sqlite-full-no-http`) in a child process, against the
 * database and users an `outband serve` made and left behind (`keep()`), with the server's env:
 *
 *   node bench/in-process-cycle.ts '{"applicationId":…,"userIds":[…],"concurrency":64,"durationMs":4000,"warmupMs":1000}'
 *
 * Prints one JSON line: cycles, cycles/s, per-kind latencies, the process's CPU and the bytes it
 * wrote (write(2): the WAL and the checkpoints' copies) per cycle.
 * It runs the sources, not the bundled build the server runs (the bundle exports no runtime).
 */
import { readFileSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { loadConfig } from '../src/config/config.ts';
import { createRuntime } from '../src/runtime.ts';
import type { Principal } from '../src/services/tokens.ts';
import { percentile, round } from './lib/report.ts';

interface Job {
  applicationId: string;
  userIds: string[];
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /** Which b-trees the window's commits wrote, read back from the WAL (a diagnostic: it holds the WAL from starting over). */
  walPages?: boolean;
}

const CODE = /code is (\d{4,10})/;
const KINDS = ['start', 'outbox', 'check'] as const;

const job = JSON.parse(process.argv[2] ?? '') as Job;
const config = loadConfig();
const runtime = await createRuntime(config);
const principal: Principal = {
  applicationId: job.applicationId,
  clientId: 'bench-in-process',
  scopes: new Set(['verifications:read', 'verifications:write', 'outbox:read']) as Principal['scopes'],
};

const latencies: Record<(typeof KINDS)[number], number[]> = { start: [], outbox: [], check: [] };
let cycles = 0;
let errors = 0;
let firstError: string | undefined;
const begin = performance.now();
const countFrom = begin + job.warmupMs;
const countTo = countFrom + job.durationMs;
let cpuAtCount: NodeJS.CpuUsage | undefined;
let writtenAtCount = 0;
let walWindow: WalWindow | undefined;
const cpuTimer = setTimeout(() => {
  cpuAtCount = process.cpuUsage();
  writtenAtCount = written();
  if (job.walPages) walWindow = pinWal();
}, job.warmupMs);
let cpuAtEnd: NodeJS.CpuUsage | undefined;
let writtenInWindow = 0;
const endTimer = setTimeout(() => {
  cpuAtEnd = process.cpuUsage(cpuAtCount);
  writtenInWindow = written() - writtenAtCount;
}, job.warmupMs + job.durationMs);

interface WalWindow {
  /** WAL frames written after the pin, per b-tree (table or index) per cycle, most first. */
  pagesPerBtree(cycles: number): Record<string, number>;
}

/**
 * Holds a read transaction open on a connection of its own, so that checkpoints cannot start the
 * WAL over: every frame the window's commits write stays in the file, after the offset it had
 * when pinned. At the end each frame's page number (the first 4 bytes of its 24-byte header) is
 * mapped to its b-tree through SQLite's dbstat table.
 */
function pinWal(): WalWindow {
  const path = config.databaseUrl.replace(/^sqlite:/, '');
  const pin = new DatabaseSync(path, { readOnly: true });
  pin.exec('begin');
  pin.prepare('select count(*) from meta').get();
  const walPath = `${path}-wal`;
  const from = statSync(walPath).size;
  return {
    pagesPerBtree(cycles) {
      const wal = readFileSync(walPath);
      pin.exec('rollback');
      const pageSize = wal.readUInt32BE(8);
      const frameSize = 24 + pageSize;
      const perPage = new Map<number, number>();
      for (let at = 32 + Math.ceil(Math.max(0, from - 32) / frameSize) * frameSize; at + frameSize <= wal.length; at += frameSize) {
        const page = wal.readUInt32BE(at);
        perPage.set(page, (perPage.get(page) ?? 0) + 1);
      }
      const btreeOf = new Map<number, string>();
      for (const row of pin.prepare('select name, pageno from dbstat').all() as Array<{ name: string; pageno: number }>) btreeOf.set(row.pageno, row.name);
      pin.close();
      const perBtree: Record<string, number> = {};
      for (const [page, frames] of perPage) {
        const name = btreeOf.get(page) ?? (page === 1 ? 'sqlite_schema' : 'free or new pages');
        perBtree[name] = (perBtree[name] ?? 0) + frames;
      }
      return Object.fromEntries(
        Object.entries(perBtree)
          .sort((a, b) => b[1] - a[1])
          .map(([name, frames]) => [name, cycles > 0 ? round(frames / cycles, 2) : 0]),
      );
    },
  };
}

/** Bytes this process has handed to write() so far (/proc/self/io's wchar): the WAL's frames and the checkpoints' copies. */
function written(): number {
  return Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);
}

async function timed<T>(kind: (typeof KINDS)[number], counted: boolean, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const value = await fn();
  const t1 = performance.now();
  if (counted && t1 <= countTo) latencies[kind].push(t1 - t0);
  return value;
}

async function loop(index: number): Promise<void> {
  const mine = Math.max(1, Math.floor(job.userIds.length / job.concurrency));
  for (let turn = 0; performance.now() < countTo; turn++) {
    const userId = job.userIds[(index + (turn % mine) * job.concurrency) % job.userIds.length]!;
    const startedAt = performance.now();
    const counted = startedAt >= countFrom;
    try {
      const started = await timed('start', counted, () => runtime.verifications.start(principal, { channel: 'sms', user_id: userId }));
      const id = started.view.id;
      const code = await timed('outbox', counted, async () => {
        for (let round = 0; round < 20; round++) {
          const [message] = await runtime.outbox.list(job.applicationId, { limit: 1, verificationId: id }, 10);
          const match = CODE.exec(message?.body ?? '');
          if (match?.[1] !== undefined) return match[1];
        }
        throw new Error(`no outbox message for ${id}`);
      });
      const checked = await timed('check', counted, () => runtime.verifications.check(principal, id, code));
      if (checked.status !== 'approved') throw new Error(`check answered status ${checked.status}`);
      if (counted && performance.now() <= countTo) cycles++;
    } catch (error) {
      errors++;
      firstError ??= (error as Error).message;
    }
  }
}

await Promise.all(Array.from({ length: job.concurrency }, (_, i) => loop(i)));
clearTimeout(cpuTimer);
clearTimeout(endTimer);
const cpu = cpuAtEnd ?? process.cpuUsage(cpuAtCount);
await runtime.close();
const walPages = walWindow?.pagesPerBtree(cycles);

const seconds = job.durationMs / 1000;
const figures = Object.fromEntries(
  KINDS.map((kind) => {
    const sorted = Float64Array.from(latencies[kind]).sort();
    return [kind, { count: sorted.length, perSecond: round(sorted.length / seconds, 1), p50Ms: round(percentile(sorted, 0.5)), p99Ms: round(percentile(sorted, 0.99)), maxMs: round(sorted.at(-1) ?? 0) }];
  }),
);
console.log(
  JSON.stringify({
    cycles,
    cyclesPerSecond: round(cycles / seconds, 1),
    requests: figures,
    cpuMsPerCycle: cycles > 0 ? round((cpu.user + cpu.system) / 1000 / cycles, 3) : 0,
    writtenKiBPerCycle: cycles > 0 ? round(writtenInWindow / 1024 / cycles, 1) : 0,
    ...(walPages === undefined ? {} : { walPages }),
    errors,
    ...(firstError === undefined ? {} : { firstError }),
  }),
);
