import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { VerificationService } from '../../services/verifications.ts';
import { principalOf } from '../plugins/auth.ts';
import { encodeEvent, openEventStream } from '../sse.ts';
import { problems } from '../schemas/common.ts';
import { CheckBody, CheckResult, ResendBody, VerificationDetail, VerificationParams, VerificationStartBody, VerificationStarted, VerificationView, WaitQuery } from '../schemas/verifications.ts';

// Every response about a verification (start, read, stream, check, resend, cancel) carries its
// assurance report: the service builds it into the view, from the application it has loaded.
export const verificationRoutes: FastifyPluginAsyncTypebox<{ verifications: VerificationService; shutdown: AbortSignal }> = async (app, { verifications, shutdown }) => {
  // The long-polls and streams woken by one change get the same view object: its answer and its
  // event are encoded once for all of them (see encodeEvent).
  const encodedViews = new WeakMap<object, Buffer>();
  const encodedEvents = new WeakMap<object, Buffer>();
  app.post(
    '/',
    {
      config: { scope: 'verifications:write' },
      schema: {
        tags: ['verifications'],
        summary: 'Start a verification: send a one-time code',
        description: 'Sends a code to the user (user_id) or an address (to) on the channel. The code itself is never returned, unless return_code is set.',
        body: VerificationStartBody,
        response: { 201: VerificationStarted, ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const { view, code, missedCall, push } = await verifications.start(principalOf(request), request.body);
      return reply.code(201).send({ ...view, ...(code === undefined ? {} : { code }), ...missedCall, ...push });
    },
  );

  app.get(
    '/:id',
    {
      config: { scope: 'verifications:read' },
      schema: {
        tags: ['verifications'],
        summary: 'Read a verification, or wait for its result',
        description: 'With `wait`, answers as soon as the status changes, or after `wait` seconds with the current state.',
        params: VerificationParams,
        querystring: WaitQuery,
        response: { 200: VerificationDetail, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const view = await verifications.get(principalOf(request), request.params.id, request.query.wait ?? 0);
      let body = encodedViews.get(view);
      if (body === undefined) {
        body = Buffer.from(reply.serialize(view) as string, 'utf8');
        encodedViews.set(view, body);
      }
      // Bytes are sent as they are (the typed reply knows only the schema's object), after the
      // response schema's serialisation above.
      return (reply as FastifyReply).type('application/json; charset=utf-8').send(body);
    },
  );

  app.get(
    '/:id/stream',
    {
      config: { scope: 'verifications:read' },
      schema: {
        tags: ['verifications'],
        summary: "Follow a verification's status (Server-Sent Events)",
        description:
          'A `status` event with the verification now and at every change, as GET answers it (with `deliveries` and `assurance`); the stream ends after the final status. Reconnecting is safe: the first event is always the current state.',
        params: VerificationParams,
        response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      // Looked up before the stream opens, so an unknown id is still a 404; the first event reads the view.
      await verifications.ensureExists(principal, request.params.id);
      const stream = openEventStream(reply, shutdown);
      await verifications.follow(
        principal,
        request.params.id,
        (view, json) => {
          let bytes = encodedEvents.get(view);
          if (bytes === undefined) encodedEvents.set(view, (bytes = encodeEvent('status', json)));
          stream.sendEncoded(bytes);
        },
        stream.closed,
      );
      stream.end();
    },
  );

  app.post(
    '/:id/check',
    {
      config: { scope: 'verifications:write' },
      schema: {
        tags: ['verifications'],
        summary: 'Check the code the user typed',
        description: 'A right code approves the verification. A wrong one uses up an attempt; the last wrong attempt fails it. A final verification answers 409 with its status.',
        params: VerificationParams,
        body: CheckBody,
        response: { 200: CheckResult, ...problems(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (request) => verifications.check(principalOf(request), request.params.id, request.body.code, request.ip),
  );

  app.post(
    '/:id/resend',
    {
      config: { scope: 'verifications:write' },
      schema: {
        tags: ['verifications'],
        summary: 'Send a new code',
        description:
          'Sends a new code, on the same channel or another enabled one. The previous code stops working, the attempts already used stay used, and the expiry does not move. ' +
          'At most 3 resends, 30 s apart: earlier answers 429 resend_cooldown with retry_after.',
        params: VerificationParams,
        body: ResendBody,
        response: { 200: VerificationView, ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) },
      },
      // No body at all means the defaults, as an empty object does.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => verifications.resend(principalOf(request), request.params.id, request.body),
  );

  app.post(
    '/:id/cancel',
    {
      config: { scope: 'verifications:write' },
      schema: {
        tags: ['verifications'],
        summary: 'Cancel a pending verification',
        params: VerificationParams,
        response: { 200: VerificationView, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => verifications.cancel(principalOf(request), request.params.id),
  );
};
