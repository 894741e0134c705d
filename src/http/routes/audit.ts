import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuditQuery, EventLogService } from '../../services/event-log.ts';
import { principalOf } from '../plugins/auth.ts';
import { problems } from '../schemas/common.ts';

const When = (description: string) => Type.String({ maxLength: 40, description });

const AuditEntry = Type.Object({
  at: Type.String({ format: 'date-time', description: 'When, in UTC' }),
  seq: Type.Integer({ description: "The event's number in the application's event log" }),
  actor: Type.Union([Type.Null(), Type.String()], { description: 'Who: client:<id>, device:<id>, agent:<id>, system, …' }),
  action: Type.String({ description: 'What: the event type, e.g. verification.check_failed, user.bypass_set, authorization.denied' }),
  subject: Type.Object(
    {
      type: Type.String({ description: 'verification, user, device, delivery, application or client' }),
      id: Type.String({ description: "The subject's id" }),
    },
    { description: 'What it was done to' },
  ),
  user_id: Type.Union([Type.Null(), Type.String()], { description: 'To whom: the user it concerns, when there is one' }),
  channel: Type.Union([Type.Null(), Type.String()], { description: 'The channel, when the action has one (sms, email, push, …)' }),
  result: Type.Union([Type.Null(), Type.String()], { description: 'How it ended, when the event says: a status (approved, pending, failed, …) or denied' }),
  details: Type.Object({}, { additionalProperties: true, description: "The event's data; never a code, a secret or a token" }),
});

const AuditQuerySchema = Type.Object(
  {
    user_id: Type.Optional(Type.String({ maxLength: 64, description: 'Only what concerns this user' })),
    actor: Type.Optional(Type.String({ maxLength: 128, description: 'Only what this actor did, e.g. client:cli_…' })),
    from: Type.Optional(When('From this instant (ISO 8601 with offset), or from the start of this UTC date (YYYY-MM-DD); inclusive')),
    to: Type.Optional(When('Up to this instant (exclusive), or to the end of this UTC date (YYYY-MM-DD)')),
    types: Type.Optional(Type.String({ maxLength: 1000, description: 'Only these actions, comma-separated: exact types or prefixes (verification.*)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Most entries to return; default 100' })),
    cursor: Type.Optional(Type.String({ maxLength: 64, description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);

/** Who did what to whom and when, from the event log (SEC-45). */
export const auditRoutes: FastifyPluginAsyncTypebox<{ events: EventLogService }> = async (app, { events }) => {
  app.get(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['events'],
        summary: 'The audit trail: who did what to whom, and when',
        description:
          'Read from the event log, in time order: verification attempts and their outcome, device and user changes, bypasses, agents\' actions, settings changes and requests refused for a missing scope. ' +
          'Filters combine; `next_cursor` is null on the last page.',
        querystring: AuditQuerySchema,
        response: {
          200: Type.Object({
            items: Type.Array(AuditEntry, { description: 'The entries, oldest first' }),
            next_cursor: Type.Union([Type.Null(), Type.String()], { description: 'Pass as `cursor` for the next page; null when there is none' }),
          }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request) => {
      const query: AuditQuery = {};
      for (const [key, value] of Object.entries(request.query)) if (value !== undefined) (query as Record<string, unknown>)[key] = value;
      return events.audit(principalOf(request), query);
    },
  );
};
