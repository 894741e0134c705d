import { CHANNEL_DEFINITIONS } from '../channels/index.ts';
import { CHANNELS, type Application, type Channel } from '../domain/application.ts';
import { DEVICE_KINDS, type DeviceKind } from '../domain/device/device.ts';
import { OutbandError } from '../domain/errors.ts';
import { assertConformant, settingsUnmet, verificationUnmet, type Unmet } from '../domain/policy/assurance.ts';
import { effectiveOf, type PolicyBody } from '../domain/policy/policies.ts';
import { applySettingsPatch, settingChanges, settingsFields, type SettingsFields, type SettingsPatch } from '../domain/policy/settings.ts';
import { SetupError, type ApplicationService } from './applications.ts';
import type { ServiceDeps } from './deps.ts';
import type { DeviceService } from './devices.ts';
import { eventWrite } from './events.ts';
import type { AssuranceView, PolicyService } from './policies.ts';
import { actorOf, type Principal } from './tokens.ts';

export type SettingsView = SettingsFields & { assurance: AssuranceView };

/** Each lost round means another change committed; administrators change settings rarely, so this ends quickly. */
const RETRIES = 32;
/** Devices unpaired per read while a disabled channel's devices go. */
const UNPAIR_BATCH = 100;
const PUSH_TTL_SECONDS = 120;

/**
 * GET/PATCH /v1/settings. A change is decided on the application as read and committed guarded
 * by its version, with an `application.settings_changed` event naming the actor and each field
 * before and after; a concurrent change makes it decide again on the new state, so none is lost.
 * Disabling a channel then unpairs its devices, each in its own unit (see unpairDisabled).
 */
export function createSettingsService(
  deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'providers'>,
  options: { applications: Pick<ApplicationService, 'checkProviders'>; devices: Pick<DeviceService, 'unpair'>; policies: Pick<PolicyService, 'settingsAssurance'> },
) {
  async function loadApp(applicationId: string): Promise<Application> {
    const app = await deps.store.applications.byId(applicationId);
    if (app === undefined) throw new OutbandError('invalid_token', 'the application of this token no longer exists');
    return app;
  }

  function view(app: Application): SettingsView {
    return { ...settingsFields(app), assurance: options.policies.settingsAssurance(app) };
  }

  function checkProvider(channel: Channel, name: string): void {
    try {
      options.applications.checkProviders({ [channel]: name });
    } catch (error) {
      if (!(error instanceof SetupError)) throw error;
      const side = CHANNEL_DEFINITIONS[channel].providerSide;
      const configured = channel === 'push' ? ['devices'] : [...deps.providers].filter(([, p]) => p[side] !== undefined).map(([n]) => n);
      throw new OutbandError('invalid_setting', `channels.${channel}.provider: ${error.message}`, { field: `channels.${channel}.provider`, allowed: configured });
    }
  }

  /** Under nist, the rows the new settings would break, the saved policies' included. */
  async function nistUnmet(app: Application, next: Application['settings']): Promise<Unmet[]> {
    const rows = settingsUnmet(next);
    for (const policy of await deps.store.policies.list(app.id)) {
      for (const row of verificationUnmet(effectiveOf(policy.body as PolicyBody, next, PUSH_TTL_SECONDS))) {
        rows.push({ ...row, setting: `policies.${policy.name}.${row.setting}` });
      }
    }
    return rows;
  }

  /**
   * Unpairs every device of a kind whose channel is off, one device per unit of work, through the
   * ordinary unpair (its event, its notice, its pending verifications cancelled). Safe to run
   * again at any time: it acts on what is still there, so a run cut short is finished by the next
   * (every settings change runs it, and so does the server's start).
   */
  async function unpairDisabled(applicationId: string, actor: string): Promise<number> {
    const app = await loadApp(applicationId);
    const kinds = DEVICE_KINDS.filter((kind: DeviceKind) => (CHANNELS as readonly string[]).includes(kind) && app.settings.providers[kind as Channel] === undefined);
    const principal: Principal = { applicationId, clientId: actor, scopes: new Set(['admin']) };
    let unpaired = 0;
    for (const kind of kinds) {
      const skipped = new Set<string>();
      for (;;) {
        const batch = (await deps.store.devices.ofKind(applicationId, kind, UNPAIR_BATCH + skipped.size)).filter((d) => !skipped.has(d.id));
        if (batch.length === 0) break;
        for (const device of batch) {
          try {
            await options.devices.unpair(principal, device.id, { id: actor, ip: null });
            unpaired++;
          } catch (error) {
            // Gone meanwhile (unpaired by someone else); anything else is retried by the next run.
            if (!(error instanceof OutbandError)) throw error;
            if (error.code !== 'device_not_found') skipped.add(device.id);
          }
        }
      }
    }
    return unpaired;
  }

  return {
    async get(principal: Principal): Promise<SettingsView> {
      return view(await loadApp(principal.applicationId));
    },

    async patch(principal: Principal, patch: SettingsPatch): Promise<SettingsView> {
      const actor = actorOf(principal);
      let after: Application | undefined;
      for (let round = 0; round < RETRIES && after === undefined; round++) {
        const app = await loadApp(principal.applicationId);
        const next = applySettingsPatch(app, patch, checkProvider);
        if (next.settings.assuranceProfile === 'nist') assertConformant('nist', await nistUnmet(app, next.settings), 'this change');
        const candidate: Application = { ...app, plan: next.plan, settings: next.settings, version: app.version + 1 };
        const changes = settingChanges(settingsFields(app), settingsFields(candidate));
        if (changes.length === 0) return view(app);
        const now = deps.clock.now();
        const result = await deps.store.commit({
          writes: [
            { kind: 'application.update', application: candidate, expectedVersion: app.version },
            eventWrite(deps.random, {
              applicationId: app.id,
              type: 'application.settings_changed',
              subjectType: 'application',
              subjectId: app.id,
              actor,
              data: { changes },
              createdAt: now,
            }),
          ],
        });
        if (result.ok) after = candidate;
      }
      if (after === undefined) throw new OutbandError('concurrent_update', 'the settings kept changing while this change was applied; try again');
      await unpairDisabled(after.id, actor);
      return view(await loadApp(after.id));
    },

    unpairDisabled,
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
