import { Type, type Static, type TObject, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { assertPoolUsable, parsePool, PoolError, type Pool } from '../domain/missed-call/pool.ts';
import { DEFAULT_NUMBER_LOOKUP, NUMBER_LOOKUPS } from '../providers/number-lookup/registry.ts';
import { PROVIDERS } from '../providers/registry.ts';
import { parseTrustedProxies } from './trusted-proxies.ts';

/**
 * The server's whole configuration: one schema, read from the environment once at boot.
 * Each option names its variable (`env`), its default and what it does; docs/config.md is
 * generated from this schema and a test keeps the two in step.
 */
export const ServerConfigSchema = Type.Object({
  port: Type.Integer({ env: 'PORT', default: 8080, minimum: 0, maximum: 65535, description: 'TCP port of the HTTP API' }),
  host: Type.String({
    env: 'HOST',
    default: '127.0.0.1',
    description: 'Address to listen on. The default keeps a development server off the network; use 0.0.0.0 in a container',
  }),
  publicUrl: Type.String({ env: 'PUBLIC_URL', default: '', description: 'Base URL clients use (token issuer, links); default http://localhost:PORT' }),
  databaseUrl: Type.String({
    env: 'DATABASE_URL',
    default: 'sqlite:./data/outband.db',
    description: 'sqlite:<path> for the embedded database, or postgres://user@host:5432/db',
  }),
  sqliteSynchronous: Type.Union([Type.Literal('FULL'), Type.Literal('NORMAL')], {
    env: 'SQLITE_SYNCHRONOUS',
    default: 'FULL',
    description: 'FULL: an acknowledged write survives a power cut. NORMAL: faster, survives a process crash but may lose the last commits on power loss',
  }),
  sqliteGroupCommit: Type.Boolean({
    env: 'SQLITE_GROUP_COMMIT',
    default: true,
    description:
      'true: the writes of concurrent requests are committed together, each in its own savepoint, one fsync for all. false commits each unit in its own transaction, kept for comparison in the benchmarks',
  }),
  databasePoolSize: Type.Integer({ env: 'DATABASE_POOL_SIZE', default: 10, minimum: 1, maximum: 200, description: 'PostgreSQL connections per node' }),
  secret: Type.String({
    env: 'OUTBAND_SECRET',
    default: '',
    secret: true,
    description:
      'Server secret (at least 32 characters) keying code hashes and sealing stored messages. Required in production; in development one is generated and kept in the database, with a warning',
  }),
  production: Type.Boolean({
    env: 'OUTBAND_PRODUCTION',
    default: false,
    description: 'Refuse development defaults: a generated secret, the outbox provider, a demo application',
  }),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), {
    env: 'LOG_LEVEL',
    default: 'info',
    description: 'pino log level',
  }),
  tokenTtlSeconds: Type.Integer({ env: 'TOKEN_TTL_SECONDS', default: 3600, minimum: 60, maximum: 86400, description: 'Lifetime of access tokens' }),
  bodyLimitBytes: Type.Integer({ env: 'BODY_LIMIT_BYTES', default: 65536, minimum: 1024, description: 'Largest request body accepted' }),
  trustedProxies: Type.String({
    env: 'OUTBAND_TRUSTED_PROXIES',
    default: '',
    description:
      'Reverse proxies whose X-Forwarded-For is believed: comma-separated IP addresses, CIDR ranges or the names loopback, linklocal, uniquelocal, e.g. "10.0.0.0/8, 2001:db8::/32". The client address (rate limits, events) is the nearest one in X-Forwarded-For not from this list. Empty: the header is ignored and the client is the TCP peer. See docs/proxy.md',
  }),
  rateLimitWindowSeconds: Type.Integer({ env: 'RATE_LIMIT_WINDOW_SECONDS', default: 60, minimum: 1, maximum: 3600, description: 'The window of every RATE_LIMIT_* quota below' }),
  rateLimitTokenPerIp: Type.Integer({
    env: 'RATE_LIMIT_TOKEN_PER_IP',
    default: 30,
    minimum: 0,
    description: 'Requests per window to POST /oauth/token from one client address (each costs a scrypt hash; clients keep their token until it expires). 0: no limit',
  }),
  rateLimitApiPerIp: Type.Integer({
    env: 'RATE_LIMIT_API_PER_IP',
    default: 1200,
    minimum: 0,
    description: 'Requests per window to bearer-token routes (/v1/…) from one client address, counted before the token is checked. 0: no limit',
  }),
  rateLimitApiPerClient: Type.Integer({ env: 'RATE_LIMIT_API_PER_CLIENT', default: 600, minimum: 0, description: 'Requests per window to bearer-token routes by one API client, from any address. 0: no limit' }),
  rateLimitDevicePerIp: Type.Integer({
    env: 'RATE_LIMIT_DEVICE_PER_IP',
    default: 300,
    minimum: 0,
    description: 'Requests per window to the device API (/v1/device-api/…) from one client address; mobile carriers put many devices behind one address. 0: no limit',
  }),
  rateLimitInboundPerIp: Type.Integer({
    env: 'RATE_LIMIT_INBOUND_PER_IP',
    default: 3000,
    minimum: 0,
    description: 'Requests per window to provider callbacks and inbound SMS (/v1/callbacks/…, /v1/inbound/…) from one address; a provider sends one per message from a few addresses, and may not retry a refused one. 0: no limit',
  }),
  rateLimitMaxKeys: Type.Integer({
    env: 'RATE_LIMIT_MAX_KEYS',
    default: 100_000,
    minimum: 1000,
    description: 'Most addresses or clients each rate limit counts at once (about 150 bytes each); past it the oldest counters are dropped',
  }),
  workers: Type.Boolean({
    env: 'OUTBAND_WORKERS',
    default: true,
    description:
      'Run the delivery worker in this process, and take part in the leader election: the leader runs the expiry sweeper and the webhook dispatcher (one node at a time on PostgreSQL; see docs/deploy.md)',
  }),
  sweepIntervalMs: Type.Integer({ env: 'SWEEP_INTERVAL_MS', default: 5000, minimum: 100, description: 'How often the sweeper records expired verifications' }),
  leaderRetryMs: Type.Integer({
    env: 'LEADER_RETRY_MS',
    default: 2000,
    minimum: 100,
    maximum: 60_000,
    description:
      'PostgreSQL: how often a node that does not lead tries to take the leader lock (a PostgreSQL advisory lock), and how often the leader checks the connection that holds it. A leader that dies is replaced within about this time',
  }),
  webhooksAllowInsecure: Type.Boolean({
    env: 'OUTBAND_WEBHOOKS_ALLOW_INSECURE',
    default: false,
    description:
      'Development only (refused with OUTBAND_PRODUCTION): webhook URLs may use plain http and reach loopback receivers (127.0.0.0/8, ::1). Private, link-local and metadata addresses stay refused',
  }),
  webhookTimeoutMs: Type.Integer({
    env: 'WEBHOOK_TIMEOUT_MS',
    default: 15_000,
    minimum: 100,
    maximum: 30_000,
    description: 'How long one webhook attempt may take (connect, send, answer) before it counts as failed',
  }),
  deliveryLeaseMs: Type.Integer({
    env: 'DELIVERY_LEASE_MS',
    default: 30_000,
    minimum: 500,
    description:
      'How long a worker holds a message it is sending; if its process dies, another worker takes the message over once the lease has run out. One send is also cut off at this time',
  }),
  missedCallPool: Type.String({
    env: 'MISSED_CALL_POOL',
    default: '',
    description:
      'Caller ids for missed-call verification: E.164 numbers and ranges, comma-separated, e.g. "+442079460000-+442079469999, +31201234567". The code is the last MISSED_CALL_CODE_LENGTH digits of the number that calls; the pool must give at least max(10^N/10, 1000) distinct codes. Empty: no missed calls',
  }),
  missedCallCodeLength: Type.Integer({ env: 'MISSED_CALL_CODE_LENGTH', default: 5, minimum: 4, maximum: 6, description: 'Digits of the caller id the user types, 4–6' }),
  missedCallRingSeconds: Type.Integer({ env: 'MISSED_CALL_RING_SECONDS', default: 20, minimum: 5, maximum: 60, description: 'How long a missed call rings before it is dropped' }),
  numberLookup: Type.Union(
    Object.keys(NUMBER_LOOKUPS).map((name) => Type.Literal(name)),
    {
      env: 'NUMBER_LOOKUP',
      default: DEFAULT_NUMBER_LOOKUP,
      description: `Where country and line type of a phone number come from before anything is sent to it: ${Object.keys(NUMBER_LOOKUPS).join(' or ')} (settings below; docs/fraud.md)`,
    },
  ),
  numberLookupOnError: Type.Union([Type.Literal('fallback'), Type.Literal('refuse')], {
    env: 'NUMBER_LOOKUP_ON_ERROR',
    default: 'fallback',
    description:
      'When the lookup fails (down, slow, a malformed answer): fallback judges the number on libphonenumber metadata alone (no SIM-swap or porting data); refuse answers 503 number_lookup_unavailable and sends nothing',
  }),
  consoleSessionIdleSeconds: Type.Integer({
    env: 'CONSOLE_SESSION_IDLE_SECONDS',
    default: 1800,
    minimum: 60,
    maximum: 43_200,
    description: 'An agent console session ends after this long without a request (every request moves it on); it ends 12 hours after sign-in in any case',
  }),
  consoleAdminEmail: Type.String({
    env: 'CONSOLE_ADMIN_EMAIL',
    default: 'admin@localhost',
    description: 'The e-mail of the first console admin, created by `outband serve` when there is no agent yet, granted every application, its password printed once',
  }),
  consoleSignInFailuresPerEmail: Type.Integer({
    env: 'CONSOLE_SIGN_IN_FAILURES_PER_EMAIL',
    default: 5,
    minimum: 1,
    maximum: 100,
    description: 'Failed console sign-ins for one e-mail address within 15 minutes, after which that address cannot sign in until the 15 minutes are over',
  }),
  consoleSignInFailuresPerIp: Type.Integer({
    env: 'CONSOLE_SIGN_IN_FAILURES_PER_IP',
    default: 20,
    minimum: 1,
    maximum: 10_000,
    description: 'Failed console sign-ins from one client address (an IPv6 /64) within 15 minutes, after which it cannot sign in until the 15 minutes are over',
  }),
  demo: Type.Boolean({
    env: 'OUTBAND_DEMO',
    default: true,
    description: 'On first start, create a "demo" application and a client with every scope and print its credentials once',
  }),
});

export type ServerConfig = Static<typeof ServerConfigSchema> & {
  /** Settings per configured provider, keyed by provider name; absent when not configured. */
  providers: Record<string, Record<string, unknown>>;
  /** The parsed, size-checked caller-id pool; null when missed calls are not configured. */
  missedCallPoolParsed: Pool | null;
  /** OUTBAND_TRUSTED_PROXIES, checked and split: Fastify's trustProxy. Empty: trust no proxy. */
  trustedProxyList: string[];
  /** Settings of the number lookup NUMBER_LOOKUP names, validated against its schema. */
  numberLookupConfig: Record<string, unknown>;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Annotated = TSchema & { env?: string; default?: unknown; secret?: boolean; description?: string; type?: string };

function fromEnv(schema: Annotated, raw: string): unknown {
  if (schema.type === 'integer' || schema.type === 'number') return raw.trim() === '' ? raw : Number(raw);
  if (schema.type === 'boolean') return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
  return raw;
}

function readObject(schema: TObject, env: NodeJS.ProcessEnv, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties) as [string, Annotated][]) {
    const raw = property.env === undefined ? undefined : env[property.env];
    if (raw !== undefined && raw !== '') out[key] = fromEnv(property, raw);
    else if (property.default !== undefined) out[key] = property.default;
  }
  if (!Value.Check(schema, out)) {
    const problems = [...Value.Errors(schema, out)].map((e) => {
      const key = e.instancePath.replace(/^\//, '') || Object.keys(schema.properties).find((k) => !(k in out)) || '';
      const variable = (schema.properties[key] as Annotated | undefined)?.env ?? key;
      return `${variable}: ${e.message}`;
    });
    throw new ConfigError(`invalid ${where} configuration: ${problems.join('; ')}`);
  }
  return out;
}

/** Reads and validates the configuration; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const base = readObject(ServerConfigSchema, env, 'server') as Static<typeof ServerConfigSchema>;
  if (base.secret !== '' && base.secret.length < 32) throw new ConfigError('OUTBAND_SECRET: must be at least 32 characters');
  if (base.production && base.secret === '') throw new ConfigError('OUTBAND_SECRET: required when OUTBAND_PRODUCTION=true');
  if (base.production && base.webhooksAllowInsecure) throw new ConfigError('OUTBAND_WEBHOOKS_ALLOW_INSECURE: not allowed when OUTBAND_PRODUCTION=true');
  const providers: ServerConfig['providers'] = {};
  for (const [name, definition] of Object.entries(PROVIDERS)) {
    const properties = Object.values(definition.configSchema.properties) as Annotated[];
    const required = new Set(definition.configSchema.required ?? []);
    const anySet = properties.some((p) => p.env !== undefined && (env[p.env] ?? '') !== '');
    const needsNothing = required.size === 0;
    if (!anySet && !needsNothing && definition.alwaysOn !== true) continue; // not configured: applications cannot choose it
    providers[name] = readObject(definition.configSchema, env, `provider "${name}"`);
  }
  const lookup = NUMBER_LOOKUPS[base.numberLookup];
  if (lookup === undefined) throw new ConfigError(`NUMBER_LOOKUP: no lookup named "${base.numberLookup}"`);
  const numberLookupConfig = readObject(lookup.configSchema, env, `number lookup "${base.numberLookup}"`);
  let missedCallPoolParsed: Pool | null = null;
  if (base.missedCallPool.trim() !== '') {
    try {
      missedCallPoolParsed = parsePool(base.missedCallPool.split(','));
      assertPoolUsable(missedCallPoolParsed, base.missedCallCodeLength);
    } catch (error) {
      if (error instanceof PoolError) throw new ConfigError(`MISSED_CALL_POOL: ${error.message}`);
      throw error;
    }
  }
  let trustedProxyList: string[];
  try {
    trustedProxyList = parseTrustedProxies(base.trustedProxies);
  } catch (error) {
    throw new ConfigError(`OUTBAND_TRUSTED_PROXIES: ${(error as Error).message}`);
  }
  const config: ServerConfig = { ...base, providers, missedCallPoolParsed, trustedProxyList, numberLookupConfig };
  if (config.publicUrl === '') config.publicUrl = `http://localhost:${config.port}`;
  return config;
}

/** The configuration reference, generated from the schemas (docs/config.md). */
export function configReference(): string {
  const row = (p: Annotated) =>
    `| \`${p.env}\` | ${p.default === undefined ? '(required)' : p.default === '' ? '(empty)' : `\`${String(p.default)}\``} | ${p.secret ? 'yes' : ''} | ${p.description ?? ''} |`;
  const header = '| variable | default | secret | meaning |\n|---|---|---|---|';
  const lines = [
    '# Configuration',
    '',
    'Generated from `src/config/config.ts` by `outband config docs`; a test fails when this file and the schema differ.',
    'Every option is an environment variable, read once at start.',
    '',
    '## Server',
    '',
    header,
    ...(Object.values(ServerConfigSchema.properties) as Annotated[]).map(row),
  ];
  for (const [name, definition] of Object.entries(PROVIDERS)) {
    const properties = Object.values(definition.configSchema.properties) as Annotated[];
    lines.push('', `## Provider \`${name}\``, '', definition.description + '.', '');
    lines.push(properties.length === 0 ? 'No settings.' : [header, ...properties.map(row)].join('\n'));
  }
  for (const [name, definition] of Object.entries(NUMBER_LOOKUPS)) {
    const properties = Object.values(definition.configSchema.properties) as Annotated[];
    lines.push('', `## Number lookup \`${name}\``, '', `${definition.description}. Chosen with \`NUMBER_LOOKUP=${name}\`.`, '');
    lines.push(properties.length === 0 ? 'No settings.' : [header, ...properties.map(row)].join('\n'));
  }
  return lines.join('\n') + '\n';
}

/** Values of secret settings replaced, for anything that shows configuration. */
export function maskedProviderConfig(name: string, config: Record<string, unknown>): Record<string, unknown> {
  const schema = PROVIDERS[name]?.configSchema;
  if (schema === undefined) return {};
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, (schema.properties[k] as Annotated | undefined)?.secret ? '••••••' : v]),
  );
}
