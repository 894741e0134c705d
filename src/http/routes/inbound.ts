import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { OutbandError } from '../../domain/errors.ts';
import type { ProviderRequest } from '../../providers/types.ts';
import type { Clock, ProviderSet } from '../../services/deps.ts';
import type { InboundSmsService } from '../../services/inbound-sms.ts';
import { problems } from '../schemas/common.ts';

/**
 * Inbound SMS from providers (two-way replies). Not authenticated by a bearer token but by the
 * provider's own signature over the exact request, so bodies are kept as received.
 */
export const inboundRoutes: FastifyPluginAsyncTypebox<{ providers: ProviderSet; inbound: InboundSmsService; publicUrl: string; clock: Clock }> = async (
  app,
  { providers, inbound, publicUrl, clock },
) => {
  app.removeAllContentTypeParsers();
  for (const type of ['application/json', 'application/x-www-form-urlencoded']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  }

  app.post(
    '/sms/:provider',
    {
      schema: {
        tags: ['inbound'],
        summary: 'An inbound SMS from a provider (a two-way reply)',
        description:
          "Called by the SMS provider, signed with its own scheme (webhook: Standard Webhooks headers with SMS_WEBHOOK_SECRET). A reply from a number with a pending two-way verification checks the code in it. The answer never says whether the reply matched anything.",
        params: Type.Object({ provider: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', description: 'The provider name, e.g. webhook' }) }),
        response: { 200: Type.Object({ status: Type.Literal('accepted', { description: 'Always "accepted" once authenticated' }) }), ...problems(400, 401, 404, 413, 415) },
      },
    },
    async (request) => {
      const endpoint = providers.get(request.params.provider)?.inboundSms;
      if (endpoint === undefined) throw new OutbandError('provider_not_found', `no configured provider "${request.params.provider}" takes inbound SMS`);
      const rawBody = typeof request.body === 'string' ? request.body : '';
      const isForm = String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const providerRequest: ProviderRequest = {
        url: new URL(request.url, publicUrl).toString(),
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
        rawBody,
        form: isForm ? Object.fromEntries(new URLSearchParams(rawBody)) : {},
      };
      const now = clock.now();
      if (!endpoint.authenticate(providerRequest, now)) throw new OutbandError('invalid_signature', 'the signature is missing, wrong or too old');
      const message = endpoint.parse(providerRequest, now);
      if (message === null) throw new OutbandError('invalid_request', 'the request is not an inbound SMS this provider sends');
      await inbound.receive(message);
      return { status: 'accepted' as const };
    },
  );
};
