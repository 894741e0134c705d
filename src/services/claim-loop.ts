import type { Logger } from 'pino';
import type { Clock } from './deps.ts';

/** What a claim loop works through: leased jobs from the store, each handled on its own. */
export interface ClaimLoopJobs<T> {
  /** Leases up to `limit` due jobs (SKIP LOCKED on PostgreSQL, so nodes claim side by side). */
  claim(now: number, limit: number): Promise<T[]>;
  /** Does one job; an error it throws is logged and never stops the loop. */
  handle(job: T, signal: AbortSignal): Promise<void>;
  /** When the next job falls due, to sleep until then; null when nothing waits. */
  nextDueAt(): Promise<number | null>;
}

export interface ClaimLoopOptions {
  /** What the log lines say is at work: "delivery worker", "webhook dispatcher". */
  name: string;
  /** Jobs in flight at once. */
  batch: number;
  /** The longest sleep when nothing is due: the poll that finds another node's work. */
  idlePollMs: number;
  /** The shortest sleep: a job due now that another node holds must not make the loop spin. */
  minSleepMs: number;
}

/**
 * The worker loop shared by message delivery and webhook dispatch: keeps up to `batch` jobs in
 * flight, each on its own so that one slow peer holds up only its own jobs, and claims again
 * whenever a job ends, new work is announced (`wake`) or the next retry falls due.
 */
export function createClaimLoop<T>(deps: { clock: Clock; logger: Logger }, jobs: ClaimLoopJobs<T>, options: ClaimLoopOptions) {
  let running = false;
  let woken = false;
  let wakeUp: (() => void) | null = null;
  let loop: Promise<void> | null = null;
  let stopping = new AbortController();

  function handleLogged(job: T): Promise<void> {
    return jobs.handle(job, stopping.signal).catch((error: unknown) => deps.logger.error({ err: error }, `${options.name} error`));
  }

  async function run(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    while (running) {
      woken = false;
      const free = options.batch - inFlight.size;
      let took = 0;
      if (free > 0) {
        try {
          const claimed = await jobs.claim(deps.clock.now(), free);
          took = claimed.length;
          for (const job of claimed) {
            const doing: Promise<void> = handleLogged(job).finally(() => {
              inFlight.delete(doing);
              woken = true; // a slot is free: look again
              wakeUp?.();
            });
            inFlight.add(doing);
          }
        } catch (error) {
          deps.logger.error({ err: error }, `${options.name} could not claim work`);
        }
      }
      if (!running) break;
      if ((took > 0 && took === free) || woken) continue;
      const dueAt = inFlight.size >= options.batch ? null : await jobs.nextDueAt().catch(() => null);
      const sleep = dueAt === null ? options.idlePollMs : Math.max(options.minSleepMs, Math.min(options.idlePollMs, dueAt - deps.clock.now()));
      if (sleep === 0 && !woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleep);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
        if (woken) wakeUp();
      });
      wakeUp = null;
    }
    await Promise.all(inFlight);
  }

  return {
    /** Aborted when a stop's grace runs out: jobs under way cut their I/O short. */
    get signal(): AbortSignal {
      return stopping.signal;
    },
    /** Does what is due now and waits for it; answers how many jobs it took. */
    async runOnce(): Promise<number> {
      const claimed = await jobs.claim(deps.clock.now(), options.batch);
      await Promise.all(claimed.map(handleLogged));
      return claimed.length;
    },
    /** Starts the loop; again after `stop()` too (a node that takes the lead again). */
    start(): void {
      if (running) return;
      running = true;
      if (stopping.signal.aborted) stopping = new AbortController();
      loop = run();
    },
    /** New work was queued: look now rather than at the next poll. */
    wake(): void {
      woken = true;
      wakeUp?.();
    },
    /** Stops claiming and waits for the jobs under way, aborting them after `graceMs`. */
    async stop(graceMs = 5000): Promise<void> {
      running = false;
      wakeUp?.();
      const timer = setTimeout(() => stopping.abort(), graceMs);
      await loop;
      clearTimeout(timer);
    },
  };
}
