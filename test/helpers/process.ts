import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root, and the Node 24 that runs the `outband` command. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/outband.js', import.meta.url));

/** Only what a child needs, so the test runner's own environment does not leak into the server's configuration. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env };
}

/** Runs `outband <args>` to its end (at most `timeoutMs`); rejects unless it exits 0. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`outband ${args.join(' ')} exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  /** Everything the process wrote, stdout and stderr interleaved as it came. */
  output(): string;
  /** Resolves when the process has exited (at once if it already has). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGKILL) unless it has exited, and waits for the exit (at most `timeoutMs`, then SIGKILL). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `outband serve` as a child process with PORT=0 and waits (at most `timeoutMs`) for
 * the line that tells the port it listens on. `entry`: bin/outband.js, or a bundled build's.
 */
export async function startServerProcess(env: Record<string, string>, timeoutMs = 15_000, entry = BIN): Promise<ServerProcess> {
  const child = spawn(NODE, [entry, 'serve'], { cwd: ROOT, env: childEnv({ HOST: '127.0.0.1', PORT: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const output = () => Buffer.concat(chunks).toString('utf8');
  const stop: ServerProcess['stop'] = async (signal = 'SIGKILL', stopTimeoutMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    }
    return exited;
  };

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${timeoutMs} ms:\n${output()}`)), timeoutMs);
    let listening = false;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      if (listening) return;
      const match = /listening on http:\/\/[^:\s]+:(\d+)/.exec(output());
      if (match?.[1] !== undefined) {
        listening = true;
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before it listened:\n${output()}`));
    });
  }).catch(async (error: unknown) => {
    await stop('SIGKILL');
    throw error;
  });
  return { child, baseUrl: `http://127.0.0.1:${port}`, output, exited, stop };
}

/** Calls `probe` every `intervalMs` until it answers something other than undefined; throws after `timeoutMs`. */
export async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; Date.now() < deadline && round < timeoutMs / intervalMs + 1; round++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * Cleanups that run when the test ends, last registered first (servers stop before the
 * gateway and database they use go away); every one runs even if an earlier one throws.
 */
export function cleanupStack(t: { after(fn: () => Promise<void>): void }): (fn: () => Promise<unknown> | unknown) => void {
  const stack: Array<() => Promise<unknown> | unknown> = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const fn of stack.reverse()) {
      try {
        await fn();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (fn) => stack.push(fn);
}
