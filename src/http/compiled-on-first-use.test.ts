// Route schemas are compiled at their first use, not at start: the start must not pay for them,
// and each route's function must still be compiled only once and behave as Fastify's own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { buildSerializerOnFirstUse, compiledOnFirstUse } from './compiled-on-first-use.ts';

test('nothing is compiled until the first call, then once', () => {
  const compiled: string[] = [];
  const compiler = compiledOnFirstUse((route: { url: string }) => {
    compiled.push(route.url);
    return (n: number) => `${route.url}:${n}`;
  });
  const a = compiler({ url: '/a' });
  compiler({ url: '/b' });
  assert.deepEqual(compiled, []);
  assert.equal(a(1), '/a:1');
  assert.equal(a(2), '/a:2');
  assert.deepEqual(compiled, ['/a']);
});

test("Fastify's serializers, compiled on first use, still send only what the response schema declares", async (t) => {
  const app = Fastify({ schemaController: { compilersFactory: { buildSerializer: buildSerializerOnFirstUse } } });
  t.after(() => app.close());
  app.get('/x', { schema: { response: { 200: { type: 'object', properties: { shown: { type: 'string' } } } } } }, async () => ({ shown: 'yes', secret: 'no' }));
  const res = await app.inject({ method: 'GET', url: '/x' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { shown: 'yes' });
});
