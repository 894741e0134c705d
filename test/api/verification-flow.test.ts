import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects } from '../helpers/databases.ts';
import { codeFromOutbox, startTestServer, type TestServer } from '../helpers/server.ts';

for (const dialect of dialects()) {
  describe(`${dialect}: SMS verification flow`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    });
    after(() => server.close());

    test('token → user → SMS verification → code from the outbox → check → approved', async () => {
      const tenant = await server.tenant();
      const user = await tenant.request('POST', '/v1/users', { external_id: 'alice', phone: '06 12345678', country: 'NL' });
      assert.equal(user.statusCode, 201, user.body);
      const started = await tenant.request('POST', '/v1/verifications', { channel: 'sms', user_id: user.json().id });
      assert.equal(started.statusCode, 201, started.body);
      const v = started.json();
      assert.equal(v.status, 'pending');
      assert.equal(v.to, '+31 6 •••• ••78');
      assert.equal(v.attempts_left, 3);
      const code = await codeFromOutbox(tenant, v.id, server.runtime.worker);
      const checked = await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code });
      assert.equal(checked.statusCode, 200, checked.body);
      assert.equal(checked.json().status, 'approved');
      assert.equal(checked.json().valid, true);
    });
  });
}
