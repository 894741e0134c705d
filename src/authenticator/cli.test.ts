// `outband authenticator …` as a user runs it: a child process with no server configuration at
// all (no secret, no database), against the strict peer on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFakeDeviceApi, type FakeDeviceApi } from '../../test/helpers/fake-device-api.ts';
import { readKeyFile } from './key-file.ts';

const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/outband.js', import.meta.url));

function start(args: string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(NODE, [BIN, 'authenticator', ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } });
}

async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start(args, env);
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

/** The child's stdout as lines, with a way to wait for one. */
function follow(child: ChildProcessWithoutNullStreams) {
  const lines: string[] = [];
  let buffer = '';
  let waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters) w();
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const until = (pattern: RegExp, ms = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line ${pattern} in:\n${lines.join('\n')}\n${stderr}`)), ms);
      const check = () => {
        const line = lines.find((l) => pattern.test(l));
        if (line === undefined) return;
        clearTimeout(timer);
        waiters = waiters.filter((w) => w !== check);
        resolve(line);
      };
      waiters.push(check);
      check();
    });
  return { lines, until };
}

describe('outband authenticator (CLI)', () => {
  let peer: FakeDeviceApi;
  let dir: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    peer = await startFakeDeviceApi();
    dir = await mkdtemp(join(tmpdir(), 'outband-cli-'));
    env = { HOME: dir, OUTBAND_AUTHENTICATOR_FILE: join(dir, 'conf', 'authenticator.json') };
  });
  afterEach(async () => {
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('enroll, list, then watch --approve-all: one parseable line per event; SIGTERM exits 0', async () => {
    // 1. Enrol: prints the id and name; the key file is 0600.
    const enrolled = await run(['enroll', peer.issueLink().link, '--name', 'Build agent'], env);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    assert.match(enrolled.stdout, /^enrolled dev_1 Build agent\nsaved to .*authenticator\.json\n$/);
    const path = env['OUTBAND_AUTHENTICATOR_FILE'] as string;
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await readKeyFile(path)).authenticators[0]?.device_id, 'dev_1');

    // 2. List: the server's view.
    const listed = await run(['list', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const [row] = JSON.parse(listed.stdout) as Array<{ device_id: string; server: { status: string } | null; error: string | null }>;
    assert.equal(row?.device_id, 'dev_1');
    assert.equal(row?.server?.status, 'paired');
    assert.equal(row?.error, null);

    // 3. Watch: the pending request on connect, then a new one with read back, then a pick it skips.
    const pending = peer.addRequest('dev_1');
    const child = start(['watch', '--approve-all'], env);
    const out = follow(child);
    await out.until(/^connected dev_1$/);
    await out.until(new RegExp(`^approved ${pending.id}$`));
    const readBack = peer.addRequest('dev_1', { matching: 'read_back' });
    await out.until(new RegExp(`^read_back_code ${readBack.id} 123456$`));
    const pick = peer.addRequest('dev_1', { matching: 'pick', choices: ['07', '42', '91'] });
    await out.until(new RegExp(`^skipped ${pick.id} pick 07,42,91$`));
    peer.withdraw(pick.id, 'expired');
    await out.until(new RegExp(`^withdrawn ${pick.id} expired$`));
    const request = out.lines.find((l) => l.startsWith(`request ${readBack.id} `)) ?? '';
    const [, id, device, matching, seconds, json] = /^request (\S+) (\S+) (\S+) (\d+) (\{.*\})$/.exec(request) ?? [];
    assert.deepEqual([id, device, matching], [readBack.id, 'dev_1', 'read_back']);
    assert.ok(Number(seconds) > 100 && Number(seconds) <= 120, seconds);
    assert.equal((JSON.parse(json ?? '{}') as { application: string }).application, 'Acme Bank');
    assert.deepEqual(peer.responses.map((r) => [r.id, r.decision, r.user_verification]), [
      [pending.id, 'approve', 'pin'],
      [readBack.id, 'approve', 'pin'],
    ]);
    child.kill('SIGTERM');
    assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0);
  });

  test('watch, answering from stdin: pick the number, then a typed code', async () => {
    await run(['enroll', peer.issueLink().link], env);
    const child = start(['watch', '--uv', 'biometric'], env);
    const out = follow(child);
    await out.until(/^connected dev_1$/);
    const pick = peer.addRequest('dev_1', { matching: 'pick', choices: ['42', '07', '91'] });
    await out.until(new RegExp(`^ask ${pick.id} pick:42,07,91\\|deny\\|fraud$`));
    child.stdin.write('42\n');
    await out.until(new RegExp(`^approved ${pick.id}$`));
    const typed = peer.addRequest('dev_1', { matching: 'type' });
    await out.until(new RegExp(`^ask ${typed.id} code\\|deny\\|fraud$`));
    child.stdin.write('12345\n');
    await out.until(new RegExp(`^invalid ${typed.id} `));
    child.stdin.write('123456\n');
    await out.until(new RegExp(`^approved ${typed.id}$`));
    assert.deepEqual(peer.responses.map((r) => [r.answer, r.user_verification]), [
      ['42', 'biometric'],
      ['123456', 'biometric'],
    ]);
    peer.revoke('dev_1');
    await out.until(/^revoked dev_1$/);
    assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0, 'every device gone: watch ends');
  });

  test('refusals: a used link (exit 1), a bad link (exit 2), no authenticators to watch (exit 2), list with the server down says unreachable', async () => {
    const { link } = peer.issueLink();
    assert.equal((await run(['enroll', link], env)).code, 0);
    const used = await run(['enroll', link], env);
    assert.equal(used.code, 1);
    assert.match(used.stderr, /unknown, already used or expired.*activation_invalid/);
    const bad = await run(['enroll', 'https://h.example/enroll'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not an enrolment link/);
    const none = await run(['watch', '--file', join(dir, 'empty.json')], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no authenticators/);
    await peer.close();
    const list = await run(['list'], env);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /server: unreachable/);
    peer = await startFakeDeviceApi(); // for afterEach
  });
});
