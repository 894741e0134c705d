import { sql, type Kysely } from 'kysely';
import type { Agent, AgentRole, ConsoleSession } from '../domain/console/agent.ts';
import type { User } from '../domain/user.ts';
import { toUser } from './rows.ts';
import type { Tables } from './schema.ts';
import { transaction } from './transaction.ts';
import type { AgentsTable, ConsoleSessionsTable } from './agent-schema.ts';

function toAgent(row: AgentsTable): Agent {
  return {
    id: row.id,
    email: row.email,
    role: row.role as AgentRole,
    locale: row.locale,
    createdAt: Number(row.created_at),
    disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
  };
}

function toSession(row: ConsoleSessionsTable): ConsoleSession {
  return {
    idHash: row.id_hash,
    agentId: row.agent_id,
    csrfToken: row.csrf_token,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
  };
}

/** `\`, `%` and `_` escaped, for a LIKE pattern that means the text itself. */
function likePrefix(text: string): string {
  return `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Console agents, their grants and sessions (migration 009), and the console's person search.
 * Agents are server-wide, not application data: they change by plain writes, outside units of work.
 */
export function createAgentStore(db: Kysely<Tables>) {
  return {
    /** Inserts an agent with its grants; false when the e-mail is taken. */
    async insert(agent: Agent, passwordHash: string, applicationIds: readonly string[]): Promise<void> {
      await transaction(db, async (trx) => {
        await trx
          .insertInto('agents')
          .values({ id: agent.id, email: agent.email, password_hash: passwordHash, role: agent.role, locale: agent.locale, created_at: agent.createdAt, disabled_at: agent.disabledAt })
          .execute();
        for (const applicationId of new Set(applicationIds)) {
          await trx.insertInto('agent_grants').values({ agent_id: agent.id, application_id: applicationId }).execute();
        }
      });
    },
    async byId(id: string): Promise<Agent | undefined> {
      const row = await db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toAgent(row);
    },
    /** The agent and its password hash, for sign-in. */
    async byEmail(email: string): Promise<{ agent: Agent; passwordHash: string } | undefined> {
      const row = await db.selectFrom('agents').selectAll().where('email', '=', email).executeTakeFirst();
      return row && { agent: toAgent(row), passwordHash: row.password_hash };
    },
    async list(): Promise<Agent[]> {
      return (await db.selectFrom('agents').selectAll().orderBy('created_at').orderBy('id').execute()).map(toAgent);
    },
    async count(): Promise<number> {
      const row = await db.selectFrom('agents').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async update(id: string, changes: { role?: AgentRole; disabledAt?: number | null; passwordHash?: string; locale?: string | null }): Promise<void> {
      const set: Partial<AgentsTable> = {};
      if (changes.role !== undefined) set.role = changes.role;
      if (changes.disabledAt !== undefined) set.disabled_at = changes.disabledAt;
      if (changes.passwordHash !== undefined) set.password_hash = changes.passwordHash;
      if (changes.locale !== undefined) set.locale = changes.locale;
      if (Object.keys(set).length === 0) return;
      await db.updateTable('agents').set(set).where('id', '=', id).execute();
    },

    /** The ids of the applications an agent is granted. */
    async grants(agentId: string): Promise<string[]> {
      const rows = await db.selectFrom('agent_grants').select('application_id').where('agent_id', '=', agentId).orderBy('application_id').execute();
      return rows.map((r) => r.application_id);
    },
    async isGranted(agentId: string, applicationId: string): Promise<boolean> {
      const row = await db.selectFrom('agent_grants').select('agent_id').where('agent_id', '=', agentId).where('application_id', '=', applicationId).executeTakeFirst();
      return row !== undefined;
    },
    async grant(agentId: string, applicationId: string): Promise<void> {
      await db
        .insertInto('agent_grants')
        .values({ agent_id: agentId, application_id: applicationId })
        .onConflict((oc) => oc.columns(['agent_id', 'application_id']).doNothing())
        .execute();
    },
    /** Replaces an agent's grants with exactly these applications. */
    async setGrants(agentId: string, applicationIds: readonly string[]): Promise<void> {
      await transaction(db, async (trx) => {
        await trx.deleteFrom('agent_grants').where('agent_id', '=', agentId).execute();
        for (const applicationId of new Set(applicationIds)) {
          await trx.insertInto('agent_grants').values({ agent_id: agentId, application_id: applicationId }).execute();
        }
      });
    },

    sessions: {
      async insert(session: ConsoleSession): Promise<void> {
        await db
          .insertInto('console_sessions')
          .values({
            id_hash: session.idHash,
            agent_id: session.agentId,
            csrf_token: session.csrfToken,
            created_at: session.createdAt,
            last_seen_at: session.lastSeenAt,
            expires_at: session.expiresAt,
          })
          .execute();
      },
      async byHash(idHash: string): Promise<ConsoleSession | undefined> {
        const row = await db.selectFrom('console_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
        return row && toSession(row);
      },
      /** Slides the idle expiry: the session was used at `now`. */
      async touch(idHash: string, now: number): Promise<void> {
        await db.updateTable('console_sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).where('last_seen_at', '<', now).execute();
      },
      async delete(idHash: string): Promise<void> {
        await db.deleteFrom('console_sessions').where('id_hash', '=', idHash).execute();
      },
      async deleteForAgent(agentId: string): Promise<void> {
        await db.deleteFrom('console_sessions').where('agent_id', '=', agentId).execute();
      },
      /** Forgets sessions over by `now` (absolute end, or idle since before `idleBefore`). */
      async purge(now: number, idleBefore: number): Promise<number> {
        const result = await db
          .deleteFrom('console_sessions')
          .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', idleBefore)]))
          .executeTakeFirst();
        return Number(result.numDeletedRows);
      },
    },

    /**
     * People of an application whose e-mail, phone, external id or display name starts with the
     * text (case-insensitive), at most `limit`, ordered by display name then id. `phone` is the
     * text as an E.164 prefix when it reads as digits, else null.
     */
    async searchUsers(applicationId: string, text: { lower: string; phone: string | null }, limit: number): Promise<User[]> {
      const pattern = likePrefix(text.lower);
      const rows = await db
        .selectFrom('users')
        .selectAll()
        .where('application_id', '=', applicationId)
        .where((eb) =>
          eb.or([
            eb(sql`lower(email)`, 'like', sql`${pattern} escape '\\'`),
            eb(sql`lower(external_id)`, 'like', sql`${pattern} escape '\\'`),
            eb(sql`lower(display_name)`, 'like', sql`${pattern} escape '\\'`),
            ...(text.phone === null ? [] : [eb(sql`phone`, 'like', sql`${likePrefix(text.phone)} escape '\\'`)]),
          ]),
        )
        .orderBy('display_name')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toUser);
    },
  };
}

export type AgentStore = ReturnType<typeof createAgentStore>;
