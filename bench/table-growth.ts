/**
 * table-growth: the otp-cycle (concurrency 64, SQLite with its defaults) with 0, 100 k and
 * 1 M verifications already in the table, and again at 1 M while the expiry sweeper works
 * through 100 k overdue ones. The rows are seeded in bulk (bench/lib/seed.ts) while the
 * server is stopped; one database grows from 100 k to 1 M, then takes the overdue rows.
 *
 * This machine's speed drifts by 10–30 % over a minute, more than the target's margin, so the
 * 0-row and the 1 M database are then measured in turn, ROUNDS times each (a server started
 * on each in turn), and the target is the median of the rounds' ratios, each ratio of two
 * points measured one after the other: 0 rows first in the odd rounds, 1 M first in the even
 * ones, so that a drift over the run does not always count against the same one.
 *
 *   node_modules/.bin/node bench/table-growth.ts [--quick] [--rounds 3]
 *
 * --quick: 0, 10 k and 50 k rows, 10 k overdue, 1 s per point, one round.
 */
import { DatabaseSync } from 'node:sqlite';
import { errorDigest, type LoadResult } from './lib/load.ts';
import { createUsers, dropDatabase, startOutband, type OutbandUnderTest, type StartOptions } from './lib/outband.ts';
import { flagValue, isMain, printTable, printTargets, ratio, round, target, type BenchSummary, type Target } from './lib/report.ts';
import { seedVerifications, type SeedPlan } from './lib/seed.ts';
import { measureCycle, timingOf, toPoint, type CyclePoint } from './otp-cycle.ts';

const CONCURRENCY = 64;
const ROUNDS = 3;

export interface GrowthPoint extends CyclePoint {
  point: string;
  /** Which turn of the alternating 0-row / 1 M measurement (1 = the first pass), when part of one. */
  round?: number;
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

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export async function run(options: { quick?: boolean; rounds?: number } = {}): Promise<BenchSummary> {
  const rounds = Math.max(1, options.rounds ?? (options.quick ? 1 : ROUNDS));
  const timing = timingOf(options.quick);
  const sizes = options.quick ? { first: 10_000, second: 50_000, overdue: 10_000 } : { first: 100_000, second: 1_000_000, overdue: 100_000 };
  const userCount = options.quick ? 200 : 1000;
  const points: GrowthPoint[] = [];
  let userIds: string[] = [];
  let kept: { databaseUrl: string; applicationId: string } | undefined;
  let growingUsers: string[] = [];
  let empty: { kept: { databaseUrl: string; applicationId: string }; userIds: string[] } | undefined;

  const measure = async (point: string, server: OutbandUnderTest, seedMs: number, sweeping = false, turn?: number): Promise<void> => {
    const rows = countRows(server.databaseUrl);
    const overdueBefore = sweeping ? countOverdue(server.databaseUrl) : 0;
    const started = Date.now();
    const result: LoadResult = await measureCycle(server, userIds, CONCURRENCY, timing);
    const figures: GrowthPoint = { point, ...(turn === undefined ? {} : { round: turn }), rows, seedMs, ...toPoint(CONCURRENCY, result, server.pid) };
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

  const fullLabel = sizes.second >= 1_000_000 ? `${sizes.second / 1_000_000} M rows` : `${sizes.second / 1000} k rows`;
  try {
    // 0 rows: a fresh database of its own, kept for the later rounds.
    {
      const server = await startOutband({ database: 'sqlite' });
      let emptyUsers: string[] = [];
      try {
        emptyUsers = await createUsers(server, userCount);
        userIds = emptyUsers;
        await measure('0 rows', server, 0, false, 1);
      } finally {
        empty = { kept: await server.keep(), userIds: emptyUsers };
      }
    }
    // The growing database: 100 k, then 1 M, then 1 M with overdue rows for the sweeper.
    {
      const { server, seedMs } = await start({ finished: sizes.first });
      userIds = await createUsers(server, userCount).catch(async (error: unknown) => {
        await server.stop();
        throw error;
      });
      growingUsers = userIds;
      await measure(`${sizes.first / 1000} k rows`, server, seedMs).finally(async () => (kept = await server.keep()));
    }
    {
      const { server, seedMs } = await start({ finished: sizes.second - sizes.first });
      await measure(fullLabel, server, seedMs, false, 1).finally(async () => (kept = await server.keep()));
    }
    // The further rounds: the 0-row and the 1 M database, each on a server started for it, the
    // 1 M one first in the even rounds: the machine slows over the run (each point's CPU per
    // cycle a little above the one before), which always measuring 0 rows first counted against 1 M.
    const measureEmpty = async (turn: number) => {
      const emptyServer = await startOutband({ database: 'sqlite', existing: empty!.kept });
      userIds = empty!.userIds;
      await measure('0 rows', emptyServer, 0, false, turn).finally(async () => (empty = { kept: await emptyServer.keep(), userIds: empty!.userIds }));
    };
    const measureFull = async (turn: number) => {
      const fullServer = await startOutband({ database: 'sqlite', existing: kept! });
      userIds = growingUsers;
      await measure(fullLabel, fullServer, 0, false, turn).finally(async () => (kept = await fullServer.keep()));
    };
    for (let turn = 2; turn <= rounds; turn++) {
      if (turn % 2 === 0) {
        await measureFull(turn);
        await measureEmpty(turn);
      } else {
        await measureEmpty(turn);
        await measureFull(turn);
      }
    }
    {
      const { server, seedMs } = await start({ overdue: sizes.overdue }, { env: { SWEEP_INTERVAL_MS: '100' } });
      await measure(`sweeping ${sizes.overdue / 1000} k overdue`, server, seedMs, true).finally(async () => (kept = await server.keep()));
    }
  } finally {
    if (kept) await dropDatabase(kept.databaseUrl);
    if (empty) await dropDatabase(empty.kept.databaseUrl);
  }

  printTable(
    `table-growth (otp-cycle at c${CONCURRENCY}, SQLite FULL with group commit; ${timing.durationMs} ms per point after ${timing.warmupMs} ms warm-up; latencies in ms)`,
    points.map((p) => ({
      point: p.point,
      round: p.round ?? '',
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

  const targets: Target[] = [];
  const empties = points.filter((p) => p.point === '0 rows');
  const fulls = points.filter((p) => p.point === fullLabel);
  const shares = fulls.map((f) => ratio(f.cyclesPerSecond, empties.find((e) => e.round === f.round)?.cyclesPerSecond ?? 0)).filter((share) => Number.isFinite(share) && share > 0);
  if (shares.length > 0) {
    const share = round(median(shares), 3);
    const each = shares.length > 1 ? `, median of ${shares.length} rounds: ${shares.join(' / ')}` : '';
    targets.push(target(`table-growth cycles/s at ${fullLabel} ÷ at 0 rows${each}`, share, '≥ 0.90', share >= 0.9));
  }
  const full = fulls.at(-1);
  const sweep = points.find((p) => p.sweep !== undefined);
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
  const rounds = flagValue('--rounds');
  const summary = await run({ quick: process.argv.includes('--quick'), ...(rounds === undefined ? {} : { rounds: Number(rounds) }) });
  printTargets('table-growth targets', summary.targets);
  console.log(JSON.stringify(summary));
}
