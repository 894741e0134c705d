import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { UserService } from '../../services/users.ts';
import { principalOf } from '../plugins/auth.ts';
import { problems } from '../schemas/common.ts';
import { UserCreateBody, UserList, UserLookupQuery, UserParams, UserPatchBody, UserView, userView } from '../schemas/users.ts';

export const userRoutes: FastifyPluginAsyncTypebox<{ users: UserService }> = async (app, { users }) => {
  app.post(
    '/',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: 'Register a user',
        body: UserCreateBody,
        response: { 201: UserView, ...problems(400, 401, 403, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(userView(await users.create(principalOf(request), request.body))),
  );

  app.get(
    '/',
    {
      config: { scope: 'users:read' },
      schema: {
        tags: ['users'],
        summary: 'Look users up by e-mail, phone or external id',
        querystring: UserLookupQuery,
        response: { 200: UserList, ...problems(400, 401, 403, 422) },
      },
    },
    async (request) => {
      const q = request.query;
      const lookup = q.email !== undefined ? { email: q.email } : q.phone !== undefined ? { phone: q.phone } : { externalId: q.external_id as string };
      return { items: (await users.find(principalOf(request), lookup)).map(userView) };
    },
  );

  app.get(
    '/:id',
    {
      config: { scope: 'users:read' },
      schema: { tags: ['users'], summary: 'Read a user', params: UserParams, response: { 200: UserView, ...problems(400, 401, 403, 404) } },
    },
    async (request) => userView(await users.get(principalOf(request), request.params.id)),
  );

  app.patch(
    '/:id',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: 'Change a user',
        description:
          'Setting or changing `phone` binds a new authenticator (SEC-12): it is recorded as `authenticator.bound` and the user is told on their e-mail and previous number. ' +
          'Under the nist profile, for a user with a paired authenticator, it needs `step_up_verification_id` (403 step_up_required, step_up_invalid).',
        params: UserParams,
        body: UserPatchBody,
        response: { 200: UserView, ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request) => userView(await users.update(principalOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/:id',
    {
      config: { scope: 'users:write' },
      schema: { tags: ['users'], summary: 'Delete a user; past verifications stay', params: UserParams, response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      await users.remove(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
