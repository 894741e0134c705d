/**
 * otp-cycle: start an SMS verification (outbox provider), read its code from the development
 * outbox, check it — one cycle — at concurrency 1, 16 and 64, on SQLite (FULL, the default;
 * NORMAL; FULL with a transaction per request instead of group commit) and on PostgreSQL, with
 * the baseline route measured by the same client at the same concurrencies; and the same cycle
 * without HTTP (sqlite-full-no-http: bench/in-process-cycle.ts calls the services in one process).
 *
 *   node_modules/.bin/node bench/otp-cycle.ts [--quick] [--only sqlite-full,postgres] [--concurrency 1,64]
 *        [--duration 4000] [--profile DIR]   (DIR: a CPU profile of each server, node --cpu-prof)
 *        [--wal-pages]   (sqlite-full-no-http: the tables and indexes its commits wrote, per cycle)
 */
import { startBaseline } from './lib/baseline.ts';
import { errorDigest, runLoad, type LoadResult, type RequestFigures } from './lib/load.ts';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childEnv, createUsers, dropDatabase, NODE, ROOT, startOutband, type OutbandUnderTest, type StartOptions } from './lib/outband.ts';
import { isMain, printTable, printTargets, ratio, round, target, type BenchSummary, type Target, flagValue } from './lib/report.ts';

export interface Timing {
  durationMs: number;
  warmupMs: number;
}

export const CONCURRENCIES = [1, 16, 64];

const execFileAsync = promisify(execFile);

/** The servers measured: name → how it is started. */
export const CONFIGURATIONS: Record<string, { label: string; options: StartOptions; inProcess?: boolean }> = {
  'sqlite-full': { label: 'SQLite, synchronous=FULL (default), group commit', options: { database: 'sqlite' } },
  'sqlite-normal': { label: 'SQLite, synchronous=NORMAL, group commit', options: { database: 'sqlite', synchronous: 'NORMAL' } },
  'sqlite-full-per-request': { label: 'SQLite, synchronous=FULL, one transaction per unit (SQLITE_GROUP_COMMIT=false)', options: { database: 'sqlite', groupCommit: false } },
  postgres: { label: 'PostgreSQL (local, default settings)', options: { database: 'postgres' } },
  'sqlite-full-no-http': {
    label: 'SQLite, synchronous=FULL, group commit: the services called in one process, no HTTP (bench/in-process-cycle.ts)',
    options: { database: 'sqlite' },
    inProcess: true,
  },
};

export interface CyclePoint {
  concurrency: number;
  cyclesPerSecond: number;
  start: RequestFigures | null;
  check: RequestFigures | null;
  outbox: RequestFigures | null;
  /** Looks at the outbox per cycle until the message was there. */
  outboxPollsPerCycle: number;
  /** CPU time of the server per cycle, and of the load client: what a cycle costs, less sensitive to other load on the machine than the rates. */
  serverCpuMsPerCycle: number;
  clientCpuMsPerCycle: number;
  /** In-process runs only: bytes the process wrote (the WAL and the checkpoints' copies) per cycle, in KiB. */
  writtenKiBPerCycle?: number;
  /** In-process runs with --wal-pages: WAL frames per cycle by table or index. */
  walPagesPerCycle?: Record<string, number>;
  errors: Record<string, number>;
}

export function toPoint(concurrency: number, result: LoadResult, serverPid: number): CyclePoint {
  const polls = result.requests['outbox-poll']?.count ?? 0;
  const perCycle = (ms: number | undefined) => (result.cycles > 0 && ms !== undefined ? round(ms / result.cycles, 3) : 0);
  return {
    concurrency,
    cyclesPerSecond: result.cyclesPerSecond,
    start: result.requests['start'] ?? null,
    check: result.requests['check'] ?? null,
    outbox: result.requests['outbox'] ?? null,
    outboxPollsPerCycle: result.cycles > 0 ? round(polls / result.cycles, 2) : 0,
    serverCpuMsPerCycle: perCycle(result.cpuMs?.[String(serverPid)]),
    clientCpuMsPerCycle: perCycle(result.cpuMs?.['client']),
    errors: result.errors,
  };
}

/** One otp-cycle load at `concurrency` against a running server whose users are `userIds`. */
export async function measureCycle(server: OutbandUnderTest, userIds: string[], concurrency: number, timing: Timing, samples = false): Promise<LoadResult> {
  return runLoad({ scenario: 'otp-cycle', baseUrl: server.baseUrl, token: server.token, concurrency, ...timing, params: { userIds }, samples, watchPids: [server.pid] });
}

export function timingOf(quick: boolean | undefined, durationMs?: number): Timing {
  return quick ? { durationMs: durationMs ?? 1000, warmupMs: 300 } : { durationMs: durationMs ?? 4000, warmupMs: 1000 };
}

/** The baseline route at each concurrency, same client, same timing. */
export async function measureBaseline(concurrencies: number[], timing: Timing): Promise<Record<number, RequestFigures>> {
  const baseline = await startBaseline();
  try {
    const figures: Record<number, RequestFigures> = {};
    for (const concurrency of concurrencies) {
      const result = await runLoad({ scenario: 'baseline', baseUrl: baseline.baseUrl, concurrency, ...timing });
      figures[concurrency] = result.requests['baseline']!;
    }
    return figures;
  } finally {
    await baseline.stop();
  }
}

/**
 * The cycle without HTTP (bench/in-process-cycle.ts): the server makes the database, the
 * application and the users and stops; a process of the same configuration then calls the
 * services directly, one run per concurrency. Its CPU per cycle is the whole process's.
 */
async function measureInProcess(server: OutbandUnderTest, userCount: number, concurrencies: number[], timing: Timing, profileDir?: string, walPages = false): Promise<CyclePoint[]> {
  const userIds = await createUsers(server, userCount);
  const kept = await server.keep();
  try {
    const points: CyclePoint[] = [];
    for (const concurrency of concurrencies) {
      const job = { applicationId: kept.applicationId, userIds, concurrency, ...timing, walPages };
      const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=otp-cycle-no-http-c${concurrency}.cpuprofile`] : [];
      const { stdout } = await execFileAsync(NODE, [...profile, join(ROOT, 'bench/in-process-cycle.ts'), JSON.stringify(job)], {
        cwd: ROOT,
        env: childEnv(server.env),
        maxBuffer: 1 << 24,
      });
      const line = stdout.trim().split('\n').at(-1) ?? '';
      const measured = JSON.parse(line) as {
        cyclesPerSecond: number;
        requests: Record<'start' | 'outbox' | 'check', RequestFigures>;
        cpuMsPerCycle: number;
        writtenKiBPerCycle: number;
        walPages?: Record<string, number>;
        errors: number;
        firstError?: string;
      };
      points.push({
        concurrency,
        cyclesPerSecond: measured.cyclesPerSecond,
        start: measured.requests.start,
        check: measured.requests.check,
        outbox: measured.requests.outbox,
        outboxPollsPerCycle: 0,
        serverCpuMsPerCycle: measured.cpuMsPerCycle,
        clientCpuMsPerCycle: 0,
        writtenKiBPerCycle: measured.writtenKiBPerCycle,
        ...(measured.walPages === undefined ? {} : { walPagesPerCycle: measured.walPages }),
        errors: measured.errors > 0 ? { [measured.firstError ?? 'error']: measured.errors } : {},
      });
    }
    return points;
  } finally {
    await dropDatabase(kept.databaseUrl);
  }
}

export interface OtpCycleOptions {
  quick?: boolean;
  only?: string[];
  concurrencies?: number[];
  durationMs?: number;
  /** A directory for a CPU profile of each server (node --cpu-prof). */
  profileDir?: string;
  /** In-process runs: which tables and indexes the commits wrote, read back from the WAL. */
  walPages?: boolean;
}

export async function run(options: OtpCycleOptions = {}): Promise<BenchSummary> {
  const timing = timingOf(options.quick, options.durationMs);
  const concurrencies = options.concurrencies ?? CONCURRENCIES;
  const names = options.only ?? Object.keys(CONFIGURATIONS);
  const userCount = options.quick ? 200 : 1000;

  const baseline = await measureBaseline(concurrencies, timing);
  const results: Record<string, { label: string; points: CyclePoint[] }> = {};
  for (const name of names) {
    const configuration = CONFIGURATIONS[name];
    if (configuration === undefined) throw new Error(`unknown configuration ${name}; one of ${Object.keys(CONFIGURATIONS).join(', ')}`);
    const server = await startOutband({
      ...configuration.options,
      ...(options.profileDir && !configuration.inProcess ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=otp-cycle-${name}.cpuprofile`] } : {}),
    });
    if (configuration.inProcess) {
      results[name] = { label: configuration.label, points: await measureInProcess(server, userCount, concurrencies, timing, options.profileDir, options.walPages) };
      continue;
    }
    try {
      const userIds = await createUsers(server, userCount);
      const points: CyclePoint[] = [];
      for (const concurrency of concurrencies) points.push(toPoint(concurrency, await measureCycle(server, userIds, concurrency, timing), server.pid));
      results[name] = { label: configuration.label, points };
    } finally {
      await server.stop();
    }
  }

  const rows: Array<Record<string, string | number>> = [];
  for (const concurrency of concurrencies) {
    rows.push({ server: 'baseline route', c: concurrency, 'req/s': baseline[concurrency]!.perSecond, 'p50 ms': baseline[concurrency]!.p50Ms, 'p99 ms': baseline[concurrency]!.p99Ms });
  }
  for (const [name, { points }] of Object.entries(results)) {
    for (const p of points) {
      const base = baseline[p.concurrency]!.perSecond;
      rows.push({
        server: name,
        c: p.concurrency,
        'cycles/s': p.cyclesPerSecond,
        'start/s': p.start?.perSecond ?? 0,
        'start p50': p.start?.p50Ms ?? 0,
        'start p99': p.start?.p99Ms ?? 0,
        'check/s': p.check?.perSecond ?? 0,
        'check p50': p.check?.p50Ms ?? 0,
        'check p99': p.check?.p99Ms ?? 0,
        'outbox p50': p.outbox?.p50Ms ?? 0,
        'polls/cycle': p.outboxPollsPerCycle,
        'server cpu ms/cycle': p.serverCpuMsPerCycle,
        'client cpu ms/cycle': p.clientCpuMsPerCycle,
        'written KiB/cycle': p.writtenKiBPerCycle ?? '',
        'start÷base': ratio(p.start?.perSecond ?? 0, base),
        'check÷base': ratio(p.check?.perSecond ?? 0, base),
        errors: errorDigest({ errors: p.errors } as LoadResult),
      });
    }
  }
  printTable(`otp-cycle (${timing.durationMs} ms per point after ${timing.warmupMs} ms warm-up; latencies in ms; ratios to the baseline route at the same concurrency)`, rows);

  for (const [name, { points }] of Object.entries(results)) {
    for (const p of points) {
      if (p.walPagesPerCycle === undefined) continue;
      printTable(`WAL pages per cycle by table or index: ${name}, c${p.concurrency}`, Object.entries(p.walPagesPerCycle).map(([btree, pages]) => ({ 'table or index': btree, pages })));
    }
  }

  const targets: Target[] = [];
  const top = Math.max(...concurrencies);
  const reference = results['sqlite-full']?.points.find((p) => p.concurrency === top);
  if (reference !== undefined) {
    const base = baseline[top]!.perSecond;
    for (const label of ['start', 'check'] as const) {
      const figures = reference[label];
      const share = ratio(figures?.perSecond ?? 0, base);
      targets.push(target(`otp-cycle sqlite ${label} req/s ÷ baseline req/s, c${top}`, share, '≥ 0.35', share >= 0.35));
    }
    for (const label of ['start', 'check'] as const) {
      const p99 = reference[label]?.p99Ms ?? Infinity;
      targets.push(target(`otp-cycle sqlite ${label} p99 ms, c${top}`, p99, '< 20', p99 < 20));
    }
  }
  return { benchmark: 'otp-cycle', baseline: { route: 'GET /baseline (bare Fastify 5)', perConcurrency: baseline }, results, targets };
}

if (isMain(import.meta)) {
  const argv = process.argv.slice(2);
  const only = flagValue('--only');
  const concurrency = flagValue('--concurrency');
  const duration = flagValue('--duration');
  const profile = flagValue('--profile');
  const summary = await run({
    quick: argv.includes('--quick'),
    ...(only ? { only: only.split(',') } : {}),
    ...(concurrency ? { concurrencies: concurrency.split(',').map(Number) } : {}),
    ...(duration ? { durationMs: Number(duration) } : {}),
    ...(profile ? { profileDir: profile } : {}),
    walPages: argv.includes('--wal-pages'),
  });

  printTargets('otp-cycle targets', summary.targets);
  console.log(JSON.stringify(summary));
}
