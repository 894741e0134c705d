import type { Application } from '../domain/application.ts';
import { codeMatches } from '../domain/codes/code.ts';
import type { Agent } from '../domain/console/agent.ts';
import { reachableByPush, type Device } from '../domain/device/device.ts';
import { decodeAuditCursor, encodeAuditCursor, parseBound } from '../domain/event-log.ts';
import { OutbandError } from '../domain/errors.ts';
import type { StoredEvent } from '../domain/event.ts';
import type { SettingsPatch } from '../domain/policy/settings.ts';
import type { TemplateChannel } from '../domain/templates/catalog.ts';
import type { User } from '../domain/user.ts';
import { attemptsLeft, statusAt, type Purpose, type Verification, type VerificationStatus } from '../domain/verification/verification.ts';
import type { StoredTemplate } from '../store/store.ts';
import type { AgentService, AgentView } from './agents.ts';
import type { ServiceDeps } from './deps.ts';
import type { PolicyService } from './policies.ts';
import type { SettingsService, SettingsView } from './settings.ts';
import type { TemplateInput, TemplateService } from './templates.ts';
import type { Principal } from './tokens.ts';
import type { VerificationService } from './verifications.ts';

/** Most people one search answers: the console shows them as the agent types. */
const SEARCH_LIMIT = 20;
const VERIFY_CALLER = 'verify-caller';

export interface PersonItem {
  id: string;
  display_name: string | null;
  email: string | null;
  phone: string | null;
  external_id: string | null;
}

export interface ConsoleDevice {
  id: string;
  name: string;
  kind: Device['kind'];
  role: Device['role'];
  status: Device['status'];
  last_used_at: string | null;
  capabilities: Device['capabilities'];
  can_verify_caller: boolean;
  can_send_code: boolean;
}

/** A verification as the console's dialog shows it: never a code (SEC-26). */
export interface ConsoleVerification {
  id: string;
  status: VerificationStatus;
  reason: string | null;
  channel: string;
  device_id: string | null;
  device_name: string | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  /** Whole seconds the caller has left, by the server's clock at the time of the answer. */
  seconds_left: number;
  matching: 'none' | 'pick' | 'type' | 'read_back';
  /** pick (and, in the start answer only, type): what the agent reads to the caller. */
  match_number: string | null;
  awaiting_read_back: boolean;
  /** Checks left before it fails, where the agent types a code (send-code, read_back); else null. */
  attempts_left: number | null;
  user_verified_with: string | null;
  delivery: 'sending' | 'sent' | 'failed' | null;
}

export interface AuditItem {
  at: string;
  agent: { id: string; email: string | null };
  person: { id: string; display_name: string | null } | null;
  verification_id: string;
  channel: string | null;
  action: string;
  result: string;
}

/**
 * The agent console's operations: thin glue over the users, devices, verifications, settings and
 * templates services, acting for an agent in an application it is granted. The agent is the actor
 * of every event it causes (`agent:<id>`), through the principal it acts with.
 */
export function createConsoleService(
  deps: Pick<ServiceDeps, 'store' | 'clock' | 'keys'>,
  services: { agents: AgentService; verifications: VerificationService; policies: PolicyService; settings: SettingsService; templates: TemplateService },
) {
  const { verifications } = services;
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

  /** The application, when the agent is granted it; any other (or none) answers alike: 404. */
  async function granted(agent: Agent, applicationId: string): Promise<Application> {
    const app = (await deps.store.agents.isGranted(agent.id, applicationId)) ? await deps.store.applications.byId(applicationId) : undefined;
    if (app === undefined) throw new OutbandError('application_not_granted', `no application ${applicationId} among those granted to you`);
    return app;
  }

  /** What the agent acts as in an application: the services' principal, with the agent as actor. */
  function principalFor(agent: Agent, applicationId: string): Principal {
    const scopes = agent.role === 'admin' ? (['users:read', 'verifications:read', 'verifications:write', 'admin'] as const) : (['users:read', 'verifications:read', 'verifications:write'] as const);
    return { applicationId, clientId: agent.id, scopes: new Set(scopes), actor: `agent:${agent.id}` };
  }

  function requireAdmin(agent: Agent): void {
    if (agent.role !== 'admin') throw new OutbandError('admin_required', 'only a console admin may do this');
  }

  async function loadPerson(app: Application, userId: string): Promise<User> {
    const user = await deps.store.users.byId(app.id, userId);
    if (user === undefined) throw new OutbandError('user_not_found', `no user ${userId}`);
    return user;
  }

  /**
   * The push device the application's verify-caller policy lets an agent ask: with `device:
   * primary` (the built-in policy) and no override allowed, only the one the policy picks.
   */
  async function verifyCallerTargets(app: Application, pushDevices: Device[]): Promise<{ all: boolean; picked: Device | undefined; usable: boolean }> {
    const policy = (await services.policies.get({ applicationId: app.id, clientId: 'console', scopes: new Set() }, VERIFY_CALLER)).policy;
    const channel = policy.channel ?? policy.workflow?.[0]?.channel;
    const usable = channel === 'push' && app.settings.providers.push !== undefined;
    const picked = pushDevices.find((d) => d.role === 'primary') ?? pushDevices[0];
    return { all: policy.device === undefined || (policy.overridable ?? []).includes('device'), picked, usable };
  }

  function deliveryState(statuses: string[]): ConsoleVerification['delivery'] {
    if (statuses.length === 0) return null;
    if (statuses.some((s) => s === 'sent' || s === 'delivered')) return 'sent';
    if (statuses.every((s) => s === 'failed' || s === 'undelivered' || s === 'cancelled')) return 'failed';
    return 'sending';
  }

  /** pick: the right one of the three numbers, found by its HMAC (the number itself is not kept). */
  function pickedNumber(v: Verification): string | null {
    if (v.push?.matching !== 'pick' || v.push.choices === null) return null;
    return v.push.choices.find((n) => codeMatches(deps.keys.codeKey, v.id, n, v.codeHmac)) ?? null;
  }

  async function consoleView(applicationId: string, id: string, matchNumber: string | null = null): Promise<ConsoleVerification> {
    const v = await verifications.current(applicationId, id);
    const now = deps.clock.now();
    const status = statusAt(v, now);
    const deliveries = await deps.store.deliveries.byVerification(v.id);
    let device: Device | undefined;
    const deviceId = v.deviceId ?? v.push?.answeredBy ?? deliveries.find((d) => d.channel === 'push')?.recipient ?? null;
    if (deviceId !== null) device = await deps.store.devices.byId(applicationId, deviceId);
    else if (v.userId !== null) device = (await deps.store.devices.forUser(applicationId, v.userId)).find((d) => d.kind === v.channel && d.address === v.recipient);
    return {
      id: v.id,
      status,
      reason: status === 'expired' ? 'expired' : v.reason,
      channel: v.channel,
      device_id: device?.id ?? deviceId,
      device_name: device?.name ?? null,
      created_at: new Date(v.createdAt).toISOString(),
      expires_at: new Date(v.expiresAt).toISOString(),
      decided_at: status === 'pending' ? null : iso(v.decidedAt ?? v.expiresAt),
      seconds_left: status === 'pending' ? Math.max(0, Math.ceil((v.expiresAt - now) / 1000)) : 0,
      matching: v.push?.matching ?? 'none',
      match_number: matchNumber ?? pickedNumber(v),
      awaiting_read_back: status === 'pending' && v.push?.readBackPending === true,
      attempts_left: v.channel !== 'push' || v.push?.matching === 'read_back' ? attemptsLeft(v) : null,
      user_verified_with: v.push?.method ?? null,
      delivery: deliveryState(deliveries.map((d) => d.status)),
    };
  }

  function personItem(u: User): PersonItem {
    return { id: u.id, display_name: u.displayName, email: u.email, phone: u.phone, external_id: u.externalId };
  }

  /** The agents an admin may see and change: itself, those sharing an application with it, and those with none yet. */
  async function manageable(admin: Agent): Promise<{ own: Set<string>; visible: (a: AgentView) => boolean }> {
    const own = new Set(await deps.store.agents.grants(admin.id));
    return { own, visible: (a) => a.id === admin.id || a.applications.length === 0 || a.applications.some((id) => own.has(id)) };
  }

  function scoped(view: AgentView, own: Set<string>): AgentView {
    return { ...view, applications: view.applications.filter((id) => own.has(id)) };
  }

  const ACTIONS: Record<string, string> = {
    'verification.approved': 'check',
    'verification.check_failed': 'check',
    'verification.failed': 'check',
    'verification.cancelled': 'cancel',
    'verification.resent': 'resend',
  };
  const RESULTS: Record<string, string> = {
    'verification.approved': 'approved',
    'verification.check_failed': 'wrong_code',
    'verification.failed': 'failed',
    'verification.cancelled': 'cancelled',
    'verification.blocked': 'blocked',
  };

  return {
    principalFor,
    granted,

    /** The applications an agent may act on, by name. */
    async applications(agent: Agent): Promise<Array<{ id: string; name: string }>> {
      const ids = new Set(await deps.store.agents.grants(agent.id));
      return (await deps.store.applications.list()).filter((a) => ids.has(a.id)).map((a) => ({ id: a.id, name: a.name }));
    },

    /** People whose e-mail, phone (digits, with or without +), external id or name starts with `q`. */
    async search(agent: Agent, applicationId: string, q: string): Promise<PersonItem[]> {
      const app = await granted(agent, applicationId);
      const text = q.trim();
      if (text.length < 2) throw new OutbandError('invalid_request', 'q needs at least 2 characters');
      const digits = /^\+?[\d\s().-]+$/.test(text) ? text.replace(/\D/g, '') : '';
      const users = await deps.store.agents.searchUsers(app.id, { lower: text.toLowerCase(), phone: digits.length >= 2 ? `+${digits}` : null }, SEARCH_LIMIT);
      return users.map(personItem);
    },

    async person(agent: Agent, applicationId: string, userId: string): Promise<{ person: PersonItem & { locale: string | null; status: string }; devices: ConsoleDevice[] }> {
      const app = await granted(agent, applicationId);
      const user = await loadPerson(app, userId);
      const devices = await deps.store.devices.forUser(app.id, user.id);
      const targets = await verifyCallerTargets(app, devices.filter(reachableByPush));
      return {
        person: { ...personItem(user), locale: user.locale, status: user.status },
        devices: devices.map((d) => ({
          id: d.id,
          name: d.name,
          kind: d.kind,
          role: d.role,
          status: d.status,
          last_used_at: iso(d.lastUsedAt),
          capabilities: d.capabilities,
          can_verify_caller: targets.usable && reachableByPush(d) && (targets.all || targets.picked?.id === d.id),
          can_send_code: (d.kind === 'sms' || d.kind === 'voice') && d.status === 'paired' && app.settings.providers[d.kind] !== undefined,
        })),
      };
    },

    /** A push to the person's device through the application's verify-caller policy. */
    async verifyCaller(agent: Agent, applicationId: string, userId: string, deviceId: string): Promise<ConsoleVerification> {
      const app = await granted(agent, applicationId);
      const user = await loadPerson(app, userId);
      const device = await deps.store.devices.byId(app.id, deviceId);
      if (device === undefined || device.userId !== user.id) throw new OutbandError('device_not_found', `no device ${deviceId} of this person`);
      if (!reachableByPush(device)) throw new OutbandError('device_not_pushable', `device ${device.id} is not a paired push authenticator`);
      const pushDevices = (await deps.store.devices.forUser(app.id, user.id)).filter(reachableByPush);
      const targets = await verifyCallerTargets(app, pushDevices);
      if (!targets.all && targets.picked?.id !== device.id) {
        throw new OutbandError('policy_override_not_allowed', `the verify-caller policy sends to the person's primary authenticator (${targets.picked?.name ?? 'none'}) only`, { field: 'device_id', policy: VERIFY_CALLER });
      }
      const started = await verifications.start(principalFor(agent, app.id), {
        policy: VERIFY_CALLER,
        user_id: user.id,
        ...(targets.all ? { device_id: device.id } : {}),
      });
      return consoleView(app.id, started.view.id, started.push?.match_number ?? started.push?.match_code ?? null);
    },

    /** A code by SMS or voice to the person's phone device; the caller reads it back, the agent types it. */
    async sendCode(agent: Agent, applicationId: string, userId: string, deviceId: string): Promise<ConsoleVerification> {
      const app = await granted(agent, applicationId);
      const user = await loadPerson(app, userId);
      const device = await deps.store.devices.byId(app.id, deviceId);
      if (device === undefined || device.userId !== user.id) throw new OutbandError('device_not_found', `no device ${deviceId} of this person`);
      if ((device.kind !== 'sms' && device.kind !== 'voice') || device.status !== 'paired' || device.address === null) {
        throw new OutbandError('invalid_request', 'send a code to a paired sms or voice device; use verify-caller for an authenticator');
      }
      const purpose: Purpose = 'caller_verification';
      const started = await verifications.start(principalFor(agent, app.id), {
        channel: device.kind,
        purpose,
        // The user's own number keeps the user's checks (SEC-12); another paired number goes as `to`.
        ...(user.phone === device.address ? { user_id: user.id } : { to: device.address }),
      });
      return consoleView(app.id, started.view.id);
    },

    /** The code the caller read out: a send-code's, or a read_back push's. A wrong one uses up an attempt. */
    async check(agent: Agent, applicationId: string, id: string, code: string, ip: string | null): Promise<{ verification: ConsoleVerification; valid: boolean }> {
      const app = await granted(agent, applicationId);
      const checked = await verifications.check(principalFor(agent, app.id), id, code, ip);
      return { verification: await consoleView(app.id, id), valid: checked.valid };
    },

    async cancel(agent: Agent, applicationId: string, id: string): Promise<ConsoleVerification> {
      const app = await granted(agent, applicationId);
      await verifications.cancel(principalFor(agent, app.id), id);
      return consoleView(app.id, id);
    },

    async verification(agent: Agent, applicationId: string, id: string): Promise<ConsoleVerification> {
      const app = await granted(agent, applicationId);
      return consoleView(app.id, id);
    },

    /**
     * Calls `send` with the console view now and at every change, until the verification is final
     * or `until` resolves: the verifications service's follow, each view rendered for the console.
     */
    async follow(agent: Agent, applicationId: string, id: string, send: (view: ConsoleVerification) => void, until: Promise<void>): Promise<void> {
      const app = await granted(agent, applicationId);
      const principal = principalFor(agent, app.id);
      await verifications.get(principal, id); // an unknown id is refused before anything is sent
      let queue = Promise.resolve();
      await verifications.follow(
        principal,
        id,
        (view) => {
          queue = queue.then(async () => send(await consoleView(app.id, view.id)));
        },
        until,
      );
      await queue;
    },

    /** Verifications done from the console in this application, oldest first, by time. */
    async audit(agent: Agent, applicationId: string, query: { from?: string; to?: string; cursor?: string; limit?: number }): Promise<{ items: AuditItem[]; next_cursor: string | null }> {
      const app = await granted(agent, applicationId);
      const limit = query.limit ?? 100;
      const page: StoredEvent[] = await deps.store.eventLog.audit({
        applicationId: app.id,
        actorPrefix: 'agent:',
        types: { exact: [], prefixes: ['verification.'] },
        ...(query.from === undefined ? {} : { from: parseBound(query.from, 'from') }),
        ...(query.to === undefined ? {} : { to: parseBound(query.to, 'to') }),
        ...(query.cursor === undefined ? {} : { after: decodeAuditCursor(query.cursor) }),
        limit: limit + 1,
      });
      const events = page.slice(0, limit);
      const agents = new Map<string, Agent | undefined>();
      const people = new Map<string, User | undefined>();
      const items: AuditItem[] = [];
      for (const e of events) {
        const agentId = (e.actor ?? '').slice('agent:'.length);
        if (!agents.has(agentId)) agents.set(agentId, await deps.store.agents.byId(agentId));
        if (e.userId !== null && !people.has(e.userId)) people.set(e.userId, await deps.store.users.byId(app.id, e.userId));
        const person = e.userId === null ? undefined : people.get(e.userId);
        const channel = typeof e.data['channel'] === 'string' ? e.data['channel'] : null;
        const starts = e.type === 'verification.started' || e.type === 'verification.blocked';
        let result = RESULTS[e.type] ?? e.type.slice('verification.'.length);
        if (e.type === 'verification.started') {
          const v = await deps.store.verifications.byId(app.id, e.subjectId);
          result = v === undefined ? 'unknown' : statusAt(v, deps.clock.now());
        }
        items.push({
          at: new Date(e.createdAt).toISOString(),
          agent: { id: agentId, email: agents.get(agentId)?.email ?? null },
          person: e.userId === null ? null : { id: e.userId, display_name: person?.displayName ?? null },
          verification_id: e.subjectId,
          channel,
          action: starts ? (channel === 'push' ? 'verify_caller' : 'send_code') : (ACTIONS[e.type] ?? e.type.slice('verification.'.length)),
          result,
        });
      }
      const last = events.at(-1);
      return { items, next_cursor: page.length > limit && last !== undefined ? encodeAuditCursor(last) : null };
    },

    async settings(agent: Agent, applicationId: string): Promise<SettingsView> {
      requireAdmin(agent);
      const app = await granted(agent, applicationId);
      return services.settings.get(principalFor(agent, app.id));
    },

    async patchSettings(agent: Agent, applicationId: string, patch: SettingsPatch): Promise<SettingsView> {
      requireAdmin(agent);
      const app = await granted(agent, applicationId);
      return services.settings.patch(principalFor(agent, app.id), patch);
    },

    /** The application's own templates of a channel and purpose, one per locale. */
    async templates(agent: Agent, applicationId: string, channel: TemplateChannel, purpose: Purpose): Promise<StoredTemplate[]> {
      requireAdmin(agent);
      const app = await granted(agent, applicationId);
      return (await services.templates.list(principalFor(agent, app.id), channel)).filter((t) => t.purpose === purpose);
    },

    async putTemplate(agent: Agent, applicationId: string, key: { channel: TemplateChannel; purpose: Purpose; locale: string }, input: TemplateInput): Promise<StoredTemplate> {
      requireAdmin(agent);
      const app = await granted(agent, applicationId);
      return services.templates.put(principalFor(agent, app.id), key, input);
    },

    async deleteTemplate(agent: Agent, applicationId: string, key: { channel: TemplateChannel; purpose: Purpose; locale: string }): Promise<void> {
      requireAdmin(agent);
      const app = await granted(agent, applicationId);
      await services.templates.remove(principalFor(agent, app.id), key);
    },

    /** The agents an admin manages, each with only the grants the admin shares. */
    async listAgents(admin: Agent): Promise<AgentView[]> {
      requireAdmin(admin);
      const { own, visible } = await manageable(admin);
      return (await services.agents.list()).filter(visible).map((a) => scoped(a, own));
    },

    /** A new agent, granted only applications the admin has; a generated password is answered once. */
    async createAgent(admin: Agent, input: { email: string; role: string; password?: string; applications?: string[] }): Promise<{ agent: AgentView; password?: string }> {
      requireAdmin(admin);
      const { own } = await manageable(admin);
      for (const id of input.applications ?? []) if (!own.has(id)) throw new OutbandError('application_not_granted', `no application ${id} among those granted to you`);
      const created = await services.agents.create(input);
      return { ...created, agent: scoped(created.agent, own) };
    },

    /** Role, disabled, and the grants among the admin's own applications (others the agent has stay). */
    async updateAgent(admin: Agent, id: string, changes: { role?: string; applications?: string[]; disabled?: boolean }): Promise<AgentView> {
      requireAdmin(admin);
      const { own, visible } = await manageable(admin);
      const target = await services.agents.view(await services.agents.load(id));
      if (!visible(target)) throw new OutbandError('agent_not_found', `no agent ${id}`);
      if (changes.disabled === true && id === admin.id) throw new OutbandError('invalid_request', 'an admin cannot disable itself');
      let applications: string[] | undefined;
      if (changes.applications !== undefined) {
        for (const app of changes.applications) if (!own.has(app)) throw new OutbandError('application_not_granted', `no application ${app} among those granted to you`);
        applications = [...target.applications.filter((a) => !own.has(a)), ...changes.applications];
      }
      const updated = await services.agents.update(id, {
        ...(changes.role === undefined ? {} : { role: changes.role }),
        ...(changes.disabled === undefined ? {} : { disabled: changes.disabled }),
        ...(applications === undefined ? {} : { applications }),
      });
      return scoped(updated, own);
    },
  };
}

export type ConsoleService = ReturnType<typeof createConsoleService>;
