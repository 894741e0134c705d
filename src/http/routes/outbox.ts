import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { MAX_WAIT_SECONDS } from '../../domain/policy/limits.ts';
import type { OutboxFilter, OutboxService } from '../../services/outbox.ts';
import { principalOf } from '../plugins/auth.ts';
import { Id, problems, Timestamp } from '../schemas/common.ts';

const OutboxItem = Type.Object({
  id: Type.String({ description: 'Id of the stored message' }),
  verification_id: Type.Union([Type.Null(), Type.String()], { description: 'The verification the message belongs to' }),
  channel: Type.String({ description: 'sms or email' }),
  to: Type.String({ description: 'The recipient, in full' }),
  subject: Type.Union([Type.Null(), Type.String()], { description: 'E-mail subject' }),
  body: Type.String({ description: 'The text of the message, with the code' }),
  html: Type.Union([Type.Null(), Type.String()], { description: 'HTML body of an e-mail' }),
  created_at: Timestamp('When it was "sent"'),
});

export const outboxRoutes: FastifyPluginAsyncTypebox<{ outbox: OutboxService }> = async (app, { outbox }) => {
  app.get(
    '/',
    {
      config: { scope: 'outbox:read' },
      schema: {
        tags: ['development'],
        summary: 'Messages sent through the development outbox provider, newest first',
        description:
          "Only this application's messages. This is where a developer reads the code that a real provider would have delivered. With `wait`, when no message matches yet, answers as soon as one is stored, or after `wait` seconds with an empty list.",
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'Most items to return; default 50' })),
            verification_id: Type.Optional(Id('Only messages of this verification')),
            to: Type.Optional(Type.String({ maxLength: 254, description: 'Only messages to this recipient (E.164 or e-mail, exactly as sent)' })),
            wait: Type.Optional(
              Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, description: `Long-poll: when no message matches yet, wait up to this many seconds (≤ ${MAX_WAIT_SECONDS}) for one` }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(OutboxItem, { description: 'The messages, newest first' }) }), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const q = request.query;
      const filter: OutboxFilter = { limit: q.limit ?? 50 };
      if (q.verification_id !== undefined) filter.verificationId = q.verification_id;
      if (q.to !== undefined) filter.to = q.to;
      return { items: await outbox.list(principalOf(request).applicationId, filter, q.wait ?? 0) };
    },
  );
};
