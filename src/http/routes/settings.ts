import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SettingsPatch } from '../../domain/policy/settings.ts';
import type { PolicyService } from '../../services/policies.ts';
import type { SettingsService } from '../../services/settings.ts';
import { principalOf } from '../plugins/auth.ts';
import { problems } from '../schemas/common.ts';
import { PolicyBody, PolicyList, PolicyParams, PolicyView } from '../schemas/policies.ts';
import { ChannelList, SettingsPatchBody, SettingsView } from '../schemas/settings.ts';

/** The application's settings (admin). */
export const settingsRoutes: FastifyPluginAsyncTypebox<{ settings: SettingsService }> = async (app, { settings }) => {
  app.get(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['settings'],
        summary: "Read the application's settings and which NIST rows they meet",
        response: { 200: SettingsView, ...problems(401, 403) },
      },
    },
    async (request) => settings.get(principalOf(request)),
  );

  app.patch(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['settings'],
        summary: "Change some of the application's settings",
        description:
          'Give only what changes. A value out of range is answered 422 invalid_setting naming the field and its range; under the nist profile a change that breaks it 422 not_conformant. ' +
          'Every change is recorded as an application.settings_changed event with the actor and each field before and after. Turning a channel off unpairs every device of that kind.',
        body: SettingsPatchBody,
        response: { 200: SettingsView, ...problems(400, 401, 403, 409, 413, 415, 422) },
      },
    },
    async (request) => settings.patch(principalOf(request), request.body as SettingsPatch),
  );
};

/** Named verification policies (admin). */
export const policyRoutes: FastifyPluginAsyncTypebox<{ policies: PolicyService }> = async (app, { policies }) => {
  app.get(
    '/',
    {
      config: { scope: 'admin' },
      schema: { tags: ['policies'], summary: "List the built-in policies and the application's own", response: { 200: PolicyList, ...problems(401, 403) } },
    },
    async (request) => ({ items: await policies.list(principalOf(request)) }),
  );

  app.get(
    '/:name',
    {
      config: { scope: 'admin' },
      schema: { tags: ['policies'], summary: 'Read a policy', params: PolicyParams, response: { 200: PolicyView, ...problems(400, 401, 403, 404) } },
    },
    async (request) => policies.get(principalOf(request), request.params.name),
  );

  app.put(
    '/:name',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['policies'],
        summary: 'Create or replace a policy',
        description:
          "Refused when the application's settings forbid it (422 not_permitted_by_settings: a channel that is off, a TTL above max_ttl_seconds) or, under nist, its assurance profile (422 not_conformant). " +
          'Saving under a built-in name (verify-caller, step-up) replaces the built-in policy for this application; deleting it brings the built-in one back.',
        params: PolicyParams,
        body: PolicyBody,
        response: { 200: PolicyView, ...problems(400, 401, 403, 409, 413, 415, 422) },
      },
    },
    async (request) => policies.put(principalOf(request), request.params.name, request.body),
  );

  app.delete(
    '/:name',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['policies'],
        summary: "Delete the application's own policy",
        params: PolicyParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await policies.remove(principalOf(request), request.params.name);
      return reply.code(204).send(null);
    },
  );
};

/** The channels and whether each is a restricted authenticator (SEC-13). */
export const channelRoutes: FastifyPluginAsyncTypebox<{ policies: PolicyService }> = async (app, { policies }) => {
  app.get(
    '/',
    {
      config: { scope: 'verifications:read' },
      schema: {
        tags: ['settings'],
        summary: 'List the channels: enabled here, restricted (sms, voice) with the risk notice to show users',
        response: { 200: ChannelList, ...problems(401, 403) },
      },
    },
    async (request) => ({ items: await policies.channels(principalOf(request)) }),
  );
};
