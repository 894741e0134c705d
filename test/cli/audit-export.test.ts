// `outband audit export`, run as an operator runs it: a child process on the server's database,
// writing the audit trail of a range as NDJSON, the same entries GET /v1/audit answers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestClock } from '../helpers/clock.ts';
import { createTestDatabase, dialects } from '../helpers/databases.ts';
import { startTestServer } from '../helpers/server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/outband.js', import.meta.url));
const SECRET = 'test-secret-test-secret-test-secret-0123456789';

function outband(databaseUrl: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', DATABASE_URL: databaseUrl, OUTBAND_SECRET: SECRET, LOG_LEVEL: 'warn' };
    const child = spawn(NODE, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

for (const dialect of dialects()) {
  describe(`${dialect}: outband audit export`, () => {
    test('writes the range as NDJSON, oldest first, the entries of GET /v1/audit with their application; --application narrows it', async (t) => {
      const database = await createTestDatabase(dialect);
      t.after(() => database.drop());
      const clock = new TestClock(Date.parse('2026-11-24T12:00:00Z'));
      const server = await startTestServer({ dialect, database, clock, env: { OUTBAND_WORKERS: 'false' } });
      let api: unknown[];
      let appA: { id: string; name: string };
      let appB: { id: string };
      try {
        const a = await server.tenant();
        const b = await server.tenant();
        // The clock jumps by days: each call gets a token fresh at the clock's time.
        const call = async (tenant: typeof a, method: string, url: string, body?: unknown) => {
          const token = (await server.runtime.tokens.issue(tenant.clientId, tenant.clientSecret, undefined)).access_token;
          const res = await tenant.request(method, url, body, { authorization: `Bearer ${token}` });
          assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
          return res;
        };
        appA = { id: a.applicationId, name: a.name };
        appB = { id: b.applicationId };
        await call(a, 'POST', '/v1/users', { external_id: 'before' }); // the day before: not exported
        clock.current = Date.parse('2026-11-25T08:00:00Z');
        for (let i = 0; i < 3; i++) {
          const user = (await call(a, 'POST', '/v1/users', { external_id: `a${i}`, email: `a${i}@example.com` })).json().id as string;
          await call(a, 'POST', '/v1/verifications', { channel: 'email', user_id: user });
          clock.advance(60_000);
          await call(b, 'POST', '/v1/users', { external_id: `b${i}` });
        }
        clock.current = Date.parse('2026-11-26T00:00:00Z');
        await call(a, 'POST', '/v1/users', { external_id: 'after' }); // the day after: not exported
        api = (await call(a, 'GET', '/v1/audit?from=2026-11-25&to=2026-11-25&limit=1000')).json().items;
      } finally {
        await server.close();
      }

      const all = await outband(database.url, 'audit', 'export', '--from', '2026-11-25', '--to', '2026-11-25');
      assert.equal(all.code, 0, all.stderr);
      assert.ok(all.stdout.endsWith('\n'));
      const lines = all.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { application_id: string; at: string });
      assert.equal(lines.length, 9, all.stdout);
      assert.deepEqual(
        lines.map((l) => l.at),
        [...lines.map((l) => l.at)].sort(),
        'oldest first',
      );
      assert.ok(lines.every((l) => l.at.startsWith('2026-11-25T')));
      assert.deepEqual(new Set(lines.map((l) => l.application_id)), new Set([appA.id, appB.id]));
      // One application's lines are exactly what its audit API answers, plus the application.
      assert.deepEqual(
        lines.filter((l) => l.application_id === appA.id),
        api.map((e) => ({ application_id: appA.id, ...(e as object) })),
      );

      for (const named of [appA.id, appA.name]) {
        const one = await outband(database.url, 'audit', 'export', '--from', '2026-11-25T00:00:00Z', '--to', '2026-11-26T00:00:00Z', '--application', named);
        assert.equal(one.code, 0, one.stderr);
        assert.deepEqual(one.stdout.trimEnd().split('\n').map((l) => JSON.parse(l)), api.map((e) => ({ application_id: appA.id, ...(e as object) })), named);
      }
      // A range with nothing in it prints nothing.
      const none = await outband(database.url, 'audit', 'export', '--from', '2027-01-01', '--to', '2027-01-01');
      assert.deepEqual([none.code, none.stdout], [0, '']);
    });

    test('a missing or malformed range, or an unknown application: exit 2 with a message and nothing on stdout', async (t) => {
      const database = await createTestDatabase(dialect);
      t.after(() => database.drop());
      for (const [args, message] of [
        [['--from', '2026-11-25'], /--from and --to are required/],
        [['--from', 'yesterday', '--to', '2026-11-25'], /^outband: --from must be an ISO 8601 date-time/],
        [['--from', '2026-11-26', '--to', '2026-11-25T00:00:00Z'], /from must not be after to/],
        [['--from', '2026-11-25', '--to', '2026-11-25', '--application', 'nope'], /no application "nope"/],
      ] as const) {
        const result = await outband(database.url, 'audit', 'export', ...args);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, message);
        assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, 'a stack trace instead of a message');
        assert.equal(result.stdout, '');
      }
    });
  });
}
