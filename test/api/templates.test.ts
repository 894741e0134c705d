import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ALL_SCOPES } from '../../src/domain/scopes.ts';
import { builtInTemplate } from '../../src/domain/templates/catalog.ts';
import { renderTemplate } from '../../src/domain/templates/render.ts';
import { systemClock } from '../../src/services/deps.ts';
import { createTemplateService } from '../../src/services/templates.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

interface TemplateView {
  channel: string;
  purpose: string;
  locale: string;
  source: 'application' | 'built_in';
  subject: string | null;
  title: string | null;
  text: string;
  html: string | null;
  updated_at: string | null;
}

interface PreviewView {
  source: 'draft' | 'application' | 'built_in';
  locale: string;
  subject?: string;
  title?: string;
  text: string;
  html?: string;
  ssml?: string;
  voice_language?: string;
  sms?: { encoding: 'gsm7' | 'ucs2'; units: number; segments: number };
  sample_params: string[];
}

interface TemplateProblem {
  field: string;
  rule: string;
  message: string;
  position?: { offset: number; line: number; column: number };
}

const SMS_NL = { text: 'Je {app_name}-code is {code}. Geldig: {expires_in}.' };

async function put(tenant: Tenant, path: string, body: Record<string, unknown>): Promise<TemplateView> {
  const res = await tenant.request('PUT', `/v1/templates/${path}`, body);
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as TemplateView;
}

async function list(tenant: Tenant, query = ''): Promise<TemplateView[]> {
  const res = await tenant.request('GET', `/v1/templates${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().items as TemplateView[];
}

async function preview(tenant: Tenant, body: Record<string, unknown>): Promise<PreviewView> {
  const res = await tenant.request('POST', '/v1/templates/preview', body);
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as PreviewView;
}

async function events(server: TestServer, tenant: Tenant): Promise<Array<{ type: string; actor: string | null; data: Record<string, unknown> }>> {
  return (await server.runtime.store.events.list(tenant.applicationId, 0, 10_000)).filter((e) => e.type.startsWith('template.'));
}

for (const dialect of dialects()) {
  describe(`${dialect}: templates`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    test('PUT stores the template under the canonical locale; GET, list and DELETE; each change is an event', async () => {
      const tenant = await server.tenant();
      // 1. Create: the locale is canonicalised (nl-be → nl-BE).
      const created = await put(tenant, 'sms/authentication/nl-be', SMS_NL);
      assert.deepEqual({ ...created, updated_at: '' }, {
        channel: 'sms',
        purpose: 'authentication',
        locale: 'nl-BE',
        source: 'application',
        subject: null,
        title: null,
        text: SMS_NL.text,
        html: null,
        updated_at: '',
      });
      assert.ok(!Number.isNaN(Date.parse(created.updated_at ?? '')));

      // 2. Read it back in either case.
      for (const locale of ['nl-BE', 'NL-be']) {
        const res = await tenant.request('GET', `/v1/templates/sms/authentication/${locale}`);
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), created);
      }

      // 3. Replace, and add an e-mail template (null fields are the same as absent).
      const replaced = await put(tenant, 'sms/authentication/nl-BE', { text: 'Code {code} voor {app_name}' });
      assert.equal(replaced.text, 'Code {code} voor {app_name}');
      const email = await put(tenant, 'email/transaction/en', {
        subject: 'Approve with {app_name}',
        text: 'Your code is {code}.',
        html: '<p>Your code is <b>{code}</b>.</p>',
        title: null,
      });
      assert.deepEqual([email.subject, email.html, email.title], ['Approve with {app_name}', '<p>Your code is <b>{code}</b>.</p>', null]);
      const push = await put(tenant, 'push/pairing/de', { title: 'Neues Gerät für {app_name}?', text: 'Nur bestätigen, wenn Sie es selbst einrichten.' });
      assert.equal(push.title, 'Neues Gerät für {app_name}?');

      // 4. The list holds the application's own templates, by channel, purpose and locale; filtered by channel.
      assert.deepEqual(await list(tenant), [email, push, replaced]);
      assert.deepEqual(await list(tenant, '?channel=sms'), [replaced]);
      assert.deepEqual(await list(tenant, '?channel=voice'), []);

      // 5. Delete: 204, then 404 on read and on a second delete; the others stay.
      const deleted = await tenant.request('DELETE', '/v1/templates/sms/authentication/nl-be');
      assert.equal(deleted.statusCode, 204, deleted.body);
      assert.equal(deleted.body, '');
      assertProblem(await tenant.request('GET', '/v1/templates/sms/authentication/nl-BE'), 404, 'template_not_found');
      assertProblem(await tenant.request('DELETE', '/v1/templates/sms/authentication/nl-BE'), 404, 'template_not_found');
      assert.deepEqual(await list(tenant), [email, push]);

      // 6. Events: who changed which template, never its text.
      const changes = await events(server, tenant);
      assert.deepEqual(
        changes.map((e) => [e.type, e.data['channel'], e.data['purpose'], e.data['locale']]),
        [
          ['template.updated', 'sms', 'authentication', 'nl-BE'],
          ['template.updated', 'sms', 'authentication', 'nl-BE'],
          ['template.updated', 'email', 'transaction', 'en'],
          ['template.updated', 'push', 'pairing', 'de'],
          ['template.deleted', 'sms', 'authentication', 'nl-BE'],
        ],
      );
      assert.ok(changes.every((e) => e.actor === `client:${tenant.clientId}`));
    });

    test('a malformed or unknown-placeholder template is 422 invalid_template naming each problem, and nothing is stored', async () => {
      const tenant = await server.tenant();
      const cases: Array<{ path: string; body: Record<string, unknown>; expect: Array<Partial<TemplateProblem>>; mentions: RegExp }> = [
        { path: 'sms/authentication/en', body: { text: 'Your {app_name code is {code}' }, expect: [{ field: 'text', rule: 'malformed' }], mentions: /malformed ICU message at line 1, column \d+/ },
        { path: 'sms/authentication/en', body: { text: 'Your {app_nmae} code is {code}' }, expect: [{ field: 'text', rule: 'unknown_placeholder' }], mentions: /\{app_nmae\}.*did you mean \{app_name\}/ },
        { path: 'sms/authentication/en', body: { text: 'Your code is {Code}' }, expect: [{ field: 'text', rule: 'unknown_placeholder' }, { field: 'text', rule: 'missing_code' }], mentions: /unknown placeholder \{Code\}/ },
        { path: 'sms/authentication/en', body: { text: 'Your code is {code}', html: '<p>{code}</p>' }, expect: [{ field: 'html', rule: 'field_not_allowed' }], mentions: /an SMS template has no html/ },
        { path: 'email/authentication/en', body: { subject: 'Code {code}', text: '{code}' }, expect: [{ field: 'subject', rule: 'code_not_allowed' }], mentions: /subject must not hold \{code\}/ },
        { path: 'push/authentication/en', body: { text: 'Approve?' }, expect: [{ field: 'title', rule: 'field_required' }], mentions: /needs a title/ },
        { path: 'voice/authentication/en', body: { text: 'Hello from {app_name}' }, expect: [{ field: 'text', rule: 'missing_code' }], mentions: /must contain \{code\}/ },
      ];
      for (const { path, body, expect, mentions } of cases) {
        const res = await tenant.request('PUT', `/v1/templates/${path}`, body);
        const problem = assertProblem(res, 422, 'invalid_template', JSON.stringify(body));
        const found = problem['problems'] as TemplateProblem[];
        assert.deepEqual(
          found.map((p) => ({ field: p.field, rule: p.rule })),
          expect,
          JSON.stringify(found),
        );
        assert.match(problem.detail, mentions);
        for (const p of found) assert.ok(problem.detail.includes(p.message), 'detail repeats each message');
      }
      // The malformed one points at the broken placeholder.
      const malformed = assertProblem(await tenant.request('PUT', '/v1/templates/sms/authentication/en', { text: 'Hi\nYour {app_name code is {code}' }), 422, 'invalid_template');
      assert.deepEqual((malformed['problems'] as TemplateProblem[])[0]?.position?.line, 2);

      assert.deepEqual(await list(tenant), []);
      assertProblem(await tenant.request('GET', '/v1/templates/sms/authentication/en'), 404, 'template_not_found');
      assert.deepEqual(await events(server, tenant), []);
    });

    test('a locale that is not BCP 47 is 422 invalid_locale; an unknown channel or purpose is 400', async () => {
      const tenant = await server.tenant();
      for (const locale of ['en_US', '123', 'nl-BE-x']) {
        for (const method of ['GET', 'PUT', 'DELETE']) {
          const res = await tenant.request(method, `/v1/templates/sms/authentication/${encodeURIComponent(locale)}`, method === 'PUT' ? SMS_NL : undefined);
          assertProblem(res, 422, 'invalid_locale', `${method} ${locale}`);
        }
        assertProblem(await tenant.request('POST', '/v1/templates/preview', { channel: 'sms', locale }), 422, 'invalid_locale');
      }
      for (const path of ['fax/authentication/en', 'missed_call/authentication/en', 'sms/login/en', 'sms/confirm_contact/en', 'SMS/authentication/en']) {
        const res = await tenant.request('PUT', `/v1/templates/${path}`, SMS_NL);
        assertProblem(res, 400, 'invalid_request', path);
        assertProblem(await tenant.request('GET', `/v1/templates/${path}`), 400, 'invalid_request', path);
      }
      assertProblem(await tenant.request('POST', '/v1/templates/preview', { channel: 'fax', locale: 'en' }), 400, 'invalid_request');
      assertProblem(await tenant.request('PUT', '/v1/templates/sms/authentication/en', { text: '{code}', extra: 1 }), 400, 'invalid_request');
      assert.deepEqual(await list(tenant), []);
    });

    test('effective=true follows the chain: an own "nl" template serves nl-BE; none is the built-in one', async () => {
      const tenant = await server.tenant();
      const effective = async (path: string) => {
        const res = await tenant.request('GET', `/v1/templates/${path}?effective=true`);
        assert.equal(res.statusCode, 200, res.body);
        return res.json() as TemplateView;
      };
      // 1. Nothing of its own: the built-in Dutch template, for nl-BE.
      const builtIn = await effective('sms/authentication/nl-BE');
      assert.deepEqual(builtIn, {
        channel: 'sms',
        purpose: 'authentication',
        locale: 'nl',
        source: 'built_in',
        subject: null,
        title: null,
        text: builtInTemplate('sms', 'authentication', 'nl')?.text,
        html: null,
        updated_at: null,
      });
      // A language without built-in words falls back to the default locale (en).
      assert.deepEqual([(await effective('sms/pairing/pt-BR')).locale, (await effective('sms/pairing/pt-BR')).purpose], ['en', 'pairing']);

      // 2. An own nl template serves nl-BE; nl-BE itself has none of its own.
      const nl = await put(tenant, 'sms/authentication/nl', SMS_NL);
      assert.deepEqual(await effective('sms/authentication/nl-BE'), nl);
      assertProblem(await tenant.request('GET', '/v1/templates/sms/authentication/nl-BE'), 404, 'template_not_found');
      const rendered = await preview(tenant, { channel: 'sms', locale: 'nl-BE' });
      assert.equal(rendered.source, 'application');
      assert.equal(rendered.text, `Je ${tenant.name}-code is 123456. Geldig: 10 minuten.`);

      // 3. An own English template does not replace the built-in German one for de-AT…
      await put(tenant, 'sms/authentication/en', { text: 'Code {code}' });
      assert.deepEqual(
        (({ source, locale }) => ({ source, locale }))(await effective('sms/authentication/de-AT')),
        { source: 'built_in', locale: 'de' },
      );
      // …but serves a language Outband has no words for.
      assert.deepEqual(
        (({ source, locale, text }) => ({ source, locale, text }))(await effective('sms/authentication/pt-BR')),
        { source: 'application', locale: 'en', text: 'Code {code}' },
      );
      // 4. A purpose's own built-in words beat the application's authentication template.
      const transaction = await effective('sms/transaction/en');
      assert.deepEqual([transaction.source, transaction.purpose], ['built_in', 'transaction']);

      // 5. Deleted, the chain falls back again.
      assert.equal((await tenant.request('DELETE', '/v1/templates/sms/authentication/nl')).statusCode, 204);
      assert.equal((await effective('sms/authentication/nl-BE')).source, 'built_in');
    });

    test('resolve: the own template to pass to renderTemplate as override, or null for the built-in one', async () => {
      const tenant = await server.tenant();
      const other = await server.tenant();
      await put(tenant, 'sms/authentication/nl', SMS_NL);
      const random = { bytes: (n: number) => new Uint8Array(randomBytes(n)) };
      const templates = createTemplateService({ store: server.runtime.store, clock: systemClock, random });
      const own = await templates.resolve(tenant.applicationId, 'sms', 'authentication', 'nl-BE', 'en');
      assert.deepEqual(own, { locale: 'nl', template: SMS_NL });
      assert.equal(await templates.resolve(tenant.applicationId, 'sms', 'authentication', 'de', 'en'), null);
      assert.equal(await templates.resolve(tenant.applicationId, 'email', 'authentication', 'nl-BE', 'en'), null);
      assert.equal(await templates.resolve(other.applicationId, 'sms', 'authentication', 'nl-BE', 'en'), null);
      const message = renderTemplate({ channel: 'sms', locale: 'nl-BE', timeZone: 'UTC', values: { code: '482913', appName: 'Acme', ttlSeconds: 600 }, override: own ?? undefined });
      assert.deepEqual(message, { locale: 'nl', text: 'Je Acme-code is 482913. Geldig: 10 minuten.' });
    });

    test('preview renders a draft in each language and reports the SMS encoding and segments', async () => {
      const tenant = await server.tenant();
      const app = tenant.name;
      const cases: Array<{ locale: string; text: string; rendered: string; encoding: 'gsm7' | 'ucs2' }> = [
        { locale: 'en', text: 'Your {app_name} code is {code} 🔐', rendered: `Your ${app} code is 123456 🔐`, encoding: 'ucs2' },
        { locale: 'nl', text: 'Je code voor {app_name} is {code}. Hij verloopt over {expires_in}.', rendered: `Je code voor ${app} is 123456. Hij verloopt over 10 minuten.`, encoding: 'gsm7' },
        { locale: 'de', text: 'Ihr Code für {app_name} lautet {code}. Gültig für {expires_in}.', rendered: `Ihr Code für ${app} lautet 123456. Gültig für 10 Minuten.`, encoding: 'gsm7' },
        { locale: 'fr', text: 'Votre code {app_name} : {code}. Reçu ? Il expire dans {expires_in}.', rendered: `Votre code ${app} : 123456. Reçu ? Il expire dans 10 minutes.`, encoding: 'ucs2' },
        { locale: 'es', text: 'Su código de {app_name} es {code}. Caduca en {expires_in}.', rendered: `Su código de ${app} es 123456. Caduca en 10 minutos.`, encoding: 'ucs2' },
      ];
      for (const { locale, text, rendered, encoding } of cases) {
        const res = await preview(tenant, { channel: 'sms', locale, template: { text } });
        assert.equal(res.source, 'draft');
        assert.equal(res.locale, locale);
        assert.equal(res.text, rendered, locale);
        assert.deepEqual(res.sms, { encoding, units: rendered.length, segments: 1 }, locale); // é, ü and ç are one unit either way; 🔐 is two
        assert.deepEqual(res.sample_params, []);
      }
      assert.deepEqual(await list(tenant), [], 'a preview stores nothing');

      // Length: 160 GSM characters are one SMS, 200 are two; 100 UCS-2 characters are two.
      const pad = (prefix: string, total: number) => `${prefix}${'a'.repeat(total - prefix.replace('{code}', '123456').length)}`;
      const one = await preview(tenant, { channel: 'sms', locale: 'en', template: { text: pad('Your code is {code}. ', 160) } });
      assert.deepEqual(one.sms, { encoding: 'gsm7', units: 160, segments: 1 });
      const two = await preview(tenant, { channel: 'sms', locale: 'en', template: { text: pad('Your code is {code}. ', 200) } });
      assert.equal(two.text.length, 200);
      assert.deepEqual(two.sms, { encoding: 'gsm7', units: 200, segments: 2 });
      const ucs2 = await preview(tenant, { channel: 'sms', locale: 'fr', template: { text: pad('Reçu {code} ', 100) } });
      assert.deepEqual(ucs2.sms, { encoding: 'ucs2', units: 100, segments: 2 });
      // An extension character (€) costs two septets.
      const euro = await preview(tenant, { channel: 'sms', locale: 'en', template: { text: '€ {code}' } });
      assert.deepEqual(euro.sms, { encoding: 'gsm7', units: 9, segments: 1 });
    });

    test('preview: given or sample params, code and ttl; other channels; the effective template without a draft; an invalid draft is 422', async () => {
      const tenant = await server.tenant();
      const draft = { text: 'Order {order_id}: code {code}, valid {expires_in}. {shop}' };
      const sampled = await preview(tenant, { channel: 'sms', locale: 'en', template: draft, params: { shop: 'Acme Shop' } });
      assert.equal(sampled.text, 'Order ORDER_ID: code 123456, valid 10 minutes. Acme Shop');
      assert.deepEqual(sampled.sample_params, ['order_id']);
      const given = await preview(tenant, { channel: 'sms', locale: 'en', template: draft, params: { order_id: 'A-17', shop: 'X', unused: 'y' }, code: '9876', ttl_seconds: 300 });
      assert.equal(given.text, 'Order A-17: code 9876, valid 5 minutes. X');
      assert.deepEqual(given.sample_params, []);
      const counted = await preview(tenant, { channel: 'sms', locale: 'en', template: { text: '{code}: {items, plural, one {# item} other {# items}} for {total, number}' } });
      assert.equal(counted.text, '123456: 1 item for 1');
      assert.deepEqual(counted.sample_params, ['items', 'total']);

      const email = await preview(tenant, {
        channel: 'email',
        purpose: 'transaction',
        locale: 'de',
        template: { subject: 'Freigabe bei {app_name}', text: 'Code: {code}', html: '<p>Code: <b>{code}</b> für {shop}</p>' },
        params: { shop: '<Acme & Co>' },
      });
      assert.deepEqual([email.subject, email.text, email.html, email.sms], [`Freigabe bei ${tenant.name}`, 'Code: 123456', '<p>Code: <b>123456</b> für &#60;Acme &#38; Co&#62;</p>', undefined]);

      const voice = await preview(tenant, { channel: 'voice', locale: 'nl-BE', template: { text: 'Uw code is {code}.' } });
      assert.equal(voice.voice_language, 'nl-NL');
      assert.match(voice.ssml ?? '', /^<speak[\s\S]*<\/speak>$/);
      const push = await preview(tenant, { channel: 'push', locale: 'en' });
      assert.equal(push.source, 'built_in');
      assert.equal(push.title, `Approve sign-in to ${tenant.name}?`);

      // Without a draft: the built-in template in the best locale, with its purpose.
      const builtIn = await preview(tenant, { channel: 'sms', purpose: 'transaction', locale: 'fr-CA', code: '482913' });
      assert.equal(builtIn.source, 'built_in');
      assert.equal(builtIn.locale, 'fr');
      assert.match(builtIn.text, /482913/);

      const invalid = await tenant.request('POST', '/v1/templates/preview', { channel: 'sms', locale: 'en', template: { text: 'Code {code' } });
      const problem = assertProblem(invalid, 422, 'invalid_template');
      assert.equal((problem['problems'] as TemplateProblem[])[0]?.rule, 'malformed');
      assertProblem(await tenant.request('POST', '/v1/templates/preview', { channel: 'sms', locale: 'en', template: { text: '{x} {code}' }, params: { 'Bad-Key': 'v' } }), 400, 'invalid_request');
      assert.deepEqual(await list(tenant), []);
      assert.deepEqual(await events(server, tenant), []);
    });

    test("SEC-44 tenant isolation: another application's templates are invisible and untouchable", async () => {
      const a = await server.tenant();
      const b = await server.tenant();
      const mine = await put(a, 'sms/authentication/nl', SMS_NL);

      assert.deepEqual(await list(b), []);
      const foreign = assertProblem(await b.request('GET', '/v1/templates/sms/authentication/nl'), 404, 'template_not_found');
      const missing = assertProblem(await b.request('GET', '/v1/templates/sms/authentication/de'), 404, 'template_not_found');
      assert.equal(foreign.detail.replace(' nl', ' <l>'), missing.detail.replace(' de', ' <l>'));
      assert.equal((await b.request('GET', '/v1/templates/sms/authentication/nl-BE?effective=true')).json().source, 'built_in');
      assert.equal((await preview(b, { channel: 'sms', locale: 'nl-BE' })).source, 'built_in');
      assertProblem(await b.request('DELETE', '/v1/templates/sms/authentication/nl'), 404, 'template_not_found');

      // B's own template of the same key is its own; A's is unchanged.
      await put(b, 'sms/authentication/nl', { text: 'B {code}' });
      assert.deepEqual(await list(a), [mine]);
      assert.equal((await list(b))[0]?.text, 'B {code}');
      assert.deepEqual(await events(server, b).then((e) => e.map((x) => x.type)), ['template.updated']);
    });

    test('every template route needs the admin scope: 403 insufficient_scope without it, and nothing changes', async () => {
      const owner = await server.tenant({ name: `templates-scope-${dialect}-${process.pid}` });
      await put(owner, 'sms/authentication/en', { text: 'Code {code}' });
      // A second client of the same application, with every scope but admin.
      const credentials = await server.runtime.applications.createClient(owner.name, ALL_SCOPES.filter((s) => s !== 'admin'));
      const { access_token: token } = await server.runtime.tokens.issue(credentials.client_id, credentials.client_secret, undefined);
      const routes: Array<[string, string, unknown]> = [
        ['GET', '/v1/templates', undefined],
        ['GET', '/v1/templates/sms/authentication/en', undefined],
        ['GET', '/v1/templates/sms/authentication/en?effective=true', undefined],
        ['PUT', '/v1/templates/sms/authentication/en', { text: 'Hacked {code}' }],
        ['DELETE', '/v1/templates/sms/authentication/en', undefined],
        ['POST', '/v1/templates/preview', { channel: 'sms', locale: 'en' }],
      ];
      for (const [method, url, body] of routes) {
        const res = await server.runtime.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as string }) });
        const problem = assertProblem(res, 403, 'insufficient_scope', `${method} ${url}`);
        assert.equal(problem['scope'], 'admin');
        assertProblem(await server.runtime.app.inject({ method: method as 'GET', url }), 401, 'invalid_token', `${method} ${url}`);
      }
      assert.deepEqual((await list(owner)).map((t) => t.text), ['Code {code}']);
    });
  });
}
