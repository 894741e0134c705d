import type { Application, Channel } from '../domain/application.ts';
import { CHANNELS } from '../domain/application.ts';
import { reachableByPush } from '../domain/device/device.ts';
import { OutbandError } from '../domain/errors.ts';
import { isRestricted, profileUnmet, RESTRICTED_NOTICE, verificationUnmet, type EffectiveVerification, type Unmet, type VerificationAssuranceReport } from '../domain/policy/assurance.ts';
import { assertPermitted, BUILT_IN_POLICIES, effectiveOf, POLICY_NAME, resolvePolicy, validatePolicy, type Policy, type PolicyBody } from '../domain/policy/policies.ts';
import { assuranceOf } from '../domain/verification/verification.ts';
import type { ServiceDeps } from './deps.ts';
import { verificationAssurance } from './verification-assurance.ts';
import { eventWrite } from './events.ts';
import { actorOf, type Principal } from './tokens.ts';
import type { StartInput } from './verifications.ts';

/** A push request's default TTL (services/verifications.ts PUSH_TTL_SECONDS); repeated so this module does not import that one. */
const PUSH_TTL_SECONDS = 120;

/** POST /v1/verifications as the route takes it: a policy may name the channel. */
export type StartRequest = Omit<StartInput, 'channel'> & { channel?: Channel; policy?: string };

export interface PolicyView {
  name: string;
  built_in: boolean;
  /** An own policy saved under a built-in name, which it replaces for this application. */
  replaces_built_in: boolean;
  policy: PolicyBody;
  updated_at: string | null;
}

export interface AssuranceView {
  profile: Application['settings']['assuranceProfile'];
  /** NIST rows this verification (or these settings) do not meet; always empty under nist. */
  unmet: Unmet[];
}

/** The assurance report every verification response carries (src/domain/policy/assurance.ts). */
export type VerificationAssurance = VerificationAssuranceReport;

export interface ChannelView {
  channel: Channel;
  enabled: boolean;
  restricted: boolean;
  aal: 1 | null;
  notice: string | null;
}

/**
 * Named verification policies, the resolution of a start through them and the application's
 * settings (the policy, the push defaults, max_ttl_seconds, restricted authenticators and the
 * assurance profile), and the assurance report of a verification.
 */
export function createPolicyService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random'>) {
  async function loadApp(applicationId: string): Promise<Application> {
    const app = await deps.store.applications.byId(applicationId);
    if (app === undefined) throw new OutbandError('invalid_token', 'the application of this token no longer exists');
    return app;
  }

  async function find(applicationId: string, name: string): Promise<Policy | undefined> {
    const own = await deps.store.policies.byName(applicationId, name);
    if (own !== undefined) return { name, body: own.body as PolicyBody, builtIn: false };
    const builtIn = Object.hasOwn(BUILT_IN_POLICIES, name) ? BUILT_IN_POLICIES[name] : undefined;
    return builtIn === undefined ? undefined : { name, body: builtIn, builtIn: true };
  }

  function checkName(name: string): void {
    if (!POLICY_NAME.test(name)) throw new OutbandError('policy_not_found', `no policy "${name}": names are 1–63 lower-case letters, digits, dashes and underscores`);
  }

  /** Under nist, sms and voice authenticate only a number the user paired (SEC-12). */
  async function assertConfirmedNumber(app: Application, input: StartInput): Promise<void> {
    if (input.user_id === undefined) {
      throw new OutbandError('recipient_not_confirmed', 'under the nist profile sms and voice authenticate only a number confirmed for a user: start with user_id, not to');
    }
    const user = await deps.store.users.byId(app.id, input.user_id);
    if (user === undefined || user.phone === null) return; // answered by the start itself (user_not_found, recipient_missing)
    const devices = await deps.store.devices.forUser(app.id, user.id);
    const confirmed = devices.some((d) => (d.kind === 'sms' || d.kind === 'voice') && d.status === 'paired' && d.address === user.phone);
    if (!confirmed) {
      throw new OutbandError(
        'recipient_not_confirmed',
        "under the nist profile the user's phone number authenticates only once it is confirmed: pair it first (POST /v1/users/{id}/devices with kind sms)",
      );
    }
  }

  return {
    async list(principal: Principal): Promise<PolicyView[]> {
      const own = await deps.store.policies.list(principal.applicationId);
      const names = new Set(own.map((p) => p.name));
      const builtIns = Object.entries(BUILT_IN_POLICIES)
        .filter(([name]) => !names.has(name))
        .map(([name, body]) => ({ name, built_in: true, replaces_built_in: false, policy: body, updated_at: null }));
      const saved = own.map((p) => ({
        name: p.name,
        built_in: false,
        replaces_built_in: Object.hasOwn(BUILT_IN_POLICIES, p.name),
        policy: p.body as PolicyBody,
        updated_at: new Date(p.updatedAt).toISOString(),
      }));
      return [...builtIns, ...saved].sort((a, b) => a.name.localeCompare(b.name));
    },

    async get(principal: Principal, name: string): Promise<PolicyView> {
      checkName(name);
      const own = await deps.store.policies.byName(principal.applicationId, name);
      if (own !== undefined) {
        return { name, built_in: false, replaces_built_in: Object.hasOwn(BUILT_IN_POLICIES, name), policy: own.body as PolicyBody, updated_at: new Date(own.updatedAt).toISOString() };
      }
      const builtIn = Object.hasOwn(BUILT_IN_POLICIES, name) ? BUILT_IN_POLICIES[name] : undefined;
      if (builtIn === undefined) throw new OutbandError('policy_not_found', `no policy "${name}"`);
      return { name, built_in: true, replaces_built_in: false, policy: builtIn, updated_at: null };
    },

    /** Saves a policy, refused when the application's settings or assurance profile forbid it. */
    async put(principal: Principal, name: string, body: PolicyBody): Promise<PolicyView> {
      if (!POLICY_NAME.test(name)) throw new OutbandError('invalid_policy', `"${name}" is not a policy name: 1–63 lower-case letters, digits, dashes and underscores`);
      validatePolicy(body);
      const app = await loadApp(principal.applicationId);
      assertPermitted(effectiveOf(body, app.settings, PUSH_TTL_SECONDS), app.settings, `policy "${name}"`);
      const now = deps.clock.now();
      const existing = await deps.store.policies.byName(app.id, name);
      const result = await deps.store.commit({
        writes: [
          { kind: 'policy.put', policy: { applicationId: app.id, name, body: body as Record<string, unknown>, createdAt: existing?.createdAt ?? now, updatedAt: now } },
          eventWrite(deps.random, {
            applicationId: app.id,
            type: 'application.policy_saved',
            subjectType: 'application',
            subjectId: app.id,
            actor: actorOf(principal),
            data: { name, before: existing?.body ?? null, after: body },
            createdAt: now,
          }),
        ],
      });
      if (!result.ok) throw new OutbandError('concurrent_update', 'the policy changed concurrently; try again');
      return this.get(principal, name);
    },

    async remove(principal: Principal, name: string): Promise<void> {
      checkName(name);
      const existing = await deps.store.policies.byName(principal.applicationId, name);
      if (existing === undefined) {
        if (Object.hasOwn(BUILT_IN_POLICIES, name)) throw new OutbandError('policy_built_in', `"${name}" is built in and cannot be deleted; save your own under this name to change it`);
        throw new OutbandError('policy_not_found', `no policy "${name}"`);
      }
      const now = deps.clock.now();
      const result = await deps.store.commit({
        writes: [
          { kind: 'policy.delete', applicationId: principal.applicationId, name },
          eventWrite(deps.random, {
            applicationId: principal.applicationId,
            type: 'application.policy_deleted',
            subjectType: 'application',
            subjectId: principal.applicationId,
            actor: actorOf(principal),
            data: { name, before: existing.body },
            createdAt: now,
          }),
        ],
      });
      if (!result.ok) throw new OutbandError('policy_not_found', `no policy "${name}"`);
    },

    /**
     * A start request as the verification service runs it: through its policy, with the
     * application's push defaults, and checked against max_ttl_seconds, restricted authenticators
     * and the assurance profile. A channel that is off is left for the start to refuse.
     */
    async resolveStart(app: Application, request: StartRequest): Promise<StartInput> {
      const { policy: policyName, ...rest } = request;
      let merged: Omit<StartRequest, 'policy'> = rest;
      let primaryDevice = false;
      if (policyName !== undefined) {
        const policy = POLICY_NAME.test(policyName) ? await find(app.id, policyName) : undefined;
        if (policy === undefined) throw new OutbandError('policy_not_found', `no policy "${policyName}"`);
        ({ request: merged, primaryDevice } = resolvePolicy(policy, rest));
      }
      const channel = merged.channel;
      if (channel === undefined) throw new OutbandError('invalid_request', 'body must have channel, unless it names a policy');
      const input: StartInput = { ...merged, channel };
      const settings = app.settings;
      if (settings.providers[channel] === undefined) return input;
      if (channel === 'push') {
        input.user_verification ??= settings.push.userVerification;
        input.matching ??= settings.push.matching;
        if (primaryDevice) {
          if (input.user_id === undefined) throw new OutbandError('recipient_ambiguous', 'this policy sends to the user\'s primary push authenticator: give user_id');
          const pushDevices = (await deps.store.devices.forUser(app.id, input.user_id)).filter(reachableByPush);
          const primary = pushDevices.find((d) => d.role === 'primary') ?? pushDevices[0];
          if (primary !== undefined) input.device_id = primary.id;
        }
      }
      const effective: EffectiveVerification = {
        channel,
        channels: [channel, ...(input.workflow ?? []).slice(1).map((s) => s.channel)],
        purpose: (input.purpose ?? (channel === 'missed_call' ? 'confirm_contact' : 'authentication')) as EffectiveVerification['purpose'],
        ttlSeconds: input.ttl_seconds ?? (channel === 'push' ? PUSH_TTL_SECONDS : settings.ttlSeconds),
        codeLength: channel === 'push' || channel === 'missed_call' ? null : (input.code_length ?? settings.codeLength),
        matching: channel === 'push' ? (input.matching ?? null) : null,
      };
      if (effective.ttlSeconds > settings.maxTtlSeconds) {
        throw new OutbandError('not_permitted_by_settings', `ttl_seconds ${effective.ttlSeconds} is above the application's max_ttl_seconds (${settings.maxTtlSeconds})`, { field: 'ttl_seconds' });
      }
      const authenticates = effective.purpose === 'authentication';
      if (authenticates && settings.restrictedAuthenticators === 'deny' && effective.channels.some(isRestricted)) {
        throw new OutbandError('channel_not_permitted', 'this application does not let sms or voice authenticate (restricted_authenticators: deny): use push', { restricted: true });
      }
      if (settings.assuranceProfile === 'nist') {
        const rows = verificationUnmet(effective);
        if (rows.length > 0) {
          throw new OutbandError('not_conformant', `this verification breaks the nist assurance profile: ${rows.map((r) => `${r.row} (${r.setting}): ${r.requirement}`).join('; ')}`, { unmet: rows });
        }
        if (authenticates && effective.channels.some(isRestricted)) await assertConfirmedNumber(app, input);
      }
      return input;
    },

    /** The assurance report of a verification: the rows it does not meet under standard, and SEC-13's flags. */
    async verificationAssurance(applicationId: string, verificationId: string): Promise<VerificationAssurance> {
      const app = await loadApp(applicationId);
      const v = await deps.store.verifications.byId(applicationId, verificationId);
      if (v === undefined) throw new OutbandError('verification_not_found', `no verification ${verificationId}`);
      return verificationAssurance(deps.store, app, v);
    },

    /** The settings' assurance report. */
    settingsAssurance(app: Application): AssuranceView {
      return { profile: app.settings.assuranceProfile, unmet: profileUnmet(app.settings) };
    },

    /** Every channel: whether the application has it on, whether it is restricted, and the risk notice (SEC-13). */
    async channels(principal: Principal): Promise<ChannelView[]> {
      const app = await loadApp(principal.applicationId);
      return CHANNELS.map((channel) => ({
        channel,
        enabled: app.settings.providers[channel] !== undefined,
        restricted: isRestricted(channel),
        aal: channel === 'push' ? 1 : assuranceOf(channel),
        notice: isRestricted(channel) ? RESTRICTED_NOTICE : null,
      }));
    },
  };
}

export type PolicyService = ReturnType<typeof createPolicyService>;
