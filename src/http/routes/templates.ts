import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TemplateService } from '../../services/templates.ts';
import { principalOf } from '../plugins/auth.ts';
import { problems } from '../schemas/common.ts';
import {
  effectiveView,
  PreviewBody,
  PreviewView,
  previewView,
  TemplateBody,
  TemplateGetQuery,
  TemplateList,
  TemplateListQuery,
  TemplateParams,
  TemplateView,
  templateView,
} from '../schemas/templates.ts';

/**
 * An application's own message templates. Every route needs `admin`: a template decides what
 * users read in the application's name, so only an administrator's client may read or change them.
 */
export const templateRoutes: FastifyPluginAsyncTypebox<{ templates: TemplateService }> = async (app, { templates }) => {
  app.get(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['templates'],
        summary: "List the application's own templates",
        querystring: TemplateListQuery,
        response: { 200: TemplateList, ...problems(400, 401, 403) },
      },
    },
    async (request) => ({ items: (await templates.list(principalOf(request), request.query.channel)).map(templateView) }),
  );

  app.get(
    '/:channel/:purpose/:locale',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['templates'],
        summary: "Read the application's own template, or with effective=true the one a message would use",
        params: TemplateParams,
        querystring: TemplateGetQuery,
        response: { 200: TemplateView, ...problems(400, 401, 403, 404, 422) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (request.query.effective === true) return effectiveView(request.params.channel, await templates.effective(principal, request.params));
      return templateView(await templates.get(principal, request.params));
    },
  );

  app.put(
    '/:channel/:purpose/:locale',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['templates'],
        summary: "Create or replace the application's own template",
        description:
          'The template is ICU MessageFormat and is validated before it is stored: a malformed message, an unknown placeholder or a field the channel does not take is answered 422 invalid_template, listing each problem.',
        params: TemplateParams,
        body: TemplateBody,
        response: { 200: TemplateView, ...problems(400, 401, 403, 413, 415, 422) },
      },
    },
    async (request) => templateView(await templates.put(principalOf(request), request.params, request.body)),
  );

  app.delete(
    '/:channel/:purpose/:locale',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['templates'],
        summary: "Delete the application's own template; messages fall back along the locale chain",
        params: TemplateParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      await templates.remove(principalOf(request), request.params);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/preview',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['templates'],
        summary: 'Render a draft template, or the one a message would use, with sample or given values',
        description: 'Nothing is stored or sent. For sms, also reports the encoding (GSM-7 or UCS-2) and how many SMS the text takes.',
        body: PreviewBody,
        response: { 200: PreviewView, ...problems(400, 401, 403, 413, 415, 422) },
      },
    },
    async (request) => {
      const { ttl_seconds: ttlSeconds, ...body } = request.body;
      return previewView(await templates.preview(principalOf(request), { ...body, ttlSeconds }));
    },
  );
};
