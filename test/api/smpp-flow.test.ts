// A whole SMS verification through the SMPP provider against an SMSC of our own: the message
// goes out as submit_sm, the SMSC's receipt marks it delivered, and a reply (two-way) approves.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { dialects } from '../helpers/databases.ts';
import { startTestServer } from '../helpers/server.ts';
import { startSmsc } from '../helpers/smsc.ts';

for (const dialect of dialects()) {
  test(`${dialect}: SMS over SMPP: submit_sm, a delivery receipt, and a two-way reply that approves`, async (t) => {
    const smsc = await startSmsc(t);
    const server = await startTestServer({
      dialect,
      env: { OUTBAND_WORKERS: 'false', SMPP_URL: smsc.url, SMPP_SYSTEM_ID: 'outband', SMPP_PASSWORD: 'secret', SMPP_SOURCE_ADDR: '+3197010000000' },
    });
    t.after(() => server.close());
    const tenant = await server.tenant({ providers: { sms: 'smpp', email: 'outbox' } });

    const v = (await tenant.request('POST', '/v1/verifications', { channel: 'sms', to: '+31612345678', two_way: true })).json();
    await server.runtime.worker.runOnce();
    assert.equal(smsc.submits.length, 1);
    const submit = smsc.submits[0]!;
    assert.equal(submit.pdu.destination_addr, '31612345678');
    assert.equal(submit.pdu.registered_delivery, 1, 'a receipt is asked for');
    const code = submit.text.match(/code is (\d+)/)?.[1];
    assert.ok(code, submit.text);

    // The SMSC's receipt: the message becomes delivered.
    const receipt = `id:${submit.messageId} sub:001 dlvrd:001 submit date:2611251200 done date:2611251201 stat:DELIVRD err:000 text:`;
    const resp = await smsc.deliver({ source_addr_ton: 1, source_addr_npi: 1, source_addr: '31612345678', destination_addr: '3197010000000', esm_class: 0x04, short_message: { message: receipt } });
    assert.equal(resp.command_status, 0);
    let view = (await tenant.request('GET', `/v1/verifications/${v.id}`)).json();
    for (let i = 0; i < 100 && view.deliveries[0].status !== 'delivered'; i++) {
      await sleep(20);
      view = (await tenant.request('GET', `/v1/verifications/${v.id}`)).json();
    }
    assert.equal(view.deliveries[0].status, 'delivered');
    assert.equal(view.deliveries[0].provider, 'smpp');

    // The user replies with the code.
    const reply = await smsc.deliver({ source_addr_ton: 1, source_addr_npi: 1, source_addr: '31612345678', destination_addr: '3197010000000', esm_class: 0, short_message: { message: `${code}` } });
    assert.equal(reply.command_status, 0);
    assert.equal((await tenant.request('GET', `/v1/verifications/${v.id}`)).json().status, 'approved');
  });
}
