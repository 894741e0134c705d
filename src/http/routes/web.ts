import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { OutbandError } from '../../domain/errors.ts';
import { PROJECT_ROOT } from '../../build.ts';

/** Where `npm run build:web` puts the console and the web authenticator. */
export const WEB_DIST = join(PROJECT_ROOT, 'web', 'dist') + '/';

/** The web authenticator's installable-app files, served from /authenticator/ beside its page. */
const AUTHENTICATOR_FILES = ['sw.js', 'manifest.webmanifest', 'icon.svg', 'icon-192.png', 'icon-512.png'] as const;

/**
 * Serves the two faces built from web/: the agent console at /console/ and the web
 * authenticator at /authenticator/ (their paths all answer the page; the page routes itself),
 * and their hashed assets at /assets/, cached for good. Without a build, a clear 503.
 */
export const webRoutes: FastifyPluginAsync<{ dist?: string }> = async (app, options) => {
  const dist = options.dist ?? WEB_DIST;
  const built = existsSync(dist);
  if (built) {
    await app.register(fastifyStatic, { root: dist, serve: false });
  }
  const page = (name: 'console' | 'authenticator') => async (_request: unknown, reply: import('fastify').FastifyReply) => {
    if (!built) throw new OutbandError('service_unavailable', `the ${name} is not built: run npm run build:web`);
    return reply.header('cache-control', 'no-cache').sendFile(`${name}/index.html`, { cacheControl: false });
  };
  for (const name of ['console', 'authenticator'] as const) {
    // The pages' relative links need the trailing slash.
    app.get(`/${name}`, { schema: { hide: true } }, async (request, reply) => (request.url.startsWith(`/${name}/`) ? page(name)(request, reply) : reply.redirect(`/${name}/`)));
    app.get(`/${name}/*`, { schema: { hide: true } }, page(name));
  }
  // The web authenticator's PWA files (from web/public/authenticator/): the service worker must
  // come from /authenticator/ to control that scope; none is content-hashed, so each is revalidated.
  for (const file of AUTHENTICATOR_FILES) {
    app.get(`/authenticator/${file}`, { schema: { hide: true } }, async (_request, reply) => {
      if (!built) throw new OutbandError('not_found', 'no such file');
      return reply.header('cache-control', 'no-cache').sendFile(`authenticator/${file}`, { cacheControl: false });
    });
  }
  app.get('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    if (!built) throw new OutbandError('not_found', 'no such asset');
    const path = (request.params as { '*': string })['*'];
    // Vite names assets by their content hash: a name never changes meaning.
    return reply.sendFile(`assets/${path}`, { maxAge: '365d', immutable: true });
  });
};
