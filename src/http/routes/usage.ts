import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { OutbandError } from '../../domain/errors.ts';
import type { Clock } from '../../services/deps.ts';
import type { FraudControls } from '../../services/fraud.ts';
import type { Usage } from '../../services/usage.ts';
import type { Store } from '../../store/store.ts';
import { principalOf } from '../plugins/auth.ts';
import { problems } from '../schemas/common.ts';
import { AuthenticatorParams, AuthenticatorStatus, UsageQuery, UsageView } from '../schemas/usage.ts';

/** Usage counters of a UTC day (admin). */
export const usageRoutes: FastifyPluginAsyncTypebox<{ usage: Usage; clock: Clock }> = async (app, { usage, clock }) => {
  app.get(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['usage'],
        summary: "A user's usage counters of a UTC day, or the application's",
        description:
          'Per channel: used (answered: a right or wrong code, an approval, a denial) and unused (never answered) verifications, with the limit that applies. ' +
          'Counters reset at 00:00 UTC; the trial plan\'s pairing-message total (channel "pairing") never does. Without user_id: the application\'s own counters (its daily caps).',
        querystring: UsageQuery,
        response: { 200: UsageView, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => usage.viewFor(principalOf(request), request.query.user_id, request.query.date, clock.now()),
  );
};

/** Authenticators locked after consecutive failures, and their re-binding (admin). */
export const authenticatorRoutes: FastifyPluginAsyncTypebox<{ fraud: FraudControls; store: Store; clock: Clock }> = async (app, { fraud, store, clock }) => {
  const capOf = async (applicationId: string) => (await store.applications.byId(applicationId))?.settings.fraud.authenticatorFailureCap ?? 0;

  app.get(
    '/:authenticator',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['usage'],
        summary: "An authenticator's consecutive failures and lock",
        params: AuthenticatorParams,
        response: { 200: AuthenticatorStatus, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return fraud.status(principal.applicationId, request.params.authenticator, await capOf(principal.applicationId));
    },
  );

  app.delete(
    '/:authenticator/lock',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['usage'],
        summary: 'Re-bind a locked authenticator',
        description:
          'After an admin has confirmed the person another way: the phone number, e-mail address or device may be used again, its failure count back at zero. Recorded as authenticator.unlocked with the actor.',
        params: AuthenticatorParams,
        response: { 204: { type: 'null', description: 'Unlocked' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const done = await fraud.unlock(principal.applicationId, request.params.authenticator, `client:${principal.clientId}`, clock.now());
      if (!done) throw new OutbandError('authenticator_not_locked', `${request.params.authenticator.includes('@') || request.params.authenticator.startsWith('+') ? 'this address' : 'this device'} is not locked`);
      return reply.code(204).send(null);
    },
  );
};
