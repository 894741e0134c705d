/**
 * Where a CPU profile (node --cpu-prof) spent its time: self time summed per function and per
 * file, the top entries printed. Used to find what costs most on a benchmark's hot path.
 *
 *   node_modules/.bin/node bench/cpuprofile.ts FILE.cpuprofile [top=30] [--window FROM,TO]
 *
 * `--window`: only the samples taken between two readings of the monotonic clock, in µs (as
 * `process.hrtime.bigint() / 1000n` gives them in any process of the machine; V8's profiler
 * times its samples on the same clock), e.g. the window a benchmark prints for its burst.
 */
import { readFileSync } from 'node:fs';
import { isMain, printTable, round } from './lib/report.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  byFunction: Array<{ name: string; ms: number; share: number }>;
  /** Self time plus that of everything it called (a recursive function counted once per stack). */
  inclusive: Array<{ name: string; ms: number; share: number }>;
  byFile: Array<{ name: string; ms: number; share: number }>;
  /** Self time grouped by package (node_modules/<name>), node: internals, src/ of the project, and the rest. */
  byArea: Array<{ name: string; ms: number; share: number }>;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

function areaOf(url: string): string {
  if (url === '') return '(native, gc, idle)';
  if (url.startsWith('node:')) return 'node: internals';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.includes('/src/')) return 'outband src/';
  return url;
}

/** Who calls functions whose name contains `needle`: self+descendant time per caller stack (`depth` frames up). */
export function callers(profile: CpuProfile, needle: string, depth = 4, top = 15): Array<{ name: string; ms: number; share: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    total += profile.timeDeltas[i] ?? 0;
  }
  const name = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  const stacks = new Map<string, number>();
  for (const [id, us] of self) {
    // The outermost frame matching the needle, and the frames above it.
    let match: number | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (name(byId.get(at)!).includes(needle)) match = at;
    if (match === undefined) continue;
    const chain: string[] = [];
    for (let at = parent.get(match), i = 0; at !== undefined && i < depth; at = parent.get(at), i++) chain.push(name(byId.get(at)!));
    const key = chain.join(' ← ');
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  return [...stacks]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([n, us]) => ({ name: n, ms: round(us / 1000, 1), share: round((us / total) * 100, 1) }));
}

export function summarize(profile: CpuProfile, top = 30): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  const area = new Map<string, number>();
  let total = 0;
  const nameOf = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
  };
  // Inclusive time: walk from the root, carrying the names on the stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = nameOf(byId.get(at)!);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { url } = node.callFrame;
    const name = nameOf(node);
    fn.set(name, (fn.get(name) ?? 0) + us);
    file.set(shortUrl(url), (file.get(shortUrl(url)) ?? 0) + us);
    area.set(areaOf(url), (area.get(areaOf(url)) ?? 0) + us);
    total += us;
  }
  const ranked = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: round(us / 1000, 1), share: round((us / total) * 100, 1) }));
  return { totalMs: round(total / 1000, 1), byFunction: ranked(fn), inclusive: ranked(inclusive), byFile: ranked(file), byArea: ranked(area) };
}

/** The profile with only the samples taken from `fromUs` to `toUs` (monotonic µs). */
export function within(profile: CpuProfile, fromUs: number, toUs: number): CpuProfile {
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at > toUs) continue;
    samples.push(profile.samples[i]!);
    timeDeltas.push(profile.timeDeltas[i] ?? 0);
  }
  return { ...profile, samples, timeDeltas, startTime: fromUs, endTime: toUs };
}

if (isMain(import.meta)) {
  const windowAt = process.argv.indexOf('--window');
  const window = windowAt < 0 ? null : (process.argv.splice(windowAt, 2)[1] ?? '').split(',').map(Number);
  const read = (path: string): CpuProfile => {
    const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
    return window === null ? profile : within(profile, window[0]!, window[1]!);
  };
  const file = process.argv[2];
  if (!file) throw new Error('usage: bench/cpuprofile.ts FILE.cpuprofile [top] | FILE --callers NAME [depth]');
  if (process.argv[3] === '--callers') {
    const needle = process.argv[4] ?? '';
    const rows = callers(read(file), needle, Number(process.argv[5] ?? 4));
    printTable(`callers of ${needle} (inclusive time per calling stack)`, rows.map((e) => ({ stack: e.name, ms: e.ms, '%': e.share })));
    process.exit(0);
  }
  const summary = summarize(read(file), Number(process.argv[3] ?? 30));
  const rows = (list: ProfileSummary['byFunction']) => list.map((e) => ({ name: e.name, 'self ms': e.ms, '%': e.share }));
  printTable(`${file}: ${summary.totalMs} ms sampled — by area`, rows(summary.byArea));
  printTable('by file', rows(summary.byFile));
  printTable('by function (self)', rows(summary.byFunction));
  printTable('by function (inclusive)', rows(summary.inclusive));
}
