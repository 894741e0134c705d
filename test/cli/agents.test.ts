// `outband agents create|grant|list` and the first-run admin of `outband serve`, run as an
// operator runs them: child processes on a fresh SQLite file.
// Threats: a password that lands in the log stream (SEC: no secret in logs), a plaintext password
// in the database, an agent granted an application by a typo.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, startTestServer } from '../helpers/server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/outband.js', import.meta.url));
const SECRET = 'test-secret-test-secret-test-secret-0123456789';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>, input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('outband agents', () => {
  let dir: string;
  let env: Record<string, string>;

  async function ok(args: string[], input?: string): Promise<Result> {
    const result = await run(args, env, input);
    assert.equal(result.code, 0, `outband ${args.join(' ')}: exit ${result.code}\n${result.stderr}`);
    return result;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outband-agents-'));
    env = { DATABASE_URL: `sqlite:${join(dir, 'o.db')}`, OUTBAND_SECRET: SECRET, LOG_LEVEL: 'warn' };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('agents create prints a generated password once; --password-stdin takes one; grant and list show the applications', async () => {
    await ok(['apps', 'create', '--name', 'acme']);
    await ok(['apps', 'create', '--name', 'beta']);
    const created = await ok(['agents', 'create', '--email', 'Sam@Example.com', '--role', 'agent', '--grant', 'acme']);
    assert.match(created.stdout, /^created agent sam@example\.com \(agt_[a-z2-7]+\), granted: acme\npassword: ([a-z2-7]{24})\n\(the password is shown only now\)\n$/);
    const password = /password: (\S+)/.exec(created.stdout)?.[1] as string;

    const admin = JSON.parse((await ok(['agents', 'create', '--email', 'boss@example.com', '--role', 'admin', '--grant', 'acme', '--grant', 'beta', '--password-stdin', '--json'], 'a chosen passphrase\n')).stdout);
    assert.deepEqual([admin.email, admin.role, admin.applications, admin.password], ['boss@example.com', 'admin', ['acme', 'beta'], undefined]);

    assert.match((await ok(['agents', 'grant', '--email', 'sam@example.com', '--application', 'beta'])).stdout, /^sam@example\.com may act on: (acme, beta|beta, acme)\n$/);
    const listed = (await ok(['agents', 'list', '--json'])).stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(
      listed.map((a: { email: string; role: string; applications: string[] }) => [a.email, a.role, [...a.applications].sort()]),
      [
        ['sam@example.com', 'agent', ['acme', 'beta']],
        ['boss@example.com', 'admin', ['acme', 'beta']],
      ],
    );
    assert.match((await ok(['agents', 'list'])).stdout, /^agt_[a-z2-7]+ {2}sam@example\.com {2}agent {2}/m);

    // The printed and the piped passwords sign in; the database holds scrypt hashes only.
    const server = await startTestServer({ database: { name: 'sqlite', url: env['DATABASE_URL'] as string, drop: async () => {} }, env: { OUTBAND_WORKERS: 'false' } });
    try {
      for (const [email, secret] of [['sam@example.com', password], ['boss@example.com', 'a chosen passphrase']] as const) {
        const res = await server.runtime.app.inject({ method: 'POST', url: '/console/api/sign-in', payload: { email, password: secret } });
        assert.equal(res.statusCode, 200, `${email}: ${res.body}`);
      }
      const rows = await server.runtime.store.database.db.selectFrom('agents').select('password_hash').execute();
      assert.ok(rows.every((r) => r.password_hash.startsWith('scrypt$') && !r.password_hash.includes(password)));
    } finally {
      await server.close();
    }
  });

  test('a duplicate e-mail, an unknown application or role, a short password: exit 2 with a message', async () => {
    await ok(['apps', 'create', '--name', 'acme']);
    await ok(['agents', 'create', '--email', 'sam@example.com', '--role', 'agent']);
    const cases: Array<[string[], RegExp, string?]> = [
      [['agents', 'create', '--email', 'SAM@example.com', '--role', 'agent'], /an agent with the e-mail sam@example\.com exists/],
      [['agents', 'create', '--email', 'x@example.com', '--role', 'agent', '--grant', 'nope'], /no application "nope"/],
      [['agents', 'create', '--email', 'x@example.com', '--role', 'boss'], /role is "agent" or "admin"/],
      [['agents', 'create', '--email', 'x@example.com', '--role', 'agent', '--password-stdin'], /a password has 12–256 characters/, 'short\n'],
      [['agents', 'create', '--role', 'agent'], /--email is required/],
      [['agents', 'grant', '--email', 'nobody@example.com', '--application', 'acme'], /no agent "nobody@example\.com"/],
    ];
    for (const [args, message, input] of cases) {
      const result = await run(args, env, input);
      assert.equal(result.code, 2, `outband ${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, 'a stack trace instead of a message');
    }
  });

  test('serve creates the first console admin once, shows its password on the terminal and never in the log stream', async () => {
    const port = await freePort();
    const serveEnv = { ...env, PORT: String(port), LOG_LEVEL: 'info', CONSOLE_ADMIN_EMAIL: 'root@example.com' };
    const start = async () => {
      const child = spawn(NODE, [BIN, 'serve'], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...serveEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 30_000);
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString('utf8');
          if (stderr.includes('listening on')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      return { child, output: () => ({ stdout, stderr }) };
    };
    const first = await start();
    let password: string;
    try {
      const { stderr } = first.output();
      password = /password: ([a-z2-7]{24})\n/.exec(stderr)?.[1] as string;
      assert.ok(password, stderr);
      assert.match(stderr, /e-mail: +root@example\.com/);
      const res = await fetch(`http://127.0.0.1:${port}/console/api/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'root@example.com', password }) });
      assert.equal(res.status, 200);
      const session = (await res.json()) as { applications: Array<{ name: string }> };
      assert.deepEqual(session.applications.map((a) => a.name), ['demo'], 'granted every application there is');
    } finally {
      first.child.kill('SIGTERM');
      await new Promise((r) => first.child.once('close', r));
    }
    const logs = first.output().stdout;
    assert.ok(logs.includes('"level":30'), 'the log stream was captured');
    assert.ok(!logs.includes(password), 'the password is not in the log stream');

    const second = await start();
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('close', r));
    assert.doesNotMatch(second.output().stderr, /console admin/, 'only on the first start');
  });
});
