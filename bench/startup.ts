/**
 * startup: the time from spawning `outband serve` to GET /readyz answering 200, and the server's
 * RSS at idle (VmRSS 2 s after it is ready), on SQLite:
 * - `migrated`: an existing database, migrated by an earlier start (the usual restart);
 * - `fresh`: an empty database file each time (the first start: migrations, the signing key,
 *   the VAPID keys, the console's first admin).
 * Each is repeated and the median reported (min and max beside it). The baseline is the bare
 * Fastify process (bench/baseline-server.ts): spawn to its first answer, and its idle RSS.
 *
 * The server starts as `npm start` starts it: bin/outband.js running the bundled build (ADR
 * 0025; built first if dist/server is missing or stale). The migrated start from the TypeScript
 * sources (OUTBAND_BUNDLE=0) alternates with it, as the figure the bundle is judged against.
 *
 * Node caches compiled code between runs (module.enableCompileCache(), see bin/outband.js),
 * so the very first start after an install or an upgrade is slower: `cold cache` measures one
 * start with an empty cache directory (NODE_COMPILE_CACHE) on a migrated database.
 *
 *   node_modules/.bin/node bench/startup.ts [--quick] [--runs 5] [--profile DIR]
 *        (DIR: a CPU profile of one start on the migrated database, node --cpu-prof)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/server.ts';
import { ensureBundle, NODE, ROOT, rssOf } from './lib/outband.ts';
import { isMain, printTable, printTargets, ratio, round, target, type BenchSummary, type Target, flagValue } from './lib/report.ts';

const BIN = join(ROOT, 'bin/outband.js');
const IDLE_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StartupOptions {
  quick?: boolean;
  runs?: number;
  profileDir?: string;
}

/** One start: spawn to the first 200 of `path`, then the RSS after IDLE_MS. */
export interface StartSample {
  readyMs: number;
  idleRssBytes: number;
}

export interface StartFigures {
  runs: number;
  readyMs: { median: number; min: number; max: number };
  idleRssMiB: { median: number; min: number; max: number };
  samples: StartSample[];
}

/** One GET on a fresh connection: its status, or 0 when nothing listens yet. */
function statusOf(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Spawns `args`, polls `path` every 2 ms until it answers 200, reads the RSS after IDLE_MS, stops it. */
async function timeStart(args: string[], env: Record<string, string>, port: number, path: string): Promise<StartSample> {
  const started = performance.now();
  const child: ChildProcess = spawn(NODE, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    const deadline = started + 60_000;
    while ((await statusOf(port, path)) !== 200) {
      if (child.exitCode !== null || performance.now() > deadline) throw new Error(`${args.join(' ')} did not answer ${path}: ${stderr.slice(-2000)}`);
      await sleep(2);
    }
    const readyMs = performance.now() - started;
    await sleep(IDLE_MS);
    return { readyMs: round(readyMs, 1), idleRssBytes: rssOf(child.pid ?? 0) };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await closed;
    clearTimeout(timer);
  }
}

function figures(samples: StartSample[]): StartFigures {
  const spread = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
  };
  return {
    runs: samples.length,
    readyMs: spread(samples.map((s) => s.readyMs)),
    idleRssMiB: spread(samples.map((s) => round(s.idleRssBytes / 2 ** 20, 1))),
    samples,
  };
}

function serverEnv(databaseFile: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: `sqlite:${databaseFile}`,
    OUTBAND_SECRET: 'bench-secret-bench-secret-bench-secret-0123456789',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'warn',
    OUTBAND_DEMO: 'false',
    ...extra,
  };
}

export async function run(options: StartupOptions = {}): Promise<BenchSummary> {
  const runs = options.runs ?? (options.quick ? 2 : 5);
  const dir = mkdtempSync(join(tmpdir(), 'outband-bench-startup-'));
  try {
    const baselineSamples: StartSample[] = [];
    for (let i = 0; i < runs; i++) {
      const port = await freePort();
      baselineSamples.push(await timeStart([join(ROOT, 'bench/baseline-server.ts'), String(port)], {}, port, '/baseline'));
    }

    // The migrated database: made by one start (which also fills the compile cache), then reused.
    const build = await ensureBundle();
    const fromSources = { OUTBAND_BUNDLE: '0' };
    const chosen = build === 'bundle' ? {} : fromSources;
    const migrated = join(dir, 'migrated.db');
    for (const extra of [chosen, fromSources]) {
      const preparing = await freePort();
      await timeStart([BIN, 'serve'], serverEnv(migrated, preparing, extra), preparing, '/readyz');
    }
    const migratedSamples: StartSample[] = [];
    const freshSamples: StartSample[] = [];
    const sourcesSamples: StartSample[] = [];
    for (let i = 0; i < runs; i++) {
      let port = await freePort();
      migratedSamples.push(await timeStart([BIN, 'serve'], serverEnv(migrated, port, chosen), port, '/readyz'));
      port = await freePort();
      freshSamples.push(await timeStart([BIN, 'serve'], serverEnv(join(dir, `fresh-${i}.db`), port, chosen), port, '/readyz'));
      // The same start from the TypeScript sources, alternating with the bundle's: what ADR 0025 saves.
      if (build === 'bundle') {
        port = await freePort();
        sourcesSamples.push(await timeStart([BIN, 'serve'], serverEnv(migrated, port, fromSources), port, '/readyz'));
      }
    }
    let coldCache: StartSample | null = null;
    if (!options.quick) {
      const port = await freePort();
      coldCache = await timeStart([BIN, 'serve'], serverEnv(migrated, port, { ...chosen, NODE_COMPILE_CACHE: mkdtempSync(join(dir, 'cache-')) }), port, '/readyz');
    }
    if (options.profileDir !== undefined) {
      const port = await freePort();
      await timeStart(['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, '--cpu-prof-name=startup.cpuprofile', BIN, 'serve'], serverEnv(migrated, port, chosen), port, '/readyz');
    }

    const baseline = figures(baselineSamples);
    const results = { build, migrated: figures(migratedSamples), fresh: figures(freshSamples), sources: sourcesSamples.length > 0 ? figures(sourcesSamples) : null, coldCache };
    const row = (name: string, f: StartFigures) => ({
      start: name,
      runs: f.runs,
      'ready ms (median)': f.readyMs.median,
      'min-max': `${f.readyMs.min}-${f.readyMs.max}`,
      'idle RSS MiB (median)': f.idleRssMiB.median,
      'RSS min-max': `${f.idleRssMiB.min}-${f.idleRssMiB.max}`,
      'ready÷base': ratio(f.readyMs.median, baseline.readyMs.median),
      'RSS÷base': ratio(f.idleRssMiB.median, baseline.idleRssMiB.median),
    });
    printTable(`startup (spawn → first 200 from /readyz; RSS 2 s after; SQLite; ${build === 'bundle' ? 'the bundled build' : 'from the sources'})`, [
      row('baseline (bare Fastify, GET /baseline)', baseline),
      row('outband serve, migrated database', results.migrated),
      row('outband serve, fresh database', results.fresh),
      ...(results.sources === null ? [] : [row('outband serve, migrated, from the sources (OUTBAND_BUNDLE=0)', results.sources)]),
      ...(coldCache === null ? [] : [row('outband serve, migrated, cold compile cache', figures([coldCache]))]),
    ]);

    const targets: Target[] = [];
    for (const [name, f] of [
      ['migrated', results.migrated],
      ['fresh', results.fresh],
    ] as const) {
      targets.push(target(`startup ms to /readyz, ${name} database (median)`, f.readyMs.median, '< 1000', f.readyMs.median < 1000));
      targets.push(target(`startup idle RSS MiB, ${name} database (median)`, f.idleRssMiB.median, '< 120', f.idleRssMiB.median < 120));
    }
    return { benchmark: 'startup', baseline: { process: 'bench/baseline-server.ts (bare Fastify 5)', ...baseline }, results, targets };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta)) {
  const argv = process.argv.slice(2);
  const runs = flagValue('--runs');
  const profile = flagValue('--profile');
  const summary = await run({ quick: argv.includes('--quick'), ...(runs ? { runs: Number(runs) } : {}), ...(profile ? { profileDir: profile } : {}) });
  printTargets('startup targets', summary.targets);
  console.log(JSON.stringify(summary));
}
