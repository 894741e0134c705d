import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { deviceView, type Actor, type DeviceService } from '../../services/devices.ts';
import { actorOf as principalActor } from '../../services/tokens.ts';
import { principalOf } from '../plugins/auth.ts';
import { problems } from '../schemas/common.ts';
import { BypassBody, BypassView, DeviceCreateBody, DeviceCreated, DeviceList, DeviceParams, DevicePatchBody, DeviceView } from '../schemas/devices.ts';
import { UserParams } from '../schemas/users.ts';

function actorOf(request: FastifyRequest): Actor {
  return { id: principalActor(principalOf(request)), ip: request.ip };
}

/** A user's devices (under /v1/users/{id}) and each device (under /v1/devices/{id}). */
export const userDeviceRoutes: FastifyPluginAsyncTypebox<{ devices: DeviceService }> = async (app, { devices }) => {
  app.get(
    '/:id/devices',
    {
      config: { scope: 'users:read' },
      schema: { tags: ['devices'], summary: "List a user's devices", params: UserParams, response: { 200: DeviceList, ...problems(400, 401, 403, 404) } },
    },
    async (request) => ({ items: (await devices.list(principalOf(request), request.params.id)).map(deviceView) }),
  );

  app.post(
    '/:id/devices',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['devices'],
        summary: 'Pair a device',
        description:
          'push: answers a pending device and an enrolment (one-time token, link and QR code) for the authenticator to enrol with. ' +
          'sms, voice, email: sends a pairing code (manual; confirm it with POST /v1/verifications/{id}/check, 3 tries) or, with the admin scope, pairs at once (automatic). ' +
          "A new pairing cancels the user's unfinished pairings of the same kind; a user has at most max_devices devices.",
        params: UserParams,
        body: DeviceCreateBody,
        response: { 201: DeviceCreated, ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const result = await devices.pair(principalOf(request), request.params.id, request.body, actorOf(request));
      return reply.code(201).send({
        device: deviceView(result.device),
        ...(result.enrolment === undefined ? {} : { enrolment: result.enrolment }),
        ...(result.verification === undefined ? {} : { verification: result.verification }),
      });
    },
  );

  app.post(
    '/:id/bypass',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['devices'],
        summary: "Bypass the user's verifications until a time",
        description: 'Until `until` (at most 24 h ahead), verifications of this user are answered at once with status approved and bypass: true; nothing is sent. The relying party decides what a bypass allows. Recorded as an event naming who set it.',
        params: UserParams,
        body: BypassBody,
        response: { 200: BypassView, ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request) => {
      const user = await devices.setBypass(principalOf(request), request.params.id, Date.parse(request.body.until), actorOf(request));
      return { user_id: user.id, bypass_until: user.bypassUntil === null ? null : new Date(user.bypassUntil).toISOString() };
    },
  );

  app.delete(
    '/:id/bypass',
    {
      config: { scope: 'admin' },
      schema: { tags: ['devices'], summary: 'End a bypass', params: UserParams, response: { 200: BypassView, ...problems(400, 401, 403, 404, 409) } },
    },
    async (request) => {
      const user = await devices.setBypass(principalOf(request), request.params.id, null, actorOf(request));
      return { user_id: user.id, bypass_until: null };
    },
  );
};

export const deviceRoutes: FastifyPluginAsyncTypebox<{ devices: DeviceService }> = async (app, { devices }) => {
  app.get(
    '/:id',
    {
      config: { scope: 'users:read' },
      schema: { tags: ['devices'], summary: 'Read a device', params: DeviceParams, response: { 200: DeviceView, ...problems(400, 401, 403, 404) } },
    },
    async (request) => deviceView(await devices.get(principalOf(request), request.params.id)),
  );

  app.patch(
    '/:id',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['devices'],
        summary: 'Rename a device or change its role',
        params: DeviceParams,
        body: DevicePatchBody,
        response: { 200: DeviceView, ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request) => deviceView(await devices.update(principalOf(request), request.params.id, request.body, actorOf(request))),
  );

  app.delete(
    '/:id',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['devices'],
        summary: 'Unpair a device',
        description: "Its key is forgotten at once, so nothing it signs is accepted any more; its pending verifications are cancelled; if it was primary, the oldest paired device left becomes primary.",
        params: DeviceParams,
        response: { 204: Type.Null({ description: 'Unpaired' }), ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await devices.unpair(principalOf(request), request.params.id, actorOf(request));
      return reply.code(204).send(null);
    },
  );
};
