/**
 * thread-hop: what SQLite's statements cost the event loop run in place, against sent to a worker
 * thread that runs them (the first step of the plan in bench/README.md, "Where the targets are
 * missed"). Not one of `npm run bench`'s five: a probe, run by hand, that puts a figure on the
 * plan before anyone builds it.
 *
 *   node_modules/.bin/node bench/thread-hop.ts [--units 20000] [--in-flight 64] [--rows 100000]
 *
 * One workload, three ways. A unit is what a verification request's commit looks like in
 * miniature: read a row by its random id (20 columns back), insert a new row, update the row read
 * under a version guard. Units run `--in-flight` at a time, grouped into one transaction per turn
 * of the event loop as the group commit does (WAL, synchronous=NORMAL: the sync is not what is
 * compared here).
 * - `in place`: the statements run on the event loop, as the server runs them now;
 * - `a message a statement`: each statement sent to the worker and awaited, the connection
 *   answering one holder at a time as now;
 * - `a message a group`: a group's units sent as one message (reads, then the writes decided from
 *   them in a second message), the shape a worker design would need.
 * - `no statements`: the load's own bookkeeping, every statement answered at once without SQLite,
 *   subtracted from the others' event-loop CPU.
 * Reports the event loop's CPU per unit (`process.threadCpuUsage`), the worker's, and units/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { flagValue, isMain, printTable, round } from './lib/report.ts';

type Row = Record<string, string | number | null>;
type Op = { kind: 'read'; id: string } | { kind: 'insert'; row: Row } | { kind: 'update'; id: string; version: number; status: string; now: number };
type Answer = Row | undefined | number;

const COLUMNS = ['id', 'application_id', 'user_id', 'channel', 'status', 'purpose', 'recipient', 'locale', 'code_hash', 'attempts', 'max_attempts', 'version', 'created_at', 'updated_at', 'expires_at', 'decided_at', 'context', 'callback_url', 'provider', 'reference'];

const SQL = {
  read: 'select * from rows_like_verifications where id = ?',
  insert: `insert into rows_like_verifications (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`,
  update: 'update rows_like_verifications set status = ?, version = version + 1, updated_at = ? where id = ? and version = ?',
};

function openDatabase(path: string): { run(op: Op): Answer; exec(sql: string): void; db: DatabaseSync } {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536');
  const prepared = new Map<string, StatementSync>();
  const statement = (sql: string) => {
    let s = prepared.get(sql);
    if (s === undefined) prepared.set(sql, (s = db.prepare(sql)));
    return s;
  };
  return {
    db,
    exec: (sql) => void statement(sql).run(),
    run(op) {
      switch (op.kind) {
        case 'read':
          return statement(SQL.read).get(op.id) as Row | undefined;
        case 'insert':
          return Number(statement(SQL.insert).run(...COLUMNS.map((c) => op.row[c] ?? null)).changes);
        case 'update':
          return Number(statement(SQL.update).run(op.status, op.now, op.id, op.version).changes);
      }
    },
  };
}

// ---- the worker: a connection of its own, answering messages in order --------------------------

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === 'thread-hop') {
  const { path } = workerData as { path: string };
  const database = openDatabase(path);
  parentPort!.on('message', (message: { n: number; begin?: boolean; commit?: boolean; ops?: Op[]; op?: Op; cpu?: boolean }) => {
    if (message.cpu) return parentPort!.postMessage({ n: message.n, cpu: process.threadCpuUsage() });
    if (message.begin) database.exec('begin');
    let answer: Answer | Answer[] = undefined;
    if (message.op !== undefined) answer = database.run(message.op);
    if (message.ops !== undefined) answer = message.ops.map((op) => database.run(op));
    if (message.commit) database.exec('commit');
    parentPort!.postMessage({ n: message.n, answer });
  });
}

// ---- the load ------------------------------------------------------------------------------------

const randomId = () => `vrf_${crypto.getRandomValues(new Uint8Array(16)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '')}`;

function newRow(now: number): Row {
  return {
    id: randomId(),
    application_id: 'app_0123456789abcdef0123456789abcdef',
    user_id: `usr_${Math.floor(Math.random() * 1e6)}`,
    channel: 'sms',
    status: 'pending',
    purpose: 'login',
    recipient: '+31612345678',
    locale: 'en',
    code_hash: 'Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6',
    attempts: 0,
    max_attempts: 5,
    version: 1,
    created_at: now,
    updated_at: now,
    expires_at: now + 300_000,
    decided_at: null,
    context: '{"ip":"192.0.2.1","userAgent":"bench"}',
    callback_url: null,
    provider: 'outbox',
    reference: `ref-${now}`,
  };
}

interface Connection {
  /** One statement, awaited (in place: run at once). */
  run(op: Op): Promise<Answer>;
  /** Several statements in one go, optionally opening or committing the transaction around them. */
  runAll(ops: Op[], around: { begin?: boolean; commit?: boolean }): Promise<Answer[]>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  workerCpuMs(): Promise<number>;
  close(): Promise<void>;
}

function inPlace(path: string): Connection {
  const database = openDatabase(path);
  return {
    run: async (op) => database.run(op),
    async runAll(ops, around) {
      if (around.begin) database.exec('begin');
      const answers = ops.map((op) => database.run(op));
      if (around.commit) database.exec('commit');
      return answers;
    },
    begin: async () => database.exec('begin'),
    commit: async () => database.exec('commit'),
    workerCpuMs: async () => 0,
    close: async () => database.db.close(),
  };
}

/**
 * The load's own bookkeeping (rows built, ids drawn, groups formed) with every statement answered
 * at once by a row of the same shape, no SQLite: subtracted from the other modes, it leaves what
 * the statements cost the event loop.
 */
function noStatements(): Connection {
  const answer = (op: Op): Answer => (op.kind === 'read' ? newRow(0) : 1);
  return {
    run: async (op) => answer(op),
    runAll: async (ops) => ops.map(answer),
    begin: async () => undefined,
    commit: async () => undefined,
    workerCpuMs: async () => 0,
    close: async () => undefined,
  };
}

function onWorker(path: string): Connection {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'thread-hop', path } });
  const pending = new Map<number, (value: { answer?: Answer | Answer[]; cpu?: NodeJS.CpuUsage }) => void>();
  let next = 0;
  worker.on('message', (message: { n: number; answer?: Answer | Answer[]; cpu?: NodeJS.CpuUsage }) => {
    const resolve = pending.get(message.n)!;
    pending.delete(message.n);
    resolve(message);
  });
  const send = (message: object) =>
    new Promise<{ answer?: Answer | Answer[]; cpu?: NodeJS.CpuUsage }>((resolve) => {
      const n = next++;
      pending.set(n, resolve);
      worker.postMessage({ n, ...message });
    });
  return {
    run: async (op) => (await send({ op })).answer as Answer,
    runAll: async (ops, around) => (await send({ ops, ...around })).answer as Answer[],
    begin: async () => void (await send({ begin: true })),
    commit: async () => void (await send({ commit: true })),
    async workerCpuMs() {
      const { cpu } = await send({ cpu: true });
      return (cpu!.user + cpu!.system) / 1000;
    },
    close: () => worker.terminate().then(() => undefined),
  };
}

/** One holder at a time, in arrival order (the server's connection lock, in short). */
function fifo(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (work) => {
    const result = tail.then(work);
    tail = result.catch(() => undefined);
    return result;
  };
}

type Mode = 'no statements' | 'in place' | 'a message a statement' | 'a message a group';

interface ModeResult {
  mode: Mode;
  units: number;
  unitsPerSecond: number;
  loopCpuUsPerUnit: number;
  workerCpuUsPerUnit: number;
}

async function runMode(mode: Mode, path: string, ids: string[], units: number, inFlight: number): Promise<ModeResult> {
  const connection = mode === 'no statements' ? noStatements() : mode === 'in place' ? inPlace(path) : onWorker(path);
  const exclusive = fifo();
  const workerBefore = await connection.workerCpuMs();
  let done = 0;
  const pick = () => ids[Math.floor(Math.random() * ids.length)]!;

  // A group: the units of one turn, in one transaction, each unit's statements in order.
  async function group(size: number): Promise<void> {
    const now = Date.now();
    await exclusive(async () => {
      if (mode === 'a message a group') {
        const reads = Array.from({ length: size }, () => ({ kind: 'read', id: pick() }) as const);
        const rows = (await connection.runAll(reads, { begin: true })) as Array<Row | undefined>;
        const writes: Op[] = [];
        rows.forEach((row, i) => {
          const fresh = newRow(now);
          writes.push({ kind: 'insert', row: fresh });
          if (row !== undefined) writes.push({ kind: 'update', id: reads[i]!.id, version: Number(row.version), status: 'approved', now });
          ids.push(fresh.id as string);
        });
        await connection.runAll(writes, { commit: true });
        return;
      }
      await connection.begin();
      for (let i = 0; i < size; i++) {
        const id = pick();
        const row = (await connection.run({ kind: 'read', id })) as Row | undefined;
        const fresh = newRow(now);
        await connection.run({ kind: 'insert', row: fresh });
        if (row !== undefined) await connection.run({ kind: 'update', id, version: Number(row.version), status: 'approved', now });
        ids.push(fresh.id as string);
      }
      await connection.commit();
    });
    done += size;
  }

  const loopBefore = process.threadCpuUsage();
  const started = performance.now();
  // `inFlight` loops; each turn, the loops ready join one group (as the group commit takes them).
  let ready = 0;
  let scheduled = false;
  const waiters: Array<() => void> = [];
  const join = () =>
    new Promise<void>((resolve) => {
      waiters.push(resolve);
      ready++;
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          const size = ready;
          const joined = waiters.splice(0);
          ready = 0;
          void group(size).then(() => joined.forEach((w) => w()));
        });
      }
    });
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (done < units) await join();
    }),
  );
  const elapsedMs = performance.now() - started;
  const loop = process.threadCpuUsage(loopBefore);
  const workerMs = (await connection.workerCpuMs()) - workerBefore;
  await connection.close();
  return {
    mode,
    units: done,
    unitsPerSecond: done / (elapsedMs / 1000),
    loopCpuUsPerUnit: (loop.user + loop.system) / done,
    workerCpuUsPerUnit: (workerMs * 1000) / done,
  };
}

export async function run(options: { units?: number; inFlight?: number; rows?: number } = {}): Promise<ModeResult[]> {
  const units = options.units ?? 20_000;
  const inFlight = options.inFlight ?? 64;
  const rows = options.rows ?? 100_000;
  const dir = mkdtempSync(join(tmpdir(), 'outband-thread-hop-'));
  try {
    const path = join(dir, 'hop.db');
    const seed = new DatabaseSync(path);
    seed.exec(`PRAGMA journal_mode = WAL; CREATE TABLE rows_like_verifications (${COLUMNS.map((c) => (c === 'id' ? 'id text primary key' : c)).join(', ')}) WITHOUT ROWID;
      CREATE INDEX rows_user ON rows_like_verifications (user_id, created_at); CREATE INDEX rows_due ON rows_like_verifications (status, expires_at);`);
    const insert = seed.prepare(SQL.insert);
    const ids: string[] = [];
    seed.exec('begin');
    for (let i = 0; i < rows; i++) {
      const row = newRow(Date.now());
      insert.run(...COLUMNS.map((c) => row[c] ?? null));
      ids.push(row.id as string);
    }
    seed.exec('commit');
    seed.close();
    const results: ModeResult[] = [];
    // Twice each, alternating, the first pass a warm-up of the JIT and the page cache.
    const modes: Mode[] = ['no statements', 'in place', 'a message a statement', 'a message a group'];
    for (const mode of modes) await runMode(mode, path, ids, Math.min(units, 5_000), inFlight);
    for (const mode of modes) results.push(await runMode(mode, path, ids, units, inFlight));
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread && isMain(import.meta)) {
  const results = await run({
    units: Number(flagValue('--units') ?? 20_000),
    inFlight: Number(flagValue('--in-flight') ?? 64),
    rows: Number(flagValue('--rows') ?? 100_000),
  });
  const bookkeeping = results[0]!.loopCpuUsPerUnit;
  const inPlaceStatements = results[1]!.loopCpuUsPerUnit - bookkeeping;
  printTable(
    'thread-hop: a unit is a read by id, an insert and a guarded update (3 statements)',
    results.map((r) => ({
      mode: r.mode,
      'units/s': Math.round(r.unitsPerSecond),
      'loop cpu µs/unit': round(r.loopCpuUsPerUnit, 1),
      'statements on the loop µs/unit': round(r.loopCpuUsPerUnit - bookkeeping, 1),
      '÷ in place': round((r.loopCpuUsPerUnit - bookkeeping) / inPlaceStatements),
      'worker cpu µs/unit': round(r.workerCpuUsPerUnit, 1),
    })),
  );
  process.stdout.write(`${JSON.stringify({ benchmark: 'thread-hop', results })}\n`);
}
