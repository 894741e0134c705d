// Threat: a crafted request makes the server fail open or leak internals through a 500.
// Every route is fed schema-shaped garbage from a seeded generator; no answer may be ≥ 500,
// and every error must be problem+json.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; anyOf?: Schema[]; enum?: unknown[]; const?: unknown; maxLength?: number };

const NASTY_STRINGS = ['', ' ', '\u0000', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '"><script>', "' OR 1=1 --", '../../etc/passwd', '+31612345678', '06 12345678', 'a@b.co', 'nl-BE', 'sms', 'email', '__proto__', 'constructor', '%00', '1e400', 'x'.repeat(300), '123456', 'vrf_aaaaaaaaaaaaaaaaaaaaaaaaaa'];

function value(rand: () => number, schema: Schema | undefined, depth = 0): unknown {
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)] as T;
  const r = rand();
  if (schema !== undefined && r < 0.45) {
    // A plausible value of the declared shape.
    if (schema.const !== undefined) return schema.const;
    if (schema.enum !== undefined) return pick(schema.enum);
    if (schema.anyOf !== undefined) return value(rand, pick(schema.anyOf), depth);
    const type = Array.isArray(schema.type) ? pick(schema.type) : schema.type;
    if (type === 'string') return pick(NASTY_STRINGS);
    if (type === 'integer') return pick([0, 1, -1, 59, 600, 1801, 2 ** 31, Number.MAX_SAFE_INTEGER, 4, 10, 30]);
    if (type === 'boolean') return rand() < 0.5;
    if (type === 'null') return null;
    if (type === 'object' && depth < 2) return object(rand, schema, depth + 1);
  }
  return pick<unknown>([null, true, 0, -1, 1.5, 1e308, '', 'x', [], [1, 'a'], {}, { a: { b: [] } }, pick(NASTY_STRINGS)]);
}

function object(rand: () => number, schema: Schema, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) if (rand() < 0.7) out[key] = value(rand, property, depth);
  if (rand() < 0.15) out[rand() < 0.5 ? 'unexpected' : '__proto__'] = value(rand, undefined, depth);
  return out;
}

let server: TestServer;
let tenant: Tenant;
before(async () => {
  server = await startTestServer({ env: { OUTBAND_WORKERS: 'false', LOG_LEVEL: 'warn' } });
  tenant = await server.tenant();
});
after(() => server.close());

test('SEC-47 schema-driven fuzzing of every route: 10,000 cases, none ≥ 500, errors are problem+json', async (t) => {
  const doc = (await server.runtime.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> }; parameters?: Array<{ in: string; name: string; schema: Schema }> }>>;
  };
  const user = (await tenant.request('POST', '/v1/users', { phone: '+31612345678', email: 'a@example.com' })).json() as { id: string };
  const verification = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).json() as { id: string };
  // Final from the start: its SSE stream follows a pending verification until it ends (by design), which would hold a case for its whole TTL.
  await tenant.request('POST', `/v1/verifications/${verification.id}/cancel`);
  const realIds = [user.id, verification.id];

  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      // The token endpoint does a deliberate 50 ms scrypt per well-formed request; it gets its own table in auth tests.
      // The event stream never ends on a well-formed request (by design); its bad input is tested in events.test.ts.
      .filter(([, operation]) => path !== '/oauth/token' && path !== '/v1/events/stream' && operation !== undefined)
      .map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })),
  );
  assert.ok(operations.length >= 10, `found ${operations.length} operations`);

  const rand = prng(20261125);
  const CASES = 10_000;
  const statuses = new Map<number, number>();
  for (let i = 0; i < CASES; i++) {
    const { path, method, operation } = operations[i % operations.length]!;
    const url = path.replace(/\{(\w+)\}/g, () =>
      encodeURIComponent(String(rand() < 0.3 ? realIds[Math.floor(rand() * realIds.length)] : value(rand, { type: 'string' }))),
    );
    const query = new URLSearchParams();
    for (const p of operation.parameters ?? []) if (p.in === 'query' && rand() < 0.6) query.set(p.name, String(value(rand, p.schema)));
    if (rand() < 0.1) query.set('junk', 'x');
    const bodySchema = operation.requestBody?.content['application/json']?.schema;
    let payload: string | undefined;
    let contentType = 'application/json';
    if (bodySchema !== undefined || rand() < 0.1) {
      const roll = rand();
      payload = roll < 0.08 ? '{"broken": ' : roll < 0.12 ? 'not json at all' : JSON.stringify(roll < 0.9 && bodySchema ? object(rand, bodySchema) : value(rand, undefined));
      if (rand() < 0.05) contentType = 'text/plain';
    }
    const res = await server.runtime.app.inject({
      method: method as 'GET',
      url: query.size > 0 ? `${url}?${query}` : url,
      headers: { authorization: `Bearer ${tenant.token}`, ...(payload !== undefined ? { 'content-type': contentType } : {}) },
      ...(payload !== undefined ? { payload } : {}),
    });
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    assert.ok(res.statusCode < 500, `${method} ${url} ${payload ?? ''} → ${res.statusCode} ${res.body}`);
    if (res.statusCode >= 400) {
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/, `${method} ${url} → ${res.body}`);
      assert.doesNotMatch(res.body, /at .*\.ts:\d+/, 'no stack trace');
    }
  }
  t.diagnostic(`status counts over ${CASES} cases: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
});
