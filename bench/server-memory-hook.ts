/**
 * Preloaded into a server under test (node --expose-gc --import bench/server-memory-hook.ts):
 * on SIGUSR2 it runs a full garbage collection and prints the process's memory as one line,
 * `bench-memory {…process.memoryUsage()}` on stderr, so a benchmark reads what live objects
 * cost rather than whatever garbage the last burst left. Nothing in src/ knows about it.
 */
const collect = (globalThis as { gc?: (options?: { type: 'major'; execution: 'sync' }) => void }).gc;

process.on('SIGUSR2', () => {
  collect?.({ type: 'major', execution: 'sync' });
  process.stderr.write(`bench-memory ${JSON.stringify(process.memoryUsage())}\n`);
});
