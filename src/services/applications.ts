import { CHANNEL_DEFINITIONS } from '../channels/index.ts';
import { defaultSettings, PUSH_BY_DEVICE, type Application, type ApplicationSettings, type Channel, type Plan } from '../domain/application.ts';
import { base32, newId } from '../domain/random.ts';
import { ALL_SCOPES, isScope, type Scope } from '../domain/scopes.ts';
import type { ServiceDeps } from './deps.ts';
import { hashSecret } from './secret-hash.ts';

export class SetupError extends Error {
  override name = 'SetupError';
}

export interface ClientCredentials {
  client_id: string;
  client_secret: string;
  application: string;
  scopes: Scope[];
}

/** Operator tasks: applications (tenants) and their API clients. Used by the CLI and first start. */
export function createApplicationService(deps: Pick<ServiceDeps, 'store' | 'clock' | 'random' | 'providers'>) {
  function checkProviders(providers: ApplicationSettings['providers']): void {
    for (const [channel, name] of Object.entries(providers) as [Channel, string][]) {
      if (channel === 'push') {
        if (name !== PUSH_BY_DEVICE) throw new SetupError(`push goes through each device's own transport: its provider must be "${PUSH_BY_DEVICE}"`);
        continue;
      }
      const side = CHANNEL_DEFINITIONS[channel].providerSide;
      const instances = deps.providers.get(name);
      if (instances === undefined || instances[side] === undefined) {
        const available = [...deps.providers].filter(([, p]) => p[side] !== undefined).map(([n]) => n);
        throw new SetupError(`provider "${name}" is not configured for ${channel}; configured: ${available.join(', ') || 'none'}`);
      }
    }
  }

  return {
    /** Throws SetupError when a provider is not configured on this server for its channel. */
    checkProviders,

    /** A new application; plan `trial` unless told (a trial's limits: docs/fraud.md). */
    async create(name: string, overrides: Partial<ApplicationSettings> = {}, plan: Plan = 'trial'): Promise<Application> {
      if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/.test(name)) {
        throw new SetupError('an application name is 1–63 letters, digits, spaces, dots, dashes or underscores');
      }
      if ((await deps.store.applications.byName(name)) !== undefined) throw new SetupError(`application "${name}" already exists`);
      const settings = defaultSettings(overrides);
      checkProviders(settings.providers);
      return deps.store.applications.create({ id: newId('app', deps.random), name, plan, settings, createdAt: deps.clock.now() });
    },

    /** A new client of the application; its secret is in the answer and nowhere else. */
    async createClient(applicationName: string, scopes: readonly string[], clientName = 'default'): Promise<ClientCredentials> {
      const app = await deps.store.applications.byName(applicationName);
      if (app === undefined) throw new SetupError(`no application "${applicationName}"`);
      const unknown = scopes.filter((s) => !isScope(s));
      if (unknown.length > 0) throw new SetupError(`unknown scopes: ${unknown.join(', ')}; known: ${ALL_SCOPES.join(' ')}`);
      if (scopes.length === 0) throw new SetupError('give at least one scope');
      const id = newId('obc', deps.random);
      const secret = `obs_${base32(deps.random.bytes(32))}`;
      await deps.store.clients.create({
        id,
        applicationId: app.id,
        name: clientName,
        secretHash: await hashSecret(secret),
        scopes: [...new Set(scopes)] as Scope[],
        createdAt: deps.clock.now(),
        revokedAt: null,
      });
      return { client_id: id, client_secret: secret, application: app.name, scopes: [...new Set(scopes)] as Scope[] };
    },

    /** On a new database, a "demo" application and an all-scopes client; null when it already exists. */
    async ensureDemo(): Promise<ClientCredentials | null> {
      if ((await deps.store.applications.byName('demo')) !== undefined) return null;
      try {
        await this.create('demo');
      } catch (error) {
        // Another node created it at the same moment.
        if ((await deps.store.applications.byName('demo')) !== undefined) return null;
        throw error;
      }
      return this.createClient('demo', ALL_SCOPES, 'demo');
    },
  };
}

export type ApplicationService = ReturnType<typeof createApplicationService>;
