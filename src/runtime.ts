import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ServerConfig } from './config/config.ts';
import { deriveKeys, seal, unseal } from './domain/codes/keys.ts';
import { newVapidKeys } from './providers/push/webpush.ts';
import type { RandomSource } from './domain/random.ts';
import { createCryptoRandom } from './crypto-random.ts';
import { createLocalNotifier, createPostgresNotifier, type Notifier } from './events/notifier.ts';
import { buildApp } from './http/app.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { PROVIDERS } from './providers/registry.ts';
import type { ProviderInstances, ProviderReports } from './providers/types.ts';
import { createApplicationService, type ApplicationService } from './services/applications.ts';
import { createDeliveryWorker, type DeliveryWorker } from './services/delivery-worker.ts';
import { createWebhookDispatcher, type WebhookDispatcher } from './services/webhook-dispatcher.ts';
import { createLeadership, type Leadership } from './services/leadership.ts';
import { systemResolver, type HostResolver } from './services/webhook-sender.ts';
import { createWebhookService, type WebhookService } from './services/webhooks.ts';
import { createDeviceApi } from './services/device-api.ts';
import { createDeviceAuth } from './services/device-auth.ts';
import { createDeviceService, type DeviceService } from './services/devices.ts';
import { systemClock, type Clock } from './services/deps.ts';
import { createInboundSmsService, type InboundSmsService } from './services/inbound-sms.ts';
import { createOutboxService, type OutboxService } from './services/outbox.ts';
import { createReceiptService, type ReceiptService } from './services/receipts.ts';
import { createTemplateService, type TemplateService } from './services/templates.ts';
import { createTokenService, type TokenService } from './services/tokens.ts';
import { createUserService, type UserService } from './services/users.ts';
import { createVerificationService, type VerificationService } from './services/verifications.ts';
import { createFraudControls, lookupDestination } from './services/fraud.ts';
import { createUsage } from './services/usage.ts';
import { createNumberLookup } from './providers/number-lookup/registry.ts';
import { createPolicyService, type PolicyService } from './services/policies.ts';
import { createSettingsService, type SettingsService } from './services/settings.ts';
import { createEventLogService, type EventLogService } from './services/event-log.ts';
import { createAgentService, type AgentService } from './services/agents.ts';
import { createConsoleService, type ConsoleService } from './services/console.ts';
import { VERSION } from './build.ts';
import { openDatabase } from './store/database.ts';
import { createStore, type Store } from './store/store.ts';
import { WEBHOOKS_QUEUED } from './store/webhooks.ts';

export interface Runtime {
  app: FastifyInstance;
  store: Store;
  logger: Logger;
  tokens: TokenService;
  applications: ApplicationService;
  users: UserService;
  templates: TemplateService;
  verifications: VerificationService;
  settings: SettingsService;
  policies: PolicyService;
  events: EventLogService;
  /** Console agents, their grants and sessions. */
  agents: AgentService;
  console: ConsoleService;
  devices: DeviceService;
  outbox: OutboxService;
  receipts: ReceiptService;
  worker: DeliveryWorker;
  webhooks: WebhookService;
  /** Sends webhook messages; started with the workers, `runOnce()` for tests. */
  webhookDispatcher: WebhookDispatcher;
  /** Whether this node runs the expiry sweeper and the webhook dispatcher; null with workers off. */
  leadership: Leadership | null;
  notifier: Notifier;
  /** Stops taking work, lets requests and long-polls finish, and closes the database. */
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
  /** How webhook hosts are resolved (tests map names to chosen addresses). */
  webhookResolver?: HostResolver;
}

/**
 * Builds the whole server from its configuration: the composition root. It does not listen;
 * `serve` does, and tests inject into `app`.
 */
export async function createRuntime(config: ServerConfig, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? createCryptoRandom();

  const database = openDatabase(config.databaseUrl, {
    synchronous: config.sqliteSynchronous,
    groupCommit: config.sqliteGroupCommit,
    poolSize: config.databasePoolSize,
    onCheckpointError: (error) => logger.warn({ err_message: error.message }, 'SQLite background checkpoints failed: SQLite checkpoints in its commits again'),
  });
  const store = createStore(database);
  await store.migrate({
    applying: (m) => logger.info({ migration: m.version, name: m.name }, 'applying a database migration'),
    applied: (m) => logger.info({ migration: m.version, name: m.name, ms: m.ms }, 'database migration applied'),
  });

  let secret = config.secret;
  if (secret === '') {
    secret = await store.meta.setIfAbsent('development_secret', randomBytes(32).toString('base64url'));
    logger.warn('OUTBAND_SECRET is not set: using a development secret kept in the database. You MUST set OUTBAND_SECRET in production');
  }
  const keys = deriveKeys(secret);

  const notifier: Notifier =
    database.postgresUrl !== null ? createPostgresNotifier(database.postgresUrl, (error) => logger.warn({ err: error }, 'notification listener error')) : createLocalNotifier();
  if ('ready' in notifier) await (notifier as { ready: Promise<void> }).ready;
  // In-process waiters hear at once; on PostgreSQL other nodes hear through LISTEN/NOTIFY.
  store.onCommitted((_events, woken) => notifier.publish(woken));

  const metrics = createMetrics();
  const shutdown = new AbortController();
  const outbox = createOutboxService({ store, clock, random, keys, notifier }, { shutdown: shutdown.signal });
  const providers = new Map<string, ProviderInstances>();
  const receipts = createReceiptService({ store, clock, random, logger });
  // Providers report inbound SMS as soon as they run; the service exists once verifications do.
  let inbound: InboundSmsService | undefined;
  const reports: ProviderReports = {
    async receipt(receipt) {
      await receipts.record(receipt);
    },
    async inbound(message) {
      if (inbound === undefined) throw new Error('inbound SMS before the server finished starting');
      await inbound.receive(message);
    },
  };
  // Web Push needs no account (it is always configured); without configured VAPID keys, a pair
  // made on first start is kept sealed in the database, so every node of a cluster signs with the same one.
  const webpushConfig = { ...config.providers['webpush'] };
  if (webpushConfig['vapidPublicKey'] === '') {
    const sealed = await store.meta.setIfAbsent('vapid_keys', seal(keys.sealKey, JSON.stringify(newVapidKeys()), random));
    const vapid = JSON.parse(unseal(keys.sealKey, sealed)) as { publicKey: string; privateKey: string };
    webpushConfig['vapidPublicKey'] = vapid.publicKey;
    webpushConfig['vapidPrivateKey'] = vapid.privateKey;
  }
  const vapidPublicKey = webpushConfig['vapidPublicKey'] as string;
  for (const [name, providerConfig] of Object.entries({ ...config.providers, webpush: webpushConfig })) {
    if (name === 'outbox' && config.production) continue;
    const definition = PROVIDERS[name];
    if (definition !== undefined) providers.set(name, definition.create(providerConfig, { outbox: outbox.sink, reports }));
  }

  const deps = { store, clock, random, keys, notifier, metrics, logger, providers };
  const worker = createDeliveryWorker(deps, { leaseMs: config.deliveryLeaseMs });
  const webhookTargets = { allowInsecure: config.webhooksAllowInsecure, resolver: overrides.webhookResolver ?? systemResolver };
  const webhookDispatcher = createWebhookDispatcher(deps, { ...webhookTargets, timeoutMs: config.webhookTimeoutMs, userAgent: `Outband-Webhooks/${VERSION}` });
  const webhooks = createWebhookService(deps, { ...webhookTargets, wake: () => webhookDispatcher.wake() });
  const tokens = createTokenService(deps, { issuer: config.publicUrl, ttlSeconds: config.tokenTtlSeconds });
  await tokens.start();
  const applications = createApplicationService(deps);
  const users = createUserService(deps, { wakeDelivery: () => worker.wake() });
  const templates = createTemplateService(deps);
  const policies = createPolicyService(deps);
  const numberLookup = createNumberLookup(
    { name: config.numberLookup, config: config.numberLookupConfig, onError: config.numberLookupOnError },
    { onFailure: (error) => logger.warn({ err_message: error.message }, 'number lookup failed') },
  );
  const fraud = createFraudControls(deps, { destination: lookupDestination(numberLookup) });
  const usage = createUsage(deps);
  const verifications = createVerificationService(deps, {
    fraud,
    usage,
    policies,
    wakeDelivery: () => worker.wake(),
    shutdown: shutdown.signal,
    templates,
    missedCalls:
      config.missedCallPoolParsed === null
        ? null
        : { pool: config.missedCallPoolParsed, codeLength: config.missedCallCodeLength, ringSeconds: config.missedCallRingSeconds },
  });
  inbound = createInboundSmsService(deps, verifications);
  const devices = createDeviceService(deps, { verifications, publicUrl: config.publicUrl, wakeDelivery: () => worker.wake() });
  worker.onStaleTransport((deviceId, reason) => devices.markTransportStale(deviceId, reason));
  const settings = createSettingsService(deps, { applications, devices, policies });
  const deviceApi = createDeviceApi(deps, {
    auth: createDeviceAuth(deps, { audience: `${config.publicUrl}/v1/device-api` }),
    devices,
    verifications,
    vapidPublicKey,
  });

  const events = createEventLogService(deps);
  const agents = createAgentService(deps, {
    idleSeconds: config.consoleSessionIdleSeconds,
    failuresPerEmail: config.consoleSignInFailuresPerEmail,
    failuresPerIp: config.consoleSignInFailuresPerIp,
  });
  const consoleService = createConsoleService(deps, { agents, verifications, policies, settings, templates });

  let draining = false;
  const app = await buildApp({
    logger,
    usage,
    fraud,
    store,
    bodyLimitBytes: config.bodyLimitBytes,
    trustedProxies: config.trustedProxyList,
    rateLimits: {
      windowSeconds: config.rateLimitWindowSeconds,
      maxKeys: config.rateLimitMaxKeys,
      perIp: { token: config.rateLimitTokenPerIp, api: config.rateLimitApiPerIp, device: config.rateLimitDevicePerIp, inbound: config.rateLimitInboundPerIp },
      perClient: config.rateLimitApiPerClient,
    },
    publicUrl: config.publicUrl,
    version: VERSION,
    tokens,
    users,
    templates,
    verifications,
    settings,
    policies,
    devices,
    deviceApi,
    events,
    shutdown: shutdown.signal,
    outbox,
    inbound,
    receipts,
    providers,
    clock,
    metrics,
    ping: () => store.ping(),
    draining: () => draining,
    webhooks,
    agents,
    console: consoleService,
  });

  for (const [name, instances] of providers) {
    instances.start?.().catch((error: unknown) => logger.warn({ provider: name, err_message: (error as Error).message }, 'provider could not connect at start; it keeps trying'));
  }

  let leadership: Leadership | null = null;
  if (config.workers) {
    worker.start();
    // Finishes unpairing the devices of channels turned off, should a settings change have been cut short.
    void (async () => {
      for (const application of await store.applications.list()) await settings.unpairDisabled(application.id, 'system');
    })().catch((error: unknown) => logger.error({ err: error }, 'unpairing the devices of disabled channels failed'));
    // A unit on any node that queued webhook messages wakes the leader's dispatcher: it sends them now, not at the next poll.
    notifier.subscribe(WEBHOOKS_QUEUED, () => webhookDispatcher.wake());
    let sweeper: NodeJS.Timeout | undefined;
    let sweeping: Promise<unknown> = Promise.resolve();
    let sweepRunning = false;
    const sweep = () => {
      // A sweep that outlasts the interval is not joined by the next one: both would take the same overdue rows.
      if (sweepRunning) return;
      sweepRunning = true;
      sweeping = Promise.all([
        verifications.expireOverdue(500).catch((error: unknown) => logger.error({ err: error }, 'expiry sweep failed')),
        // Fraud windows are at most 7 days long (FRAUD_RANGES): older marks and ended blocks count for nothing.
        store.fraud.purge(clock.now() - 8 * 86_400_000).catch((error: unknown) => logger.error({ err: error }, 'fraud purge failed')),
        agents.purgeSessions().catch((error: unknown) => logger.error({ err: error }, 'console session purge failed')),
      ]).finally(() => (sweepRunning = false));
    };
    // One node at a time runs these (docs/decisions/0019-one-leader-by-advisory-lock.md).
    leadership = createLeadership({
      postgresUrl: database.postgresUrl,
      retryMs: config.leaderRetryMs,
      logger,
      onChange: (leading) => metrics.leader.set(leading ? 1 : 0),
      duties: {
        start() {
          webhookDispatcher.start();
          sweeper = setInterval(sweep, config.sweepIntervalMs);
          sweeper.unref();
        },
        async stop() {
          clearInterval(sweeper);
          await Promise.all([webhookDispatcher.stop(), sweeping]);
        },
      },
    });
  }

  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    logger,
    tokens,
    applications,
    users,
    templates,
    verifications,
    settings,
    policies,
    events,
    devices,
    outbox,
    receipts,
    worker,
    webhooks,
    webhookDispatcher,
    leadership,
    notifier,
    agents,
    console: consoleService,
    close() {
      closing ??= (async () => {
        draining = true;
        shutdown.abort(); // long-polls answer now with the current state
        await app.close(); // waits for requests in flight
        await worker.stop();
        await leadership?.close(); // stops the sweeper and the webhook dispatcher, and frees the lock
        for (const instances of providers.values()) {
          await Promise.all([instances.sms?.close?.(), instances.email?.close?.(), instances.voice?.close?.(), instances.call?.close?.(), instances.push?.close?.()]);
        }
        await notifier.close();
        await store.close();
      })();
      return closing;
    },
  };
}
