/**
 * Every benchmark in sequence (npm run bench): otp-cycle, push-roundtrip, waiters, startup,
 * table-growth. Writes bench/results/<YYYY-MM-DD>.json (one file per day, the last run of
 * the day) and prints every target in one table.
 *
 *   npm run bench                      # the full run, about 10 minutes
 *   npm run bench -- --quick           # a smoke run, each point about 1 s; writes nothing
 *   npm run bench -- --only otp-cycle,startup
 *   npm run bench -- --quick --out FILE  # a smoke run that keeps its results
 *
 * Exits 1 when a benchmark failed to run; a missed target is a result, not a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { printTable, printTargets, round, type BenchSummary, type Target, flagValue } from './lib/report.ts';

export const BENCHMARKS = ['otp-cycle', 'push-roundtrip', 'waiters', 'startup', 'table-growth'];

interface BenchModule {
  run(options: { quick?: boolean }): Promise<BenchSummary>;
}

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = flagValue('--only')?.split(',');
const names = only ?? BENCHMARKS;
const unknown = names.filter((n) => !BENCHMARKS.includes(n));
if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; one of ${BENCHMARKS.join(', ')}`);

function commit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: import.meta.dirname, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const started = Date.now();
const summaries: Record<string, BenchSummary> = {};
const timings: Array<Record<string, string | number>> = [];
const problems: Record<string, string> = {};
for (const name of names) {
  const file = join(import.meta.dirname, `${name}.ts`);
  // A benchmark not yet written against bench/lib's contract (no exported run) is skipped, not run as a script.
  if (!existsSync(file) || !/export\s+async\s+function\s+run\s*\(/.test(readFileSync(file, 'utf8'))) {
    problems[name] = `skipped: bench/${name}.ts ${existsSync(file) ? 'does not export run(options)' : 'does not exist yet'}`;
    process.stdout.write(`\n== ${name}: ${problems[name]}\n`);
    timings.push({ benchmark: name, seconds: 0, outcome: 'skipped' });
    continue;
  }
  process.stdout.write(`\n== ${name}${quick ? ' (quick)' : ''}\n`);
  const at = Date.now();
  try {
    const module = (await import(pathToFileURL(file).href)) as BenchModule;
    summaries[name] = await module.run({ quick });
    timings.push({ benchmark: name, seconds: round((Date.now() - at) / 1000, 1), outcome: 'ran' });
  } catch (error) {
    problems[name] = `failed: ${(error as Error)?.stack ?? String(error)}`;
    process.stdout.write(`\n== ${name} ${problems[name]}\n`);
    timings.push({ benchmark: name, seconds: round((Date.now() - at) / 1000, 1), outcome: 'FAILED' });
  }
}

const targets: Array<Target & { benchmark: string }> = Object.entries(summaries).flatMap(([benchmark, s]) => s.targets.map((t) => ({ benchmark, ...t })));
const seconds = round((Date.now() - started) / 1000, 1);
const date = new Date().toISOString().slice(0, 10);
const result = {
  date,
  quick,
  seconds,
  commit: commit(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? null, memoryBytes: totalmem(), node: process.version, loadAverageAtEnd: loadavg().map((l) => round(l, 2)) },
  benchmarks: summaries,
  targets,
  problems,
};

printTable(`benchmarks run (${seconds} s in all)`, timings);
printTargets('targets', targets.map((t) => ({ ...t, target: t.target.startsWith(t.benchmark) ? t.target : `${t.benchmark}: ${t.target}` })));
const out = flagValue('--out') ?? (quick ? undefined : join(import.meta.dirname, 'results', `${date}.json`));
if (out) {
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nwrote ${out}\n`);
}
if (Object.values(problems).some((p) => p.startsWith('failed'))) process.exitCode = 1;
