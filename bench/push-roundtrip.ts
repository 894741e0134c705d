/**
 * push-roundtrip: from POST /v1/verifications (channel push) to the relying party's long-poll
 * (GET /v1/verifications/{id}?wait=10) answering `approved`, at 1, 50 and 200 verifications in
 * flight (a load of that many loops, each one round trip after another), with the baseline
 * route measured by the same client at the same concurrencies.
 *
 * Devices are enrolled with the reference CLI (`outband authenticator enroll <link> --file F`),
 * and two kinds of authenticator process answer, each approving at once over the device's SSE
 * stream with a real signature:
 * - `cli-watch`: `outband authenticator watch --approve-all --file F`. Its watch loop answers one
 *   request at a time per process (it is written for a person at a terminal), so each process
 *   caps the round trips per second at 1 / (one answer's latency), and the requests queued
 *   behind it wait: at many in flight that is the authenticator's limit, not the server's.
 * - `many-phones`: bench/push-authenticator.ts, the same device client answering every request
 *   the moment it arrives, as separate phones would. This is the server's round trip, and the
 *   figure the target is about.
 * The load is spread over several users with one device each (loop i uses user i mod devices),
 * as real pushes go to many people; one user with many pushes in flight is what the
 * push-bombing guard exists to stop. The bench application's fraud windows are wide open
 * (bench/lib/outband.ts OPEN_SETTINGS), and every approval clears its user's push marks.
 * The CPU each side used is reported, so the limit shows.
 *
 *   node_modules/.bin/node bench/push-roundtrip.ts [--quick] [--in-flight 1,50,200] [--devices 8] [--watchers 8]
 *        [--authenticators many-phones,cli-watch]
 *        [--duration 4000] [--profile DIR]   (DIR: a CPU profile of the server, node --cpu-prof)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBaseline } from './lib/baseline.ts';
import { errorDigest, runLoad, type LoadResult, type RequestFigures } from './lib/load.ts';
import { api, createUsers, NODE, ROOT, runCli, startOutband, type OutbandUnderTest } from './lib/outband.ts';
import { isMain, printTable, printTargets, ratio, target, type BenchSummary, type Target, flagValue } from './lib/report.ts';
import { sampleCpu } from './proc.ts';

export const IN_FLIGHT = [1, 50, 200];
const BIN = join(ROOT, 'bin/outband.js');

export interface PushRoundtripOptions {
  quick?: boolean;
  inFlight?: number[];
  /** Which authenticators answer; default both (quick: many-phones), one after the other on the same server. */
  authenticators?: AuthenticatorKind[];
  /** Users with one push device each, per authenticator kind. */
  devices?: number;
  /** `outband authenticator watch` processes; the devices are dealt out among them. */
  watchers?: number;
  durationMs?: number;
  profileDir?: string;
}

/** The authenticator side: its processes and what they printed. */
interface Fleet {
  userIds: string[];
  processes: ChildProcess[];
  /** `approved <id>` lines printed by all watchers so far. */
  approvals(): number;
  /** Lines that are neither a connection, a request nor an approval (failures, reconnects). */
  trouble(): string[];
  stop(): Promise<void>;
}

/** Who answers on the devices' side. */
export type AuthenticatorKind = 'cli-watch' | 'many-phones';

export const AUTHENTICATOR_LABELS: Record<AuthenticatorKind, string> = {
  'cli-watch': '`outband authenticator watch --approve-all` processes (one answer at a time each)',
  'many-phones': 'bench/push-authenticator.ts: the same device client, every request answered at once (like separate phones)',
};

/**
 * `devices` users with one device each, enrolled by the CLI (`outband authenticator enroll`)
 * into `processes` key files, and one authenticator process per key file.
 */
async function startFleet(server: OutbandUnderTest, kind: AuthenticatorKind, devices: number, processes: number): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), 'outband-bench-authenticators-'));
  const files = Array.from({ length: Math.min(processes, devices) }, (_, w) => join(dir, `authenticators-${w}.json`));
  const userIds = await createUsers(server, devices);
  const children: ChildProcess[] = [];
  let approvals = 0;
  let connected = 0;
  const trouble: string[] = [];
  try {
    const links = await Promise.all(
      userIds.map(async (userId) => ((await api(server, 'POST', `/v1/users/${userId}/devices`, { kind: 'push' }))['enrolment'] as { link: string }).link),
    );
    // One enrolment at a time per key file (each writes the whole file); the files in parallel.
    await Promise.all(
      files.map(async (file, w) => {
        for (let i = w; i < devices; i += files.length) await runCli(['authenticator', 'enroll', links[i]!, '--file', file, '--name', `bench-${i}`], server.env);
      }),
    );
    for (const file of files) {
      const args = kind === 'cli-watch' ? [BIN, 'authenticator', 'watch', '--approve-all', '--file', file] : [join(ROOT, 'bench/push-authenticator.ts'), file];
      const child = spawn(NODE, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let rest = '';
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (line.startsWith('approved ')) approvals++;
          else if (line.startsWith('connected ')) connected++;
          // `request` starts an answer; `withdrawn … approved` is the server confirming one.
          else if (!line.startsWith('request ') && !line.startsWith('withdrawn ') && trouble.length < 20) trouble.push(line);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => trouble.length < 20 && trouble.push(chunk.toString('utf8').trim()));
    }
    const deadline = Date.now() + 30_000;
    while (connected < devices) {
      if (Date.now() > deadline) throw new Error(`only ${connected} of ${devices} devices connected their streams: ${trouble.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    userIds,
    processes: children,
    approvals: () => approvals,
    trouble: () => trouble,
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
              child.on('close', () => {
                clearTimeout(timer);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface InFlightPoint {
  authenticator: AuthenticatorKind;
  inFlight: number;
  roundtripsPerSecond: number;
  roundtrip: RequestFigures | null;
  start: RequestFigures | null;
  wait: RequestFigures | null;
  baseline: RequestFigures;
  /** Round trip p50 and p99 ÷ the baseline route's at the same concurrency. */
  p50VsBaseline: number;
  p99VsBaseline: number;
  /** Share of one core used over the load's busiest `durationMs` (the load client is not counted). */
  serverCpuPercent: number;
  authenticatorCpuPercent: number;
  /** The busiest authenticator process: near 100 it is the limit. */
  busiestAuthenticatorCpuPercent: number;
  approvals: number;
  errors: Record<string, number>;
}

export async function run(options: PushRoundtripOptions = {}): Promise<BenchSummary> {
  const timing = options.quick ? { durationMs: options.durationMs ?? 1000, warmupMs: 300 } : { durationMs: options.durationMs ?? 4000, warmupMs: 1000 };
  // Quick: the target's level and one in flight, both authenticators, short spans.
  const levels = options.inFlight ?? (options.quick ? [1, 50] : IN_FLIGHT);
  // Quick: the target's authenticator only; the CLI watchers' limit shows in the full run.
  const kinds = options.authenticators ?? ((options.quick ? ['many-phones'] : ['many-phones', 'cli-watch']) as AuthenticatorKind[]);
  const devices = options.devices ?? (options.quick ? 4 : 8);
  const processes: Record<AuthenticatorKind, number> = { 'cli-watch': Math.min(devices, options.watchers ?? devices), 'many-phones': 1 };

  const baselineServer = await startBaseline();
  const baseline: Record<number, RequestFigures> = {};
  try {
    for (const n of levels) baseline[n] = (await runLoad({ scenario: 'baseline', baseUrl: baselineServer.baseUrl, concurrency: n, ...timing })).requests['baseline']!;
  } finally {
    await baselineServer.stop();
  }

  const server = await startOutband({
    database: 'sqlite',
    ...(options.profileDir ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, '--cpu-prof-name=push-roundtrip.cpuprofile'] } : {}),
  });
  const points: InFlightPoint[] = [];
  const trouble: Record<string, string[]> = {};
  try {
    for (const kind of kinds) {
      const fleet = await startFleet(server, kind, devices, processes[kind]);
      try {
        for (const n of levels) points.push(await measureLevel(server, fleet, kind, n, timing, baseline[n]!));
      } finally {
        trouble[kind] = fleet.trouble();
        await fleet.stop();
      }
    }
  } finally {
    await server.stop();
  }

  printTable(
    `push-roundtrip (SQLite FULL; ${devices} users with one push device each; ${timing.durationMs} ms per level after ${timing.warmupMs} ms warm-up; ms)`,
    [
      ...levels.map((n) => ({ answered_by: 'baseline GET /baseline', 'in flight': n, 'per s': baseline[n]!.perSecond, p50: baseline[n]!.p50Ms, p99: baseline[n]!.p99Ms, max: baseline[n]!.maxMs })),
      ...points.map((p) => ({
        answered_by: `${p.authenticator} (${processes[p.authenticator]} proc)`,
        'in flight': p.inFlight,
        'per s': p.roundtripsPerSecond,
        p50: p.roundtrip?.p50Ms ?? 0,
        p99: p.roundtrip?.p99Ms ?? 0,
        max: p.roundtrip?.maxMs ?? 0,
        'p50÷base': p.p50VsBaseline,
        'p99÷base': p.p99VsBaseline,
        'start p50': p.start?.p50Ms ?? 0,
        'wait p50': p.wait?.p50Ms ?? 0,
        starts: p.start?.count ?? 0,
        approvals: p.approvals,
        'server cpu%': p.serverCpuPercent,
        'auth cpu%': p.authenticatorCpuPercent,
        'top auth proc%': p.busiestAuthenticatorCpuPercent,
        errors: errorDigest({ errors: p.errors } as LoadResult),
      })),
    ],
  );

  const targets: Target[] = [];
  for (const kind of kinds) {
    const at50 = points.find((p) => p.inFlight === 50 && p.authenticator === kind);
    if (at50 === undefined) continue;
    const p99 = at50.roundtrip?.p99Ms ?? Infinity;
    targets.push(target(`push-roundtrip p99 ms, 50 in flight, ${kind}`, p99, '< 25', p99 < 25 && Object.keys(at50.errors).length === 0));
  }
  return {
    benchmark: 'push-roundtrip',
    baseline: { route: 'GET /baseline (bare Fastify 5)', perConcurrency: baseline },
    results: {
      database: 'sqlite (synchronous=FULL, group commit)',
      devices,
      authenticators: Object.fromEntries(kinds.map((k) => [k, { label: AUTHENTICATOR_LABELS[k], processes: processes[k] }])),
      timing,
      points,
      authenticatorTrouble: trouble,
    },
    targets,
  };
}

async function measureLevel(server: OutbandUnderTest, fleet: Fleet, kind: AuthenticatorKind, n: number, timing: { durationMs: number; warmupMs: number }, baseline: RequestFigures): Promise<InFlightPoint> {
  const pids = fleet.processes.map((w) => w.pid ?? 0);
  const sampler = sampleCpu([server.pid, ...pids]);
  const approvalsBefore = fleet.approvals();
  const result = await runLoad({ scenario: 'push-roundtrip', baseUrl: server.baseUrl, token: server.token, concurrency: n, ...timing, params: { userIds: fleet.userIds } });
  const [serverPercent, ...percents] = sampler.stop(timing.durationMs);
  const roundtrip = result.requests['roundtrip'] ?? null;
  return {
    authenticator: kind,
    inFlight: n,
    roundtripsPerSecond: roundtrip?.perSecond ?? 0,
    roundtrip,
    start: result.requests['start'] ?? null,
    wait: result.requests['wait'] ?? null,
    baseline,
    p50VsBaseline: ratio(roundtrip?.p50Ms ?? 0, baseline.p50Ms),
    p99VsBaseline: ratio(roundtrip?.p99Ms ?? 0, baseline.p99Ms),
    serverCpuPercent: serverPercent!,
    authenticatorCpuPercent: percents.reduce((a, b) => a + b, 0),
    busiestAuthenticatorCpuPercent: Math.max(...percents),
    approvals: fleet.approvals() - approvalsBefore,
    errors: result.errors,
  };
}

if (isMain(import.meta)) {
  const argv = process.argv.slice(2);
  const inFlight = flagValue('--in-flight');
  const devices = flagValue('--devices');
  const watchers = flagValue('--watchers');
  const authenticators = flagValue('--authenticators');
  const duration = flagValue('--duration');
  const profile = flagValue('--profile');
  const summary = await run({
    quick: argv.includes('--quick'),
    ...(inFlight ? { inFlight: inFlight.split(',').map(Number) } : {}),
    ...(devices ? { devices: Number(devices) } : {}),
    ...(watchers ? { watchers: Number(watchers) } : {}),
    ...(authenticators ? { authenticators: authenticators.split(',') as AuthenticatorKind[] } : {}),
    ...(duration ? { durationMs: Number(duration) } : {}),
    ...(profile ? { profileDir: profile } : {}),
  });
  printTargets('push-roundtrip targets', summary.targets);
  console.log(JSON.stringify(summary));
}
