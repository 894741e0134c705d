/**
 * An `outband serve` process under test: a fresh database, one application "bench" with its
 * limits opened up, an API client with every scope the benchmarks use, and the server as a
 * child process on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { createTestDatabase } from '../../test/helpers/databases.ts';
import { runCli as runCliProcess } from '../../test/helpers/process.ts';
import { freshBundle } from '../../bin/fresh-bundle.js';
import { buildServer } from '../../scripts/build-server.ts';
import { freePort, NODE, ROOT, rssOf } from './proc.ts';

export { cpuMsOf, freePort, NODE, ROOT, rssOf } from './proc.ts';

const BIN = join(ROOT, 'bin/outband.js');
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Phone numbers the benchmarks send to start with this; it is on the application's fraud safe list. */
export const BENCH_PHONE_PREFIX = '+316';

export interface OutbandUnderTest {
  baseUrl: string;
  port: number;
  pid: number;
  /** sqlite:<file> or postgres://…/<fresh db> */
  databaseUrl: string;
  /** Bearer token of an API client with scopes users:read users:write verifications:read verifications:write admin (and outbox:read). */
  token: string;
  applicationId: string;
  /** The env the server runs with (for CLI calls such as `outband authenticator …`). */
  env: Record<string, string>;
  /** VmRSS of the server process, from /proc/<pid>/status. */
  rssBytes(): number;
  /** What the server wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, wait for the exit, drop the database and the temporary directory. */
  stop(): Promise<void>;
  /** Like stop(), but the database stays, for a later startOutband({ existing }); drop it with dropDatabase. */
  keep(): Promise<{ databaseUrl: string; applicationId: string }>;
}

export interface StartOptions {
  database: 'sqlite' | 'postgres';
  /** SQLite only, default FULL. */
  synchronous?: 'FULL' | 'NORMAL';
  /** SQLite only, default true (env SQLITE_GROUP_COMMIT). */
  groupCommit?: boolean;
  /** Extra server env, applied last. */
  env?: Record<string, string>;
  /** Extra Node flags of the serve process, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  nodeFlags?: string[];
  /** After migrations and the application exist, before `serve`: e.g. bulk seeding. */
  beforeServe?: (databaseUrl: string, applicationId: string) => Promise<void>;
  /**
   * A database an earlier startOutband left behind (its `keep()`): the application "bench" is
   * taken from it rather than created, and stop() leaves it; the caller drops it (dropDatabase).
   */
  existing?: { databaseUrl: string; applicationId: string };
}

export const BENCH_SCOPES = 'users:read users:write verifications:read verifications:write outbox:read admin';

/** Only what a child needs: the bench's own environment must not leak into the server's configuration. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...(process.env['OUTBAND_BUNDLE'] === '0' ? { OUTBAND_BUNDLE: '0' } : {}), ...env };
}

/** Runs `outband <args>` to its end (the tests' runner); rejects unless it exits 0. Answers its output. */
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<string> {
  return (await runCliProcess(args, env, timeoutMs)).stdout;
}

/** Waits until `url` answers 2xx (at most `timeoutMs`). */
export async function waitReady(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/**
 * Settings that no benchmark load runs into: the licensed plan (trial has small fixed limits), no
 * usage limits or daily caps, fraud windows at their highest counts and shortest spans (the
 * windows are counted on every start, so a long one costs more as the rate grows), the bench
 * numbers safe-listed.
 */
export const OPEN_SETTINGS = {
  plan: 'licensed',
  usage_limits: { sms: null, email: null, voice: null, missed_call: null, push: null },
  daily_caps: { sms: null, email: null, voice: null, missed_call: null, push: null },
  fraud: {
    authenticator_failure_cap: 100,
    recipient_failures: { max: 100_000, window_seconds: 60 },
    recipient_sends: { max: 100_000, window_seconds: 60 },
    push_cooldown: { max: 100_000, window_seconds: 60 },
    prefix_velocity: { max: 100_000, window_seconds: 60 },
    country_velocity: { max: 100_000, window_seconds: 60 },
    low_conversion: { min_volume: 100_000, window_seconds: 60 },
    safe_list: [BENCH_PHONE_PREFIX],
  },
};

async function json(response: Response, what: string): Promise<Record<string, any>> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, any>;
}

/** Drops a database startOutband made and keep() left behind. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  if (databaseUrl.startsWith('sqlite:')) {
    const dir = dirname(databaseUrl.slice('sqlite:'.length));
    if (!/outband-test-[^/]+$/.test(dir)) throw new Error(`not a benchmark database: ${databaseUrl}`);
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  if (!/^outband_test_[0-9a-f]+$/.test(name)) throw new Error(`not a benchmark database: ${name}`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

let bundleReady: Promise<'bundle'> | undefined;

/**
 * The server is measured as `npm start` runs it: the bundled build (ADR 0025), built first when
 * dist/server is missing or older than the sources. OUTBAND_BUNDLE=0 in the bench's own
 * environment measures the sources instead (it reaches the server through BIN's check).
 * Answers which of the two the servers run.
 */
export function ensureBundle(): Promise<'bundle' | 'sources'> {
  if (process.env['OUTBAND_BUNDLE'] === '0') return Promise.resolve('sources');
  bundleReady ??= freshBundle(ROOT) !== null ? Promise.resolve('bundle') : buildServer().then(() => 'bundle' as const);
  return bundleReady;
}

export async function startOutband(options: StartOptions): Promise<OutbandUnderTest> {
  process.env['TEST_DATABASE_URL'] ??= DEFAULT_POSTGRES_URL;
  await ensureBundle();
  const database = options.existing
    ? { url: options.existing.databaseUrl, drop: async () => {} }
    : await createTestDatabase(options.database);
  const dir = mkdtempSync(join(tmpdir(), 'outband-bench-'));
  let child: ChildProcess | undefined;
  let keepDatabase = false;
  const cleanup = async () => {
    if (!keepDatabase) await database.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      OUTBAND_SECRET: 'bench-secret-bench-secret-bench-secret-0123456789',
      PUBLIC_URL: baseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      OUTBAND_DEMO: 'false',
      OUTBAND_AUTHENTICATOR_FILE: join(dir, 'authenticator.json'),
      RATE_LIMIT_TOKEN_PER_IP: '0',
      RATE_LIMIT_API_PER_IP: '0',
      RATE_LIMIT_API_PER_CLIENT: '0',
      RATE_LIMIT_DEVICE_PER_IP: '0',
      RATE_LIMIT_INBOUND_PER_IP: '0',
      SQLITE_SYNCHRONOUS: options.synchronous ?? 'FULL',
      SQLITE_GROUP_COMMIT: String(options.groupCommit ?? true),
      ...options.env,
    };
    const app = options.existing ? { id: options.existing.applicationId } : (JSON.parse(await runCli(['apps', 'create', '--name', 'bench', '--json'], env)) as { id: string });
    const credentials = JSON.parse(await runCli(['clients', 'create', '--app', 'bench', '--json', '--scopes', BENCH_SCOPES], env)) as { client_id: string; client_secret: string };
    if (options.beforeServe) await options.beforeServe(database.url, app.id);

    const started = spawn(NODE, [...(options.nodeFlags ?? []), BIN, 'serve'], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let output = '';
    started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<void>((resolve) => started.on('close', () => resolve()));
    await waitReady(`${baseUrl}/readyz`, started).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${output}`);
    });

    const issued = await json(
      await fetch(`${baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.client_id, client_secret: credentials.client_secret }),
      }),
      'POST /oauth/token',
    );
    const token = issued['access_token'] as string;
    await json(
      await fetch(`${baseUrl}/v1/settings`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(OPEN_SETTINGS) }),
      'PATCH /v1/settings',
    );

    const pid = started.pid ?? 0;
    const stop = async () => {
      if (started.exitCode === null && started.signalCode === null) {
        started.kill('SIGTERM');
        const timer = setTimeout(() => started.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await cleanup();
    };
    return {
      baseUrl,
      port,
      pid,
      databaseUrl: database.url,
      token,
      applicationId: app.id,
      env,
      rssBytes: () => rssOf(pid),
      output: () => output,
      stop,
      async keep() {
        keepDatabase = true;
        await stop();
        return { databaseUrl: database.url, applicationId: app.id };
      },
    };
  } catch (error) {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await cleanup();
    throw error;
  }
}

/** Calls the API of a server under test with its token; throws unless the answer is 2xx. */
export async function api(server: Pick<OutbandUnderTest, 'baseUrl' | 'token'>, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return json(response, `${method} ${path}`);
}

/** The i-th bench phone number: a Dutch mobile number under BENCH_PHONE_PREFIX. */
export function benchPhone(i: number): string {
  return `${BENCH_PHONE_PREFIX}1${String(i).padStart(7, '0')}`;
}

/** Registers `count` users, each with its own bench phone number and e-mail address; answers their ids in order. */
export async function createUsers(server: Pick<OutbandUnderTest, 'baseUrl' | 'token'>, count: number, inFlight = 16): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) {
        const i = next++;
        const user = await api(server, 'POST', '/v1/users', { phone: benchPhone(i), email: `bench-${i}@example.com` });
        ids[i] = user['id'] as string;
      }
    }),
  );
  return ids;
}
