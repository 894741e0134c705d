import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { WebhookService } from '../../services/webhooks.ts';
import { principalOf } from '../plugins/auth.ts';
import { problems } from '../schemas/common.ts';
import {
  DeliveryList,
  DeliveryListQuery,
  DeliveryParams,
  DeliveryView,
  deliveryView,
  WebhookCreateBody,
  WebhookList,
  WebhookParams,
  WebhookPatchBody,
  WebhookView,
  webhookView,
  WebhookWithSecretView,
} from '../schemas/webhooks.ts';

/**
 * Webhook endpoints (`admin`): where the application's events are sent, signed per Standard
 * Webhooks. Sending happens in the dispatcher, never in these requests.
 */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhookService }> = async (app, { webhooks }) => {
  const tags = ['webhooks'];

  app.post(
    '/',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Register a webhook endpoint; its signing secret is in this answer only',
        description:
          'The URL is checked after DNS resolution: loopback, private, link-local, metadata and other non-public addresses are refused (422 webhook_url_not_allowed), and again before every attempt.',
        body: WebhookCreateBody,
        response: { 201: WebhookWithSecretView, ...problems(400, 401, 403, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await webhooks.create(principalOf(request), request.body);
      return reply.code(201).send({ ...webhookView(endpoint), secret });
    },
  );

  app.get(
    '/',
    {
      config: { scope: 'admin' },
      schema: { tags, summary: "List the application's webhook endpoints", response: { 200: WebhookList, ...problems(401, 403) } },
    },
    async (request) => ({ items: (await webhooks.list(principalOf(request))).map(webhookView) }),
  );

  app.get(
    '/:id',
    {
      config: { scope: 'admin' },
      schema: { tags, summary: 'Read a webhook endpoint', params: WebhookParams, response: { 200: WebhookView, ...problems(400, 401, 403, 404) } },
    },
    async (request) => webhookView(await webhooks.get(principalOf(request), request.params.id)),
  );

  app.patch(
    '/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Change a webhook endpoint: URL, event types, enabled, description',
        params: WebhookParams,
        body: WebhookPatchBody,
        response: { 200: WebhookView, ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request) => webhookView(await webhooks.update(principalOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Delete a webhook endpoint with its queued deliveries',
        params: WebhookParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await webhooks.remove(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/:id/rotate-secret',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Give the endpoint a new signing secret, shown once; the old one keeps signing beside it for 24 hours',
        params: WebhookParams,
        response: { 200: WebhookWithSecretView, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { endpoint, secret } = await webhooks.rotateSecret(principalOf(request), request.params.id);
      return { ...webhookView(endpoint), secret };
    },
  );

  app.get(
    '/:id/deliveries',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "The endpoint's deliveries, newest first, each with every attempt (status code, latency, error)",
        params: WebhookParams,
        querystring: DeliveryListQuery,
        response: { 200: DeliveryList, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const page = await webhooks.deliveries(principalOf(request), request.params.id, { limit: request.query.limit ?? 20, cursor: request.query.cursor });
      return { items: page.items.map(deliveryView), next_cursor: page.nextCursor };
    },
  );

  app.post(
    '/:id/deliveries/:delivery_id/retry',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: 'Send a delivery again now, with the same webhook-id',
        description: 'Queues the delivery for an attempt at once, whatever its state; the dispatcher sends it, not this request.',
        params: DeliveryParams,
        response: { 202: DeliveryView, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const item = await webhooks.retry(principalOf(request), request.params.id, request.params.delivery_id);
      return reply.code(202).send(deliveryView(item));
    },
  );
};
