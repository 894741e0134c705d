import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dialects } from '../helpers/databases.ts';
import { startTestServer } from '../helpers/server.ts';
import { startSmsc } from '../helpers/smsc.ts';

for (const dialect of dialects()) {
  test(`${dialect}: an application's own template is what goes out, in the user's language, with the request's params`, async (t) => {
    const server = await startTestServer({ dialect, env: { OUTBAND_WORKERS: 'false' } });
    t.after(() => server.close());
    const tenant = await server.tenant();
    const put = await tenant.request('PUT', '/v1/templates/sms/transaction/nl', { text: 'Bevestig betaling {order_id} bij {app_name} met code {code}.' });
    assert.equal(put.statusCode, 200, put.body);

    const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', locale: 'nl-BE', purpose: 'transaction', params: { order_id: 'A-17' } })).json();
    await server.runtime.worker.runOnce();
    const [message] = (await tenant.request('GET', `/v1/outbox?verification_id=${v.id}`)).json().items as Array<{ body: string }>;
    assert.match(message?.body ?? '', new RegExp(`^Bevestig betaling A-17 bij ${tenant.name} met code \\d{6}\\.$`));

    // English falls back to the built-in wording; a missing param is the request's error.
    const en = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', purpose: 'transaction' })).json();
    await server.runtime.worker.runOnce();
    const [builtIn] = (await tenant.request('GET', `/v1/outbox?verification_id=${en.id}`)).json().items as Array<{ body: string }>;
    assert.doesNotMatch(builtIn?.body ?? '', /Bevestig/);
    const missing = await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', locale: 'nl', purpose: 'transaction' });
    assert.equal(missing.statusCode, 422, missing.body);
    assert.equal(missing.json().code, 'invalid_template');
  });

  test(`${dialect}: a long UCS-2 SMS from an own template leaves over SMPP as concatenated parts`, async (t) => {
    const smsc = await startSmsc(t);
    const server = await startTestServer({
      dialect,
      env: { OUTBAND_WORKERS: 'false', SMPP_URL: smsc.url, SMPP_SYSTEM_ID: 'outband', SMPP_PASSWORD: 'secret', SMPP_SOURCE_ADDR: '+3197010000000' },
    });
    t.after(() => server.close());
    const tenant = await server.tenant({ providers: { sms: 'smpp', email: 'outbox' } });
    const text = `您的验证码是 {code}。${'请勿将此验证码告诉任何人，包括自称客服的人员。'.repeat(4)}`;
    assert.equal((await tenant.request('PUT', '/v1/templates/sms/authentication/zh', { text })).statusCode, 200);
    const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', locale: 'zh' })).json();
    await server.runtime.worker.runOnce();
    assert.ok(smsc.submits.length >= 2, `${smsc.submits.length} parts`);
    for (const part of smsc.submits) {
      assert.equal(part.pdu.data_coding, 8, 'UCS-2');
      assert.equal(part.udh?.[0], 0x00, 'concatenation UDH');
    }
    const whole = smsc.submits.map((p) => p.text).join('');
    const code = whole.match(/验证码是 (\d{6})/)?.[1];
    assert.ok(code, whole);
    assert.equal((await tenant.request('POST', `/v1/verifications/${v.id}/check`, { code })).json().status, 'approved');
  });
}
