import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { OutbandError } from '../../domain/errors.ts';
import { addressKey, createRateWindows, type RateDecision, type RateWindows } from '../../domain/policy/rate-window.ts';
import type { Clock } from '../../services/deps.ts';
import { Problem } from '../schemas/common.ts';

/** Which budget a route draws on. */
export type RateLimitGroup = 'token' | 'api' | 'device' | 'inbound';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The rate-limit group of this route, or false for none. Left out, it follows from the route:
     * /oauth/token, the device API, provider callbacks, and every route with a scope (`api`).
     */
    rateLimit?: RateLimitGroup | false;
  }
}

/** Requests per window; 0 turns that limit off. */
export interface RateLimitSettings {
  windowSeconds: number;
  /** Most keys each limit counts at once (memory bound). */
  maxKeys: number;
  perIp: Record<RateLimitGroup, number>;
  /** Per authenticated API client (the token's client id), on `api` routes. */
  perClient: number;
}

function groupOf(url: string, config: { rateLimit?: RateLimitGroup | false; scope?: string } | undefined): RateLimitGroup | null {
  if (config?.rateLimit !== undefined) return config.rateLimit === false ? null : config.rateLimit;
  if (url === '/oauth/token') return 'token';
  if (url.startsWith('/v1/device-api/')) return 'device';
  if (url.startsWith('/v1/callbacks/') || url.startsWith('/v1/inbound/')) return 'inbound';
  if (config?.scope !== undefined) return 'api';
  return null;
}

function appendHeader(reply: FastifyReply, name: string, member: string): void {
  const before = reply.getHeader(name);
  reply.header(name, before === undefined ? member : `${String(before)}, ${member}`);
}

/**
 * Adds the decision to the draft-ietf-httpapi-ratelimit-headers fields (one list member per
 * policy that applied) and refuses the request when it is over the quota.
 */
function enforce(reply: FastifyReply, decision: RateDecision): void {
  const { name, quota, windowSeconds } = decision.policy;
  appendHeader(reply, 'ratelimit-policy', `"${name}";q=${quota};w=${windowSeconds}`);
  appendHeader(reply, 'ratelimit', `"${name}";r=${decision.remaining};t=${decision.resetSeconds}`);
  if (!decision.allowed) {
    throw new OutbandError('rate_limited', `more than ${quota} requests in ${windowSeconds} s (policy "${name}"); try again in ${decision.resetSeconds} s`, {
      policy: name,
      retry_after: decision.resetSeconds,
    });
  }
}

/**
 * Per-address and per-client request limits, in this node's memory (ADR 0013). The address limit
 * runs first, before authentication, keyed on `request.ip`, which follows X-Forwarded-For only
 * from the trusted proxies. The client limit runs once the auth hook has named the client.
 * Register before the auth plugin, so that a flood of bad tokens is counted too.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, options: { settings: RateLimitSettings; clock: Clock }) => {
    const { settings, clock } = options;
    const limit = (name: string, quota: number): RateWindows | null =>
      quota > 0 ? createRateWindows({ name, quota, windowSeconds: settings.windowSeconds }, settings.maxKeys) : null;
    const perIp: Record<RateLimitGroup, RateWindows | null> = {
      token: limit('token-ip', settings.perIp.token),
      api: limit('api-ip', settings.perIp.api),
      device: limit('device-ip', settings.perIp.device),
      inbound: limit('inbound-ip', settings.perIp.inbound),
    };
    const perClient = limit('api-client', settings.perClient);

    app.addHook('onRoute', (route) => {
      const group = groupOf(route.url, route.config);
      if (group === null) return;
      route.config = { ...route.config, rateLimit: group };
      if (route.schema?.response !== undefined) {
        route.schema = { ...route.schema, response: { 429: Problem, ...(route.schema.response as object) } };
      }
    });

    app.addHook('onRequest', async (request, reply) => {
      const group = request.routeOptions.config.rateLimit;
      if (group === undefined || group === false) return;
      const windows = perIp[group];
      if (windows !== null) enforce(reply, windows.hit(addressKey(request.ip), clock.now()));
    });

    // preParsing runs after every onRequest hook, so the auth hook has set the principal.
    app.addHook('preParsing', async (request, reply) => {
      if (perClient === null || request.routeOptions.config.rateLimit !== 'api' || !request.principal) return;
      enforce(reply, perClient.hit(request.principal.clientId, clock.now()));
    });
  },
  { name: 'outband-rate-limit' },
);
