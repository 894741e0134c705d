/**
 * Push round trip: from POST /v1/verifications to the relying party's long-poll seeing
 * `approved`, with the reference CLI authenticator (`outband authenticator watch --approve-all`,
 * a separate process) approving over its SSE stream as soon as a request arrives.
 *
 *   node_modules/.bin/node bench/push-roundtrip.ts [count=1000]
 *
 * One request in flight at a time, SQLite (WAL, synchronous=FULL), all on 127.0.0.1.
 * Prints a JSON summary. Issue [6] adds concurrency levels and a baseline route.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/server.ts';

const count = Number(process.argv[2] ?? 1000);
const root = join(import.meta.dirname, '..');
const node = process.execPath;
const dir = mkdtempSync(join(tmpdir(), 'outband-bench-'));

function run(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(node, [join(root, 'bin/outband.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function output(child: ChildProcess): Promise<string> {
  let text = '';
  child.stdout?.on('data', (c: Buffer) => (text += c));
  await new Promise((resolve) => child.on('exit', resolve));
  return text;
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const env = { DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`, OUTBAND_SECRET: 'bench-secret-bench-secret-bench-secret-0123', PUBLIC_URL: base, PORT: String(port), LOG_LEVEL: 'warn', OUTBAND_AUTHENTICATOR_FILE: join(dir, 'authenticator.json') };
await output(run(['apps', 'create', '--name', 'bench'], env));
const credentials = JSON.parse(await output(run(['clients', 'create', '--app', 'bench', '--json', '--scopes', 'users:read users:write verifications:read verifications:write admin'], env))) as { client_id: string; client_secret: string };
const server = run(['serve'], env);
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/readyz`)).ok) break;
  } catch {
    if (i > 200) throw new Error('the server did not start');
  }
  await new Promise((r) => setTimeout(r, 50));
}
const token = ((await (await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&client_id=${credentials.client_id}&client_secret=${credentials.client_secret}` })).json()) as { access_token: string }).access_token;
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return (await res.json()) as Record<string, any>;
};
const user = await api('POST', '/v1/users', { email: 'bench@example.com' });
const enrolment = await api('POST', `/v1/users/${user.id}/devices`, { kind: 'push' });
await output(run(['authenticator', 'enroll', enrolment.enrolment.link], env));
const watcher = run(['authenticator', 'watch', '--approve-all'], env);
await new Promise((r) => setTimeout(r, 1000));

const times: number[] = [];
for (let i = 0; i < count + 20; i++) {
  const started = performance.now();
  const v = await api('POST', '/v1/verifications', { channel: 'push', user_id: user.id, message: 'Bench' });
  const result = await api('GET', `/v1/verifications/${v.id}?wait=10`);
  if (result.status !== 'approved') throw new Error(`request ${i}: ${result.status}`);
  if (i >= 20) times.push(performance.now() - started); // the first 20 warm up
}
watcher.kill('SIGTERM');
server.kill('SIGTERM');
await new Promise((r) => server.on('exit', r));
rmSync(dir, { recursive: true, force: true });
times.sort((a, b) => a - b);
const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 100) / 100;
console.log(JSON.stringify({ benchmark: 'push-roundtrip', count: times.length, in_flight: 1, p50_ms: at(0.5), p90_ms: at(0.9), p99_ms: at(0.99), max_ms: at(1) }));
