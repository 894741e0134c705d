// Threat (SEC-38): a flood of requests (token guessing that burns scrypt, bad bearer tokens,
// device or provider-callback spam) from one source, which dodges per-address limits by
// writing a new X-Forwarded-For on every request. The client address must come from the TCP
// peer, or from X-Forwarded-For only where a configured trusted proxy wrote it; limits are
// per address and per API client, announced with the RateLimit headers and refused with 429.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { ERRORS } from '../../src/domain/errors.ts';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const randomIp = () => `${randomInt(1, 224)}.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;

for (const dialect of dialects()) {
  describe(`${dialect}: SEC-38 client addresses and request rate limits`, () => {
    let server: TestServer | undefined;
    let clock: TestClock;
    let baseUrl = '';

    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    /** A server with these limits, listening on 127.0.0.1 so the TCP peer is real. */
    async function start(env: Record<string, string>): Promise<TestServer> {
      clock = new TestClock();
      server = await startTestServer({ dialect, clock, env });
      await server.runtime.app.listen({ port: 0, host: '127.0.0.1' });
      baseUrl = `http://127.0.0.1:${(server.runtime.app.server.address() as AddressInfo).port}`;
      return server;
    }

    async function send(method: string, path: string, options: { headers?: Record<string, string>; json?: unknown } = {}): Promise<Answer> {
      const headers: Record<string, string> = { ...options.headers };
      if (options.json !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(baseUrl + path, { method, headers, ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) }) });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
    }

    function token(tenant: Tenant, headers: Record<string, string> = {}): Promise<Answer> {
      return send('POST', '/oauth/token', { headers, json: { grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret } });
    }

    /** A 429 rate_limited problem whose Retry-After, retry_after and RateLimit `t` agree. */
    function assertRefused(answer: Answer, policy: string): number {
      assert.equal(answer.status, 429, JSON.stringify(answer.body));
      assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(answer.body['code'], 'rate_limited');
      assert.equal(answer.body['title'], ERRORS.rate_limited.title);
      assert.equal(answer.body['policy'], policy);
      const retryAfter = Number(answer.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${answer.headers.get('retry-after')}`);
      assert.equal(answer.body['retry_after'], retryAfter);
      assert.match(answer.headers.get('ratelimit') ?? '', new RegExp(`"${policy}";r=0;t=${retryAfter}(,|$)`));
      return retryAfter;
    }

    test('SEC-38: from an untrusted peer, rotating random X-Forwarded-For values are ignored: still limited as one client', async () => {
      // 1. No proxy is trusted; 2. proxies are trusted, but not this peer (127.0.0.1).
      for (const trusted of ['', '10.0.0.0/8, 192.168.0.0/16, 2001:db8::/32']) {
        const s = await start({ RATE_LIMIT_TOKEN_PER_IP: '5', OUTBAND_TRUSTED_PROXIES: trusted });
        const tenant = await s.tenant();
        const spoofed = () => ({ 'x-forwarded-for': `${randomIp()}, ${randomIp()}`, 'x-real-ip': randomIp(), forwarded: `for=${randomIp()}` });
        for (let i = 0; i < 5; i++) {
          const answer = await token(tenant, spoofed());
          assert.equal(answer.status, 200, `request ${i + 1} (trusted "${trusted}"): ${JSON.stringify(answer.body)}`);
          assert.equal(answer.headers.get('ratelimit'), `"token-ip";r=${4 - i};t=60`);
        }
        assertRefused(await token(tenant, spoofed()), 'token-ip');
        // The address logged for the request is the peer, not a forwarded one.
        const logged = s.logs.filter((line) => line.includes('"incoming request"')).map((line) => (JSON.parse(line) as { req: { remoteAddress: string } }).req.remoteAddress);
        assert.ok(logged.length >= 6 && logged.every((a) => a === '127.0.0.1'), logged.join(' '));
        await s.close();
        server = undefined;
      }
    });

    test('SEC-38: from a trusted proxy, X-Forwarded-For is honoured: two forwarded clients get separate budgets', async () => {
      const s = await start({ RATE_LIMIT_TOKEN_PER_IP: '3', OUTBAND_TRUSTED_PROXIES: '127.0.0.1' });
      const tenant = await s.tenant();
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      for (let i = 0; i < 3; i++) assert.equal((await token(tenant, from('198.51.100.1'))).status, 200);
      assertRefused(await token(tenant, from('198.51.100.1')), 'token-ip');
      // A client that prepends its own entries is still the address the proxy saw.
      assertRefused(await token(tenant, from(`${randomIp()}, 198.51.100.1`)), 'token-ip');
      const other = await token(tenant, from('198.51.100.2'));
      assert.equal(other.status, 200);
      assert.equal(other.headers.get('ratelimit'), '"token-ip";r=2;t=60');
      // IPv6 clients share the budget of their /64.
      for (let i = 0; i < 3; i++) assert.equal((await token(tenant, from(`2001:db8:7:8::${i + 1}`))).status, 200);
      assertRefused(await token(tenant, from('2001:db8:7:8:ffff::1')), 'token-ip');
      assert.equal((await token(tenant, from('2001:db8:7:9::1'))).status, 200);
      // request.ip (logged, and given to the services as the actor's address) is the forwarded client.
      const logged = s.logs.filter((line) => line.includes('"incoming request"')).map((line) => (JSON.parse(line) as { req: { remoteAddress: string } }).req.remoteAddress);
      assert.ok(logged.includes('198.51.100.2'), logged.join(' '));
      assert.ok(!logged.includes('127.0.0.1'), logged.join(' '));
    });

    test('SEC-38: RateLimit-Policy and RateLimit headers name each policy, its quota, window, what is left and when it resets', async () => {
      const s = await start({ RATE_LIMIT_API_PER_IP: '10', RATE_LIMIT_API_PER_CLIENT: '4', RATE_LIMIT_WINDOW_SECONDS: '60' });
      const tenant = await s.tenant();
      const auth = { authorization: `Bearer ${tenant.token}` };
      const first = await send('GET', '/v1/users?external_id=nobody', { headers: auth });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.headers.get('ratelimit-policy'), '"api-ip";q=10;w=60, "api-client";q=4;w=60');
      assert.equal(first.headers.get('ratelimit'), '"api-ip";r=9;t=60, "api-client";r=3;t=60');
      clock.advance(20_000);
      const second = await send('POST', '/v1/verifications', { headers: auth, json: { channel: 'sms', to: '+31612345678' } });
      assert.equal(second.status, 201, JSON.stringify(second.body));
      assert.equal(second.headers.get('ratelimit'), '"api-ip";r=8;t=40, "api-client";r=2;t=40');
      // Errors carry them too: a check of an unknown verification is still a counted request.
      const missing = await send('POST', '/v1/verifications/ver_aaaaaaaaaaaaaaaaaaaaaaaaaa/check', { headers: auth, json: { code: '123456' } });
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('ratelimit'), '"api-ip";r=7;t=40, "api-client";r=1;t=40');
      // Routes outside every group are not limited and say nothing.
      const health = await send('GET', '/healthz');
      assert.equal(health.status, 200);
      assert.equal(health.headers.get('ratelimit'), null);
      assert.equal(health.headers.get('ratelimit-policy'), null);
    });

    test('SEC-38: a refused request is 429 rate_limited with Retry-After; after that many seconds it passes again', async () => {
      const s = await start({ RATE_LIMIT_TOKEN_PER_IP: '2' });
      const tenant = await s.tenant();
      await token(tenant);
      clock.advance(15_500);
      await token(tenant);
      const refused = await token(tenant);
      assert.equal(assertRefused(refused, 'token-ip'), 45);
      assert.equal(refused.headers.get('ratelimit-policy'), '"token-ip";q=2;w=60');
      clock.advance(44_000);
      assert.equal(assertRefused(await token(tenant), 'token-ip'), 1);
      clock.advance(1_000);
      const again = await token(tenant);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.headers.get('ratelimit'), '"token-ip";r=1;t=60');
    });

    test('SEC-38: the per-client limit holds whatever address the client comes from, and leaves other clients alone', async () => {
      const s = await start({ RATE_LIMIT_API_PER_CLIENT: '3', RATE_LIMIT_API_PER_IP: '100', OUTBAND_TRUSTED_PROXIES: 'loopback' });
      const [a, b] = [await s.tenant(), await s.tenant()];
      const read = (tenant: Tenant, ip: string) => send('GET', '/v1/users?external_id=nobody', { headers: { authorization: `Bearer ${tenant.token}`, 'x-forwarded-for': ip } });
      for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) assert.equal((await read(a, ip)).status, 200);
      assertRefused(await read(a, '198.51.100.4'), 'api-client');
      // Another client from the very same address: its own budget.
      const other = await read(b, '198.51.100.4');
      assert.equal(other.status, 200);
      // 198.51.100.4 already sent one (refused, yet counted).
      assert.equal(other.headers.get('ratelimit'), '"api-ip";r=98;t=60, "api-client";r=2;t=60');
      // app.inject with remoteAddress: the same limiter, same answer.
      const injected = await s.runtime.app.inject({ method: 'GET', url: '/v1/users?external_id=nobody', remoteAddress: '127.0.0.1', headers: { authorization: `Bearer ${a.token}`, 'x-forwarded-for': '203.0.113.50' } });
      assert.equal(injected.statusCode, 429);
    });

    test('SEC-38: the address limit counts requests with bad tokens, before they are checked', async () => {
      await start({ RATE_LIMIT_API_PER_IP: '3' });
      for (let i = 0; i < 3; i++) {
        const answer = await send('GET', '/v1/users?external_id=nobody', { headers: { authorization: `Bearer forged.${i}.token`, 'x-forwarded-for': randomIp() } });
        assert.equal(answer.status, 401);
        assert.equal(answer.headers.get('ratelimit'), `"api-ip";r=${2 - i};t=60`);
      }
      assertRefused(await send('GET', '/v1/users?external_id=nobody', { headers: { authorization: 'Bearer forged.3.token' } }), 'api-ip');
    });

    test('SEC-38: the device API and provider callbacks are limited per address, each in its own budget', async () => {
      const s = await start({ RATE_LIMIT_DEVICE_PER_IP: '2', RATE_LIMIT_INBOUND_PER_IP: '2', RATE_LIMIT_TOKEN_PER_IP: '1' });
      for (let i = 0; i < 2; i++) assert.equal((await send('GET', '/v1/device-api/device', { headers: { 'x-forwarded-for': randomIp() } })).status, 401);
      assertRefused(await send('GET', '/v1/device-api/requests'), 'device-ip');
      for (let i = 0; i < 2; i++) {
        const answer = await send('POST', '/v1/inbound/sms/nothere', { json: {} });
        assert.equal(answer.status, 404);
        assert.equal(answer.headers.get('ratelimit-policy'), '"inbound-ip";q=2;w=60');
      }
      assertRefused(await send('POST', '/v1/callbacks/nothere', { json: {} }), 'inbound-ip');
      // The token endpoint has its own budget, untouched by the others.
      const tenant = await s.tenant();
      assert.equal((await token(tenant)).status, 200);
      const refused = await token(tenant);
      assertRefused(refused, 'token-ip');
      // The OAuth error form: never cached.
      assert.equal(refused.headers.get('cache-control'), 'no-store');
    });

    test('SEC-38: the OpenAPI document lists 429 on every limited operation', async () => {
      const s = await start({});
      const doc = (await s.runtime.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
      for (const [path, method] of [
        ['/oauth/token', 'post'],
        ['/v1/verifications', 'post'],
        ['/v1/verifications/{id}/check', 'post'],
        ['/v1/device-api/requests/{id}/respond', 'post'],
        ['/v1/inbound/sms/{provider}', 'post'],
      ] as const) {
        assert.ok(doc.paths[path]?.[method]?.responses['429'] !== undefined, `${method} ${path}`);
      }
      assert.equal(doc.paths['/healthz']?.['get']?.responses['429'], undefined);
    });
  });
}

test('SEC-38: OUTBAND_TRUSTED_PROXIES takes addresses, CIDR ranges and the named ranges, and refuses anything else at start', () => {
  const base = { OUTBAND_SECRET: 'test-secret-test-secret-test-secret-0123456789' };
  assert.deepEqual(loadConfig(base).trustedProxyList, []);
  assert.deepEqual(loadConfig({ ...base, OUTBAND_TRUSTED_PROXIES: ' 10.0.0.0/8, 192.0.2.1,2001:db8::/32 , loopback ' }).trustedProxyList, [
    '10.0.0.0/8',
    '192.0.2.1',
    '2001:db8::/32',
    'loopback',
  ]);
  for (const bad of ['10.0.0.0/33', 'proxy.example.com', '2001:db8::/129', '10.0.0.1/x', '*']) {
    assert.throws(() => loadConfig({ ...base, OUTBAND_TRUSTED_PROXIES: bad }), (error: unknown) => error instanceof ConfigError && error.message.startsWith('OUTBAND_TRUSTED_PROXIES:'), bad);
  }
});
