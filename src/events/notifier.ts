import type pg from 'pg';
import type { DomainEvent } from '../domain/event.ts';
import { loadPg } from '../store/dialects/pg.ts';
import { NOTIFY_CHANNEL } from '../store/unit-of-work.ts';

type Wake = () => void;

/**
 * Wakes whoever waits on a subject (a long-poll on a verification) when an event about it
 * is committed. A wake-up is a hint, not data: the waiter re-reads the state it cares about.
 */
export interface Notifier {
  publish(subjectIds: Iterable<string>): void;
  /** Calls `wake` at every committed change of the subject, until the returned function is called. */
  subscribe(subjectId: string, wake: Wake): () => void;
  close(): Promise<void>;
}

export function createLocalNotifier(): Notifier & { wakeAll(): void } {
  const waiters = new Map<string, Set<Wake>>();
  return {
    publish(subjectIds) {
      for (const id of subjectIds) for (const wake of waiters.get(id) ?? []) wake();
    },
    subscribe(subjectId, wake) {
      let set = waiters.get(subjectId);
      if (set === undefined) waiters.set(subjectId, (set = new Set()));
      set.add(wake);
      return () => {
        set.delete(wake);
        if (set.size === 0) waiters.delete(subjectId);
      };
    },
    wakeAll() {
      for (const set of waiters.values()) for (const wake of set) wake();
    },
    async close() {
      waiters.clear();
    },
  };
}

export function subjectsOf(events: readonly DomainEvent[]): Set<string> {
  return new Set(events.map((e) => e.subjectId));
}

/**
 * Across nodes on PostgreSQL: the store sends pg_notify in the committing transaction, and
 * every node LISTENs on one dedicated connection. A lost connection is re-opened with
 * backoff, and every waiter is woken then, since notifications sent meanwhile are gone.
 */
export function createPostgresNotifier(url: string, onError: (error: Error) => void): Notifier & { ready: Promise<void> } {
  const local = createLocalNotifier();
  let client: pg.Client | null = null;
  let closed = false;
  let reconnecting = false;
  let delay = 100;

  async function connect(): Promise<void> {
    const { Client } = await loadPg();
    const c = new Client({ connectionString: url });
    c.on('notification', (message) => {
      if (message.channel !== NOTIFY_CHANNEL || message.payload === undefined) return;
      try {
        const { subject_id, application_id } = JSON.parse(message.payload) as { subject_id: string; application_id?: string };
        // An event wakes its application too (the event-log streams), as wokenBy does in-process.
        local.publish(application_id === undefined ? [subject_id] : [subject_id, application_id]);
      } catch {
        // not ours
      }
    });
    const lost = (error?: Error) => {
      if (error !== undefined) onError(error);
      if (client !== c) return;
      client = null;
      c.removeAllListeners();
      c.on('error', () => {});
      void c.end().catch(() => {});
      scheduleReconnect();
    };
    c.on('error', lost);
    c.on('end', () => lost());
    await c.connect();
    await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
    client = c;
    delay = 100;
  }

  function scheduleReconnect(): void {
    if (closed || reconnecting) return;
    reconnecting = true;
    setTimeout(() => {
      reconnecting = false;
      if (closed) return;
      connect()
        .then(() => local.wakeAll())
        .catch((error: Error) => {
          onError(error);
          delay = Math.min(delay * 2, 5000);
          scheduleReconnect();
        });
    }, delay).unref();
  }

  const ready = connect();
  return {
    ready,
    publish: (ids) => local.publish(ids),
    subscribe: (id, wake) => local.subscribe(id, wake),
    async close() {
      closed = true;
      const c = client;
      client = null;
      await local.close();
      await c?.end().catch(() => {});
    },
  };
}
