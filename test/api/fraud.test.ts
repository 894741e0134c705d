// Fraud controls (issue [4]): guessing across verifications, SMS pumping (destinations, number
// types, send rates, velocity per prefix and country), and what a blocked start leaves behind.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { TestClock } from '../helpers/clock.ts';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

async function queued(server: TestServer, tenant: Tenant): Promise<number> {
  const row = await sql<{ n: number | string }>`select count(*) as n from deliveries where application_id = ${tenant.applicationId}`.execute(server.runtime.store.database.db);
  return Number(row.rows[0]!.n);
}

async function eventsOf(tenant: Tenant, type: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const page = (await tenant.request('GET', `/v1/events?types=${type}&limit=500`)).json() as { items: Array<{ type: string; data: Record<string, unknown> }> };
  return page.items;
}

async function setup(t: import('node:test').TestContext, dialect: 'sqlite' | 'postgres', patch: Record<string, unknown> = {}) {
  const clock = new TestClock(Date.UTC(2026, 11, 1, 10, 0, 0));
  const server = await startTestServer({ dialect, clock, env: { OUTBAND_WORKERS: 'false' } });
  t.after(() => server.close());
  const tenant = await server.tenant({ plan: 'licensed' });
  if (Object.keys(patch).length > 0) {
    const r = await tenant.request('PATCH', '/v1/settings', patch);
    assert.equal(r.statusCode, 200, r.body);
  }
  const start = (body: Record<string, unknown>) => tenant.request('POST', '/v1/verifications', { return_code: true, ...body });
  const check = (id: string, code: string) => tenant.request('POST', `/v1/verifications/${id}/check`, { code });
  return { clock, server, tenant, start, check };
}

const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');

for (const dialect of dialects()) {
  describe(`${dialect}: fraud controls`, () => {
    test('must-show 3: an attacker restarting verifications to one number is stopped at the per-recipient threshold (10 wrong codes in an hour), with an event; restarting never resets it', async (t) => {
      // The default threshold (10 wrong codes in an hour); a short cool-off keeps the test's token valid.
      const { clock, server, tenant, start, check } = await setup(t, dialect, { fraud: { recipient_failures: { cool_off_seconds: 900 } } });
      const phone = '+31612345678';
      let failures = 0;
      let starts = 0;
      for (;;) {
        const started = await start({ channel: 'sms', to: phone });
        if (started.statusCode !== 201) {
          const body = assertProblem(started, 429, 'recipient_cooling_off');
          assert.equal(body['retry_after'], 900);
          break;
        }
        starts++;
        const { id, code } = started.json() as { id: string; code: string };
        for (let i = 0; i < 3 && failures < 10; i++) {
          await check(id, wrongFor(code));
          failures++;
        }
        assert.ok(starts <= 5, 'the attacker must be stopped');
      }
      assert.equal(failures, 10, 'ten wrong codes across verifications');
      assert.equal(starts, 4, '3 + 3 + 3 + 1 wrong codes over four verifications');
      const before = await queued(server, tenant);
      // Through another route to the same number: still refused.
      assertProblem(await start({ channel: 'sms', to: phone }), 429, 'recipient_cooling_off');
      assert.equal(await queued(server, tenant), before, 'nothing more sent');
      const events = await eventsOf(tenant, 'fraud.recipient_cooling_off');
      assert.equal(events.length, 1);
      assert.equal(events[0]!.data['failures'], 10);
      assert.ok(!JSON.stringify(events).includes(phone), 'the event does not carry the number');
      // Another number is not affected; after the cool-off this one works again.
      assert.equal((await start({ channel: 'sms', to: '+31612345679' })).statusCode, 201);
      clock.advance(900_000 + 1000);
      assert.equal((await start({ channel: 'sms', to: phone })).statusCode, 201);
    });

    test('SEC-06 consecutive failures per authenticator across verifications are capped: at cap 10 the 11th start is authenticator_locked and sends nothing; an admin re-bind unlocks; a success clears the count', async (t) => {
      const { server, tenant, start, check } = await setup(t, dialect, {
        fraud: { authenticator_failure_cap: 10, recipient_failures: { max: 1000 }, recipient_sends: { max: 1000 }, prefix_velocity: { max: 1000 } },
      });
      const phone = '+31612340000';
      for (let i = 0; i < 10; i++) {
        const s = (await start({ channel: 'sms', to: phone })).json() as { id: string; code: string };
        await check(s.id, wrongFor(s.code));
      }
      const sent = await queued(server, tenant);
      const locked = await start({ channel: 'sms', to: phone });
      const body = assertProblem(locked, 403, 'authenticator_locked');
      assert.equal(typeof body['verification_id'], 'string');
      assert.equal(await queued(server, tenant), sent, 'nothing sent to a locked authenticator');
      assert.equal((await eventsOf(tenant, 'authenticator.locked')).length, 1);
      const status = (await tenant.request('GET', `/v1/authenticators/${encodeURIComponent(phone)}`)).json() as { locked: boolean; consecutive_failures: number };
      assert.deepEqual([status.locked, status.consecutive_failures], [true, 10]);

      // Re-bound by an admin: it works again, from zero.
      assert.equal((await tenant.request('DELETE', `/v1/authenticators/${encodeURIComponent(phone)}/lock`)).statusCode, 204);
      assert.equal((await eventsOf(tenant, 'authenticator.unlocked')).length, 1);
      assertProblem(await tenant.request('DELETE', `/v1/authenticators/${encodeURIComponent(phone)}/lock`), 404, 'authenticator_not_locked');

      // 3 failures, then a success clears them: 10 more failures are allowed before the lock.
      const other = '+31612340001';
      for (let i = 0; i < 3; i++) {
        const s = (await start({ channel: 'sms', to: other })).json() as { id: string; code: string };
        await check(s.id, wrongFor(s.code));
      }
      const good = (await start({ channel: 'sms', to: other })).json() as { id: string; code: string };
      assert.equal(((await check(good.id, good.code)).json() as { valid: boolean }).valid, true);
      for (let i = 0; i < 9; i++) {
        const s = (await start({ channel: 'sms', to: other })).json() as { id: string; code: string };
        await check(s.id, wrongFor(s.code));
      }
      const s = await start({ channel: 'sms', to: other });
      assert.equal(s.statusCode, 201, 'nine failures since the success: not locked yet');
      await check((s.json() as { id: string }).id, wrongFor((s.json() as { code: string }).code));
      assertProblem(await start({ channel: 'sms', to: other }), 403, 'authenticator_locked');
    });

    test('SEC-31 SEC-37 the 6th send to one number within 10 min is blocked: verification_blocked with reasons, stored as blocked, a verification.blocked event, nothing sent; after the window it passes', async (t) => {
      const { clock, server, tenant, start } = await setup(t, dialect);
      for (let i = 0; i < 5; i++) assert.equal((await start({ channel: 'sms', to: '+31611111111' })).statusCode, 201);
      const sixth = await start({ channel: 'sms', to: '+31611111111' });
      const body = assertProblem(sixth, 403, 'verification_blocked');
      assert.deepEqual(body['reasons'], ['recipient_send_rate']);
      assert.equal(body['retry_after'], 600);
      assert.equal(await queued(server, tenant), 5, 'the sink holds five messages');
      const view = (await tenant.request('GET', `/v1/verifications/${body['verification_id']}`)).json() as Record<string, unknown>;
      assert.equal(view['status'], 'blocked');
      assert.equal(view['reason'], 'blocked');
      assert.deepEqual(view['blocked_reasons'], ['recipient_send_rate']);
      assert.equal(view['country'], 'NL', 'the view carries the destination country');
      const blocked = await eventsOf(tenant, 'verification.blocked');
      assert.equal(blocked.length, 1);
      assert.equal(blocked[0]!.data['reasons'], 'recipient_send_rate');
      clock.advance(600_000 + 1);
      assert.equal((await start({ channel: 'sms', to: '+31611111111' })).statusCode, 201);
    });

    test('must-show 4, SEC-33: destinations outside allowed_countries are refused per channel (422 destination_not_allowed, nothing sent); an allowed one passes', async (t) => {
      const { server, tenant, start } = await setup(t, dialect, { allowed_countries: { sms: ['NL', 'DE'] } });
      const uk = await start({ channel: 'sms', to: '+447400123456' });
      const body = assertProblem(uk, 422, 'destination_not_allowed');
      const view = (await tenant.request('GET', `/v1/verifications/${body['verification_id']}`)).json() as Record<string, unknown>;
      assert.equal(view['status'], 'blocked');
      assert.equal(view['country'], 'GB');
      assert.equal(await queued(server, tenant), 0);
      assert.equal((await start({ channel: 'sms', to: '+4915123456789' })).statusCode, 201, 'Germany is allowed');
      // E-mail is not a phone channel: country rules do not apply.
      assert.equal((await start({ channel: 'email', to: 'a@example.co.uk' })).statusCode, 201);
    });

    test('SEC-33 countries are allowed per channel: NL and DE for SMS only, so +49 by voice is refused while +49 by SMS is sent; a safe-listed number in a refused country passes', async (t) => {
      const { server, tenant, start } = await setup(t, dialect, {
        channels: { voice: { enabled: true, provider: 'outbox' } },
        allowed_countries: { sms: ['NL', 'DE'], voice: ['NL'] },
      });
      assertProblem(await start({ channel: 'sms', to: '+447400123456' }), 422, 'destination_not_allowed');
      assertProblem(await start({ channel: 'voice', to: '+4915123456789' }), 422, 'destination_not_allowed');
      assert.equal(await queued(server, tenant), 0);
      assert.equal((await start({ channel: 'sms', to: '+4915123456789' })).statusCode, 201);
      assert.equal((await tenant.request('PATCH', '/v1/settings', { fraud: { safe_list: ['+447400123456'] } })).statusCode, 200);
      assert.equal((await start({ channel: 'sms', to: '+447400123456' })).statusCode, 201, 'the safe list overrides the country block for that number');
    });

    test('must-show 4, SEC-35: premium-rate, shared-cost and unknown number types are refused by default, nothing sent; a safe-listed number passes', async (t) => {
      const { server, tenant, start } = await setup(t, dialect);
      const premium = await start({ channel: 'sms', to: '+449098790123' });
      const body = assertProblem(premium, 422, 'number_type_not_permitted');
      assert.ok((body['reasons'] as string[]).some((r) => r.includes('PREMIUM_RATE')), JSON.stringify(body));
      const shared = await start({ channel: 'sms', to: '+448445710123' });
      assertProblem(shared, 422, 'number_type_not_permitted');
      assert.equal(await queued(server, tenant), 0, 'nothing sent, nothing billed');
      assert.equal((await tenant.request('PATCH', '/v1/settings', { fraud: { safe_list: ['+449098790123'] } })).statusCode, 200);
      assert.equal((await start({ channel: 'sms', to: '+449098790123' })).statusCode, 201, 'the safe list overrides the number-type block');
    });

    test('must-show 4, SEC-32: a burst to one prefix trips the velocity guard (prefix_velocity) at the threshold while other countries pass; the country guard blocks a country and records fraud.suspected', async (t) => {
      const { server, tenant, start } = await setup(t, dialect, {
        fraud: { prefix_velocity: { max: 20, window_seconds: 3600 }, country_velocity: { max: 40, window_seconds: 3600, block_seconds: 3600 } },
      });
      const results: number[] = [];
      for (let i = 1; i <= 30; i++) {
        const r = await start({ channel: 'sms', to: `+31612345${String(i).padStart(3, '0')}` });
        results.push(r.statusCode);
        if (r.statusCode !== 201) assert.deepEqual(assertProblem(r, 403, 'verification_blocked')['reasons'], ['prefix_velocity']);
        // Germany, in between, is not affected.
        assert.equal((await start({ channel: 'sms', to: `+49151${String(10000000 + i * 104729).slice(-8)}` })).statusCode, 201);
      }
      assert.equal(results.filter((s) => s === 201).length, 20, 'exactly the threshold passes');
      assert.equal(await queued(server, tenant), 20 + 30);

      // Spread over prefixes, the Dutch burst goes on until the country ceiling: then NL is blocked.
      let passed = 20;
      let refused: Record<string, unknown> | null = null;
      for (let i = 0; i < 40 && refused === null; i++) {
        const r = await start({ channel: 'sms', to: `+3162${String(1000000 + i * 1009).slice(-7)}` });
        if (r.statusCode === 201) passed++;
        else refused = assertProblem(r, 403, 'verification_blocked');
      }
      assert.equal(passed, 40, 'the country ceiling');
      assert.deepEqual(refused?.['reasons'], ['country_velocity']);
      const suspected = await eventsOf(tenant, 'fraud.suspected');
      assert.equal(suspected.length, 1);
      assert.equal(suspected[0]!.data['country'], 'NL');
      assertProblem(await start({ channel: 'sms', to: '+31655555555' }), 403, 'verification_blocked');
      assert.equal((await start({ channel: 'sms', to: '+4915199999999' })).statusCode, 201, 'other countries pass');
    });
  });
}

for (const dialect of dialects()) {
  describe(`${dialect}: volume and conversion, number intelligence`, () => {
    test('SEC-34 100 unconverted verifications to a prefix block the next start (low_conversion, fraud.suspected); after the block window it passes; a repeat blocks twice as long', async (t) => {
      const { clock, tenant, start, check } = await setup(t, dialect, {
        fraud: { prefix_velocity: { max: 10_000 }, low_conversion: { scope: 'prefix', min_volume: 100, min_rate_percent: 10, block_seconds: 900 } },
      });
      const burst = async (from: number) => {
        for (let i = from; i < from + 100; i++) assert.equal((await start({ channel: 'sms', to: `+31612345${String(i % 1000).padStart(3, '0')}` })).statusCode, 201);
      };
      await burst(0);
      const first = assertProblem(await start({ channel: 'sms', to: '+31612345999' }), 403, 'verification_blocked');
      assert.deepEqual([first['reasons'], first['retry_after']], [['low_conversion'], 900]);
      assert.equal((await start({ channel: 'sms', to: '+31611122233' })).statusCode, 201, 'another prefix passes');
      const suspected = await eventsOf(tenant, 'fraud.suspected');
      assert.deepEqual([suspected.length, suspected[0]!.data['signal'], suspected[0]!.data['prefix'], suspected[0]!.data['started']], [1, 'low_conversion', '+31612345', 100]);

      clock.advance(900_000 + 1);
      await burst(100);
      const second = assertProblem(await start({ channel: 'sms', to: '+31612345998' }), 403, 'verification_blocked');
      assert.deepEqual([second['reasons'], second['retry_after']], [['low_conversion'], 1800], 'the second block lasts twice as long');

      // A prefix whose verifications are approved is not blocked at the same volume.
      clock.advance(1800_000 + 1);
      for (let i = 0; i < 100; i++) {
        const s = (await start({ channel: 'sms', to: `+31687654${String(i).padStart(3, '0')}` })).json() as { id: string; code: string };
        if (i % 5 === 0) assert.equal(((await check(s.id, s.code)).json() as { valid: boolean }).valid, true);
      }
      assert.equal((await start({ channel: 'sms', to: '+31687654999' })).statusCode, 201, '20 % approved is above the 10 % floor');
    });
  });
}

/** A number-lookup service on 127.0.0.1 answering each number from `answers`. */
async function lookupService(answers: Map<string, Record<string, unknown>>): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const { number } = JSON.parse(body) as { number: string };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answers.get(number) ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  return { url: `http://127.0.0.1:${port}/lookup`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('number intelligence through an HTTP lookup', () => {
  test('SEC-15 line type is policy: a VoIP number is refused (line_type_not_permitted) while the policy denies it and sent once it allows it, at once', async (t) => {
    const service = await lookupService(new Map([['+31612345678', { line_type: 'voip' }]]));
    t.after(() => service.close());
    const server = await startTestServer({ env: { OUTBAND_WORKERS: 'false', NUMBER_LOOKUP: 'http', NUMBER_LOOKUP_HTTP_URL: service.url } });
    t.after(() => server.close());
    const tenant = await server.tenant({ plan: 'licensed' });
    assert.equal((await tenant.request('PATCH', '/v1/settings', { fraud: { voip: 'deny' } })).statusCode, 200);
    assertProblem(await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' }), 422, 'line_type_not_permitted');
    assert.equal(await queued(server, tenant), 0);
    assert.equal((await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345679' })).statusCode, 201, 'a mobile number passes');
    assert.equal((await tenant.request('PATCH', '/v1/settings', { fraud: { voip: 'allow' } })).statusCode, 200);
    assert.equal((await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).statusCode, 201);
  });

  test('a SIM swapped within fraud.sim_swap_block_seconds blocks the number (verification_blocked, sim_swap); 0 turns the signal off', async (t) => {
    const service = await lookupService(new Map([['+31612345678', { line_type: 'mobile', sim_swapped_at: new Date(Date.now() - 86_400_000).toISOString() }]]));
    t.after(() => service.close());
    const server = await startTestServer({ env: { OUTBAND_WORKERS: 'false', NUMBER_LOOKUP: 'http', NUMBER_LOOKUP_HTTP_URL: service.url } });
    t.after(() => server.close());
    const tenant = await server.tenant({ plan: 'licensed' });
    const refused = assertProblem(await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' }), 403, 'verification_blocked');
    assert.deepEqual(refused['reasons'], ['sim_swap']);
    assert.equal((await tenant.request('PATCH', '/v1/settings', { fraud: { sim_swap_block_seconds: 0 } })).statusCode, 200);
    assert.equal((await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678' })).statusCode, 201);
  });
});
