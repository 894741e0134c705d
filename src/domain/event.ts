/** An append-only fact. Never carries a code, a secret or a token. */
export interface DomainEvent {
  id: string;
  applicationId: string;
  type: string;
  subjectType: 'verification' | 'user' | 'delivery' | 'application' | 'client' | 'device' | 'webhook';
  subjectId: string;
  /** Who caused it: `client:<id>`, `device:<id>`, `agent:<id>` (a console agent), `system`. */
  actor: string | null;
  data: Record<string, unknown>;
  createdAt: number;
  /** The user it is about; left out, the store derives it (see `eventUserId`). */
  userId?: string | null;
}

export interface StoredEvent extends DomainEvent {
  seq: number;
  /** Per application, gap-free and in commit order: the event log's cursor. */
  appSeq: number;
  userId: string | null;
}

/**
 * The user an event is about, as far as the event itself tells: given, its subject when that is
 * a user, or `data.user_id` (verification and device events carry it). `undefined` when the
 * event does not say; the store then looks up a delivery's verification.
 */
export function eventUserId(event: DomainEvent): string | null | undefined {
  if (event.userId !== undefined) return event.userId;
  if (event.subjectType === 'user') return event.subjectId;
  const inData = event.data['user_id'];
  if (typeof inData === 'string') return inData;
  return inData === null ? null : undefined;
}
