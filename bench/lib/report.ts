/** Figures and tables shared by the benchmarks. */

/** The q-quantile (0–1) of ascending latencies, nearest rank; 0 when there are none. */
export function percentile(sortedMs: ArrayLike<number>, q: number): number {
  if (sortedMs.length === 0) return 0;
  const rank = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil(q * sortedMs.length) - 1));
  return sortedMs[rank]!;
}

/** value / baseline, rounded to 2 decimals (0 when there is no baseline). */
export function ratio(value: number, baseline: number): number {
  return baseline > 0 ? Math.round((value / baseline) * 100) / 100 : 0;
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Prints rows as an aligned text table under a title (columns: the keys of all rows, in first-seen order). */
export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cell = (v: string | number | undefined) => (v === undefined ? '' : typeof v === 'number' ? String(round(v)) : v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  const out = [`\n${title}`, line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))];
  process.stdout.write(`${out.join('\n')}\n`);
}

export interface Target {
  target: string;
  value: number | string;
  bound: string;
  met: boolean;
}

export interface BenchSummary {
  benchmark: string;
  baseline?: unknown;
  results: unknown;
  targets: Target[];
}

/** A target row: `value` against `bound` (e.g. "≥ 0.35"), met or not. */
export function target(name: string, value: number | string, bound: string, met: boolean): Target {
  return { target: name, value: typeof value === 'number' ? round(value) : value, bound, met };
}

/** Prints the target rows of summaries as one table. */
export function printTargets(title: string, targets: Target[]): void {
  printTable(
    title,
    targets.map((t) => ({ target: t.target, value: t.value, bound: t.bound, met: t.met ? 'yes' : 'NO' })),
  );
}

/** Whether a module is run directly (`node bench/<name>.ts`) rather than imported. */
export function isMain(meta: ImportMeta): boolean {
  return process.argv[1] !== undefined && meta.filename === process.argv[1];
}

/** The value after `--flag` on the command line, if given. */
export function flagValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
