// The background checkpointer's thread (sqlite-checkpoints.ts): its own connection to the
// database file, copying committed WAL frames into the database and syncing it, so that this
// work and its fsync never run on the server's event loop.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const port = parentPort!;
// A PASSIVE checkpoint never waits for the writer or for readers: it copies what it can now.
const db = new DatabaseSync(path, { timeout: 0 });
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');

const timer = setInterval(() => {
  const { busy, log, checkpointed } = checkpoint.get() as { busy: number; log: number; checkpointed: number };
  port.postMessage({ busy, log, checkpointed });
}, intervalMs);

port.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  port.close();
});
port.postMessage('ready');
