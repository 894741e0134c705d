import type pg from 'pg';
import { loadPg } from '../store/dialects/pg.ts';
import type { Logger } from 'pino';

/**
 * The work that runs on one node at a time: the expiry sweeper and the webhook dispatcher.
 * Running it on two nodes at once for a moment is safe (webhook messages are claimed under a
 * lease, expiry is a guarded write), only wasteful; the lock keeps it to one in the steady state.
 */
export interface LeaderDuties {
  start(): void;
  /** Stops, and waits for the work under way. */
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  /** The PostgreSQL database the nodes share; null (SQLite: one node) leads at once, without a lock. */
  postgresUrl: string | null;
  /** How often a follower tries to take the lock, and how often the leader checks its lock connection. */
  retryMs: number;
  logger: Logger;
  duties: LeaderDuties;
  /** Told at every change of the lead (the outband_leader gauge). */
  onChange?: (leading: boolean) => void;
}

export interface Leadership {
  /** Whether this node runs the duties now. */
  isLeader(): boolean;
  /** Stops the duties and ends the lock's connection, which frees the lock for the other nodes. */
  close(): Promise<void>;
}

/**
 * The session-level advisory lock the nodes of one database contend for; advisory locks are
 * per database, so two Outband databases on one server do not meet. Arbitrary and fixed (the
 * ASCII of "oblead"), and not the migrations' lock ("outbnd"), which a starting node takes
 * while the leader holds this one.
 */
export const LEADER_LOCK_KEY = 0x6f_62_6c_65_61_64;

/**
 * One leader among the nodes of a PostgreSQL database: each node keeps a connection of its own
 * (not from the pool, as a session lock lives as long as its connection) and tries
 * `pg_try_advisory_lock` every `retryMs`. The node that holds it runs the duties. When the
 * leader dies, even by SIGKILL, its connection closes and PostgreSQL frees the lock; another
 * node takes it at its next try. The leader checks its connection at the same interval and
 * stops the duties as soon as the connection fails, since the lock may be gone with it.
 */
export function createLeadership(options: LeadershipOptions): Leadership {
  const { logger, duties, retryMs } = options;
  let leading = false;
  let closed = false;
  // The key, to find the holder in pg_locks (classid and objid are its high and low 32 bits).
  const fields = options.postgresUrl === null ? {} : { leader_lock: LEADER_LOCK_KEY };

  function lead(): void {
    leading = true;
    options.onChange?.(true);
    logger.info(fields, 'this node took the lead: it runs the expiry sweeper and the webhook dispatcher');
    duties.start();
  }

  async function stepDown(why: string): Promise<void> {
    if (!leading) return;
    leading = false;
    options.onChange?.(false);
    logger.info({ ...fields, reason: why }, 'this node gave up the lead: the expiry sweeper and the webhook dispatcher stop here');
    await duties.stop();
  }

  if (options.postgresUrl === null) {
    lead();
    return {
      isLeader: () => leading,
      async close() {
        closed = true;
        await stepDown('the server is stopping');
      },
    };
  }
  const url = options.postgresUrl;

  // Every change of state runs in this one chain: a lost connection, a try and close() never interleave.
  let chain: Promise<void> = Promise.resolve();
  const serially = (step: () => Promise<void>): Promise<void> => (chain = chain.then(step).catch((error: unknown) => logger.error({ err: error }, 'leader lock error')));

  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | undefined;

  function discard(c: pg.Client): void {
    if (client === c) client = null;
    c.removeAllListeners();
    c.on('error', () => {});
    void c.end().catch(() => {});
  }

  // How long a connect or a query may take before the connection counts as lost; longer than a
  // try's interval, as a busy node answers late, and far shorter than the server's keepalive
  // below, so a cut-off leader stops before PostgreSQL hands its lock to another node.
  const patienceMs = Math.max(2 * retryMs, 2000);

  async function connect(): Promise<pg.Client> {
    const { Client } = await loadPg();
    const c = new Client({ connectionString: url, connectionTimeoutMillis: patienceMs, query_timeout: patienceMs, keepAlive: true, application_name: 'outband-leader-lock' });
    const lost = (error?: Error) => {
      if (client !== c) return;
      discard(c);
      if (error !== undefined) logger.warn({ err_message: error.message }, 'the leader lock connection failed');
      void serially(() => stepDown('its lock connection was lost'));
    };
    c.on('error', lost);
    c.on('end', () => lost());
    try {
      await c.connect();
      // So the server, too, notices a leader gone silent (a network cut, not a closed socket) and
      // frees its lock: after about four times the patience.
      const seconds = Math.ceil(patienceMs / 1000);
      await c.query(`set tcp_keepalives_idle = ${seconds}; set tcp_keepalives_interval = ${seconds}; set tcp_keepalives_count = 3`);
    } catch (error) {
      discard(c);
      throw error;
    }
    return c;
  }

  async function attempt(): Promise<void> {
    if (closed) return;
    try {
      client ??= await connect();
      if (leading) {
        await client.query('select 1');
        return;
      }
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [LEADER_LOCK_KEY]);
      if (rows[0]?.locked === true && !closed) lead();
    } catch (error) {
      logger.warn({ err_message: (error as Error).message }, 'the leader lock could not be tried; trying again');
      if (client !== null) discard(client);
      await stepDown('its lock connection failed');
    }
  }

  function scheduleNext(): void {
    if (closed) return;
    timer = setTimeout(() => void serially(attempt).then(scheduleNext), retryMs);
    timer.unref();
  }
  void serially(attempt).then(scheduleNext);

  return {
    isLeader: () => leading,
    async close() {
      closed = true;
      clearTimeout(timer);
      await serially(async () => {
        await stepDown('the server is stopping');
        // Ending the session frees its advisory locks: another node leads at its next try.
        const c = client;
        client = null;
        if (c !== null) {
          c.removeAllListeners();
          c.on('error', () => {});
          await c.end().catch(() => {});
        }
      });
    },
  };
}
