import { createHash } from 'node:crypto';
import { addressKey } from '../domain/policy/rate-window.ts';
import {
  checkPassword,
  isAgentRole,
  normalizeAgentEmail,
  SESSION_ABSOLUTE_MS,
  SESSION_ID_BYTES,
  sessionAlive,
  type Agent,
  type AgentRole,
  type ConsoleSession,
} from '../domain/console/agent.ts';
import { createSignInThrottle } from '../domain/console/sign-in-throttle.ts';
import { OutbandError } from '../domain/errors.ts';
import type { Application } from '../domain/application.ts';
import { base32, newId } from '../domain/random.ts';
import type { ServiceDeps } from './deps.ts';
import { dummyHash, hashSecret, verifySecret } from './secret-hash.ts';

/** Sign-in failures are counted over 15 minutes (OWASP authentication: throttle per account and per address). */
const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;

export interface AgentView {
  id: string;
  email: string;
  role: AgentRole;
  locale: string | null;
  created_at: string;
  disabled_at: string | null;
  /** Ids of the applications the agent may act on. */
  applications: string[];
}

export interface SignedIn {
  agent: Agent;
  session: ConsoleSession;
  /** The cookie's value: shown to the browser once, only its SHA-256 is stored. */
  sessionId: string;
}

export interface AgentServiceOptions {
  idleSeconds: number;
  failuresPerEmail: number;
  failuresPerIp: number;
}

export function sessionIdHash(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}

/** A password for an agent nobody chose one for: 120 random bits, base32. */
function generatedPassword(random: ServiceDeps['random']): string {
  return base32(random.bytes(15));
}

/**
 * Console agents: who they are, what they are granted, how they sign in, and their sessions
 * (ADR 0016). Used by the console routes, the `outband agents` commands and the first start.
 */
export function createAgentService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random'>, options: AgentServiceOptions) {
  const idleMs = options.idleSeconds * 1000;
  const perEmail = createSignInThrottle({ max: options.failuresPerEmail, windowMs: SIGN_IN_WINDOW_MS, maxKeys: 100_000 });
  const perIp = createSignInThrottle({ max: options.failuresPerIp, windowMs: SIGN_IN_WINDOW_MS, maxKeys: 100_000 });

  async function view(agent: Agent): Promise<AgentView> {
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    return {
      id: agent.id,
      email: agent.email,
      role: agent.role,
      locale: agent.locale,
      created_at: new Date(agent.createdAt).toISOString(),
      disabled_at: iso(agent.disabledAt),
      applications: await deps.store.agents.grants(agent.id),
    };
  }

  /** An application by id or by name. */
  async function application(nameOrId: string): Promise<Application> {
    const app = (await deps.store.applications.byId(nameOrId)) ?? (await deps.store.applications.byName(nameOrId));
    if (app === undefined) throw new OutbandError('application_not_granted', `no application "${nameOrId}"`);
    return app;
  }

  async function load(id: string): Promise<Agent> {
    const agent = await deps.store.agents.byId(id);
    if (agent === undefined) throw new OutbandError('agent_not_found', `no agent ${id}`);
    return agent;
  }

  return {
    view,
    load,

    /**
     * A new agent granted the named applications (names or ids). Without a password, one is
     * generated and answered: it is shown once and only its scrypt hash is kept.
     */
    async create(input: { email: string; role: string; password?: string; applications?: readonly string[]; locale?: string | null }): Promise<{ agent: AgentView; password?: string }> {
      const email = normalizeAgentEmail(input.email);
      if (!isAgentRole(input.role)) throw new OutbandError('invalid_request', `role is "agent" or "admin", not "${input.role}"`);
      const generated = input.password === undefined ? generatedPassword(deps.random) : undefined;
      const password = input.password ?? (generated as string);
      checkPassword(password);
      const grants = await Promise.all((input.applications ?? []).map(async (a) => (await application(a)).id));
      if ((await deps.store.agents.byEmail(email)) !== undefined) throw new OutbandError('agent_exists', `an agent with the e-mail ${email} exists`);
      const agent: Agent = { id: newId('agt', deps.random), email, role: input.role, locale: input.locale ?? null, createdAt: deps.clock.now(), disabledAt: null };
      try {
        await deps.store.agents.insert(agent, await hashSecret(password), grants);
      } catch (error) {
        // Another request took the e-mail between the check and the insert.
        if ((await deps.store.agents.byEmail(email)) !== undefined) throw new OutbandError('agent_exists', `an agent with the e-mail ${email} exists`);
        throw error;
      }
      return { agent: await view(agent), ...(generated === undefined ? {} : { password: generated }) };
    },

    /** Grants an agent (by e-mail or id) one more application (by name or id). */
    async grant(agentEmailOrId: string, applicationNameOrId: string): Promise<AgentView> {
      const agent = agentEmailOrId.includes('@') ? (await deps.store.agents.byEmail(normalizeAgentEmail(agentEmailOrId)))?.agent : await deps.store.agents.byId(agentEmailOrId);
      if (agent === undefined) throw new OutbandError('agent_not_found', `no agent "${agentEmailOrId}"`);
      const app = await application(applicationNameOrId);
      await deps.store.agents.grant(agent.id, app.id);
      return view(agent);
    },

    async list(): Promise<AgentView[]> {
      return Promise.all((await deps.store.agents.list()).map(view));
    },

    /**
     * An admin's change of an agent: role, grants (exactly these applications, by id), disabled.
     * Disabling ends the agent's sessions at once.
     */
    async update(id: string, changes: { role?: string; applications?: readonly string[]; disabled?: boolean; password?: string }): Promise<AgentView> {
      const agent = await load(id);
      if (changes.role !== undefined && !isAgentRole(changes.role)) throw new OutbandError('invalid_request', `role is "agent" or "admin", not "${changes.role}"`);
      if (changes.password !== undefined) checkPassword(changes.password);
      const grants = changes.applications === undefined ? undefined : await Promise.all(changes.applications.map(async (a) => (await application(a)).id));
      const disabledAt = changes.disabled === undefined ? undefined : changes.disabled ? (agent.disabledAt ?? deps.clock.now()) : null;
      await deps.store.agents.update(id, {
        ...(changes.role === undefined ? {} : { role: changes.role as AgentRole }),
        ...(disabledAt === undefined ? {} : { disabledAt }),
        ...(changes.password === undefined ? {} : { passwordHash: await hashSecret(changes.password) }),
      });
      if (grants !== undefined) await deps.store.agents.setGrants(id, grants);
      if (changes.disabled === true || changes.password !== undefined) await deps.store.agents.sessions.deleteForAgent(id);
      return view(await load(id));
    },

    /**
     * Checks an e-mail and password and opens a session. An unknown e-mail, a wrong password and a
     * disabled agent answer alike, after the same scrypt work. Refused while the e-mail or the
     * client address has too many recent failures (429 with Retry-After), before any hashing.
     */
    async signIn(emailText: string, password: string, ip: string | undefined): Promise<SignedIn> {
      const now = deps.clock.now();
      const emailKey = emailText.trim().toLowerCase();
      const ipKey = addressKey(ip);
      const wait = Math.max(perEmail.retryAfter(emailKey, now), perIp.retryAfter(ipKey, now));
      if (wait > 0) {
        throw new OutbandError('rate_limited', `too many failed sign-ins; try again in ${wait} s`, { retry_after: wait, policy: 'console-sign-in' });
      }
      const found = await deps.store.agents.byEmail(emailKey);
      const matches = await verifySecret(password, found?.passwordHash ?? dummyHash());
      if (found === undefined || !matches || found.agent.disabledAt !== null) {
        perEmail.fail(emailKey, now);
        perIp.fail(ipKey, now);
        throw new OutbandError('invalid_credentials', 'the e-mail address or the password is wrong');
      }
      perEmail.clear(emailKey);
      const sessionId = Buffer.from(deps.random.bytes(SESSION_ID_BYTES)).toString('base64url');
      const session: ConsoleSession = {
        idHash: sessionIdHash(sessionId),
        agentId: found.agent.id,
        csrfToken: Buffer.from(deps.random.bytes(SESSION_ID_BYTES)).toString('base64url'),
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + SESSION_ABSOLUTE_MS,
      };
      await deps.store.agents.sessions.insert(session);
      return { agent: found.agent, session, sessionId };
    },

    /**
     * The agent and session a cookie names, when the session is in force; its idle expiry moves
     * on. An ended session is deleted. Null: not signed in.
     */
    async resolve(sessionId: string): Promise<{ agent: Agent; session: ConsoleSession } | null> {
      const idHash = sessionIdHash(sessionId);
      const session = await deps.store.agents.sessions.byHash(idHash);
      if (session === undefined) return null;
      const now = deps.clock.now();
      const agent = await deps.store.agents.byId(session.agentId);
      if (!sessionAlive(session, now, idleMs) || agent === undefined || agent.disabledAt !== null) {
        await deps.store.agents.sessions.delete(idHash);
        return null;
      }
      await deps.store.agents.sessions.touch(idHash, now);
      return { agent, session: { ...session, lastSeenAt: now } };
    },

    async signOut(sessionId: string): Promise<void> {
      await deps.store.agents.sessions.delete(sessionIdHash(sessionId));
    },

    /** Forgets ended sessions (the sweeper). */
    async purgeSessions(): Promise<number> {
      const now = deps.clock.now();
      return deps.store.agents.sessions.purge(now, now - idleMs);
    },

    /**
     * On a server with no agent at all: an admin with a generated password, granted every
     * application there is. Answers the e-mail and password to show once; null when agents exist
     * (or another node created the first one at the same moment).
     */
    async ensureFirstAdmin(email: string): Promise<{ email: string; password: string } | null> {
      if ((await deps.store.agents.count()) > 0) return null;
      const applications = (await deps.store.applications.list()).map((a) => a.id);
      try {
        const created = await this.create({ email, role: 'admin', applications });
        return { email: created.agent.email, password: created.password as string };
      } catch (error) {
        if (error instanceof OutbandError && error.code === 'agent_exists') return null;
        throw error;
      }
    },
  };
}

export type AgentService = ReturnType<typeof createAgentService>;
