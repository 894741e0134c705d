import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import pg from 'pg';
import { createTestDatabase, dialects, type TestDatabase } from '../helpers/databases.ts';
import { cleanupStack, poll, runCli, startServerProcess, type ServerProcess } from '../helpers/process.ts';

/**
 * SEC-08: a code exists in clear only in the message that carries it (here the development
 * outbox, which is the delivery channel itself) and, when asked for with return_code, in that
 * one 201 response. A whole run through real HTTP against a real server process is searched
 * for every code: the database (SQLite files as bytes, or every PostgreSQL row as text), all of
 * the process's output at LOG_LEVEL=debug, every other response, and /metrics.
 */

interface Recorded {
  what: string;
  text: string;
}

/** The SQLite file and its -wal / -shm companions, as latin1 text (byte for byte). */
function sqliteBytes(database: TestDatabase): Recorded[] {
  const file = database.url.slice('sqlite:'.length);
  return ['', '-wal', '-shm', '-journal']
    .map((suffix) => file + suffix)
    .filter((path) => existsSync(path))
    .map((path) => ({ what: path, text: readFileSync(path).toString('latin1') }));
}

/** Every row of every table of the PostgreSQL database, as text. */
async function postgresRows(database: TestDatabase): Promise<Recorded[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`);
    const out: Recorded[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`select t::text as row from "${table_name}" t`);
      out.push({ what: `table ${table_name}`, text: rows.rows.map((r) => r.row).join('\n') });
    }
    assert.ok(out.some((r) => r.what === 'table verifications'), 'the tables were read');
    return out;
  } finally {
    await client.end();
  }
}

/** Where `needle` occurs, as a digit-delimited number when `delimited`, else anywhere. */
function findIn(haystacks: Recorded[], needle: string, delimited: boolean): string[] {
  const pattern = delimited ? new RegExp(`(?<![0-9])${needle}(?![0-9])`) : null;
  return haystacks
    .filter((h) => (pattern === null ? h.text.includes(needle) : pattern.test(h.text)))
    .map((h) => {
      const at = pattern === null ? h.text.indexOf(needle) : h.text.search(pattern);
      return `${h.what}: …${h.text.slice(Math.max(0, at - 80), at + needle.length + 40).replace(/[^\x20-\x7e]/g, '.')}…`;
    });
}

for (const dialect of dialects()) {
  describe(`${dialect}: secrets stay secret across a whole run`, () => {
    test('SEC-08 no code in clear in the database, logs, metrics or responses', async (t) => {
      const defer = cleanupStack(t);
      const database = await createTestDatabase(dialect);
      defer(() => database.drop());
      const env = {
        DATABASE_URL: database.url,
        OUTBAND_SECRET: 'sec-08-secret-0123456789-abcdefghijklmnopqrstuv',
        OUTBAND_DEMO: 'false',
        LOG_LEVEL: 'debug',
      };
      await runCli(['apps', 'create', '--name', 'sec08'], env);
      const scopes = 'users:write users:read verifications:write verifications:read verifications:code outbox:read';
      const credentials = JSON.parse((await runCli(['clients', 'create', '--app', 'sec08', '--scopes', scopes, '--json'], env)).stdout) as {
        client_id: string;
        client_secret: string;
      };

      const server: ServerProcess = await startServerProcess(env);
      defer(() => server.stop('SIGKILL'));

      /** Every response (headers and body) but the outbox's and the one with return_code. */
      const responses: Recorded[] = [];
      let returnCodeResponse = '';
      async function call(method: string, path: string, options: { json?: unknown; form?: Record<string, string>; token?: string; record?: 'no' | 'return_code' } = {}) {
        const headers: Record<string, string> = {};
        let body: string | undefined;
        if (options.json !== undefined) {
          headers['content-type'] = 'application/json';
          body = JSON.stringify(options.json);
        } else if (options.form !== undefined) {
          headers['content-type'] = 'application/x-www-form-urlencoded';
          body = new URLSearchParams(options.form).toString();
        }
        if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
        const response = await fetch(server.baseUrl + path, { method, headers, ...(body === undefined ? {} : { body }) });
        const text = await response.text();
        const full = `${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${text}`;
        if (options.record === 'return_code') returnCodeResponse = full;
        else if (options.record !== 'no') responses.push({ what: `response to ${method} ${path}`, text: full });
        const type = response.headers.get('content-type') ?? '';
        return { status: response.status, text, json: type.includes('json') ? (JSON.parse(text) as any) : null };
      }

      // A token (as a form, the OAuth way).
      const issued = await call('POST', '/oauth/token', { form: { grant_type: 'client_credentials', client_id: credentials.client_id, client_secret: credentials.client_secret } });
      assert.equal(issued.status, 200, issued.text);
      const token = issued.json.access_token as string;
      const a = { token };

      // Users.
      const users: string[] = [];
      for (const [i, body] of [
        { external_id: 'u1', phone: '+31612345671', email: 'one@example.com' },
        { external_id: 'u2', phone: '06 12345672', country: 'NL', email: 'two@example.com' },
        { external_id: 'u3', email: 'three@example.com', locale: 'nl-NL' },
      ].entries()) {
        const created = await call('POST', '/v1/users', { ...a, json: body });
        assert.equal(created.status, 201, `user ${i}: ${created.text}`);
        users.push(created.json.id);
      }
      const [u1, u2, u3] = users as [string, string, string];

      /** The code of a verification, read from the development outbox: the delivery channel, not searched. */
      async function codeFromOutbox(id: string): Promise<string> {
        return poll(`the outbox message of ${id}`, async () => {
          const res = await call('GET', `/v1/outbox?verification_id=${id}`, { ...a, record: 'no' });
          assert.equal(res.status, 200, res.text);
          // The only number of 4 or more digits in the message, whatever its language.
          return /(?<![0-9])([0-9]{4,10})(?![0-9])/.exec(res.json.items[0]?.body ?? '')?.[1];
        });
      }
      async function start(body: Record<string, unknown>, record?: 'return_code'): Promise<{ id: string; json: any }> {
        const res = await call('POST', '/v1/verifications', { ...a, json: body, ...(record ? { record } : {}) });
        assert.equal(res.status, 201, res.text);
        return { id: res.json.id, json: res.json };
      }
      const check = (id: string, code: string) => call('POST', `/v1/verifications/${id}/check`, { ...a, json: { code } });
      /** A wrong code of the same length: each digit moved by one. */
      const wrongFor = (code: string, shift = 1) => code.replace(/\d/g, (d) => String((Number(d) + shift) % 10));

      const long: string[] = []; // 8 digits: searched everywhere, the database bytes too
      const short: string[] = []; // 6 digits: searched in logs, responses and metrics
      const typed: string[] = []; // wrong codes sent to /check: 8 digits, searched everywhere

      // 1. SMS, a wrong check then the right one.
      const v1 = await start({ channel: 'sms', user_id: u1, code_length: 8 });
      const c1 = await codeFromOutbox(v1.id);
      typed.push(wrongFor(c1));
      let res = await check(v1.id, wrongFor(c1));
      assert.equal(res.json.valid, false, res.text);
      res = await check(v1.id, c1);
      assert.equal(res.json.status, 'approved', res.text);
      long.push(c1);

      // 2. E-mail, two wrong checks then the right one; checking again after approval is a 409.
      const v2 = await start({ channel: 'email', user_id: u1, code_length: 8 });
      const c2 = await codeFromOutbox(v2.id);
      for (const shift of [3, 7]) {
        typed.push(wrongFor(c2, shift));
        res = await check(v2.id, wrongFor(c2, shift));
        assert.equal(res.json.valid, false, res.text);
      }
      res = await check(v2.id, c2);
      assert.equal(res.json.status, 'approved', res.text);
      res = await check(v2.id, c2);
      assert.equal(res.status, 409, res.text);
      long.push(c2);

      // 3. SMS, a long-poll that times out while pending, then cancelled; its code is never checked.
      const v3 = await start({ channel: 'sms', user_id: u2, code_length: 8 });
      const c3 = await codeFromOutbox(v3.id);
      res = await call('GET', `/v1/verifications/${v3.id}?wait=1`, a);
      assert.equal(res.json.status, 'pending', res.text);
      res = await call('POST', `/v1/verifications/${v3.id}/cancel`, a);
      assert.equal(res.json.status, 'cancelled', res.text);
      res = await check(v3.id, c3);
      assert.equal(res.status, 409, res.text);
      long.push(c3);

      // 4. E-mail, wrong codes until no attempts are left; then even the right code is refused.
      const v4 = await start({ channel: 'email', user_id: u2, code_length: 8 });
      const c4 = await codeFromOutbox(v4.id);
      for (const shift of [1, 2, 5]) {
        typed.push(wrongFor(c4, shift));
        res = await check(v4.id, wrongFor(c4, shift));
      }
      assert.equal(res.json.status, 'failed', res.text);
      res = await check(v4.id, c4);
      assert.equal(res.status, 409, res.text);
      assert.equal(res.json.code, 'max_attempts_reached', res.text);
      long.push(c4);

      // 5. SMS straight to a number, approved while a long-poll waits for it.
      const v5 = await start({ channel: 'sms', to: '+31612345675', code_length: 8 });
      const c5 = await codeFromOutbox(v5.id);
      const waiting = call('GET', `/v1/verifications/${v5.id}?wait=10`, a);
      res = await check(v5.id, c5);
      assert.equal(res.json.status, 'approved', res.text);
      assert.equal((await waiting).json.status, 'approved');
      long.push(c5);

      // 6. return_code: the code comes back in this one 201 response, and nowhere else.
      const v6 = await start({ channel: 'sms', user_id: u1, code_length: 8, return_code: true }, 'return_code');
      const c6 = v6.json.code as string;
      assert.match(c6, /^\d{8}$/);
      assert.ok(returnCodeResponse.includes(c6));
      assert.equal(await codeFromOutbox(v6.id), c6, 'the message carries the same code');
      res = await check(v6.id, c6);
      assert.equal(res.json.status, 'approved', res.text);
      long.push(c6);

      // 7. Default 6-digit codes, SMS and e-mail (one in Dutch), approved at once.
      for (const body of [
        { channel: 'sms', user_id: u2 },
        { channel: 'email', user_id: u3 },
        { channel: 'sms', to: '0612345679', country: 'NL' },
      ]) {
        const v = await start(body);
        const c = await codeFromOutbox(v.id);
        assert.match(c, /^\d{6}$/);
        res = await call('GET', `/v1/verifications/${v.id}?wait=0`, a);
        assert.equal(res.json.status, 'pending', res.text);
        res = await check(v.id, c);
        assert.equal(res.json.status, 'approved', res.text);
        short.push(c);
      }
      for (const code of [...long, ...typed]) assert.match(code, /^\d{8}$/);
      assert.equal(new Set(long).size, long.length);

      const metrics = await call('GET', '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.text, /outband_verifications_started_total\{channel="sms"\} 6/);
      const metricsText: Recorded = { what: '/metrics', text: metrics.text };

      // The database while the server runs (SQLite: the WAL still holds the recent pages)…
      const dbWhileRunning = dialect === 'sqlite' ? sqliteBytes(database) : [];
      const stopped = await server.stop('SIGTERM');
      assert.equal(stopped.code, 0, 'the server stopped cleanly');
      // …and after it stopped.
      const dbAfter = dialect === 'sqlite' ? sqliteBytes(database) : await postgresRows(database);
      const db = [...dbWhileRunning.map((r) => ({ ...r, what: `${r.what} (running)` })), ...dbAfter];
      assert.ok(db.length > 0 && db.some((r) => r.text.includes(v1.id)), 'the database was read and holds the verifications');

      const logs: Recorded = { what: 'server output', text: server.output() };
      assert.ok(logs.text.includes('"msg":"request completed"') && logs.text.includes('delivery sent'), 'requests and deliveries were logged');
      assert.ok(responses.length > 30, `every response was recorded (${responses.length})`);
      t.diagnostic(
        `searched ${long.length} 8-digit codes and ${typed.length} typed wrong codes in ${db.length} database images (${db.reduce((n, r) => n + r.text.length, 0)} bytes), ` +
          `${logs.text.length} bytes of output, ${responses.length} responses and /metrics; ${short.length} 6-digit codes outside the database`,
      );

      const everywhere = [...db, logs, ...responses, metricsText];
      const found: string[] = [];
      for (const code of [...long, ...typed]) found.push(...findIn(everywhere, code, false).map((w) => `code ${code} in ${w}`));
      for (const code of short) found.push(...findIn([logs, ...responses, metricsText], code, true).map((w) => `code ${code} in ${w}`));
      assert.deepEqual(found, [], 'no code in clear anywhere');

      // Credentials: never in the output; the secret is kept only as a hash, the token not at all.
      for (const [name, value] of [
        ['client secret', credentials.client_secret],
        ['access token', token],
      ] as const) {
        assert.deepEqual(findIn([logs, ...db], value, false), [], `the ${name} is not in the logs or the database`);
      }
      assert.ok(!logs.text.includes(token.split('.')[2] as string), 'not even the token signature');
    });
  });
}
