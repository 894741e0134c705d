import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createCryptoRandom } from '../crypto-random.ts';
import { OutbandError } from '../domain/errors.ts';
import { SCOPES } from '../domain/scopes.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Clock, ProviderSet } from '../services/deps.ts';
import type { InboundSmsService } from '../services/inbound-sms.ts';
import type { OutboxService } from '../services/outbox.ts';
import type { ReceiptService } from '../services/receipts.ts';
import type { TemplateService } from '../services/templates.ts';
import type { TokenService } from '../services/tokens.ts';
import type { UserService } from '../services/users.ts';
import type { VerificationService } from '../services/verifications.ts';
import type { PolicyService } from '../services/policies.ts';
import type { SettingsService } from '../services/settings.ts';
import type { WebhookService } from '../services/webhooks.ts';
import type { EventLogService } from '../services/event-log.ts';
import type { DeviceApi } from '../services/device-api.ts';
import type { DeviceService } from '../services/devices.ts';
import { deviceApiRoutes } from './routes/device-api.ts';
import { deviceRoutes, userDeviceRoutes } from './routes/devices.ts';
import { buildSerializerOnFirstUse, validatorOnFirstUse } from './compiled-on-first-use.ts';
import { authPlugin } from './plugins/auth.ts';
import { problemPlugin, sendProblem } from './plugins/problem.ts';
import { rateLimitPlugin, type RateLimitSettings } from './plugins/rate-limit.ts';
import { providerCallbackRoutes } from './routes/provider-callbacks.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { outboxRoutes } from './routes/outbox.ts';
import { systemRoutes } from './routes/system.ts';
import { templateRoutes } from './routes/templates.ts';
import { userRoutes } from './routes/users.ts';
import { verificationRoutes } from './routes/verifications.ts';
import { channelRoutes, policyRoutes, settingsRoutes } from './routes/settings.ts';
import { authenticatorRoutes, usageRoutes } from './routes/usage.ts';
import { webRoutes } from './routes/web.ts';
import type { FraudControls } from '../services/fraud.ts';
import type { Usage } from '../services/usage.ts';
import type { Store } from '../store/store.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { eventRoutes } from './routes/events.ts';
import { auditRoutes } from './routes/audit.ts';
import { consoleRoutes } from './routes/console.ts';
import type { AgentService } from '../services/agents.ts';
import type { ConsoleService } from '../services/console.ts';

export interface AppDeps {
  logger: Logger;
  bodyLimitBytes: number;
  /** Proxies whose X-Forwarded-For sets `request.ip` (addresses, CIDR ranges); empty: none. */
  trustedProxies: string[];
  rateLimits: RateLimitSettings;
  publicUrl: string;
  version: string;
  tokens: TokenService;
  users: UserService;
  templates: TemplateService;
  verifications: VerificationService;
  settings: SettingsService;
  policies: PolicyService;
  /** The event log, its stream and the audit trail; also records refused requests. */
  events: EventLogService;
  devices: DeviceService;
  deviceApi: DeviceApi;
  /** Aborted when the server shuts down: open streams end. */
  shutdown: AbortSignal;
  outbox: OutboxService;
  inbound: InboundSmsService;
  receipts: ReceiptService;
  providers: ProviderSet;
  clock: Clock;
  metrics: Metrics;
  ping: () => Promise<void>;
  draining: () => boolean;
  webhooks: WebhookService;
  usage: Usage;
  fraud: FraudControls;
  store: Store;
  /** The agent console's agents and sessions, and its operations (/console/api). */
  agents: AgentService;
  console: ConsoleService;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Where a parsed body or query string holds a NUL character (U+0000), or null. No field
 * accepts one, and PostgreSQL cannot store one in text: it would fail the query with a 500.
 * Iterative, so a deeply nested body cannot overflow the stack.
 */
function nulPath(root: unknown, rootPath: string): string | null {
  const stack: Array<[unknown, string]> = [[root, rootPath]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [value, path] = next;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path;
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key.includes('\u0000')) return path;
        stack.push([child, `${path}.${key}`]);
      }
    }
  }
  return null;
}

/** The HTTP API, ready to inject into or listen; it does not listen itself. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const requestIdRandom = createCryptoRandom();
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    // request.ip: the nearest X-Forwarded-For hop not from a trusted proxy; without any, the TCP peer.
    trustProxy: deps.trustedProxies.length > 0 ? deps.trustedProxies : false,
    // A caller's X-Request-Id is kept when it is short and plain, so it cannot forge log lines.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req_${Buffer.from(requestIdRandom.bytes(9)).toString('base64url')}`;
    },
    routerOptions: { ignoreTrailingSlash: true },
    schemaController: { compilersFactory: { buildSerializer: buildSerializerOnFirstUse } },
    // Errors the router raises before any route runs (a malformed or over-long path) get the same problem+json.
    frameworkErrors: (error, request, reply) =>
      sendProblem(
        reply,
        request,
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new OutbandError('uri_too_long', 'a path parameter is longer than any id')
          : new OutbandError('invalid_request', `the URL cannot be parsed: ${error.message}`),
      ),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Strict bodies: no type coercion (AJV's default would turn null into ""); params and
  // query strings are still converted from their text.
  app.setValidatorCompiler(validatorOnFirstUse(TypeBoxValidatorCompiler));
  // Set as the request arrives, by a synchronous hook: every answer carries it (errors keep the
  // headers set before them), without a promise per reply as an async onSend hook costs.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('preValidation', async (request) => {
    const where = nulPath(request.body, 'body') ?? nulPath(request.query, 'querystring');
    if (where !== null) throw new OutbandError('invalid_request', `${where} contains a NUL character (U+0000), which no field accepts`);
  });
  // Bodies are JSON (a form too, on /oauth/token only); Fastify's default text/plain parser would
  // hand a string to the schema, and a wrong content type would be answered 400, not 415.
  app.removeContentTypeParser('text/plain');

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Outband API',
        version: deps.version,
        description:
          'Out-of-band verification: register users, send one-time codes by SMS or e-mail, check them, and learn the result. ' +
          'Authenticate with OAuth 2.0 client credentials at /oauth/token; every route names the scope it needs. Errors are RFC 9457 problem+json with a stable `code`.',
      },
      servers: [{ url: deps.publicUrl }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'oauth2',
            description: 'Access tokens from the client credentials grant',
            flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: { ...SCOPES } } },
          },
          device: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'Device API: "Device <JWS>", an ES256 JWS signed by the device key (aud, iat, jti, htm, htu, bsh); see docs/device-api.md',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(problemPlugin);
  // Before auth: its hooks run first, so requests with bad tokens are counted too.
  await app.register(rateLimitPlugin, { settings: deps.rateLimits, clock: deps.clock });
  await app.register(authPlugin, {
    tokens: deps.tokens,
    // SEC-45: a request refused for a missing scope is audited, without the refusal waiting for it.
    onDenied: (principal, request, scope) =>
      deps.events.recordDenied(principal, { route: request.routeOptions.url ?? request.url.split('?')[0] ?? '', method: request.method, scope, ip: request.ip }),
  });

  await app.register(systemRoutes, { metrics: deps.metrics, ping: deps.ping, draining: deps.draining });
  await app.register(oauthRoutes, { tokens: deps.tokens, bodyLimitBytes: deps.bodyLimitBytes });
  await app.register(userRoutes, { prefix: '/v1/users', users: deps.users });
  await app.register(templateRoutes, { prefix: '/v1/templates', templates: deps.templates });
  await app.register(verificationRoutes, { prefix: '/v1/verifications', verifications: deps.verifications, shutdown: deps.shutdown });
  await app.register(userDeviceRoutes, { prefix: '/v1/users', devices: deps.devices });
  await app.register(deviceRoutes, { prefix: '/v1/devices', devices: deps.devices });
  await app.register(deviceApiRoutes, { prefix: '/v1/device-api', deviceApi: deps.deviceApi, shutdown: deps.shutdown });
  await app.register(outboxRoutes, { prefix: '/v1/outbox', outbox: deps.outbox });
  await app.register(settingsRoutes, { prefix: '/v1/settings', settings: deps.settings });
  await app.register(policyRoutes, { prefix: '/v1/policies', policies: deps.policies });
  await app.register(channelRoutes, { prefix: '/v1/channels', policies: deps.policies });
  await app.register(webhookRoutes, { prefix: '/v1/webhooks', webhooks: deps.webhooks });
  await app.register(eventRoutes, { prefix: '/v1/events', events: deps.events, shutdown: deps.shutdown });
  await app.register(auditRoutes, { prefix: '/v1/audit', events: deps.events });
  await app.register(usageRoutes, { prefix: '/v1/usage', usage: deps.usage, clock: deps.clock });
  await app.register(authenticatorRoutes, { prefix: '/v1/authenticators', fraud: deps.fraud, store: deps.store, clock: deps.clock });
  await app.register(providerCallbackRoutes, { prefix: '/v1', providers: deps.providers, inbound: deps.inbound, receipts: deps.receipts, publicUrl: deps.publicUrl, clock: deps.clock });

  await app.register(consoleRoutes, { prefix: '/console/api', agents: deps.agents, console: deps.console, secureCookie: deps.publicUrl.startsWith('https:'), shutdown: deps.shutdown });
  await app.register(webRoutes);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
