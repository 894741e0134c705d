import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig, type ServerConfig } from '../../src/config/config.ts';
import { CHANNELS, type ApplicationSettings, type Plan } from '../../src/domain/application.ts';
import { AUTHENTICATOR_FAILURE_CAP, defaultFraudSettings } from '../../src/domain/policy/limits.ts';
import { FRAUD_RANGES, type SettingsPatch } from '../../src/domain/policy/settings.ts';
import { ALL_SCOPES, type Scope } from '../../src/domain/scopes.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createRuntime, type Runtime, type RuntimeOverrides } from '../../src/runtime.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';

export interface TestServer {
  runtime: Runtime;
  database: TestDatabase;
  config: ServerConfig;
  /** Every line the server logged, as text. */
  logs: string[];
  /**
   * A new application with a client holding `scopes` (default all) and a token for it. Its
   * providers are the outbox for both channels unless `providers` names others (a channel left
   * out is disabled).
   */
  tenant(options?: { scopes?: Scope[]; name?: string; providers?: ApplicationSettings['providers']; plan?: Plan; settings?: Partial<ApplicationSettings> }): Promise<Tenant>;
  close(): Promise<void>;
}

export interface Tenant {
  name: string;
  applicationId: string;
  clientId: string;
  clientSecret: string;
  token: string;
  /** Injects a request with this tenant's token; `body` is sent as JSON. */
  request(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
}

let tenants = 0;

export interface TestServerOptions extends RuntimeOverrides {
  dialect?: 'sqlite' | 'postgres';
  /** Environment variables on top of the test defaults. */
  env?: Record<string, string>;
  /** Reuse a database (a second node on the same one); it is not dropped on close. */
  database?: TestDatabase;
}

/** A whole Outband runtime on a fresh database, with its logs captured; tests inject into `runtime.app`. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase(options.dialect ?? 'sqlite'));
  const ownsDatabase = options.database === undefined;
  const config = loadConfig({
    DATABASE_URL: database.url,
    OUTBAND_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    LOG_LEVEL: 'info',
    SWEEP_INTERVAL_MS: '60000',
    // Tests fire thousands of requests from 127.0.0.1 with one client: limits high enough never
    // to refuse one, still counted (test/api/rate-limits.test.ts sets its own).
    RATE_LIMIT_TOKEN_PER_IP: '1000000',
    RATE_LIMIT_API_PER_IP: '1000000',
    RATE_LIMIT_API_PER_CLIENT: '1000000',
    RATE_LIMIT_DEVICE_PER_IP: '1000000',
    RATE_LIMIT_INBOUND_PER_IP: '1000000',
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const overrides: RuntimeOverrides = { logger: options.logger ?? createLogger('info', sink) };
  if (options.clock !== undefined) overrides.clock = options.clock;
  if (options.random !== undefined) overrides.random = options.random;
  if (options.webhookResolver !== undefined) overrides.webhookResolver = options.webhookResolver;
  const runtime = await createRuntime(config, overrides);

  return {
    runtime,
    database,
    config,
    logs,
    async tenant(opts = {}) {
      const name = opts.name ?? `tenant-${process.pid}-${++tenants}`;
      const app = await runtime.applications.create(name, { ...(opts.providers === undefined ? {} : { providers: opts.providers }), ...opts.settings }, opts.plan);
      const credentials = await runtime.applications.createClient(name, opts.scopes ?? ALL_SCOPES);
      const issued = await runtime.tokens.issue(credentials.client_id, credentials.client_secret, undefined);
      const token = issued.access_token;
      return {
        name,
        applicationId: app.id,
        clientId: credentials.client_id,
        clientSecret: credentials.client_secret,
        token,
        request(method, url, body, headers = {}) {
          return runtime.app.inject({
            method: method as 'GET',
            url,
            headers: { authorization: `Bearer ${token}`, ...headers },
            ...(body === undefined ? {} : { payload: body as string }),
          });
        },
      };
    },
    async close() {
      await runtime.close();
      if (ownsDatabase) await database.drop();
    },
  };
}

/**
 * Settings of a tenant that a test drives far past everyday volumes (thousands of codes to one
 * number): no usage limits and fraud windows too wide to matter. The limits and fraud tests use the defaults.
 */
export function unlimited(): Partial<ApplicationSettings> {
  const fraud = defaultFraudSettings();
  const wide = 1_000_000_000;
  return {
    usageLimits: {},
    dailyCaps: {},
    fraud: {
      ...fraud,
      authenticatorFailureCap: 100,
      recipientFailures: { ...fraud.recipientFailures, max: wide },
      recipientSends: { ...fraud.recipientSends, max: wide },
      pushCooldown: { ...fraud.pushCooldown, max: wide },
      prefixVelocity: { ...fraud.prefixVelocity, max: wide },
      countryVelocity: { ...fraud.countryVelocity, max: wide },
      lowConversion: { ...fraud.lowConversion, minVolume: wide },
    },
  };
}

/**
 * unlimited() for a server in another process, as a PATCH /v1/settings body (admin scope): no
 * usage limits or daily caps, every fraud count at the widest the API accepts.
 */
export function unlimitedSettingsPatch(): SettingsPatch {
  const widest = FRAUD_RANGES.count.max;
  const none = Object.fromEntries(CHANNELS.map((channel) => [channel, null]));
  return {
    usage_limits: none,
    daily_caps: none,
    fraud: {
      authenticator_failure_cap: AUTHENTICATOR_FAILURE_CAP.max,
      recipient_failures: { max: widest },
      recipient_sends: { max: widest },
      push_cooldown: { max: widest },
      prefix_velocity: { max: widest },
      country_velocity: { max: widest },
      low_conversion: { min_volume: widest },
    },
  };
}

/** The code of a verification, read from the development outbox as a user would read the SMS. */
export async function codeFromOutbox(tenant: Tenant, verificationId: string, worker: Runtime['worker']): Promise<string> {
  for (let i = 0; i < 50; i++) {
    await worker.runOnce();
    const res = await tenant.request('GET', `/v1/outbox?verification_id=${verificationId}`);
    const items = res.json().items as Array<{ body: string }>;
    const match = items[0]?.body.match(/code is (\d{4,10})/);
    if (match?.[1] !== undefined) return match[1];
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no outbox message for ${verificationId}`);
}

/** A free port on loopback, so that PUBLIC_URL (the device JWS audience) can name it before the server listens. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Makes a test server listen on a free loopback port; answers its base URL. */
export async function listenOnLoopback(server: TestServer): Promise<string> {
  await server.runtime.app.listen({ port: 0, host: '127.0.0.1' });
  const address = server.runtime.app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}
