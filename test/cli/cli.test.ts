// The `outband` command, run as an operator runs it: a child process on a fresh SQLite file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configReference } from '../../src/config/config.ts';
import { ALL_SCOPES } from '../../src/domain/scopes.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { startTestServer } from '../helpers/server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/outband.js', import.meta.url));
/** The secret the test server helper uses, so it can open what the CLI created. */
const SECRET = 'test-secret-test-secret-test-secret-0123456789';
const COMMANDS = ['serve', 'migrate', 'apps create', 'clients create', 'outbox', 'keys rotate', 'audit export', 'agents create', 'agents grant', 'agents list', 'config docs', 'authenticator enroll', 'authenticator list', 'authenticator watch'];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args` to its end with only `env` (and PATH); never rejects on a non-zero exit. */
function run(command: string, args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('outband CLI', () => {
  let dir: string;
  let env: Record<string, string>;
  const outband = (...args: string[]) => run(NODE, [BIN, ...args], env);

  /** Runs a command that must succeed. */
  async function ok(...args: string[]): Promise<Result> {
    const result = await outband(...args);
    assert.equal(result.code, 0, `outband ${args.join(' ')}: exit ${result.code}\n${result.stderr}`);
    return result;
  }

  /** Runs a command that must be refused with exit 2, a message on stderr and nothing on stdout. */
  async function refused(args: string[], message: RegExp): Promise<Result> {
    const result = await outband(...args);
    assert.equal(result.code, 2, `outband ${args.join(' ')}: exit ${result.code}\n${result.stdout}${result.stderr}`);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, 'a stack trace instead of a message');
    assert.equal(result.stdout, '');
    return result;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outband-cli-'));
    env = { DATABASE_URL: `sqlite:${join(dir, 'o.db')}`, OUTBAND_SECRET: SECRET, LOG_LEVEL: 'warn' };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('--help lists every command; so do "help" and no arguments', async () => {
    for (const args of [['--help'], ['-h'], ['help'], []]) {
      const { stdout, stderr } = await ok(...args);
      assert.match(stdout, /^outband \d+\.\d+\.\d+ — /, `outband ${args.join(' ')}`);
      assert.match(stdout, /Usage: outband <command>/);
      for (const command of COMMANDS) assert.match(stdout, new RegExp(`^  ${command} +\\S`, 'm'), `${command} in the help of "outband ${args.join(' ')}"`);
      assert.equal(stderr, '');
    }
    assert.equal(existsSync(join(dir, 'o.db')), false, '--help touched the database');
  });

  test("each command's --help prints its summary and usage, and runs nothing", async () => {
    for (const command of COMMANDS) {
      const { stdout } = await ok(...command.split(' '), '--help');
      assert.match(stdout, /^\S.*\n\nUsage: outband /, `${command} --help`);
      assert.ok(stdout.includes(`Usage: outband ${command}`), `${command} --help: ${stdout}`);
    }
    const clients = await ok('clients', 'create', '--help');
    for (const scope of ALL_SCOPES) assert.ok(clients.stdout.includes(scope), `clients create --help names the scope ${scope}`);
    assert.equal(existsSync(join(dir, 'o.db')), false, '--help touched the database');
  });

  test('migrate creates the database, telling each migration as it goes; again it is a no-op', async () => {
    const first = await ok('migrate');
    assert.match(first.stdout, /database is up to date/);
    for (const m of MIGRATIONS) {
      assert.ok(first.stderr.includes(`applying migration ${m.version} (${m.name})\n`), `applying ${m.version}: ${first.stderr}`);
      assert.match(first.stdout, new RegExp(`^applied migration ${m.version} \\(${m.name}\\) in \\d+ ms$`, 'm'));
    }
    assert.ok(existsSync(join(dir, 'o.db')));
    const second = await ok('migrate');
    assert.equal(second.stdout, 'database is up to date\n');
    assert.doesNotMatch(second.stderr, /applying/);
  });

  test('apps create --json, clients create --json / --env / text: credentials that work, with the scopes asked', async () => {
    const app = JSON.parse((await ok('apps', 'create', '--name', 'acme', '--json')).stdout) as { id: string; name: string; providers: Record<string, string> };
    assert.match(app.id, /^app_[a-z2-7]+$/);
    assert.equal(app.name, 'acme');
    assert.deepEqual(app.providers, { sms: 'outbox', email: 'outbox', push: 'devices' });
    assert.match((await ok('apps', 'create', '--name', 'beta')).stdout, /^created application "beta" \(app_[a-z2-7]+\)\n$/);

    const json = await ok('clients', 'create', '--app', 'acme', '--scopes', 'users:read', '--json');
    const credentials = JSON.parse(json.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(credentials).sort(), ['client_id', 'client_secret']);
    assert.match(credentials['client_id'] as string, /^obc_[a-z2-7]+$/);
    assert.match(credentials['client_secret'] as string, /^obs_[a-z2-7]+$/);

    const asEnv = await ok('clients', 'create', '--app', 'acme', '--scopes', 'users:read users:write', '--env');
    const lines = asEnv.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, asEnv.stdout);
    assert.match(lines[0] as string, /^OUTBAND_CLIENT_ID=obc_[a-z2-7]+$/);
    assert.match(lines[1] as string, /^OUTBAND_CLIENT_SECRET=obs_[a-z2-7]+$/);

    const text = await ok('clients', 'create', '--app', 'acme', '--scopes', 'outbox:read,verifications:read');
    assert.match(text.stdout, /client_id: +obc_/);
    assert.match(text.stdout, /shown only now/);

    // The printed credentials are real, and hold exactly the scopes given.
    const server = await startTestServer({ database: { name: 'sqlite', url: env['DATABASE_URL'] as string, drop: async () => {} }, env: { OUTBAND_WORKERS: 'false' } });
    try {
      const issued = await server.runtime.tokens.issue(credentials['client_id'] as string, credentials['client_secret'] as string, undefined);
      assert.equal(issued.scope, 'users:read');
      const id = (lines[0] as string).split('=')[1] as string;
      const secret = (lines[1] as string).split('=')[1] as string;
      assert.deepEqual((await server.runtime.tokens.issue(id, secret, undefined)).scope.split(' ').sort(), ['users:read', 'users:write']);
      assert.equal((await server.runtime.store.applications.byName('acme'))?.id, app.id);
    } finally {
      await server.close();
    }
  });

  test('an unknown scope, an unknown app, a missing option or a duplicate app: exit 2 with a clear message', async () => {
    await ok('apps', 'create', '--name', 'acme');
    await refused(['clients', 'create', '--app', 'acme', '--scopes', 'users:read users:wrte'], /^outband: unknown scopes: users:wrte; known: /);
    await refused(['clients', 'create', '--app', 'nope', '--scopes', 'users:read'], /^outband: no application "nope"\n$/);
    await refused(['clients', 'create', '--app', 'acme'], /--scopes is required/);
    await refused(['clients', 'create', '--scopes', 'users:read'], /--app is required/);
    await refused(['apps', 'create'], /--name is required/);
    await refused(['apps', 'create', '--name', 'acme'], /application "acme" already exists/);
    await refused(['apps', 'create', '--name', 'acme!'], /an application name is/);
    await refused(['outbox', '--app', 'nope'], /no application "nope"/);
    await refused(['outbox', '--app', 'acme', '--limit', 'all'], /^outband: --limit must be a whole number from 1 to 200\n$/);
    await refused(['outbox', '--app', 'acme', '--limit=0'], /--limit must be/);
    await refused(['apps', 'create', '--name', 'other', '--sms-provider', 'carrier-pigeon'], /provider "carrier-pigeon" is not configured for sms/);
  });

  test('keys rotate makes a new signing key active', async () => {
    await ok('migrate');
    const { stdout } = await ok('keys', 'rotate');
    const kid = /^new signing key ([a-z2-7]+) is active/.exec(stdout)?.[1];
    assert.ok(kid !== undefined, stdout);
    const server = await startTestServer({ database: { name: 'sqlite', url: env['DATABASE_URL'] as string, drop: async () => {} }, env: { OUTBAND_WORKERS: 'false' } });
    try {
      const kids = server.runtime.tokens.jwks().keys.map((k) => k.kid);
      assert.ok(kids.includes(kid), `${kid} not in ${kids.join(', ')}`);
      const tenant = await server.tenant();
      assert.equal(JSON.parse(Buffer.from(tenant.token.split('.')[0] as string, 'base64url').toString('utf8')).kid, kid, 'new tokens are signed by the new key');
    } finally {
      await server.close();
    }
  });

  test('outbox on an app without messages prints nothing and exits 0', async () => {
    await ok('apps', 'create', '--name', 'acme');
    const { stdout } = await ok('outbox', '--app', 'acme');
    assert.equal(stdout, '');
  });

  test('config docs prints the configuration reference', async () => {
    const { stdout } = await ok('config', 'docs');
    assert.equal(stdout, configReference());
  });

  test('an unknown command or option exits 2 with the help on stderr; bad configuration exits 2 naming the variable', async () => {
    const unknown = await outband('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^unknown command "frobnicate"/);
    assert.match(unknown.stderr, /Usage: outband <command>/);
    assert.equal(unknown.stdout, '');
    const sub = await outband('apps', 'delete', '--name', 'acme');
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /^unknown command "apps delete --name acme"/);
    const option = await outband('migrate', '--force');
    assert.equal(option.code, 2);
    assert.match(option.stderr, /--force/);
    assert.match(option.stderr, /Usage: outband migrate/);

    env['OUTBAND_SECRET'] = 'too-short';
    await refused(['migrate'], /^outband: OUTBAND_SECRET: must be at least 32 characters\n$/);
    env['OUTBAND_SECRET'] = SECRET;
    env['PORT'] = 'eighty';
    await refused(['migrate'], /^outband: invalid server configuration: PORT: /);
  });

  test('bin/outband.js on the system Node (not 24) re-executes itself on the pinned Node 24', async (t) => {
    // PATH without node_modules/.bin, so "node" is the system's.
    const path = (process.env['PATH'] ?? '/usr/bin:/bin')
      .split(delimiter)
      .filter((p) => !p.includes('node_modules'))
      .join(delimiter);
    const version = await run('node', ['--version'], { PATH: path });
    assert.equal(version.code, 0, `no system node on ${path}`);
    t.diagnostic(`system node ${version.stdout.trim()}`);
    const help = await run('node', ['bin/outband.js', '--help'], { PATH: path });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^outband \d+\.\d+\.\d+ — /);
    for (const command of COMMANDS) assert.ok(help.stdout.includes(`  ${command} `), command);
    // A command that needs the whole server (the TypeScript sources, SQLite) and its environment.
    const migrate = await run('node', ['bin/outband.js', 'migrate'], { ...env, PATH: path });
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stdout, /database is up to date/);
    // The exit code of the re-executed process is passed on.
    const unknown = await run('node', ['bin/outband.js', 'frobnicate'], { PATH: path });
    assert.equal(unknown.code, 2);
  });
});
