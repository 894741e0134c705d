import { once } from 'node:events';
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { sql, type Kysely } from 'kysely';
import type { Tables } from '../schema.ts';
import { BUILD } from '../../build.ts';

/**
 * SQLite's checkpoints, moved off the event loop (ADR 0022).
 *
 * By default the connection that commits also checkpoints: every 1,000 WAL pages a commit copies
 * them into the database file and syncs it, on the event loop. As the tables grow, a group commit
 * dirties pages all over their indexes and the checkpoints copy ever more pages: at 1 M
 * verifications a commit cost 1.77 ms against 1.37 at 0 rows, and without the checkpoints
 * 1.11 ms at both (bench/README.md, table-growth).
 *
 * Here the server's connection does not checkpoint (`wal_autocheckpoint = 0`); a worker thread
 * with its own connection runs a PASSIVE checkpoint every INTERVAL_MS or so. A passive checkpoint
 * never blocks the writer, but under steady writes it always lags a few frames behind, and the
 * WAL starts over from its beginning only when a write finds every frame copied: so when the WAL
 * holds CATCH_UP_FRAMES, the server's connection runs one passive checkpoint itself, in turn with
 * the units of work, which has only the last few frames to copy. Durability does not change: a
 * commit is durable once its WAL frames are synced, as before.
 *
 * Each time a write finds the WAL fully copied, SQLite starts it over and syncs its header, on the
 * event loop: with a checkpoint every 50 ms that happened about 30 times a second under load. So
 * the worker waits IDLE_INTERVAL_MS = 250 ms after a checkpoint that found a short WAL, and
 * INTERVAL_MS = 50 ms after one that found BUSY_FRAMES or more (bulk writes), which keeps the WAL
 * as short as before when writes come fast.
 *
 * The worker starts only when the WAL first reaches SQLite's own checkpoint size (an idle or
 * lightly used server never starts it, nor pays its memory). If it fails, SQLite's own
 * checkpoints are switched back on.
 */
const START_BYTES = 1000 * 4096;
const CATCH_UP_FRAMES = 2000;
const WATCH_MS = 250;
const INTERVAL_MS = 50;
const IDLE_INTERVAL_MS = 250;
const BUSY_FRAMES = 1000;
// The worker's own file: its .ts beside this one when run from the sources, the .js the bundled
// build (ADR 0025) emits beside its chunks otherwise.
const WORKER = new URL(BUILD === 'sources' ? './sqlite-checkpoint-worker.ts' : './sqlite-checkpoint-worker.js', import.meta.url);

export type CheckpointState = 'watching' | 'running' | 'fallen back' | 'stopped';

export interface Checkpoints {
  state(): CheckpointState;
  /** Stops the worker (its connection closed) before the server's connection closes. */
  stop(): Promise<void>;
}

export interface CheckpointOptions {
  onError?: (error: Error) => void;
  /** The worker's module; tests give one that fails. */
  worker?: URL;
}

export function backgroundCheckpoints(db: Kysely<Tables>, path: string, options: CheckpointOptions = {}): Checkpoints {
  let state: CheckpointState = 'watching';
  let worker: Worker | null = null;
  let catchingUp = false;
  const onError = options.onError ?? (() => {});

  const watcher = setInterval(() => {
    let size = 0;
    try {
      size = statSync(`${path}-wal`).size;
    } catch {
      return; // no WAL yet
    }
    if (size >= START_BYTES) start();
  }, WATCH_MS);
  watcher.unref();

  function start(): void {
    clearInterval(watcher);
    const started = new Worker(options.worker ?? WORKER, { workerData: { path, intervalMs: INTERVAL_MS, idleIntervalMs: IDLE_INTERVAL_MS, busyFrames: BUSY_FRAMES, catchUpFrames: CATCH_UP_FRAMES } });
    worker = started;
    started.unref();
    started.on('message', (message: 'ready' | 'catch up') => {
      if (message === 'ready') {
        state = 'running';
        void pragma(sql`pragma wal_autocheckpoint = 0`);
      } else if (!catchingUp) {
        catchingUp = true;
        // The worker waits for this before it checkpoints again (sqlite-checkpoint-worker.ts).
        void pragma(sql`pragma wal_checkpoint(PASSIVE)`).finally(() => {
          catchingUp = false;
          worker?.postMessage('caught up');
        });
      }
    });
    started.on('error', (error) => fallBack(error));
    started.on('exit', (code) => {
      if (state !== 'stopped') fallBack(new Error(`the checkpoint worker exited (code ${code})`));
    });
  }

  function fallBack(error: Error): void {
    if (state === 'stopped' || state === 'fallen back') return;
    state = 'fallen back';
    worker = null;
    onError(error);
    void pragma(sql`pragma wal_autocheckpoint = 1000`);
  }

  async function pragma(statement: ReturnType<typeof sql>): Promise<void> {
    try {
      await statement.execute(db);
    } catch (error) {
      onError(error as Error);
    }
  }

  return {
    state: () => state,
    async stop() {
      state = 'stopped';
      clearInterval(watcher);
      const stopping = worker;
      worker = null;
      if (stopping === null) return;
      const exited = once(stopping, 'exit');
      // Unref'd so an idle server can exit; while stopping it must hold the process, or a
      // process with nothing else to do ends before the close that awaits this goes on.
      stopping.ref();
      stopping.postMessage('stop');
      await exited;
    },
  };
}
