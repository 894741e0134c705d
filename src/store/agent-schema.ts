/** Migration 009's tables: console agents, what they may act on, and their sessions. */

export interface AgentsTable {
  id: string;
  /** Lower-cased; unique across the server (agents are not per application). */
  email: string;
  /** scrypt hash (src/services/secret-hash.ts); the password itself is never stored. */
  password_hash: string;
  /** `agent` or `admin` */
  role: string;
  locale: string | null;
  created_at: number;
  /** Set when an admin disabled the agent: it cannot sign in, its sessions are gone. */
  disabled_at: number | null;
}

/** An application an agent may act on. */
export interface AgentGrantsTable {
  agent_id: string;
  application_id: string;
}

export interface ConsoleSessionsTable {
  /** SHA-256 (hex) of the session id in the cookie: a read database does not give sessions away. */
  id_hash: string;
  agent_id: string;
  /** The synchronizer token every non-GET request must send as X-CSRF-Token. */
  csrf_token: string;
  created_at: number;
  /** Moved by every request; idle past CONSOLE_SESSION_IDLE_SECONDS, the session is over. */
  last_seen_at: number;
  /** The absolute end (created_at + 12 h), whatever the activity. */
  expires_at: number;
}
