/**
 * table-growth: the otp-cycle (concurrency 64, SQLite with its defaults) with 0, 100 k and
 * 1 M verifications already in the table, and again at 1 M while the expiry sweeper works
 * through 100 k overdue ones. The rows are seeded in bulk (bench/lib/seed.ts) while the
 * server is stopped; one database grows from 100 k to 1 M, then takes the overdue rows.
 *
 *   node_modules/.bin/node bench/table-growth.ts [--quick]
 *
 * --quick: 0, 10 k and 50 k rows, 10 k overdue, 1 s per point.
 */
import { DatabaseSync } from 'node:sqlite';
import { errorDigest, type LoadResult } from './lib/load.ts';
import { createUsers, dropDatabase, startOutband, type OutbandUnderTest, type StartOptions } from './lib/outband.ts';
import { isMain, printTable, printTargets, ratio, round, target, type BenchSummary, type Target } from './lib/report.ts';
import { seedVerifications, type SeedPlan } from './lib/seed.ts';
import { measureCycle, timingOf, toPoint, type CyclePoint } from './otp-cycle.ts';

const CONCURRENCY = 64;

export interface GrowthPoint extends CyclePoint {
  point: string;
  /** Verifications in the table when the load started. */
  rows: number;
  seedMs: number;
  /** With the sweeper at work: overdue rows before and after the measured window, and how many it expired per second. */
  sweep?: { overdueBefore: number; overdueAfter: number; expiredPerSecond: number };
}

function countOverdue(databaseUrl: string): number {
  const db = new DatabaseSync(databaseUrl.slice('sqlite:'.length), { readOnly: true, timeout: 5000 });
  try {
    return Number((db.prepare("select count(*) as n from verifications where status = 'pending' and expires_at <= ?").get(Date.now()) as { n: number }).n);
  } finally {
    db.close();
  }
}

function countRows(databaseUrl: string): number {
  const db = new DatabaseSync(databaseUrl.slice('sqlite:'.length), { readOnly: true, timeout: 5000 });
  try {
    return Number((db.prepare('select count(*) as n from verifications').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

export async function run(options: { quick?: boolean } = {}): Promise<BenchSummary> {
  const timing = timingOf(options.quick);
  const sizes = options.quick ? { first: 10_000, second: 50_000, overdue: 10_000 } : { first: 100_000, second: 1_000_000, overdue: 100_000 };
  const userCount = options.quick ? 200 : 1000;
  const points: GrowthPoint[] = [];
  let userIds: string[] = [];
  let kept: { databaseUrl: string; applicationId: string } | undefined;

  const measure = async (point: string, server: OutbandUnderTest, seedMs: number, sweeping = false): Promise<void> => {
    const rows = countRows(server.databaseUrl);
    const overdueBefore = sweeping ? countOverdue(server.databaseUrl) : 0;
    const started = Date.now();
    const result: LoadResult = await measureCycle(server, userIds, CONCURRENCY, timing);
    const figures: GrowthPoint = { point, rows, seedMs, ...toPoint(CONCURRENCY, result, server.pid) };
    if (sweeping) {
      const overdueAfter = countOverdue(server.databaseUrl);
      figures.sweep = { overdueBefore, overdueAfter, expiredPerSecond: round((overdueBefore - overdueAfter) / ((Date.now() - started) / 1000), 0) };
    }
    points.push(figures);
  };

  const start = async (plan: SeedPlan | null, extra: Partial<StartOptions> = {}): Promise<{ server: OutbandUnderTest; seedMs: number }> => {
    let seedMs = 0;
    const server = await startOutband({
      database: 'sqlite',
      ...(kept ? { existing: kept } : {}),
      ...(plan ? { beforeServe: async (url: string, app: string) => void (seedMs = seedVerifications(url, app, plan).ms) } : {}),
      ...extra,
    });
    return { server, seedMs };
  };

  try {
    // 0 rows: a fresh database of its own.
    {
      const { server } = await start(null);
      try {
        userIds = await createUsers(server, userCount);
        await measure('0 rows', server, 0);
      } finally {
        await server.stop();
      }
    }
    // The growing database: 100 k, then 1 M, then 1 M with overdue rows for the sweeper.
    {
      const { server, seedMs } = await start({ finished: sizes.first });
      userIds = await createUsers(server, userCount).catch(async (error: unknown) => {
        await server.stop();
        throw error;
      });
      await measure(`${sizes.first / 1000} k rows`, server, seedMs).finally(async () => (kept = await server.keep()));
    }
    {
      const { server, seedMs } = await start({ finished: sizes.second - sizes.first });
      await measure(`${sizes.second >= 1_000_000 ? `${sizes.second / 1_000_000} M` : `${sizes.second / 1000} k`} rows`, server, seedMs).finally(async () => (kept = await server.keep()));
    }
    {
      const { server, seedMs } = await start({ overdue: sizes.overdue }, { env: { SWEEP_INTERVAL_MS: '100' } });
      await measure(`sweeping ${sizes.overdue / 1000} k overdue`, server, seedMs, true).finally(async () => (kept = await server.keep()));
    }
  } finally {
    if (kept) await dropDatabase(kept.databaseUrl);
  }

  printTable(
    `table-growth (otp-cycle at c${CONCURRENCY}, SQLite FULL with group commit; ${timing.durationMs} ms per point after ${timing.warmupMs} ms warm-up; latencies in ms)`,
    points.map((p) => ({
      point: p.point,
      rows: p.rows,
      'seed s': round(p.seedMs / 1000, 1),
      'cycles/s': p.cyclesPerSecond,
      'start p50': p.start?.p50Ms ?? 0,
      'start p99': p.start?.p99Ms ?? 0,
      'check p50': p.check?.p50Ms ?? 0,
      'check p99': p.check?.p99Ms ?? 0,
      'server cpu ms/cycle': p.serverCpuMsPerCycle,
      'swept/s': p.sweep?.expiredPerSecond ?? '',
      errors: errorDigest({ errors: p.errors } as LoadResult),
    })),
  );

  const [empty, , full, sweep] = points;
  const targets: Target[] = [];
  if (empty && full) {
    const share = ratio(full.cyclesPerSecond, empty.cyclesPerSecond);
    targets.push(target(`table-growth cycles/s at ${full.point} ÷ at 0 rows`, share, '≥ 0.90', share >= 0.9));
  }
  if (full && sweep) {
    for (const label of ['start', 'check'] as const) {
      const without = full[label]?.p99Ms ?? 0;
      const during = sweep[label]?.p99Ms ?? Infinity;
      const factor = without > 0 ? round(during / without, 2) : Infinity;
      targets.push(target(`table-growth ${label} p99 during the sweep ÷ without (${round(during, 1)} / ${round(without, 1)} ms)`, factor, '< 2', factor < 2));
    }
  }
  return { benchmark: 'table-growth', results: { concurrency: CONCURRENCY, points }, targets };
}

if (isMain(import.meta)) {
  const summary = await run({ quick: process.argv.includes('--quick') });
  printTargets('table-growth targets', summary.targets);
  console.log(JSON.stringify(summary));
}
