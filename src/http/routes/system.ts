import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { OutbandError } from '../../domain/errors.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { problems } from '../schemas/common.ts';

const Health = Type.Object({ status: Type.String({ description: '"ok"' }) });

export const systemRoutes: FastifyPluginAsyncTypebox<{ metrics: Metrics; ping: () => Promise<void>; draining: () => boolean }> = async (app, options) => {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: Health } } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { schema: { tags: ['operations'], summary: 'Readiness: the database answers and the server is not shutting down', response: { 200: Health, ...problems(503) } } },
    async () => {
      if (options.draining()) throw new OutbandError('service_unavailable', 'the server is shutting down');
      try {
        await options.ping();
      } catch {
        throw new OutbandError('service_unavailable', 'the database does not answer');
      }
      return { status: 'ok' };
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: Type.String() } } },
    async (_request, reply) => reply.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics()),
  );
};
