// The SMPP provider against an SMSC of our own: the `smpp` package's server on 127.0.0.1,
// answering as an SMSC does (bind_transceiver_resp, submit_sm_resp with a message_id or an
// error status, enquire_link_resp, deliver_sm with receipts and inbound messages). Assertions
// are on what crossed the wire: the decoded PDUs and, for the text, the raw bytes.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import type { Pdu } from 'smpp';
import { loadConfig } from '../../src/config/config.ts';
import { ESME_RINVDSTADR, ESME_RMSGQFUL, ESME_RTHROTTLED, ESME_RX_T_APPN, startSmsc, type Smsc } from '../helpers/smsc.ts';
import { encodeGsm7, splitSms } from '../../src/domain/sms/encoding.ts';
import { smpp, type SmppConfig } from '../../src/providers/sms/smpp.ts';
import { ProviderError, type DeliveryReceipt, type InboundSms, type MessageReference, type SmsProvider } from '../../src/providers/types.ts';

const REFERENCE: MessageReference = { deliveryId: 'del_1', verificationId: 'ver_1', applicationId: 'app_1' };
const TO = '+31612345678';
const OUR_NUMBER = '+3197010000000';
async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();

// ---------------------------------------------------------------------------------------------
// The SMSC

// ---------------------------------------------------------------------------------------------
// The provider, with a recording `reports` (its collaborator in the server: receipts and inbound SMS)

interface Recorded {
  sms: SmsProvider;
  receipts: DeliveryReceipt[];
  inbound: InboundSms[];
  /** The next report throws, as the server does when its database is unavailable. */
  failNext: { value: boolean };
}

function startProvider(t: TestContext, smsc: Smsc, env: Record<string, string> = {}): Recorded {
  const config = loadConfig({
    SMPP_URL: smsc.url,
    SMPP_SYSTEM_ID: 'outband',
    SMPP_PASSWORD: 'secret',
    SMPP_SOURCE_ADDR: OUR_NUMBER,
    ...env,
  }).providers.smpp as SmppConfig;
  const receipts: DeliveryReceipt[] = [];
  const inbound: InboundSms[] = [];
  const failNext = { value: false };
  const take = () => {
    if (failNext.value) {
      failNext.value = false;
      throw new Error('database unavailable');
    }
  };
  const { sms } = smpp.create(config, {
    outbox: {
      record: async () => {
        throw new Error('not used by smpp');
      },
    },
    reports: {
      async receipt(receipt) {
        take();
        receipts.push(receipt);
      },
      async inbound(message) {
        take();
        inbound.push(message);
      },
    },
  });
  assert.ok(sms !== undefined);
  t.after(() => sms.close?.());
  return { sms, receipts, inbound, failNext };
}

const send = (sms: SmsProvider, text: string, to = TO, signal = AbortSignal.timeout(5000)) => sms.send({ to, text, reference: REFERENCE }, { signal });

const isProviderError = (permanent: boolean, message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof ProviderError, `not a ProviderError: ${String(error)}`);
  assert.equal(error.permanent, permanent, error.message);
  assert.match(error.message, message);
  return true;
};

function receiptText(id: string, stat: string, err = '000'): string {
  return `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:2611251200 done date:2611251201 stat:${stat} err:${err} text:Uw code is`;
}

// ---------------------------------------------------------------------------------------------

describe('smpp provider: bind', () => {
  test('case=right password: check() binds once as a transceiver, SMPP 3.4', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc, { SMPP_SYSTEM_TYPE: 'otp' });
    await sms.check!();
    await sms.check!(); // the same session
    assert.deepEqual(smsc.binds, [{ systemId: 'outband', password: 'secret', systemType: 'otp', interfaceVersion: 0x34 }]);
  });

  test('case=wrong password: check() and send fail permanently, naming the status and the settings', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc, { SMPP_PASSWORD: 'wrong' });
    const refused = isProviderError(true, /refused bind_transceiver: ESME_RINVPASWD \(0x0E\): check SMPP_SYSTEM_ID, SMPP_PASSWORD/);
    await assert.rejects(sms.check!(), refused);
    await assert.rejects(send(sms, 'Uw code is 123456'), refused);
    assert.equal(smsc.submits.length, 0);
    // No bind in the background with a refused password: one per call.
    assert.equal(smsc.binds.length, 2);
  });

  test('case=close: unbinds, and later sends fail', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc);
    await sms.check!();
    await sms.close!();
    assert.equal(smsc.unbinds, 1);
    await assert.rejects(send(sms, 'too late'), isProviderError(false, /closed/));
  });
});

describe('smpp provider: submit_sm', () => {
  test('case=short GSM-7: one submit_sm, data_coding 0, the text as GSM septets, receipts asked for', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc);
    const text = 'Uw code: 123456. Grüße, ¿Señor? 5€ [ok] ~ {x} | ^ \\ é è ù ì ò Ç ß';
    const result = await send(sms, text);
    assert.equal(smsc.submits.length, 1);
    const [submit] = smsc.submits;
    assert.ok(submit);
    assert.equal(result.providerMessageId, submit.messageId);
    assert.equal(submit.text, text);
    assert.equal(submit.udh, null);
    const { pdu } = submit;
    assert.deepEqual(
      {
        data_coding: pdu.data_coding,
        esm_class: pdu.esm_class,
        registered_delivery: pdu.registered_delivery,
        source: [pdu.source_addr_ton, pdu.source_addr_npi, pdu.source_addr],
        destination: [pdu.dest_addr_ton, pdu.dest_addr_npi, pdu.destination_addr],
      },
      { data_coding: 0, esm_class: 0, registered_delivery: 1, source: [1, 1, '3197010000000'], destination: [1, 1, '31612345678'] },
    );
    // On the wire: sm_length, then one octet per septet (€ is 1B 65), as 3GPP TS 23.038 has it.
    const septets = encodeGsm7(text);
    assert.ok(smsc.raw().includes(Buffer.concat([Buffer.from([septets.length]), septets])), 'the GSM-7 octets are on the wire');
  });

  test('case=alphanumeric sender: TON 5, NPI 0', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc, { SMPP_SOURCE_ADDR: 'Outband' });
    await send(sms, 'Uw code is 123456');
    const pdu = smsc.submits[0]?.pdu;
    assert.deepEqual([pdu?.source_addr_ton, pdu?.source_addr_npi, pdu?.source_addr], [5, 0, 'Outband']);
  });

  test('case=long UCS-2: parts with one UDH reference, total and sequence 1..N, that join to the text', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc);
    const text = '您的验证码是 123456 🙂 请勿告诉他人。'.repeat(6); // 27 units each, 162 in all
    const expected = splitSms(text).parts;
    assert.equal(expected.length, 3);
    const result = await send(sms, text);
    const parts = smsc.submits;
    assert.equal(parts.length, 3);
    assert.equal(result.providerMessageId, parts[0]?.messageId);
    const reference = parts[0]?.udh?.[2];
    assert.ok(reference !== undefined);
    for (const [index, part] of parts.entries()) {
      assert.equal(part.pdu.data_coding, 8);
      assert.equal(Number(part.pdu.esm_class) & 0x40, 0x40, 'UDHI');
      assert.deepEqual(part.udh, Buffer.from([0x00, 0x03, reference, 3, index + 1]));
      assert.ok(part.text.length <= 67 && part.text.isWellFormed(), `part ${index + 1} is at most 67 units, no half surrogate pair`);
      assert.ok(smsc.raw().includes(Buffer.concat([Buffer.from([0x05, 0x00, 0x03, reference, 3, index + 1]), utf16be(part.text)])), 'UDH and UTF-16BE on the wire');
    }
    assert.deepEqual(
      parts.map((p) => p.text),
      expected,
    );
    assert.equal(parts.map((p) => p.text).join(''), text);
    // The next message gets the next reference.
    await send(sms, text);
    assert.equal(smsc.submits[3]?.udh?.[2], (reference + 1) % 256);
  });

  test('case=long GSM-7 with €: parts of at most 153 septets, an escape never cut', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc);
    const text = 'Uw code is 123456, kosten €0,00. '.repeat(10); // 34 septets each, 340 in all
    await send(sms, text);
    const parts = smsc.submits;
    assert.deepEqual(
      parts.map((p) => p.text),
      splitSms(text).parts,
    );
    assert.equal(parts.length, 3);
    assert.deepEqual(
      parts.map((p) => encodeGsm7(p.text).length),
      [153, 153, 34],
    );
    assert.equal(parts.map((p) => p.text).join(''), text);
    const reference = parts[0]?.udh?.[2] ?? -1;
    for (const [index, part] of parts.entries()) {
      assert.equal(part.pdu.data_coding, 0);
      assert.deepEqual(part.udh, Buffer.from([0x00, 0x03, reference, 3, index + 1]));
      assert.ok(smsc.raw().includes(Buffer.concat([Buffer.from([0x05, 0x00, 0x03, reference, 3, index + 1]), encodeGsm7(part.text)])));
    }
  });

  test('case=ESME_RINVDSTADR is permanent; ESME_RTHROTTLED and ESME_RMSGQFUL are transient', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc);
    await assert.rejects(send(sms, 'Uw code is 123456', '+31600000011'), isProviderError(true, /refused submit_sm: ESME_RINVDSTADR \(0x0B\)/));
    await assert.rejects(send(sms, 'Uw code is 123456', '+31600000058'), isProviderError(false, /refused submit_sm: ESME_RTHROTTLED \(0x58\)/));
    await assert.rejects(send(sms, 'Uw code is 123456', '+31600000020'), isProviderError(false, /refused submit_sm: ESME_RMSGQFUL \(0x14\)/));
    assert.equal(smsc.binds.length, 1, 'a refused submit keeps the session');
    assert.ok((await send(sms, 'Uw code is 123456')).providerMessageId);
  });

  test('case=no submit_sm_resp: transient after SMPP_SUBMIT_TIMEOUT_MS, and its window slot is free again', async (t) => {
    const smsc = await startSmsc(t, { hold: true });
    const { sms } = startProvider(t, smsc, { SMPP_SUBMIT_TIMEOUT_MS: '100', SMPP_WINDOW: '1' });
    await assert.rejects(send(sms, 'Uw code is 123456'), isProviderError(false, /no submit_sm_resp from 127\.0\.0\.1:\d+ within 100 ms/));
    await assert.rejects(send(sms, 'Uw code is 654321'), isProviderError(false, /no submit_sm_resp/));
    assert.equal(smsc.submits.length, 2);
  });

  test('case=recipient not E.164: permanent, nothing sent', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc);
    await assert.rejects(send(sms, 'x', '0612345678'), isProviderError(true, /not an E\.164/));
    assert.equal(smsc.binds.length, 0);
  });
});

describe('smpp provider: window', () => {
  test('case=window 2: at most two submit_sm await their submit_sm_resp at once', async (t) => {
    const smsc = await startSmsc(t, { answerAfterMs: 20 });
    const { sms } = startProvider(t, smsc, { SMPP_WINDOW: '2' });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => send(sms, `Uw code is 10000${i}`)));
    assert.equal(smsc.submits.length, 6);
    assert.equal(smsc.maxOutstanding, 2);
    assert.deepEqual(new Set(results.map((r) => r.providerMessageId)).size, 6);
  });

  test('case=waiting for the window ends with the send signal, without sending', async (t) => {
    const smsc = await startSmsc(t, { hold: true });
    const { sms } = startProvider(t, smsc, { SMPP_WINDOW: '1' });
    const first = send(sms, 'Uw code is 111111').catch((error: unknown) => error);
    await waitFor('the first submit_sm', () => smsc.submits.length === 1);
    const controller = new AbortController();
    const second = send(sms, 'Uw code is 222222', TO, controller.signal);
    controller.abort(new Error('send timeout'));
    await assert.rejects(second, isProviderError(false, /aborted while waiting for the submit window: send timeout/));
    assert.equal(smsc.submits.length, 1);
    // 3. The SMSC drops the session: the first send fails as transient, its submit unanswered.
    smsc.drop();
    const error = await first;
    isProviderError(false, /lost before submit_sm_resp/)(error);
  });
});

describe('smpp provider: deliver_sm', () => {
  test('case=receipts DELIVRD and UNDELIV: reported with the message id and mapped status, then answered', async (t) => {
    const smsc = await startSmsc(t);
    const { sms, receipts } = startProvider(t, smsc);
    const delivered = (await send(sms, 'Uw code is 123456')).providerMessageId!;
    const undelivered = (await send(sms, 'Uw code is 654321')).providerMessageId!;
    const base = { source_addr_ton: 1, source_addr_npi: 1, source_addr: '31612345678', destination_addr: '3197010000000', esm_class: 0x04 };

    const first = await smsc.deliver({ ...base, short_message: { message: receiptText(delivered, 'DELIVRD') } });
    assert.equal(first.command, 'deliver_sm_resp');
    assert.equal(first.command_status, 0);
    // deliver_sm_resp comes after the report, so the report is there already.
    assert.deepEqual(
      receipts.map(({ at: _at, ...r }) => r),
      [{ provider: 'smpp', providerMessageId: delivered, status: 'delivered' }],
    );

    const second = await smsc.deliver({ ...base, short_message: { message: receiptText(undelivered, 'UNDELIV', '001') } });
    assert.equal(second.command_status, 0);
    assert.deepEqual(receipts[1] && { ...receipts[1], at: 0 }, { provider: 'smpp', providerMessageId: undelivered, status: 'undelivered', error: 'UNDELIV err:001', at: 0 });
    assert.ok(receipts.every((r) => typeof r.at === 'number' && r.at > 0));

    const rejected = await smsc.deliver({ ...base, short_message: { message: receiptText('0000ffff', 'REJECTD', '0x0b') } });
    assert.equal(rejected.command_status, 0);
    assert.deepEqual(receipts[2] && { ...receipts[2], at: 0 }, { provider: 'smpp', providerMessageId: '0000ffff', status: 'failed', error: 'REJECTD err:0x0b', at: 0 });

    // Not final: answered, not reported.
    const enroute = await smsc.deliver({ ...base, short_message: { message: receiptText(delivered, 'ACCEPTD') } });
    assert.equal(enroute.command_status, 0);
    assert.equal(receipts.length, 3);
  });

  test('case=multipart receipts: reported under the first part, delivered once every part is, failed at the first failed part', async (t) => {
    const smsc = await startSmsc(t);
    const { sms, receipts } = startProvider(t, smsc);
    const long = 'Uw code is 123456. '.repeat(20); // 380 septets: 3 parts
    const first = await send(sms, long);
    const ids = smsc.submits.map((s) => s.messageId);
    assert.equal(ids.length, 3);
    assert.equal(first.providerMessageId, ids[0]);
    const receipt = (id: string, stat: string) => smsc.deliver({ source_addr: '31612345678', esm_class: 0x04, short_message: { message: receiptText(id, stat) } });
    await receipt(ids[2]!, 'DELIVRD');
    await receipt(ids[0]!, 'DELIVRD');
    assert.equal(receipts.length, 0, 'not delivered while a part is not');
    await receipt(ids[1]!, 'DELIVRD');
    assert.deepEqual(
      receipts.map(({ at: _at, ...r }) => r),
      [{ provider: 'smpp', providerMessageId: ids[0], status: 'delivered' }],
    );

    // Second message: a receipt in TLVs (receipted_message_id, message_state) for its second part.
    const second = await send(sms, long);
    const ids2 = smsc.submits.slice(3).map((s) => s.messageId);
    assert.equal(second.providerMessageId, ids2[0]);
    const tlv = await smsc.deliver({ source_addr: '31612345678', esm_class: 0x04, receipted_message_id: ids2[1], message_state: 5, short_message: { message: '' } });
    assert.equal(tlv.command_status, 0);
    assert.deepEqual(receipts[1] && { ...receipts[1], at: 0 }, { provider: 'smpp', providerMessageId: ids2[0], status: 'undelivered', error: 'UNDELIVERABLE', at: 0 });
    await receipt(ids2[0]!, 'DELIVRD');
    await receipt(ids2[2]!, 'DELIVRD');
    assert.equal(receipts.length, 2, 'the message was reported already');
  });

  test('case=inbound SMS: reported with the E.164 sender, our number, the text and an id per PDU', async (t) => {
    const smsc = await startSmsc(t);
    const { sms, inbound } = startProvider(t, smsc);
    await sms.check!(); // two-way SMS needs the session up
    const gsm = await smsc.deliver({
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '31612345678',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '3197010000000',
      esm_class: 0,
      data_coding: 0,
      short_message: { message: 'Mijn code: 123456 €' },
    });
    assert.equal(gsm.command, 'deliver_sm_resp');
    assert.equal(gsm.command_status, 0);
    const ucs2 = await smsc.deliver({
      source_addr_ton: 0,
      source_addr_npi: 1,
      source_addr: '0031612345678',
      destination_addr: '4455',
      esm_class: 0,
      data_coding: 8,
      short_message: { message: '验证码 123456 🙂' },
    });
    assert.equal(ucs2.command_status, 0);
    assert.deepEqual(
      inbound.map(({ at: _at, providerMessageId: _id, ...m }) => m),
      [
        { provider: 'smpp', from: '+31612345678', to: '+3197010000000', text: 'Mijn code: 123456 €' },
        { provider: 'smpp', from: '+31612345678', to: '4455', text: '验证码 123456 🙂' },
      ],
    );
    const [a, b] = inbound.map((m) => m.providerMessageId);
    assert.ok(a && b && a !== b, 'each deliver_sm has its own id');
  });

  test('case=report not taken: deliver_sm_resp ESME_RX_T_APPN, so the SMSC delivers it again', async (t) => {
    const smsc = await startSmsc(t);
    const { sms, receipts, inbound, failNext } = startProvider(t, smsc);
    const id = (await send(sms, 'Uw code is 123456')).providerMessageId!;
    const deliverReceipt = () => smsc.deliver({ source_addr: '31612345678', esm_class: 0x04, short_message: { message: receiptText(id, 'DELIVRD') } });
    failNext.value = true;
    assert.equal((await deliverReceipt()).command_status, ESME_RX_T_APPN);
    assert.equal((await deliverReceipt()).command_status, 0);
    assert.equal(receipts.length, 1);

    const mo = { source_addr_ton: 1, source_addr: '31612345678', destination_addr: '3197010000000', short_message: { message: '123456' } };
    failNext.value = true;
    assert.equal((await smsc.deliver(mo)).command_status, ESME_RX_T_APPN);
    assert.equal((await smsc.deliver(mo)).command_status, 0);
    assert.equal(inbound.length, 1);
  });
});

describe('smpp provider: keeping the session', () => {
  test('case=idle: enquire_link goes out, the session stays', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc, { SMPP_ENQUIRE_LINK_MS: '20' });
    await sms.check!(); // check() sends one itself
    const before = smsc.enquireLinks;
    await waitFor('two idle enquire_link', () => smsc.enquireLinks >= before + 2);
    assert.equal(smsc.binds.length, 1);
  });

  test('case=enquire_link unanswered: the session is dropped and bound again', async (t) => {
    const smsc = await startSmsc(t, { answerEnquireLink: false });
    const { sms } = startProvider(t, smsc, { SMPP_ENQUIRE_LINK_MS: '20', SMPP_SUBMIT_TIMEOUT_MS: '100' });
    await send(sms, 'Uw code is 123456');
    await waitFor('a second bind', () => smsc.binds.length >= 2);
    assert.ok((await send(sms, 'Uw code is 654321')).providerMessageId);
  });

  test('case=SMSC closes the session: bound again, and the next send goes through', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc);
    await send(sms, 'Uw code is 123456');
    smsc.drop();
    await waitFor('a second bind', () => smsc.binds.length === 2);
    const result = await send(sms, 'Uw code is 654321');
    assert.equal(result.providerMessageId, smsc.submits[1]?.messageId);
  });

  test('case=SMSC unreachable for a while: sends fail as transient, then go through once it is back', async (t) => {
    const smsc = await startSmsc(t);
    const { sms } = startProvider(t, smsc);
    await send(sms, 'Uw code is 123456');
    // 1. The SMSC goes away: the provider keeps trying to connect, with backoff.
    await smsc.stop();
    await assert.rejects(send(sms, 'Uw code is 222222'), isProviderError(false, /127\.0\.0\.1:\d+/));
    // 2. It is back: the next send waits for the next attempt and goes through.
    await smsc.start();
    const result = await send(sms, 'Uw code is 333333');
    assert.equal(result.providerMessageId, smsc.submits.at(-1)?.messageId);
    assert.equal(smsc.binds.length, 2);
  });
});
