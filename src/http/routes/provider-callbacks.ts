import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { OutbandError } from '../../domain/errors.ts';
import type { ProviderRequest } from '../../providers/types.ts';
import type { Clock, ProviderSet } from '../../services/deps.ts';
import type { InboundSmsService } from '../../services/inbound-sms.ts';
import type { ReceiptService } from '../../services/receipts.ts';
import { problems } from '../schemas/common.ts';

function providerRequest(request: FastifyRequest, publicUrl: string): ProviderRequest {
  const rawBody = typeof request.body === 'string' ? request.body : '';
  const isForm = String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  return {
    // Providers sign the public URL they called, query string included.
    url: new URL(request.url, publicUrl).toString(),
    headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
    rawBody,
    form: isForm ? Object.fromEntries(new URLSearchParams(rawBody)) : {},
  };
}

const ProviderParams = Type.Object({ provider: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', description: 'The provider name, e.g. webhook or twilio' }) });

/**
 * Requests from providers: inbound SMS (two-way replies) and delivery-status callbacks. Not
 * authenticated by a bearer token but by the provider's own signature over the exact request,
 * so bodies are kept as received.
 */
export const providerCallbackRoutes: FastifyPluginAsyncTypebox<{
  providers: ProviderSet;
  inbound: InboundSmsService;
  receipts: ReceiptService;
  publicUrl: string;
  clock: Clock;
}> = async (app, { providers, inbound, receipts, publicUrl, clock }) => {
  app.removeAllContentTypeParsers();
  for (const type of ['application/json', 'application/x-www-form-urlencoded']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  }

  app.post(
    '/callbacks/:provider',
    {
      schema: {
        tags: ['inbound'],
        summary: "A provider's delivery-status callback",
        description:
          "Called by the provider (twilio: set TWILIO_STATUS_CALLBACK_URL to {PUBLIC_URL}/v1/callbacks/twilio), signed with its own scheme. A final status makes the message delivered or undelivered, once; repeats change nothing.",
        params: ProviderParams,
        response: { 200: Type.Object({ status: Type.Literal('accepted', { description: 'Always "accepted" once authenticated' }) }), ...problems(400, 401, 404, 413, 415) },
      },
    },
    async (request) => {
      const endpoint = providers.get(request.params.provider)?.statusCallback;
      if (endpoint === undefined) throw new OutbandError('provider_not_found', `no configured provider "${request.params.provider}" sends status callbacks`);
      const incoming = providerRequest(request, publicUrl);
      const now = clock.now();
      if (!endpoint.authenticate(incoming, now)) throw new OutbandError('invalid_signature', 'the signature is missing or wrong');
      const receipt = endpoint.parse(incoming, now);
      // Statuses that are not final (queued, ringing …) are taken and ignored.
      if (receipt !== null) await receipts.record(receipt);
      return { status: 'accepted' as const };
    },
  );

  app.post(
    '/inbound/sms/:provider',
    {
      schema: {
        tags: ['inbound'],
        summary: 'An inbound SMS from a provider (a two-way reply)',
        description:
          "Called by the SMS provider, signed with its own scheme (webhook: Standard Webhooks headers with SMS_WEBHOOK_SECRET). A reply from a number with a pending two-way verification checks the code in it. The answer never says whether the reply matched anything.",
        params: ProviderParams,
        response: { 200: Type.Object({ status: Type.Literal('accepted', { description: 'Always "accepted" once authenticated' }) }), ...problems(400, 401, 404, 413, 415) },
      },
    },
    async (request, reply) => {
      const endpoint = providers.get(request.params.provider)?.inboundSms;
      if (endpoint === undefined) throw new OutbandError('provider_not_found', `no configured provider "${request.params.provider}" takes inbound SMS`);
      const incoming = providerRequest(request, publicUrl);
      const now = clock.now();
      if (!endpoint.authenticate(incoming, now)) throw new OutbandError('invalid_signature', 'the signature is missing, wrong or too old');
      const message = endpoint.parse(incoming, now);
      if (message === null) throw new OutbandError('invalid_request', 'the request is not an inbound SMS this provider sends');
      await inbound.receive(message);
      // A string body goes out as it is, not through the JSON schema of the default answer.
      if (endpoint.reply !== undefined) return reply.type(endpoint.reply.contentType).send(endpoint.reply.body as never);
      return { status: 'accepted' as const };
    },
  );
};
