import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { TypeFilter } from '../domain/event-log.ts';
import type { StoredEvent } from '../domain/event.ts';
import { toEvent } from './rows.ts';
import type { Tables } from './schema.ts';

/** Where an audit page ends: the (created_at, seq) of its last event. */
export interface AuditPosition {
  createdAt: number;
  seq: number;
}

export interface AuditFilter {
  /** One application's events; left out (the CLI export), every application's. */
  applicationId?: string;
  userId?: string;
  actor?: string;
  /** Events whose actor starts with this (`agent:` for the console's audit). */
  actorPrefix?: string;
  /** Inclusive, epoch ms. */
  from?: number;
  /** Exclusive, epoch ms. */
  to?: number;
  types?: TypeFilter;
  after?: AuditPosition;
  limit: number;
}

type EventQuery = SelectQueryBuilder<Tables, 'events', object>;

function withTypes(query: EventQuery, types: TypeFilter | undefined): EventQuery {
  if (types === undefined || (types.exact.length === 0 && types.prefixes.length === 0)) return query;
  return query.where((eb) =>
    eb.or([
      ...(types.exact.length > 0 ? [eb('type', 'in', types.exact)] : []),
      // substr, not LIKE: "_" in a type name would be a LIKE wildcard.
      ...types.prefixes.map((p) => eb(sql<string>`substr(type, 1, ${p.length})`, '=', p)),
    ]),
  );
}

/** The reads of the event log and the audit trail (migration 004's columns and indexes). */
export function createEventLog(db: Kysely<Tables>) {
  return {
    /** An application's events after `after` (an `app_seq`), in number order: the event log's page. */
    async page(applicationId: string, options: { after: number; types?: TypeFilter; limit: number }): Promise<StoredEvent[]> {
      let query = db.selectFrom('events').where('application_id', '=', applicationId).where('app_seq', '>', options.after);
      query = withTypes(query, options.types);
      const rows = await query.selectAll().orderBy('app_seq').limit(options.limit).execute();
      return rows.map(toEvent);
    },

    /** The highest number given out in an application so far (0 before its first event). */
    async last(applicationId: string): Promise<number> {
      const row = await db.selectFrom('application_sequences').select('last').where('application_id', '=', applicationId).executeTakeFirst();
      return row === undefined ? 0 : Number(row.last);
    },

    /** Events in time order (ties in commit order), filtered for the audit. */
    async audit(filter: AuditFilter): Promise<StoredEvent[]> {
      let query = db.selectFrom('events') as EventQuery;
      if (filter.applicationId !== undefined) query = query.where('application_id', '=', filter.applicationId);
      if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
      if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
      const actorPrefix = filter.actorPrefix;
      if (actorPrefix !== undefined) query = query.where(sql<string>`substr(actor, 1, ${actorPrefix.length})`, '=', actorPrefix);
      if (filter.from !== undefined) query = query.where('created_at', '>=', filter.from);
      if (filter.to !== undefined) query = query.where('created_at', '<', filter.to);
      query = withTypes(query, filter.types);
      const after = filter.after;
      if (after !== undefined) {
        query = query.where((eb) =>
          eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('seq', '>', after.seq)])]),
        );
      }
      const rows = await query.selectAll().orderBy('created_at').orderBy('seq').limit(filter.limit).execute();
      return rows.map(toEvent);
    },
  };
}

export type EventLog = ReturnType<typeof createEventLog>;
