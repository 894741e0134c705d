import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { parseSeqCursor, parseTypes } from '../../domain/event-log.ts';
import type { EventLogService } from '../../services/event-log.ts';
import { principalOf } from '../plugins/auth.ts';
import { problems, Timestamp } from '../schemas/common.ts';
import { openEventStream } from '../sse.ts';

const Subject = Type.Object(
  {
    type: Type.String({ description: 'What the event is about: verification, user, device, delivery, application or client' }),
    id: Type.String({ description: "The subject's id" }),
  },
  { description: 'The thing the event is about' },
);

const Details = Type.Object({}, { additionalProperties: true, description: 'What the event records, by type (see docs/events.md); never a code, a secret or a token' });

const EventItem = Type.Object({
  id: Type.String({ description: 'The event id' }),
  seq: Type.Integer({ description: "The event's number in its application: gap-free, in commit order; the cursor" }),
  type: Type.String({ description: 'What happened, e.g. verification.approved' }),
  subject: Subject,
  user_id: Type.Union([Type.Null(), Type.String()], { description: 'The user it is about, when there is one' }),
  actor: Type.Union([Type.Null(), Type.String()], { description: 'Who caused it: client:<id>, device:<id>, system, …' }),
  data: Details,
  created_at: Timestamp('When it happened (UTC)'),
});

const TypesParam = Type.String({
  maxLength: 1000,
  description: 'Only these types, comma-separated: exact names (verification.approved) or prefixes (verification.*)',
});

const AfterParam = Type.String({ maxLength: 15, pattern: '^\\d*$', description: 'Events after this seq (next_cursor of a previous page); 0 or absent: from the start' });

const EventsQuery = Type.Object(
  {
    after: Type.Optional(AfterParam),
    types: Type.Optional(TypesParam),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Most events to return; default 100' })),
  },
  { additionalProperties: false },
);

const StreamQuery = Type.Object(
  {
    after: Type.Optional(AfterParam),
    types: Type.Optional(TypesParam),
  },
  { additionalProperties: false },
);

const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ maxLength: 15, description: 'The id of the last event received (EventSource sends it when it reconnects); wins over `after`' })),
});

const EventPage = Type.Object({
  items: Type.Array(EventItem, { description: 'The events, oldest first' }),
  next_cursor: Type.String({ description: 'Pass as `after` for the next page; on an empty page, the cursor given (poll with it)' }),
  has_more: Type.Boolean({ description: 'Whether more events follow already' }),
});

/** The application's event log, by page and as a Server-Sent Events stream (ADR 0011). */
export const eventRoutes: FastifyPluginAsyncTypebox<{ events: EventLogService; shutdown: AbortSignal }> = async (app, { events, shutdown }) => {
  app.get(
    '/',
    {
      config: { scope: 'events:read' },
      schema: {
        tags: ['events'],
        summary: "Page through the application's event log",
        description:
          'Every change (verifications, devices, users, settings, refused requests, …) in the order it was committed, numbered per application without gaps. ' +
          'Page with `after=next_cursor`: a page never skips an event that commits later, because numbers follow commit order.',
        querystring: EventsQuery,
        response: { 200: EventPage, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const q = request.query;
      return events.list(principalOf(request), {
        ...(q.after === undefined ? {} : { after: q.after }),
        ...(q.types === undefined ? {} : { types: q.types }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
      });
    },
  );

  app.get(
    '/stream',
    {
      config: { scope: 'events:read' },
      schema: {
        tags: ['events'],
        summary: "Follow the application's event log (Server-Sent Events)",
        description:
          'Unnamed events (EventSource `message`), one per log event, `id:` its seq and `data:` the event as GET /v1/events shows it: first those after `Last-Event-ID` (or `after`), then each new one as it commits. ' +
          'A `: ping` comment every 15 s. Reconnecting with Last-Event-ID misses nothing and repeats nothing.',
        querystring: StreamQuery,
        headers: StreamHeaders,
        response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      // Parsed before the stream opens, so a bad value is still a 400.
      const lastEventId = request.headers['last-event-id'];
      const after = lastEventId !== undefined && lastEventId !== '' ? parseSeqCursor(lastEventId, 'Last-Event-ID') : parseSeqCursor(request.query.after, 'after');
      const types = parseTypes(request.query.types);
      const stream = openEventStream(reply, shutdown);
      await events.follow(principal, after, types, (item) => stream.send(null, item, String(item.seq)), stream.closed);
      stream.end();
    },
  );
};
