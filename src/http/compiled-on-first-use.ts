/**
 * Route schemas compiled at their first use rather than at start. Fastify compiles a validator
 * for every route and a serializer for every response status of every route when the app
 * starts: about a third of a start here (bench/startup.ts), for routes a server may never be
 * called on. Each route's function is compiled on its first request instead, once.
 */
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify';

/** A schema compiler whose functions compile themselves at their first call. */
export function compiledOnFirstUse<S, F extends (...args: never[]) => unknown>(compile: (route: S) => F): (route: S) => F {
  return (route) => {
    let compiled: F | undefined;
    return ((...args: Parameters<F>) => (compiled ??= compile(route))(...args)) as F;
  };
}

/** What Fastify's `schemaController.compilersFactory.buildSerializer` is. */
type SerializerFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer']>;

/** Fastify's own serializer factory (fast-json-stringify); a direct dependency at the version Fastify uses. */
const fastifysSerializerFactory = (SerializerSelector as unknown as () => SerializerFactory)();

/** For `schemaController.compilersFactory.buildSerializer`: Fastify's serializers, compiled on first use. */
export const buildSerializerOnFirstUse: SerializerFactory = (externalSchemas, options) => compiledOnFirstUse(fastifysSerializerFactory(externalSchemas, options));

/** Wraps a validator compiler (e.g. TypeBox's) so that each route's validator is compiled on first use. */
export function validatorOnFirstUse<T>(compile: FastifySchemaCompiler<T>): FastifySchemaCompiler<T> {
  return compiledOnFirstUse(compile);
}
