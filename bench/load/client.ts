/**
 * The load generator: reads a LoadJob (bench/lib/load.ts) as JSON on stdin, runs
 * `concurrency` loops of the scenario over one undici Pool (one keep-alive connection per
 * loop, no pipelining), counts only requests and cycles that start after the warm-up and
 * finish before the end, and prints the LoadResult as one JSON line.
 *
 * It shares the machine's cores with the server, so it does little per request: headers are
 * built once, latencies go into preallocated typed arrays, figures are computed at the end.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import type { LoadJob, LoadResult, RequestFigures, ScenarioContext, ScenarioModule, SetupContext } from '../lib/load.ts';
import { cpuMsOf } from '../lib/proc.ts';
import { percentile, round } from '../lib/report.ts';

class RequestError extends Error {
  readonly key: string;
  constructor(label: string, status: number, json: any) {
    const code = json && typeof json === 'object' && typeof json.code === 'string' ? ` ${json.code}` : '';
    super(`${label} answered ${status}${code}`);
    this.key = `${label} ${status}${code}`;
  }
}

/** Latencies of one label: finish times and durations in growable typed arrays. */
class Recorder {
  ms = new Float64Array(1 << 16);
  at = new Float64Array(1 << 16);
  count = 0;
  add(finishedAt: number, ms: number): void {
    if (this.count === this.ms.length) {
      const ms = new Float64Array(this.ms.length * 2);
      ms.set(this.ms);
      this.ms = ms;
      const at = new Float64Array(this.at.length * 2);
      at.set(this.at);
      this.at = at;
    }
    this.ms[this.count] = ms;
    this.at[this.count] = finishedAt;
    this.count++;
  }
  figures(seconds: number): RequestFigures {
    const sorted = this.ms.slice(0, this.count).sort();
    return {
      count: this.count,
      perSecond: round(this.count / seconds, 1),
      p50Ms: round(percentile(sorted, 0.5), 2),
      p99Ms: round(percentile(sorted, 0.99), 2),
      maxMs: round(this.count === 0 ? 0 : sorted[this.count - 1]!, 2),
    };
  }
}

const input: string[] = [];
for await (const chunk of process.stdin) input.push(String(chunk));
const job = JSON.parse(input.join('')) as LoadJob;
const scenario = (await import(pathToFileURL(join(import.meta.dirname, 'scenarios', `${job.scenario}.ts`)).href)) as ScenarioModule;

const pool = new Pool(job.baseUrl, { connections: job.concurrency, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
const jsonHeaders: Record<string, string> = { 'content-type': 'application/json', ...(job.token ? { authorization: `Bearer ${job.token}` } : {}) };
const plainHeaders: Record<string, string> = job.token ? { authorization: `Bearer ${job.token}` } : {};

async function send(method: string, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await pool.request({
    method: method as 'GET',
    path,
    headers: body === undefined ? plainHeaders : jsonHeaders,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  let json: any = null;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
  }
  return { status: response.statusCode, json };
}

const recorders = new Map<string, Recorder>();
const errors: Record<string, number> = {};
let cycles = 0;
let measuring = false;
let stopping = false;

const untimed = (method: string, path: string, body?: unknown) => send(method, path, body);
const params = job.params ?? {};
const setupContext: SetupContext = { untimed, params, concurrency: job.concurrency };
const shared = scenario.setup ? await scenario.setup(setupContext) : undefined;

async function request(label: string, method: string, path: string, body?: unknown, options?: { expect?: number[] }) {
  const counted = measuring;
  const started = performance.now();
  const answer = await send(method, path, body);
  const finished = performance.now();
  const ok = options?.expect ? options.expect.includes(answer.status) : answer.status >= 200 && answer.status < 300;
  if (!ok) throw new RequestError(label, answer.status, answer.json);
  if (counted) record(label, started, finished);
  return answer;
}

function record(label: string, started: number, finished: number): void {
  if (!measuring || stopping) return;
  let recorder = recorders.get(label);
  if (recorder === undefined) recorders.set(label, (recorder = new Recorder()));
  recorder.add(performance.timeOrigin + finished, finished - started);
}

async function measure<T>(label: string, span: () => Promise<T>): Promise<T> {
  const counted = measuring;
  const started = performance.now();
  const value = await span();
  if (counted) record(label, started, performance.now());
  return value;
}

async function loop(index: number): Promise<void> {
  const ctx: ScenarioContext = { request, measure, untimed, params, loop: index, concurrency: job.concurrency, shared, state: {} };
  while (!stopping) {
    const counted = measuring;
    try {
      await scenario.default(ctx);
      if (counted && !stopping) cycles++;
    } catch (error) {
      if (stopping) break;
      if (measuring) {
        const key = error instanceof RequestError ? error.key : `error: ${String((error as Error)?.message ?? error).slice(0, 120)}`;
        errors[key] = (errors[key] ?? 0) + 1;
      }
      // A failing server must not turn the client into a busy loop.
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

const watched = job.watchPids ?? [];
const cpuAt = () => ({ client: process.cpuUsage(), pids: watched.map(cpuMsOf) });
let cpuFrom = cpuAt();
const loops = Array.from({ length: job.concurrency }, (_, i) => loop(i));
setTimeout(() => {
  measuring = true;
  cpuFrom = cpuAt();
}, job.warmupMs);
await new Promise((r) => setTimeout(r, job.warmupMs + job.durationMs));
stopping = true;
const cpuTo = cpuAt();
// In-flight cycles may end (their requests are not counted); a long-poll is not waited out.
await Promise.race([Promise.allSettled(loops), new Promise((r) => setTimeout(r, 5000))]);

const seconds = job.durationMs / 1000;
const result: LoadResult = {
  durationMs: job.durationMs,
  cycles,
  cyclesPerSecond: round(cycles / seconds, 1),
  errors,
  requests: Object.fromEntries([...recorders].map(([label, r]) => [label, r.figures(seconds)])),
};
const clientCpu = process.cpuUsage(cpuFrom.client);
result.cpuMs = { client: round((clientCpu.user + clientCpu.system) / 1000, 0) };
watched.forEach((pid, i) => (result.cpuMs![String(pid)] = round(cpuTo.pids[i]! - cpuFrom.pids[i]!, 0)));
if (job.samples) {
  result.samples = Object.fromEntries(
    [...recorders].map(([label, r]) => [label, { at: Array.from(r.at.subarray(0, r.count), (v) => round(v, 1)), ms: Array.from(r.ms.subarray(0, r.count), (v) => round(v, 3)) }]),
  );
}
if (shared !== undefined && typeof shared === 'object' && shared !== null && 'report' in shared) result.setup = (shared as { report: unknown }).report;
process.stdout.write(`${JSON.stringify(result)}\n`);
await pool.destroy().catch(() => {});
process.exit(0);
