import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { OutbandError } from '../../domain/errors.ts';
import type { SettingsPatch } from '../../domain/policy/settings.ts';
import type { AgentService } from '../../services/agents.ts';
import type { ConsoleService } from '../../services/console.ts';
import { agentOf, consoleSessionPlugin } from '../plugins/console-session.ts';
import { problems } from '../schemas/common.ts';
import {
  AgentAnswer,
  AgentCreateBody,
  AgentCreated,
  AgentList,
  AgentParams,
  AgentPatchBody,
  AppParams,
  AuditPage,
  AuditQuery,
  CheckAnswer,
  CheckBody,
  DeviceBody,
  PersonDetail,
  PersonList,
  PersonParams,
  SearchQuery,
  SessionView,
  SignInBody,
  TemplateKeyParams,
  TemplateLocaleParams,
  VerificationAnswer,
  VerificationParams,
} from '../schemas/console.ts';
import { SettingsPatchBody, SettingsView } from '../schemas/settings.ts';
import { TemplateBody, TemplateList, TemplateView, templateView } from '../schemas/templates.ts';
import { openEventStream } from '../sse.ts';

/**
 * The agent console's API under /console/api (docs/console.md): cookie sessions with CSRF tokens,
 * each route acting for the signed-in agent in an application it is granted. Hidden from the
 * public OpenAPI document (ADR 0016). Requests count against the per-address `api` rate limit.
 */
export const consoleRoutes: FastifyPluginAsyncTypebox<{ agents: AgentService; console: ConsoleService; secureCookie: boolean; shutdown: AbortSignal }> = async (
  app,
  { agents, console: consoleService, secureCookie, shutdown },
) => {
  await app.register(consoleSessionPlugin, { agents, secure: secureCookie });
  const base = { hide: true, tags: ['console'] };
  const limited = { rateLimit: 'api' as const };

  const sessionView = async (agent: Parameters<ConsoleService['applications']>[0], csrfToken: string) => ({
    agent: { id: agent.id, email: agent.email, role: agent.role, locale: agent.locale },
    csrf_token: csrfToken,
    applications: await consoleService.applications(agent),
  });

  app.post(
    '/sign-in',
    {
      config: { consoleAccess: 'public', ...limited },
      schema: { ...base, summary: 'Sign in with e-mail and password', body: SignInBody, response: { 200: SessionView, ...problems(400, 401, 413, 415) } },
    },
    async (request, reply) => {
      const signedIn = await agents.signIn(request.body.email, request.body.password, request.ip);
      reply.startConsoleSession(signedIn);
      return sessionView(signedIn.agent, signedIn.session.csrfToken);
    },
  );

  app.post('/sign-out', { config: limited, schema: { ...base, summary: 'End the session', response: { 204: { type: 'null', description: 'Signed out' }, ...problems(401, 403) } } }, async (request, reply) => {
    await agents.signOut(request.consoleSessionId as string);
    reply.endConsoleSession();
    return reply.code(204).send(null);
  });

  app.get('/session', { config: limited, schema: { ...base, summary: 'The signed-in agent, its CSRF token and applications', response: { 200: SessionView, ...problems(401) } } }, async (request) =>
    sessionView(agentOf(request), request.consoleSession?.csrfToken as string),
  );

  app.get(
    '/apps/:app/people',
    { config: limited, schema: { ...base, summary: 'Find people by the start of e-mail, phone, external id or name', params: AppParams, querystring: SearchQuery, response: { 200: PersonList, ...problems(400, 401, 404) } } },
    async (request) => ({ items: await consoleService.search(agentOf(request), request.params.app, request.query.q) }),
  );

  app.get(
    '/apps/:app/people/:user',
    { config: limited, schema: { ...base, summary: 'A person with their devices', params: PersonParams, response: { 200: PersonDetail, ...problems(400, 401, 404) } } },
    async (request) => consoleService.person(agentOf(request), request.params.app, request.params.user),
  );

  app.post(
    '/apps/:app/people/:user/verify-caller',
    {
      config: limited,
      schema: { ...base, summary: "Push a verify-caller request to the person's authenticator", params: PersonParams, body: DeviceBody, response: { 201: VerificationAnswer, ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) } },
    },
    async (request, reply) => reply.code(201).send({ verification: await consoleService.verifyCaller(agentOf(request), request.params.app, request.params.user, request.body.device_id) }),
  );

  app.post(
    '/apps/:app/people/:user/send-code',
    {
      config: limited,
      schema: { ...base, summary: "Send a code to the person's phone device", params: PersonParams, body: DeviceBody, response: { 201: VerificationAnswer, ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) } },
    },
    async (request, reply) => reply.code(201).send({ verification: await consoleService.sendCode(agentOf(request), request.params.app, request.params.user, request.body.device_id) }),
  );

  app.post(
    '/apps/:app/verifications/:id/check',
    { config: limited, schema: { ...base, summary: 'Check the code the caller read out', params: VerificationParams, body: CheckBody, response: { 200: CheckAnswer, ...problems(400, 401, 403, 404, 409, 413, 415, 422) } } },
    async (request) => consoleService.check(agentOf(request), request.params.app, request.params.id, request.body.code, request.ip),
  );

  app.post(
    '/apps/:app/verifications/:id/cancel',
    { config: limited, schema: { ...base, summary: 'Cancel a pending verification', params: VerificationParams, response: { 200: VerificationAnswer, ...problems(400, 401, 403, 404, 409) } } },
    async (request) => ({ verification: await consoleService.cancel(agentOf(request), request.params.app, request.params.id) }),
  );

  app.get(
    '/apps/:app/verifications/:id',
    { config: limited, schema: { ...base, summary: 'A verification as the console shows it', params: VerificationParams, response: { 200: VerificationAnswer, ...problems(400, 401, 404) } } },
    async (request) => ({ verification: await consoleService.verification(agentOf(request), request.params.app, request.params.id) }),
  );

  app.get(
    '/apps/:app/verifications/:id/stream',
    { config: limited, schema: { ...base, summary: 'Follow a verification (Server-Sent Events, event "verification")', params: VerificationParams } },
    async (request, reply) => {
      const agent = agentOf(request);
      // Before the stream opens, so that a refusal is an ordinary problem answer.
      await consoleService.verification(agent, request.params.app, request.params.id);
      const stream = openEventStream(reply, shutdown);
      await consoleService.follow(agent, request.params.app, request.params.id, (view) => stream.send('verification', view), stream.closed);
      stream.end();
    },
  );

  app.get(
    '/apps/:app/audit',
    { config: limited, schema: { ...base, summary: 'Verifications done from the console', params: AppParams, querystring: AuditQuery, response: { 200: AuditPage, ...problems(400, 401, 404) } } },
    async (request) => consoleService.audit(agentOf(request), request.params.app, request.query),
  );

  app.get(
    '/apps/:app/settings',
    { config: limited, schema: { ...base, summary: "The application's settings (admin)", params: AppParams, response: { 200: SettingsView, ...problems(401, 403, 404) } } },
    async (request) => consoleService.settings(agentOf(request), request.params.app),
  );

  app.patch(
    '/apps/:app/settings',
    {
      config: limited,
      schema: { ...base, summary: "Change the application's settings (admin)", params: AppParams, body: SettingsPatchBody, response: { 200: SettingsView, ...problems(400, 401, 403, 404, 409, 413, 415, 422) } },
    },
    async (request) => consoleService.patchSettings(agentOf(request), request.params.app, request.body as SettingsPatch),
  );

  app.get(
    '/apps/:app/templates/:channel/:purpose',
    { config: limited, schema: { ...base, summary: "The application's own templates of a channel and purpose, per locale (admin)", params: TemplateKeyParams, response: { 200: TemplateList, ...problems(400, 401, 403, 404) } } },
    async (request) => ({ items: (await consoleService.templates(agentOf(request), request.params.app, request.params.channel, request.params.purpose)).map(templateView) }),
  );

  app.put(
    '/apps/:app/templates/:channel/:purpose/:locale',
    {
      config: limited,
      schema: { ...base, summary: "Create or replace the application's own template (admin)", params: TemplateLocaleParams, body: TemplateBody, response: { 200: TemplateView, ...problems(400, 401, 403, 404, 413, 415, 422) } },
    },
    async (request) => {
      const { app: appId, ...key } = request.params;
      return templateView(await consoleService.putTemplate(agentOf(request), appId, key, request.body));
    },
  );

  app.delete(
    '/apps/:app/templates/:channel/:purpose/:locale',
    { config: limited, schema: { ...base, summary: "Delete the application's own template (admin)", params: TemplateLocaleParams, response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404, 422) } } },
    async (request, reply) => {
      const { app: appId, ...key } = request.params;
      await consoleService.deleteTemplate(agentOf(request), appId, key);
      return reply.code(204).send(null);
    },
  );

  app.get('/agents', { config: limited, schema: { ...base, summary: 'The agents this admin manages', response: { 200: AgentList, ...problems(401, 403) } } }, async (request) => ({
    items: await consoleService.listAgents(agentOf(request)),
  }));

  app.post(
    '/agents',
    { config: limited, schema: { ...base, summary: 'Create an agent (admin); a generated password is answered once', body: AgentCreateBody, response: { 201: AgentCreated, ...problems(400, 401, 403, 404, 409, 413, 415, 422) } } },
    async (request, reply) => reply.code(201).send(await consoleService.createAgent(agentOf(request), request.body)),
  );

  app.patch(
    '/agents/:id',
    { config: limited, schema: { ...base, summary: "Change an agent's role, grants or disabled state (admin)", params: AgentParams, body: AgentPatchBody, response: { 200: AgentAnswer, ...problems(400, 401, 403, 404, 413, 415) } } },
    async (request) => ({ agent: await consoleService.updateAgent(agentOf(request), request.params.id, request.body) }),
  );

  app.delete(
    '/agents/:id',
    { config: limited, schema: { ...base, summary: 'Disable an agent (admin): it cannot sign in, its sessions end', params: AgentParams, response: { 200: AgentAnswer, ...problems(400, 401, 403, 404) } } },
    async (request) => ({ agent: await consoleService.updateAgent(agentOf(request), request.params.id, { disabled: true }) }),
  );

  // An unknown console API path is a problem, not the console's page (web.ts answers /console/*).
  app.all('/*', { config: limited, schema: { hide: true } }, async (request) => {
    agentOf(request);
    throw new OutbandError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
  });
};
