// The OpenAPI document is the API's contract: it must list every route, describe every
// field, name the scope each route enforces, and change only on purpose (the snapshot).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALL_SCOPES, SCOPES, type Scope } from '../../src/domain/scopes.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SNAPSHOT = fileURLToPath(new URL('./openapi.snapshot.json', import.meta.url));

interface Schema {
  description?: string;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}
interface Parameter {
  name: string;
  in: string;
  description?: string;
  schema?: Schema;
}
interface Operation {
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema: Schema }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: { bearer: { flows: { clientCredentials: { scopes: Record<string, string> } } } } };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * Routes the document leaves out on purpose: the document itself, the Swagger UI's files, and the
 * agent console's own cookie-session API (docs/console.md, ADR 0016).
 */
/** Routes that are not the public API: the document itself, its explorer, and the pages and files of the console and the web authenticator (built from web/), with the console's own API (docs/console.md). */
const UNDOCUMENTED = [/^\/openapi\.json$/, /^\/docs(\/|$|\*)/, /^\/console(\/|$|\*)/, /^\/authenticator(\/|$|\*)/, /^\/assets\/\*$/, /^\*$/];

/**
 * Every route the app serves, as "METHOD /path/{param}", read from Fastify's route tree
 * (`printRoutes` without common prefixes: each line is a path segment under its parent).
 */
function appRoutes(server: TestServer): string[] {
  const tree = server.runtime.app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line.trimEnd());
    if (match === null) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(match[2] as string);
    const path = stack.join('');
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim())) {
      if (method === '' || method === 'HEAD') continue;
      routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return routes.filter((r) => !UNDOCUMENTED.some((re) => re.test(r.split(' ')[1] as string))).sort();
}

/** The places in a schema where a property has no description. */
function undescribed(schema: Schema | undefined, path: string, out: string[]): string[] {
  if (schema === undefined || typeof schema !== 'object') return out;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) schema[key]?.forEach((s, i) => undescribed(s, `${path}/${key}[${i}]`, out));
  if (schema.items !== undefined) undescribed(schema.items, `${path}[]`, out);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (typeof property.description !== 'string' || property.description.trim() === '') out.push(`${path}.${name}`);
    undescribed(property, `${path}.${name}`, out);
  }
  for (const [pattern, property] of Object.entries(schema.patternProperties ?? {})) undescribed(property, `${path}{${pattern}}`, out);
  if (typeof schema.additionalProperties === 'object') undescribed(schema.additionalProperties, `${path}{*}`, out);
  return out;
}

function operations(doc: OpenApiDocument): Array<[string, string, Operation]> {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => [method.toUpperCase(), path, op] as [string, string, Operation]),
  );
}

/** A URL for an OpenAPI path, with ids of the right shape that exist nowhere. */
function concrete(path: string): string {
  return path.replace(/\{(\w+)\}/g, 'abc_aaaaaaaaaaaaaaaaaaaaaaaaaa');
}

describe('OpenAPI document', () => {
  let server: TestServer;
  let doc: OpenApiDocument;
  before(async () => {
    server = await startTestServer({ env: { OUTBAND_WORKERS: 'false' } });
    const res = await server.runtime.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    doc = res.json() as OpenApiDocument;
  });
  after(() => server.close());

  test('is OpenAPI 3.1.0', () => {
    assert.equal(doc.openapi, '3.1.0');
  });

  test('documents every route of the app, and no route it does not serve', () => {
    const served = appRoutes(server);
    assert.ok(served.length >= 10, `read only ${served.length} routes from the route tree`);
    assert.ok(served.includes('POST /v1/verifications/{id}/check'), `the route tree was misread: ${served.join(', ')}`);
    const documented = operations(doc)
      .map(([method, path]) => `${method} ${path}`)
      .sort();
    assert.deepEqual(documented, served);
  });

  test('every operation has a summary', () => {
    const missing = operations(doc)
      .filter(([, , op]) => typeof op.summary !== 'string' || op.summary.trim() === '')
      .map(([method, path]) => `${method} ${path}`);
    assert.deepEqual(missing, []);
  });

  test('every parameter and every request and response property has a description', () => {
    const missing: string[] = [];
    for (const [method, path, op] of operations(doc)) {
      const where = `${method} ${path}`;
      for (const parameter of op.parameters ?? []) {
        if (typeof parameter.description !== 'string' || parameter.description.trim() === '') missing.push(`${where} ${parameter.in} ${parameter.name}`);
        undescribed(parameter.schema, `${where} ${parameter.in} ${parameter.name}`, missing);
      }
      for (const [type, content] of Object.entries(op.requestBody?.content ?? {})) undescribed(content.schema, `${where} body(${type})`, missing);
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (typeof response.description !== 'string' || response.description === '') missing.push(`${where} response ${status}`);
        for (const [type, content] of Object.entries(response.content ?? {})) undescribed(content.schema, `${where} ${status}(${type})`, missing);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('each operation that needs a token names its scope in `security`, and enforces exactly that scope', async () => {
    const declared = doc.components.securitySchemes.bearer.flows.clientCredentials.scopes;
    assert.deepEqual(declared, { ...SCOPES });
    // One client per scope left out: a token with every scope but one.
    const without = new Map<Scope, string>();
    for (const scope of ALL_SCOPES) without.set(scope, (await server.tenant({ scopes: ALL_SCOPES.filter((s) => s !== scope) })).token);

    let authenticated = 0;
    for (const [method, path, op] of operations(doc)) {
      const where = `${method} ${path}`;
      const anonymous = await server.runtime.app.inject({ method: method as 'GET', url: concrete(path) });
      assert.ok(anonymous.statusCode < 500, `${where}: ${anonymous.statusCode} ${anonymous.body}`);
      const needsToken = anonymous.statusCode === 401 && anonymous.json().code === 'invalid_token';
      if (path.startsWith('/v1/device-api/')) {
        // Signed by a device key instead of a bearer token (docs/device-api.md).
        assert.deepEqual(op.security, [{ device: [] }], `${where} is a device-API route`);
        assert.ok([400, 401].includes(anonymous.statusCode), `${where} answered ${anonymous.statusCode} without a device signature`);
        continue;
      }
      if (!needsToken) {
        assert.equal(op.security, undefined, `${where} is public but documents security`);
        continue;
      }
      authenticated++;
      assert.ok(op.security !== undefined && op.security.length === 1, `${where} needs a token but documents no security`);
      const scopes = op.security[0]?.['bearer'];
      assert.ok(scopes !== undefined && scopes.length === 1, `${where}: security ${JSON.stringify(op.security)}`);
      const scope = scopes[0] as Scope;
      assert.ok(Object.hasOwn(SCOPES, scope), `${where}: unknown scope ${scope}`);
      // A token lacking exactly that scope is refused, naming it.
      const res = await server.runtime.app.inject({ method: method as 'GET', url: concrete(path), headers: { authorization: `Bearer ${without.get(scope)}` } });
      const problem = assertProblem(res, 403, 'insufficient_scope', where);
      assert.equal(problem['scope'], scope, where);
      assert.ok(op.responses?.['401'] !== undefined && op.responses['403'] !== undefined, `${where} does not document 401 and 403`);
    }
    assert.ok(authenticated >= 9, `only ${authenticated} authenticated operations`);
  });

  test('matches the committed snapshot test/api/openapi.snapshot.json (UPDATE_SNAPSHOTS=1 rewrites it)', () => {
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (process.env['UPDATE_SNAPSHOTS'] === '1') {
      writeFileSync(SNAPSHOT, text);
      return;
    }
    assert.ok(existsSync(SNAPSHOT), 'no snapshot yet: run this test with UPDATE_SNAPSHOTS=1 and commit test/api/openapi.snapshot.json');
    const snapshot = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as unknown;
    assert.deepEqual(doc, snapshot, 'the OpenAPI document changed; if on purpose, rerun with UPDATE_SNAPSHOTS=1 and review the diff');
  });

  test('GET /docs answers the API explorer as HTML', async () => {
    let res = await server.runtime.app.inject({ method: 'GET', url: '/docs' });
    if (res.statusCode >= 300 && res.statusCode < 400) {
      res = await server.runtime.app.inject({ method: 'GET', url: new URL(String(res.headers['location']), 'http://localhost/docs/').pathname });
    }
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /<html/i);
  });
});
