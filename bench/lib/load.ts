/**
 * Load from a separate process: runLoad spawns bench/load/client.ts with a job, which runs
 * `concurrency` loops of a scenario (bench/load/scenarios/<scenario>.ts) over one undici Pool
 * and prints a LoadResult as JSON. Only requests and cycles that start after the warm-up and
 * finish before the end are counted; rates are those counts over `durationMs`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { NODE, ROOT } from './proc.ts';

export { cpuMsOf } from './proc.ts';

export interface LoadJob {
  scenario: string;
  baseUrl: string;
  token?: string;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  params?: Record<string, unknown>;
  /** Also return every counted request's finish time and latency (LoadResult.samples). */
  samples?: boolean;
  /** Processes (the server) whose CPU time over the counted window is reported in LoadResult.cpuMs. */
  watchPids?: number[];
}

export interface RequestFigures {
  count: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadResult {
  durationMs: number;
  cycles: number;
  cyclesPerSecond: number;
  /** "<label> <status> <code>" for answers a scenario did not expect, "error: <message>" for other failures: how many. */
  errors: Record<string, number>;
  requests: Record<string, RequestFigures>;
  /** With job.samples: per label, the epoch ms each counted request finished at and its latency, in finishing order. */
  samples?: Record<string, { at: number[]; ms: number[] }>;
  /** CPU time (user + system) over the counted window: `client` and each watched pid. */
  cpuMs?: Record<string, number>;
  /** What the scenario's setup returned that it wants reported (e.g. how many users it made). */
  setup?: unknown;
}

/** What a scenario's cycle gets. */
export interface ScenarioContext {
  /** One request, timed under `label`; throws RequestError unless the status is in `expect` (default: 2xx). */
  request(label: string, method: string, path: string, body?: unknown, options?: { expect?: number[] }): Promise<{ status: number; json: any }>;
  /** Times `span` (any number of requests) under `label`, counted like a request. */
  measure<T>(label: string, span: () => Promise<T>): Promise<T>;
  /** The same request, not timed and not counted (polling, lookups). */
  untimed(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  params: Record<string, unknown>;
  /** Which loop this is: 0 … concurrency-1. */
  loop: number;
  concurrency: number;
  /** What setup returned (undefined without one). */
  shared: any;
  /** Per loop, kept across its cycles. */
  state: Record<string, unknown>;
}

/** What a scenario's optional `setup` export gets: untimed requests only. */
export type SetupContext = Pick<ScenarioContext, 'untimed' | 'params' | 'concurrency'>;

/** A scenario module: `default` is one cycle; `setup` runs once before the loops start. */
export interface ScenarioModule {
  default(ctx: ScenarioContext): Promise<void>;
  setup?(ctx: SetupContext): Promise<unknown>;
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const child = spawn(NODE, [join(ROOT, 'bench/load/client.ts')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(JSON.stringify(job));
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const last = out.trim().split('\n').pop() ?? '';
  if (code !== 0) throw new Error(`the load client (${job.scenario}) exited with ${code}: ${out.slice(-2000)}`);
  return JSON.parse(last) as LoadResult;
}

/** A one-line digest of a LoadResult's errors ("" when none), for the tables. */
export function errorDigest(result: LoadResult): string {
  return Object.entries(result.errors)
    .map(([k, n]) => `${k} ×${n}`)
    .join('; ');
}
