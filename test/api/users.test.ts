import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects } from '../helpers/databases.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestServer, type Tenant, type TestServer } from '../helpers/server.ts';

interface UserView {
  id: string;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  display_name: string | null;
  locale: string | null;
  status: 'active' | 'suspended';
  created_at: string;
  updated_at: string;
}

async function create(tenant: Tenant, body: Record<string, unknown>): Promise<UserView> {
  const res = await tenant.request('POST', '/v1/users', body);
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as UserView;
}

async function lookup(tenant: Tenant, query: string): Promise<string[]> {
  const res = await tenant.request('GET', `/v1/users?${query}`);
  assert.equal(res.statusCode, 200, `${query}: ${res.body}`);
  return (res.json().items as UserView[]).map((u) => u.id);
}

for (const dialect of dialects()) {
  describe(`${dialect}: users`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    test('create: 201 with the user, phone national with country stored as E.164, e-mail domain lower-cased', async () => {
      const tenant = await server.tenant();
      const res = await tenant.request('POST', '/v1/users', {
        external_id: 'crm-42',
        email: 'Alice.Smith@Example.COM',
        phone: '06 1234 5678',
        country: 'nl',
        display_name: 'Alice Smith',
        locale: 'nl-be',
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const user = res.json() as UserView;
      assert.match(user.id, /^usr_[a-z2-7]{26}$/);
      assert.equal(user.external_id, 'crm-42');
      assert.equal(user.email, 'Alice.Smith@example.com', 'the local part keeps its case, the domain is lower-cased');
      assert.equal(user.phone, '+31612345678');
      assert.equal(user.display_name, 'Alice Smith');
      assert.equal(user.locale, 'nl-BE');
      assert.equal(user.status, 'active');
      assert.equal(user.created_at, user.updated_at);
      assert.ok(!Number.isNaN(Date.parse(user.created_at)));

      const minimal = await create(tenant, {});
      assert.deepEqual(
        { ...minimal, id: '', created_at: '', updated_at: '' },
        { id: '', external_id: null, email: null, phone: null, display_name: null, locale: null, status: 'active', created_at: '', updated_at: '' },
      );
      const international = await create(tenant, { phone: '+32 470 12 34 56' });
      assert.equal(international.phone, '+32470123456');
    });

    test('get: the user as created; a missing id is 404 user_not_found', async () => {
      const tenant = await server.tenant();
      const user = await create(tenant, { external_id: 'bob', email: 'bob@example.org' });
      const res = await tenant.request('GET', `/v1/users/${user.id}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), user);
      assertProblem(await tenant.request('GET', '/v1/users/usr_aaaaaaaaaaaaaaaaaaaaaaaaaa'), 404, 'user_not_found');
    });

    test('lookup by e-mail, by phone in any international format, and by external_id', async () => {
      const tenant = await server.tenant();
      const alice = await create(tenant, { external_id: 'alice', email: 'alice@Example.com', phone: '+31612345678' });
      const bob = await create(tenant, { external_id: 'bob', email: 'bob@example.com', phone: '+31687654321' });
      assert.deepEqual(await lookup(tenant, 'email=alice%40example.com'), [alice.id]);
      assert.deepEqual(await lookup(tenant, 'email=alice%40EXAMPLE.COM'), [alice.id], 'the domain is compared lower-cased');
      assert.deepEqual(await lookup(tenant, `email=${encodeURIComponent(' alice@example.com ')}`), [alice.id]);
      for (const phone of ['+31612345678', '+31 6 12345678', '+31 (0)6-1234 5678', '+31.6.12.34.56.78']) {
        assert.deepEqual(await lookup(tenant, `phone=${encodeURIComponent(phone)}`), [alice.id], phone);
      }
      assert.deepEqual(await lookup(tenant, 'phone=%2B31687654321'), [bob.id]);
      assert.deepEqual(await lookup(tenant, 'phone=+31687654321'), [bob.id], 'an unencoded + (read as a space) still means +');
      assert.deepEqual(await lookup(tenant, 'external_id=bob'), [bob.id]);
      assert.deepEqual(await lookup(tenant, 'external_id=carol'), []);
      assert.deepEqual(await lookup(tenant, 'email=carol%40example.com'), []);
      // Several users may share an e-mail address; they come oldest first.
      const alice2 = await create(tenant, { email: 'alice@example.com' });
      assert.deepEqual(await lookup(tenant, 'email=alice%40example.com'), [alice.id, alice2.id]);
      const full = (await tenant.request('GET', '/v1/users?external_id=alice')).json().items[0];
      assert.deepEqual(full, alice);
    });

    test('PATCH changes only the fields given; null clears a field; status suspended', async () => {
      const tenant = await server.tenant();
      const user = await create(tenant, { external_id: 'dave', email: 'dave@example.com', phone: '+31612345678', display_name: 'Dave', locale: 'en' });

      const renamed = await tenant.request('PATCH', `/v1/users/${user.id}`, { display_name: 'David' });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.deepEqual({ ...(renamed.json() as UserView), updated_at: '' }, { ...user, display_name: 'David', updated_at: '' });

      const phone = await tenant.request('PATCH', `/v1/users/${user.id}`, { phone: '0470 12 34 56', country: 'BE', email: 'David@EXAMPLE.com' });
      assert.equal(phone.statusCode, 200, phone.body);
      assert.equal(phone.json().phone, '+32470123456');
      assert.equal(phone.json().email, 'David@example.com');
      assert.equal(phone.json().display_name, 'David');

      const cleared = await tenant.request('PATCH', `/v1/users/${user.id}`, { email: null, locale: null, external_id: null });
      assert.equal(cleared.statusCode, 200, cleared.body);
      assert.equal(cleared.json().email, null);
      assert.equal(cleared.json().locale, null);
      assert.equal(cleared.json().external_id, null);
      assert.equal(cleared.json().phone, '+32470123456', 'a field not given is kept');
      assert.deepEqual(await lookup(tenant, 'external_id=dave'), []);
      assert.deepEqual(await lookup(tenant, 'email=dave%40example.com'), []);

      const suspended = await tenant.request('PATCH', `/v1/users/${user.id}`, { status: 'suspended' });
      assert.equal(suspended.statusCode, 200, suspended.body);
      assert.equal(suspended.json().status, 'suspended');
      const read = (await tenant.request('GET', `/v1/users/${user.id}`)).json();
      assert.deepEqual(read, suspended.json(), 'the change is stored');
      assert.equal(read.created_at, user.created_at);

      assertProblem(await tenant.request('PATCH', '/v1/users/usr_aaaaaaaaaaaaaaaaaaaaaaaaaa', { display_name: 'x' }), 404, 'user_not_found');
    });

    test('DELETE answers 204, then the user is 404 and gone from lookups', async () => {
      const tenant = await server.tenant();
      const user = await create(tenant, { external_id: 'erin' });
      const keep = await create(tenant, { external_id: 'frank' });
      const res = await tenant.request('DELETE', `/v1/users/${user.id}`);
      assert.equal(res.statusCode, 204, res.body);
      assert.equal(res.body, '');
      assertProblem(await tenant.request('GET', `/v1/users/${user.id}`), 404, 'user_not_found');
      assertProblem(await tenant.request('DELETE', `/v1/users/${user.id}`), 404, 'user_not_found');
      assertProblem(await tenant.request('PATCH', `/v1/users/${user.id}`, { display_name: 'x' }), 404, 'user_not_found');
      assert.deepEqual(await lookup(tenant, 'external_id=erin'), []);
      assert.deepEqual(await lookup(tenant, 'external_id=frank'), [keep.id]);
      // The external_id is free again.
      await create(tenant, { external_id: 'erin' });
    });

    test('a duplicate external_id is 409 user_exists, on create and on PATCH', async () => {
      const tenant = await server.tenant();
      const first = await create(tenant, { external_id: 'gina', email: 'gina@example.com' });
      const duplicate = await tenant.request('POST', '/v1/users', { external_id: 'gina', email: 'other@example.com' });
      assertProblem(duplicate, 409, 'user_exists');
      assert.deepEqual(await lookup(tenant, 'external_id=gina'), [first.id]);
      assert.deepEqual(await lookup(tenant, 'email=other%40example.com'), [], 'the refused user was not stored');

      const second = await create(tenant, { external_id: 'hank' });
      const patched = await tenant.request('PATCH', `/v1/users/${second.id}`, { external_id: 'gina', display_name: 'Hank' });
      assertProblem(patched, 409, 'user_exists');
      assert.deepEqual((await tenant.request('GET', `/v1/users/${second.id}`)).json(), second, 'the refused change was not applied');

      // Users without an external_id do not collide, and a user may keep its own.
      await create(tenant, {});
      await create(tenant, { external_id: null });
      const same = await tenant.request('PATCH', `/v1/users/${first.id}`, { external_id: 'gina', display_name: 'Gina' });
      assert.equal(same.statusCode, 200, same.body);
    });

    test('starting a verification for a suspended user is 409 user_suspended; reactivated, it works', async () => {
      const tenant = await server.tenant();
      const user = await create(tenant, { phone: '+31612345678', status: 'suspended' });
      assert.equal(user.status, 'suspended');
      const res = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id });
      assertProblem(res, 409, 'user_suspended');
      assert.deepEqual((await tenant.request('GET', '/v1/outbox')).json().items, []);
      const active = await tenant.request('PATCH', `/v1/users/${user.id}`, { status: 'active' });
      assert.equal(active.statusCode, 200, active.body);
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.id });
      assert.equal(started.statusCode, 201, started.body);
    });

    test('a user without a phone is 422 recipient_missing for sms; without an e-mail, for email', async () => {
      const tenant = await server.tenant();
      const emailOnly = await create(tenant, { email: 'ivy@example.com' });
      const sms = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: emailOnly.id });
      const problem = assertProblem(sms, 422, 'recipient_missing');
      assert.match(problem.detail, /phone/);
      const email = await tenant.request('POST', '/v1/verifications', { channel: 'email', user_id: emailOnly.id });
      assert.equal(email.statusCode, 201, email.body);

      const phoneOnly = await create(tenant, { phone: '+31612345678' });
      assertProblem(await tenant.request('POST', '/v1/verifications', { channel: 'email', user_id: phoneOnly.id }), 422, 'recipient_missing');
      // A phone cleared by PATCH is missing too.
      await tenant.request('PATCH', `/v1/users/${phoneOnly.id}`, { phone: null });
      assertProblem(await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: phoneOnly.id }), 422, 'recipient_missing');
    });
  });
}
