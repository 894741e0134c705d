import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { Transport } from '../../domain/device/device.ts';
import { OutbandError } from '../../domain/errors.ts';
import type { DeviceRequest } from '../../services/device-auth.ts';
import type { DeviceApi } from '../../services/device-api.ts';
import { deviceView } from '../../services/devices.ts';
import { problems } from '../schemas/common.ts';
import { DeviceView, EnrollBody, EnrollResult, PushRequestList, PushRequestView, RequestParams, RespondBody, RespondResult, TransportBody } from '../schemas/devices.ts';
import { openEventStream } from '../sse.ts';
import { WebAuthnCreationOptions, WebAuthnOptionsBody } from '../schemas/webauthn.ts';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received: device JWS sign its hash. */
    rawBody?: Buffer;
  }
}

function deviceRequest(request: FastifyRequest): DeviceRequest {
  const authorization = request.headers.authorization;
  return { authorization: typeof authorization === 'string' ? authorization : undefined, method: request.method, url: request.url, rawBody: request.rawBody ?? Buffer.alloc(0) };
}

const security = [{ device: [] }];

/**
 * The device API (docs/device-api.md): authenticators enrol, list and follow their requests,
 * and answer them. No bearer token: every call carries a JWS signed by the device's key.
 */
export const deviceApiRoutes: FastifyPluginAsyncTypebox<{ deviceApi: DeviceApi; shutdown: AbortSignal }> = async (app, { deviceApi, shutdown }) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch (error) {
      done(new OutbandError('malformed_json', `the body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });

  app.post(
    '/enroll',
    {
      schema: {
        tags: ['device API'],
        summary: 'Enrol an authenticator with its activation token',
        description: 'The JWS in the Authorization header has no kid: it is verified with public_key, proving the caller holds its private half.',
        security,
        body: EnrollBody,
        response: { 201: EnrollResult, ...problems(400, 401, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await deviceApi.enroll(
        deviceRequest(request),
        {
          token: body.token,
          publicKey: body.public_key,
          transport: body.transport as Transport,
          capabilities: body.capabilities,
          ...(body.name === undefined ? {} : { name: body.name }),
          ...(body.webauthn === undefined ? {} : { webauthn: body.webauthn as unknown as RegistrationResponseJSON }),
        },
        request.ip,
      );
      return reply.code(201).send({ device: deviceView(result.device), audience: result.audience, vapid_public_key: result.vapidPublicKey });
    },
  );

  app.post(
    '/enroll/webauthn-options',
    {
      schema: {
        tags: ['device API'],
        summary: 'WebAuthn creation options for a web authenticator enrolment',
        description:
          'The web authenticator asks, with the activation token, for the options of navigator.credentials.create(); the registration then goes with POST /enroll as `webauthn`. Signed like POST /enroll: a JWS without kid, verified with public_key. The challenge is stored with the pending enrolment; a later call replaces it.',
        security,
        body: WebAuthnOptionsBody,
        response: { 200: WebAuthnCreationOptions, ...problems(400, 401, 409, 413, 415) },
      },
    },
    // rp.id is always set (optional only in the WebAuthn type).
    async (request) => (await deviceApi.webauthnOptions(deviceRequest(request), request.body.token, request.body.public_key)) as Static<typeof WebAuthnCreationOptions>,
  );

  app.get(
    '/device',
    { schema: { tags: ['device API'], summary: 'This device, as the server sees it', security, response: { 200: DeviceView, ...problems(400, 401) } } },
    async (request) => deviceView(await deviceApi.authenticate(deviceRequest(request))),
  );

  app.put(
    '/transport',
    {
      schema: {
        tags: ['device API'],
        summary: 'Register a new push token or subscription',
        description: 'Accepted with an issue time up to 5 minutes off (other calls: 1 minute). Clears a stale transport.',
        security,
        body: TransportBody,
        response: { 200: DeviceView, ...problems(400, 401, 413, 415) },
      },
    },
    async (request) => deviceView(await deviceApi.updateTransport(deviceRequest(request), request.body.transport as Transport)),
  );

  app.get(
    '/requests',
    { schema: { tags: ['device API'], summary: 'Requests pending for this device', security, response: { 200: PushRequestList, ...problems(400, 401) } } },
    async (request) => ({ items: await deviceApi.requests(await deviceApi.authenticate(deviceRequest(request))) }),
  );

  app.get(
    '/requests/:id',
    { schema: { tags: ['device API'], summary: 'One request, as a push notice names it', security, params: RequestParams, response: { 200: PushRequestView, ...problems(400, 401, 404) } } },
    async (request) => deviceApi.request(await deviceApi.authenticate(deviceRequest(request)), request.params.id),
  );

  app.post(
    '/requests/:id/respond',
    {
      schema: {
        tags: ['device API'],
        summary: 'Approve, deny or report a request',
        description:
          "Signed twice: the Authorization JWS, and `signature` (or, from a web authenticator, the WebAuthn assertion `webauthn`) over the request id, this device's id, the request's challenge, the decision, the user verification and the answer.",
        security,
        params: RequestParams,
        body: RespondBody,
        response: { 200: RespondResult, ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request) => {
      const device = await deviceApi.authenticate(deviceRequest(request));
      const body = request.body;
      return deviceApi.respond(device, request.params.id, {
        decision: body.decision,
        userVerification: body.user_verification,
        answer: body.answer ?? null,
        signature: body.signature,
        webauthn: body.webauthn as unknown as AuthenticationResponseJSON | undefined,
      });
    },
  );

  app.get(
    '/stream',
    {
      schema: {
        tags: ['device API'],
        summary: "Follow this device's requests (Server-Sent Events)",
        description: 'Events: `request` (a request to answer; every pending one first), `withdrawn` (no longer answerable), `revoked` (the device was unpaired; the stream ends). A `: ping` comment every 15 s.',
        security,
        response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...problems(400, 401) },
      },
    },
    async (request, reply) => {
      const device = await deviceApi.authenticate(deviceRequest(request));
      const stream = openEventStream(reply, shutdown);
      const stop = new AbortController();
      void stream.closed.then(() => stop.abort());
      await deviceApi.watch(
        device,
        {
          request: (view) => stream.send('request', view),
          withdrawn: (change) => stream.send('withdrawn', change),
          revoked: () => {
            stream.send('revoked', { id: device.id });
            stream.end();
          },
        },
        stop.signal,
      );
      stream.end();
    },
  );
};
