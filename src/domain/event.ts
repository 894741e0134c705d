/** An append-only fact. Never carries a code, a secret or a token. */
export interface DomainEvent {
  id: string;
  applicationId: string;
  type: string;
  subjectType: 'verification' | 'user' | 'delivery' | 'application' | 'client' | 'device';
  subjectId: string;
  /** Who caused it: `client:<id>`, `system`, later `agent:<id>`. */
  actor: string | null;
  data: Record<string, unknown>;
  createdAt: number;
}

export interface StoredEvent extends DomainEvent {
  seq: number;
}
