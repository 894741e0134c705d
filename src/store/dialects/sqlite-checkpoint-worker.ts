// The background checkpointer's thread (sqlite-checkpoints.ts): its own connection to the
// database file, copying committed WAL frames into the database and syncing it, so that this
// work and its fsync never run on the server's event loop.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs, idleIntervalMs, busyFrames, catchUpFrames } = workerData as {
  path: string;
  intervalMs: number;
  idleIntervalMs: number;
  busyFrames: number;
  catchUpFrames: number;
};
const port = parentPort!;
// A PASSIVE checkpoint never waits for the writer or for readers: it copies what it can now.
const db = new DatabaseSync(path, { timeout: 0 });
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');

// The server's thread hears from it only when the WAL is long enough for it to catch up, and
// this thread then waits for 'caught up' before its next checkpoint: two checkpointers contend
// for SQLite's one checkpoint lock, and a passive checkpoint that finds it taken does nothing,
// so while this thread kept copying, the server's catch-up could miss again and again and the
// WAL grow on. A short WAL waits longer for the next checkpoint: each full copy lets the WAL
// start over, which syncs.
let timer: NodeJS.Timeout | undefined;
const tick = () => {
  timer = undefined;
  const { log } = checkpoint.get() as { log: number };
  if (log >= catchUpFrames) port.postMessage('catch up');
  else timer = setTimeout(tick, log >= busyFrames ? intervalMs : idleIntervalMs);
};
timer = setTimeout(tick, intervalMs);

port.on('message', (message) => {
  if (message === 'caught up') {
    if (timer === undefined) timer = setTimeout(tick, intervalMs);
    return;
  }
  if (message !== 'stop') return;
  clearTimeout(timer);
  db.close();
  port.close();
});
port.postMessage('ready');
