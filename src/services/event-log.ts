import {
  auditEntry,
  decodeAuditCursor,
  encodeAuditCursor,
  eventItem,
  parseBound,
  parseSeqCursor,
  parseTypes,
  type AuditEntry,
  type EventItem,
  type TypeFilter,
} from '../domain/event-log.ts';
import { OutbandError } from '../domain/errors.ts';
import type { StoredEvent } from '../domain/event.ts';
import type { AuditFilter } from '../store/event-log.ts';
import type { ServiceDeps } from './deps.ts';
import { eventWrite } from './events.ts';
import type { Principal } from './tokens.ts';

/** Most events a stream reads at once while it catches up. */
const STREAM_PAGE = 200;

export interface EventPageQuery {
  after?: string;
  types?: string;
  limit?: number;
}

export interface AuditQuery {
  user_id?: string;
  actor?: string;
  from?: string;
  to?: string;
  types?: string;
  limit?: number;
  cursor?: string;
}

/** What a refused request was after, for its `authorization.denied` event. No token, no body. */
export interface Denial {
  route: string;
  method: string;
  scope: string;
  ip: string | null;
}

/**
 * The event log (numbered per application, see ADR 0011), its live form, and the audit trail:
 * who did what to whom and when, read from the same events.
 */
export function createEventLogService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'notifier' | 'logger'>) {
  /** Turns the audit's query into the store's filter (without the application, the cursor and the limit). */
  function auditFilter(query: Omit<AuditQuery, 'limit' | 'cursor'>): Omit<AuditFilter, 'limit'> {
    const filter: Omit<AuditFilter, 'limit'> = {};
    if (query.user_id !== undefined) filter.userId = query.user_id;
    if (query.actor !== undefined) filter.actor = query.actor;
    if (query.from !== undefined) filter.from = parseBound(query.from, 'from');
    if (query.to !== undefined) filter.to = parseBound(query.to, 'to');
    if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) {
      throw new OutbandError('invalid_request', 'from must not be after to');
    }
    const types = parseTypes(query.types);
    if (types !== undefined) filter.types = types;
    return filter;
  }

  return {
    /** A page of the application's events after a cursor, oldest first. */
    async list(principal: Principal, query: EventPageQuery): Promise<{ items: EventItem[]; next_cursor: string; has_more: boolean }> {
      const after = parseSeqCursor(query.after, 'after');
      const limit = query.limit ?? 100;
      const types = parseTypes(query.types);
      const page = await deps.store.eventLog.page(principal.applicationId, { after, limit: limit + 1, ...(types === undefined ? {} : { types }) });
      const items = page.slice(0, limit);
      return {
        items: items.map(eventItem),
        // Always a cursor to go on from, even on an empty page: polling with it misses nothing.
        next_cursor: String(items.at(-1)?.appSeq ?? after),
        has_more: page.length > limit,
      };
    },

    /**
     * Calls `send` with every event after `after` (of the given types), then with each new one as
     * it commits, until `until` resolves. Woken by the application's id at every commit, it always
     * reads from the database after the last number it sent: a wake-up is a hint, never the data.
     */
    async follow(principal: Principal, after: number, types: TypeFilter | undefined, send: (item: EventItem) => void, until: Promise<void>): Promise<void> {
      let wake = () => {};
      let woken = new Promise<void>((resolve) => (wake = resolve));
      // Subscribe before the first read, so that an event committed meanwhile is not missed.
      const unsubscribe = deps.notifier.subscribe(principal.applicationId, () => wake());
      let gone = false;
      void until.then(() => {
        gone = true;
        wake();
      });
      try {
        let cursor = after;
        for (;;) {
          const page = await deps.store.eventLog.page(principal.applicationId, { after: cursor, limit: STREAM_PAGE, ...(types === undefined ? {} : { types }) });
          for (const event of page) {
            if (gone) return;
            send(eventItem(event));
            cursor = event.appSeq;
          }
          if (gone) return;
          if (page.length === STREAM_PAGE) continue;
          await woken;
          woken = new Promise<void>((resolve) => (wake = resolve));
          if (gone) return;
        }
      } finally {
        unsubscribe();
      }
    },

    /** The audit trail of the application, in time order, filtered. */
    async audit(principal: Principal, query: AuditQuery): Promise<{ items: AuditEntry[]; next_cursor: string | null }> {
      const limit = query.limit ?? 100;
      const filter: AuditFilter = { ...auditFilter(query), applicationId: principal.applicationId, limit: limit + 1 };
      if (query.cursor !== undefined) filter.after = decodeAuditCursor(query.cursor);
      const page = await deps.store.eventLog.audit(filter);
      const items = page.slice(0, limit);
      const last = items.at(-1);
      return { items: items.map(auditEntry), next_cursor: page.length > limit && last !== undefined ? encodeAuditCursor(last) : null };
    },

    /** Every audit entry in a range, page by page (the CLI export); every application unless one is named. */
    async *export(query: { from?: string; to?: string; applicationId?: string }): AsyncGenerator<AuditEntry & { application_id: string }> {
      const base: Omit<AuditFilter, 'limit'> = auditFilter({ ...(query.from === undefined ? {} : { from: query.from }), ...(query.to === undefined ? {} : { to: query.to }) });
      if (query.applicationId !== undefined) base.applicationId = query.applicationId;
      let after: AuditFilter['after'];
      for (;;) {
        const page: StoredEvent[] = await deps.store.eventLog.audit({ ...base, limit: 500, ...(after === undefined ? {} : { after }) });
        for (const event of page) yield { application_id: event.applicationId, ...auditEntry(event) };
        const last = page.at(-1);
        if (page.length < 500 || last === undefined) return;
        after = { createdAt: last.createdAt, seq: last.seq };
      }
    },

    /**
     * Records a request refused for a missing scope (SEC-45). The refusal does not wait for it,
     * and a failed write is logged, never the caller's problem: auditing must not slow or break
     * the answer.
     */
    recordDenied(principal: Principal, denial: Denial): void {
      const write = eventWrite(deps.random, {
        applicationId: principal.applicationId,
        type: 'authorization.denied',
        subjectType: 'client',
        subjectId: principal.clientId,
        actor: `client:${principal.clientId}`,
        data: { route: denial.route, method: denial.method, required_scope: denial.scope, ip: denial.ip },
        createdAt: deps.clock.now(),
        userId: null,
      });
      deps.store.commit({ writes: [write] }).then(
        (result) => {
          if (!result.ok) deps.logger.warn({ reason: result.reason, client_id: principal.clientId }, 'could not record a refused request');
        },
        (error: unknown) => deps.logger.warn({ err_message: (error as Error).message, client_id: principal.clientId }, 'could not record a refused request'),
      );
    },
  };
}

export type EventLogService = ReturnType<typeof createEventLogService>;
