import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ConfigError, configReference, loadConfig } from '../../src/config/config.ts';
import { defaultFraudSettings } from '../../src/domain/policy/limits.ts';
import { checkDestination } from '../../src/domain/policy/destination.ts';
import { createNumberLookup, FALLBACK_SOURCE, type NumberLookupOnError } from '../../src/providers/number-lookup/registry.ts';
import { NumberLookupError, type NumberInfo, type NumberLookup } from '../../src/providers/number-lookup/types.ts';
import { newWebhookSecret, webhookSignatureProblem } from '../helpers/sms-gateway.ts';

const NL_MOBILE = '+31612345678';
const GB_PREMIUM = '+449098790000';

/** How the lookup service answers one request: a status and body, or never. */
type Answer = { status: number; body: string; headers?: Record<string, string> } | 'hang';

interface Received {
  headers: IncomingHttpHeaders;
  rawBody: string;
}

/** A lookup service on 127.0.0.1 that answers from a script keyed by the number asked about. */
class LookupService {
  readonly requests: Received[] = [];
  answers = new Map<string, Answer>();
  readonly secret = newWebhookSecret();
  readonly token = 'lookup-token-0123456789';
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ headers: request.headers, rawBody });
        let number = '';
        try {
          number = String((JSON.parse(rawBody) as { number?: unknown }).number);
        } catch {
          // answered 404 below
        }
        const answer = this.answers.get(number) ?? { status: 404, body: '{}' };
        if (answer === 'hang') return; // never answers; the connection is closed in stop()
        response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        response.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/lookup`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The lookup as the server builds it from its environment. */
  lookup(onError: NumberLookupOnError, failures: NumberLookupError[] = [], extra: Record<string, string> = {}): NumberLookup {
    const config = loadConfig({
      NUMBER_LOOKUP: 'http',
      NUMBER_LOOKUP_ON_ERROR: onError,
      NUMBER_LOOKUP_HTTP_URL: this.url,
      NUMBER_LOOKUP_HTTP_TOKEN: this.token,
      NUMBER_LOOKUP_HTTP_SECRET: this.secret,
      NUMBER_LOOKUP_HTTP_TIMEOUT_MS: '300',
      ...extra,
    });
    return createNumberLookup(
      { name: config.numberLookup, config: config.numberLookupConfig, onError: config.numberLookupOnError },
      { onFailure: (error) => failures.push(error) },
    );
  }
}

/** An NL number per scripted answer, so the answers do not depend on each other. */
let next = 31612000100;
function numberAnswering(service: LookupService, answer: Answer): string {
  const e164 = `+${next++}`;
  service.answers.set(e164, answer);
  return e164;
}
const json = (body: unknown, status = 200): Answer => ({ status, body: JSON.stringify(body) });

describe('libphonenumber lookup (the default)', () => {
  const config = loadConfig({});
  const lookup = createNumberLookup({ name: config.numberLookup, config: config.numberLookupConfig, onError: config.numberLookupOnError });

  test('is what an unconfigured server uses, with fallback on error', () => {
    assert.equal(config.numberLookup, 'libphonenumber');
    assert.equal(config.numberLookupOnError, 'fallback');
    assert.equal(lookup.name, 'libphonenumber');
  });

  const expected: [string, NumberInfo][] = [
    [NL_MOBILE, { country: 'NL', lineType: 'MOBILE', source: 'libphonenumber' }],
    ['+31201234567', { country: 'NL', lineType: 'FIXED_LINE', source: 'libphonenumber' }],
    ['+31851234567', { country: 'NL', lineType: 'VOIP', source: 'libphonenumber' }],
    [GB_PREMIUM, { country: 'GB', lineType: 'PREMIUM_RATE', source: 'libphonenumber' }],
    ['+445612345678', { country: 'GB', lineType: 'VOIP', source: 'libphonenumber' }],
    ['+4918051234567', { country: 'DE', lineType: 'SHARED_COST', source: 'libphonenumber' }],
    ['+18005550100', { country: 'US', lineType: 'TOLL_FREE', source: 'libphonenumber' }],
    ['+12015550123', { country: 'US', lineType: 'FIXED_LINE_OR_MOBILE', source: 'libphonenumber' }],
    ['+447624123456', { country: 'IM', lineType: 'MOBILE', source: 'libphonenumber' }],
    ['+870773111632', { country: null, lineType: 'MOBILE', source: 'libphonenumber' }],
    ['+88234567890', { country: null, lineType: 'UNKNOWN', source: 'libphonenumber' }],
  ];
  for (const [e164, info] of expected) {
    test(`${e164} → ${info.country ?? 'no country'}, ${info.lineType}`, async () => {
      assert.deepEqual(await lookup.lookup(e164), info);
    });
  }

  test('answers from memory: a thousand lookups take well under a second', async () => {
    const start = performance.now();
    for (let i = 0; i < 1000; i++) await lookup.lookup(`+3161234${String(i).padStart(4, '0')}`);
    assert.ok(performance.now() - start < 1000, `${performance.now() - start} ms`);
  });
});

describe('http lookup against a lookup service on 127.0.0.1', () => {
  const service = new LookupService();
  before(() => service.start());
  after(() => service.stop());

  test('posts {"number"} as JSON with the bearer token and a Standard Webhooks signature, and reads a good answer', async () => {
    const e164 = numberAnswering(service, json({ country: 'NL', line_type: 'mobile', sim_swapped_at: '2026-03-01T10:00:00Z', ported_at: null }));
    const info = await service.lookup('refuse').lookup(e164);
    assert.deepEqual(info, { country: 'NL', lineType: 'MOBILE', simSwappedAt: Date.parse('2026-03-01T10:00:00Z'), portedAt: null, source: 'http' });
    const request = service.requests.at(-1);
    assert.ok(request !== undefined);
    assert.deepEqual(JSON.parse(request.rawBody), { number: e164 });
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['authorization'], `Bearer ${service.token}`);
    assert.equal(webhookSignatureProblem(service.secret, request.headers, request.rawBody), null);
  });

  test('without token and secret, neither header is sent', async () => {
    const e164 = numberAnswering(service, json({ country: 'NL', line_type: 'MOBILE' }));
    await service.lookup('refuse', [], { NUMBER_LOOKUP_HTTP_TOKEN: '', NUMBER_LOOKUP_HTTP_SECRET: '' }).lookup(e164);
    const request = service.requests.at(-1);
    assert.equal(request?.headers['authorization'], undefined);
    assert.equal(request?.headers['webhook-signature'], undefined);
  });

  test("the service's line type wins over the metadata's, epoch-ms times are taken as they are", async () => {
    const e164 = numberAnswering(service, json({ country: 'nl', line_type: 'VOIP', sim_swapped_at: 1_767_225_600_000, ported_at: 1_700_000_000_000 }));
    assert.deepEqual(await service.lookup('refuse').lookup(e164), {
      country: 'NL',
      lineType: 'VOIP',
      simSwappedAt: 1_767_225_600_000,
      portedAt: 1_700_000_000_000,
      source: 'http',
    });
  });

  test('null or absent fields leave the metadata values; absent times stay absent', async () => {
    const e164 = numberAnswering(service, json({ country: null, line_type: null, extra: 'ignored' }));
    assert.deepEqual(await service.lookup('refuse').lookup(e164), { country: 'NL', lineType: 'MOBILE', source: 'http' });
  });

  test('a premium-rate range stays premium rate whatever the service says', async () => {
    service.answers.set(GB_PREMIUM, json({ country: 'GB', line_type: 'MOBILE' }));
    const info = await service.lookup('refuse').lookup(GB_PREMIUM);
    assert.equal(info.lineType, 'PREMIUM_RATE');
    assert.equal(info.source, 'http');
  });

  test('+1 may be placed in Canada by the service (same calling code)', async () => {
    service.answers.set('+12015550123', json({ country: 'CA', line_type: 'MOBILE' }));
    assert.equal((await service.lookup('refuse').lookup('+12015550123')).country, 'CA');
  });

  const bad: { name: string; answer: Answer; message: RegExp }[] = [
    { name: 'not JSON', answer: { status: 200, body: '<html>ok</html>' }, message: /not JSON/ },
    { name: 'a JSON array', answer: json([{ line_type: 'MOBILE' }]), message: /not a JSON object/ },
    { name: 'an unknown line type', answer: json({ country: 'NL', line_type: 'cellular' }), message: /line_type "cellular" is not one of MOBILE/ },
    { name: 'a line type that is not a string', answer: json({ line_type: 3 }), message: /line_type 3/ },
    { name: 'a country name instead of a code', answer: json({ country: 'Netherlands', line_type: 'MOBILE' }), message: /not an ISO 3166-1 alpha-2/ },
    { name: 'a country of another calling code', answer: json({ country: 'GB', line_type: 'MOBILE' }), message: /does not dial with this number's calling code/ },
    { name: 'a time that is not one', answer: json({ line_type: 'MOBILE', sim_swapped_at: 'yesterday' }), message: /sim_swapped_at "yesterday"/ },
    { name: 'a negative time', answer: json({ line_type: 'MOBILE', ported_at: -5 }), message: /ported_at -5/ },
    { name: 'HTTP 500', answer: json({ error: 'down' }, 500), message: /HTTP 500/ },
    { name: 'HTTP 401', answer: json({ error: 'who are you' }, 401), message: /HTTP 401/ },
    { name: 'a redirect', answer: { status: 302, body: '', headers: { location: 'http://127.0.0.1:1/elsewhere' } }, message: /HTTP 302/ },
    { name: 'an answer too large', answer: { status: 200, body: JSON.stringify({ line_type: 'MOBILE', pad: 'x'.repeat(20_000) }) }, message: /too large/ },
  ];
  for (const { name, answer, message } of bad) {
    test(`malformed answer (${name}): fallback answers from the metadata, refuse throws`, async () => {
      const e164 = numberAnswering(service, answer);
      const failures: NumberLookupError[] = [];
      assert.deepEqual(await service.lookup('fallback', failures).lookup(e164), { country: 'NL', lineType: 'MOBILE', source: FALLBACK_SOURCE });
      await assert.rejects(service.lookup('refuse', failures).lookup(e164), (error: unknown) => {
        assert.ok(error instanceof NumberLookupError);
        assert.match(error.message, message);
        return true;
      });
      assert.equal(failures.length, 2, 'both failures are reported');
      for (const failure of failures) {
        assert.match(failure.message, message);
        assert.ok(!failure.message.includes(e164.slice(3)), 'the number is not in the message');
      }
    });
  }

  test('a service that does not answer in NUMBER_LOOKUP_HTTP_TIMEOUT_MS: fallback answers soon after, refuse throws', async () => {
    const e164 = numberAnswering(service, 'hang');
    let start = performance.now();
    assert.deepEqual(await service.lookup('fallback').lookup(e164), { country: 'NL', lineType: 'MOBILE', source: FALLBACK_SOURCE });
    const elapsed = performance.now() - start;
    assert.ok(elapsed >= 280 && elapsed < 1500, `fell back after ${elapsed} ms`);
    start = performance.now();
    await assert.rejects(service.lookup('refuse').lookup(e164), /no answer within 300 ms/);
    assert.ok(performance.now() - start < 1500);
  });

  test('a service that is not there: fallback, or refuse throws', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/lookup`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const failures: NumberLookupError[] = [];
    const fallback = service.lookup('fallback', failures, { NUMBER_LOOKUP_HTTP_URL: url });
    assert.deepEqual(await fallback.lookup(NL_MOBILE), { country: 'NL', lineType: 'MOBILE', source: FALLBACK_SOURCE });
    assert.equal(failures.length, 1);
    await assert.rejects(service.lookup('refuse', [], { NUMBER_LOOKUP_HTTP_URL: url }).lookup(NL_MOBILE), NumberLookupError);
  });

  test("a caller's abort is not turned into a fallback answer", async () => {
    const e164 = numberAnswering(service, 'hang');
    const controller = new AbortController();
    const pending = service.lookup('fallback').lookup(e164, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending, NumberLookupError);
  });

  test('SEC-15: a lookup answering line_type=voip gets the number refused with line_type_not_permitted under fraud.voip=deny, sent under allow', async () => {
    const e164 = numberAnswering(service, json({ country: 'NL', line_type: 'voip' }));
    const info = await service.lookup('refuse').lookup(e164);
    const fraud = defaultFraudSettings();
    const decide = (voip: 'allow' | 'deny') =>
      checkDestination({ channel: 'sms', e164, info, settings: { allowedCountries: {}, fraud: { ...fraud, voip } }, now: Date.now() });
    const denied = decide('deny');
    assert.equal(denied.ok ? 'ok' : denied.code, 'line_type_not_permitted');
    assert.equal(decide('allow').ok, true);
  });

  test('SEC-35: a lookup answering type=premium_rate gets the number refused before sending', async () => {
    const e164 = numberAnswering(service, json({ country: 'NL', line_type: 'premium_rate' }));
    const info = await service.lookup('refuse').lookup(e164);
    assert.equal(info.lineType, 'PREMIUM_RATE');
    const decision = checkDestination({ channel: 'sms', e164, info, settings: { allowedCountries: {}, fraud: defaultFraudSettings() }, now: Date.now() });
    assert.equal(decision.ok ? 'ok' : decision.code, 'number_type_not_permitted');
    assert.deepEqual(decision.ok ? [] : decision.reasons, ['number type PREMIUM_RATE is refused (fraud.refused_number_types)']);
  });
});

describe('number lookup configuration', () => {
  test('NUMBER_LOOKUP=http needs NUMBER_LOOKUP_HTTP_URL', () => {
    assert.throws(() => loadConfig({ NUMBER_LOOKUP: 'http' }), (error: unknown) => error instanceof ConfigError && /NUMBER_LOOKUP_HTTP_URL/.test(error.message));
    assert.throws(() => loadConfig({ NUMBER_LOOKUP: 'http', NUMBER_LOOKUP_HTTP_URL: 'ftp://x' }), /NUMBER_LOOKUP_HTTP_URL/);
  });

  test('an unknown lookup, failure mode or timeout is a configuration error naming the variable', () => {
    assert.throws(() => loadConfig({ NUMBER_LOOKUP: 'telepathy' }), /NUMBER_LOOKUP/);
    assert.throws(() => loadConfig({ NUMBER_LOOKUP_ON_ERROR: 'shrug' }), /NUMBER_LOOKUP_ON_ERROR/);
    assert.throws(() => loadConfig({ NUMBER_LOOKUP: 'http', NUMBER_LOOKUP_HTTP_URL: 'http://127.0.0.1/', NUMBER_LOOKUP_HTTP_TIMEOUT_MS: '5' }), /NUMBER_LOOKUP_HTTP_TIMEOUT_MS/);
  });

  test('the default timeout is 2 s; the token and secret are marked secret in docs/config.md', () => {
    const config = loadConfig({ NUMBER_LOOKUP: 'http', NUMBER_LOOKUP_HTTP_URL: 'https://lookup.example/v1' });
    assert.deepEqual(config.numberLookupConfig, { url: 'https://lookup.example/v1', token: '', secret: '', timeoutMs: 2000 });
    const reference = configReference();
    assert.match(reference, /## Number lookup `http`/);
    assert.match(reference, /\| `NUMBER_LOOKUP_HTTP_TOKEN` \| \(empty\) \| yes \|/);
    assert.match(reference, /\| `NUMBER_LOOKUP_HTTP_SECRET` \| \(empty\) \| yes \|/);
    assert.match(reference, /\| `NUMBER_LOOKUP_HTTP_TIMEOUT_MS` \| `2000` \|/);
  });
});
