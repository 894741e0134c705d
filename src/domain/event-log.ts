import { OutbandError } from './errors.ts';
import type { StoredEvent } from './event.ts';

/** Event types to keep: exact names, and prefixes (`verification.` for `verification.*`). */
export interface TypeFilter {
  exact: string[];
  prefixes: string[];
}

const TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const PREFIX = /^([a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*)\.\*$/;

/** `a.b,c.*` → exact `a.b` and prefix `c.`; undefined for none. A malformed entry is a 400. */
export function parseTypes(text: string | undefined): TypeFilter | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const filter: TypeFilter = { exact: [], prefixes: [] };
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    const prefix = PREFIX.exec(entry);
    if (prefix?.[1] !== undefined) filter.prefixes.push(`${prefix[1]}.`);
    else if (TYPE.test(entry)) filter.exact.push(entry);
    else throw new OutbandError('invalid_request', `types: "${entry}" is neither an event type (verification.approved) nor a prefix (verification.*)`);
  }
  return filter;
}

export function matchesTypes(type: string, filter: TypeFilter | undefined): boolean {
  return filter === undefined || filter.exact.includes(type) || filter.prefixes.some((p) => type.startsWith(p));
}

/** The event log's cursor: an `app_seq`, as decimal text (also the SSE `id:` and `Last-Event-ID`). */
export function parseSeqCursor(text: string | undefined, name: string): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d{1,15}$/.test(text)) throw new OutbandError('invalid_request', `${name} must be an event number (the seq of the last event seen), e.g. "42"`);
  return Number(text);
}

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A bound of an audit range, in epoch ms. A date-time with its offset is that instant; a bare
 * date (YYYY-MM-DD) is a UTC day: as `from` its start, as `to` its end (the range is half-open,
 * so `from=D&to=D` is the whole day D).
 */
export function parseBound(text: string, which: 'from' | 'to'): number {
  let ms: number;
  if (DATE_ONLY.test(text)) {
    ms = Date.parse(`${text}T00:00:00Z`);
    if (which === 'to') ms += DAY_MS;
  } else if (DATE_TIME.test(text)) {
    ms = Date.parse(text);
  } else {
    ms = Number.NaN;
  }
  if (!Number.isFinite(ms)) throw new OutbandError('invalid_request', `${which} must be an ISO 8601 date-time with an offset (2026-11-25T09:00:00Z) or a UTC date (2026-11-25)`);
  return ms;
}

/** The audit's cursor: where the last page ended, opaque to callers. */
export function encodeAuditCursor(event: StoredEvent): string {
  return Buffer.from(`${event.createdAt}.${event.seq}`).toString('base64url');
}

export function decodeAuditCursor(text: string): { createdAt: number; seq: number } {
  const match = /^(\d{1,15})\.(\d{1,15})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (match?.[1] === undefined || match[2] === undefined) throw new OutbandError('invalid_request', 'cursor is not one this API gave out (use next_cursor of the previous page)');
  return { createdAt: Number(match[1]), seq: Number(match[2]) };
}

/** An event as the event log shows it. */
export interface EventItem {
  id: string;
  seq: number;
  type: string;
  subject: { type: string; id: string };
  user_id: string | null;
  actor: string | null;
  data: Record<string, unknown>;
  created_at: string;
}

export function eventItem(e: StoredEvent): EventItem {
  return {
    id: e.id,
    seq: e.appSeq,
    type: e.type,
    subject: { type: e.subjectType, id: e.subjectId },
    user_id: e.userId,
    actor: e.actor,
    data: e.data,
    created_at: new Date(e.createdAt).toISOString(),
  };
}

/** One line of the audit trail: who (actor) did what (action) to whom (subject, user) and when (at, UTC). */
export interface AuditEntry {
  at: string;
  seq: number;
  actor: string | null;
  action: string;
  subject: { type: string; id: string };
  user_id: string | null;
  channel: string | null;
  result: string | null;
  details: Record<string, unknown>;
}

/**
 * The channel an event happened on: a verification's or delivery's `channel`, a device's kind
 * (its channel), nothing for the rest.
 */
function channelOf(e: StoredEvent): string | null {
  const channel = e.data['channel'];
  if (typeof channel === 'string') return channel;
  const kind = e.data['kind'];
  return e.subjectType === 'device' && typeof kind === 'string' ? kind : null;
}

/** How it ended, where the event says: a status it left behind, or a refusal. */
function resultOf(e: StoredEvent): string | null {
  if (e.type === 'authorization.denied') return 'denied';
  const status = e.data['status'];
  return typeof status === 'string' ? status : null;
}

export function auditEntry(e: StoredEvent): AuditEntry {
  return {
    at: new Date(e.createdAt).toISOString(),
    seq: e.appSeq,
    actor: e.actor,
    action: e.type,
    subject: { type: e.subjectType, id: e.subjectId },
    user_id: e.userId,
    channel: channelOf(e),
    result: resultOf(e),
    details: e.data,
  };
}
