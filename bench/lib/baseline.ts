/** The baseline route (bench/baseline-server.ts) in its own process, on a free port of 127.0.0.1. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { NODE, ROOT, rssOf } from './proc.ts';

export interface Baseline {
  baseUrl: string;
  pid: number;
  rssBytes(): number;
  stop(): Promise<void>;
}

export async function startBaseline(): Promise<Baseline> {
  const child = spawn(NODE, [join(ROOT, 'bench/baseline-server.ts')], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('the baseline server did not start within 10 s')), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /listening (\d+)/.exec(text);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error('the baseline server exited before it listened'));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  const pid = child.pid ?? 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid,
    rssBytes: () => rssOf(pid),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
