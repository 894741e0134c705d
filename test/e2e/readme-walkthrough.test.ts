import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from '../helpers/server.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("the README's walkthrough works verbatim against `outband serve`", async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /<!-- walkthrough:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme)?.[1];
  assert.ok(block, 'the README has a walkthrough block');

  const dir = mkdtempSync(join(tmpdir(), 'outband-readme-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'outband.db')}`, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };

  const server: ChildProcess = spawn(process.execPath, ['bin/outband.js', 'serve'], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => server.kill('SIGKILL'));
  let banner = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${banner}`)), 30_000);
    server.stderr?.on('data', (d) => {
      banner += d;
      if (banner.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  assert.match(banner, /OUTBAND_CLIENT_SECRET=obs_/, 'first start prints the demo credentials once');

  // The only change: the port this test's server listens on.
  const script = `set -euo pipefail\n${block.replaceAll('localhost:8080', `localhost:${port}`)}`;
  const result = await run('bash', ['-c', script], env);
  assert.equal(result.code, 0, result.stderr);
  const answer = JSON.parse(result.stdout.trim()) as { status: string; valid: boolean };
  assert.equal(answer.status, 'approved');
  assert.equal(answer.valid, true);
  assert.match(result.stderr, /Your demo code is \d{6}\./, 'step 4 shows the SMS');
});
