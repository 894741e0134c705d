/**
 * Figures of processes read from /proc (Linux) and from the processes themselves: CPU time,
 * open descriptors, memory after a full GC. Used by push-roundtrip and waiters beside bench/lib.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far; 0 once it has gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** How many file descriptors a process holds open (sockets, files, pipes). */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** The share of one core a process used between two readings of cpuSeconds, in percent. */
export function cpuPercent(before: number, after: number, wallMs: number): number {
  return wallMs > 0 ? Math.round(((after - before) * 1000 * 100) / wallMs) : 0;
}

/**
 * Samples the CPU time of some processes every `everyMs` while a load runs, and answers each
 * one's share of a core over the busiest `windowMs` of the first process: the load's measured
 * span, wherever the load client's start-up and drain put it.
 */
export function sampleCpu(pids: number[], everyMs = 100): { stop(windowMs: number): number[] } {
  const samples: Array<{ at: number; cpu: number[] }> = [];
  const take = () => samples.push({ at: performance.now(), cpu: pids.map(cpuSeconds) });
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop(windowMs) {
      clearInterval(timer);
      take();
      let best = { from: 0, to: samples.length - 1, busy: -1 };
      let to = 0;
      for (let from = 0; from < samples.length; from++) {
        while (to < samples.length - 1 && samples[to]!.at - samples[from]!.at < windowMs) to++;
        const busy = samples[to]!.cpu[0]! - samples[from]!.cpu[0]!;
        if (busy > best.busy) best = { from, to, busy };
        if (to === samples.length - 1) break;
      }
      const a = samples[best.from]!;
      const b = samples[best.to]!;
      return pids.map((_, i) => cpuPercent(a.cpu[i]!, b.cpu[i]!, b.at - a.at));
    },
  };
}

export interface MemoryReading {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/**
 * The memory of a server started with `memoryHookFlags()`, after a full garbage collection:
 * signals it, then waits for its `bench-memory` line in its output.
 */
export async function collectedMemory(pid: number, output: () => string, timeoutMs = 10_000): Promise<MemoryReading> {
  const seen = output().split('bench-memory ').length;
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const parts = output().split('bench-memory ');
    if (parts.length > seen) {
      const line = parts[seen]!.split('\n')[0]!;
      return JSON.parse(line) as MemoryReading;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} printed no bench-memory line within ${timeoutMs} ms (started without memoryHookFlags()?)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Node flags for a server whose memory collectedMemory() reads. */
export function memoryHookFlags(root: string): string[] {
  return ['--expose-gc', '--import', `${root}/bench/server-memory-hook.ts`];
}
