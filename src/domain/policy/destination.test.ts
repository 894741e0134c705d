import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { numberInfoFromMetadata, type LineType, type NumberInfo } from '../address/number-info.ts';
import type { PhoneChannel } from '../application.ts';
import { checkDestination, destinationPrefix, matchSafeList, type DestinationCheck, type DestinationRefusalCode } from './destination.ts';
import { defaultFraudSettings } from './limits.ts';

// Real numbers, classified by libphonenumber's metadata (the default lookup).
const NL_MOBILE = '+31612345678';
const NL_FIXED = '+31201234567';
const DE_MOBILE = '+4915123456789';
const GB_MOBILE = '+447400123456';
const GB_PREMIUM = '+449098790000';
const GB_VOIP = '+445612345678';
const DE_SHARED_COST = '+4918051234567';
const FR_SHARED_COST = '+33810123456';
const US_TOLL_FREE = '+18005550100';
const INMARSAT = '+870773111632'; // a satellite number: no country

type Settings = DestinationCheck['settings'];

function settings(overrides: { allowedCountries?: Settings['allowedCountries']; fraud?: Partial<Settings['fraud']> } = {}): Settings {
  const fraud = defaultFraudSettings();
  return {
    allowedCountries: overrides.allowedCountries ?? {},
    fraud: { refusedNumberTypes: fraud.refusedNumberTypes, voip: fraud.voip, safeList: fraud.safeList, ...overrides.fraud },
  };
}

function check(channel: PhoneChannel, e164: string, s: Settings, info: NumberInfo = numberInfoFromMetadata(e164)) {
  return checkDestination({ channel, e164, info, settings: s, now: 0 });
}

/** A stub lookup's answer: what a bought lookup might say about the number. */
function stub(lineType: LineType, country: string | null = 'NL'): NumberInfo {
  return { country, lineType, source: 'stub' };
}

describe('the metadata classifies the test numbers as the tests assume', () => {
  const expected: [string, string | null, LineType][] = [
    [NL_MOBILE, 'NL', 'MOBILE'],
    [NL_FIXED, 'NL', 'FIXED_LINE'],
    [DE_MOBILE, 'DE', 'MOBILE'],
    [GB_MOBILE, 'GB', 'MOBILE'],
    [GB_PREMIUM, 'GB', 'PREMIUM_RATE'],
    [GB_VOIP, 'GB', 'VOIP'],
    [DE_SHARED_COST, 'DE', 'SHARED_COST'],
    [FR_SHARED_COST, 'FR', 'SHARED_COST'],
    [US_TOLL_FREE, 'US', 'TOLL_FREE'],
    [INMARSAT, null, 'MOBILE'],
    ['+3100', 'NL', 'UNKNOWN'], // too short for any range, but +31 is only NL
    ['not a number', null, 'UNKNOWN'],
  ];
  for (const [e164, country, lineType] of expected) {
    test(`${e164}: ${country ?? 'no country'}, ${lineType}`, () => {
      assert.deepEqual(numberInfoFromMetadata(e164), { country, lineType, source: 'libphonenumber' });
    });
  }
});

describe('checkDestination with the default settings', () => {
  const cases: { name: string; channel: PhoneChannel; e164: string; info?: NumberInfo; code: DestinationRefusalCode | null; reason?: RegExp }[] = [
    { name: 'an NL mobile takes SMS', channel: 'sms', e164: NL_MOBILE, code: null },
    { name: 'an NL mobile takes a call', channel: 'voice', e164: NL_MOBILE, code: null },
    { name: 'a UK premium-rate number is refused', channel: 'sms', e164: GB_PREMIUM, code: 'number_type_not_permitted', reason: /PREMIUM_RATE is refused/ },
    { name: 'a UK premium-rate number is refused for missed calls too', channel: 'missed_call', e164: GB_PREMIUM, code: 'number_type_not_permitted' },
    { name: 'a German shared-cost number is refused', channel: 'voice', e164: DE_SHARED_COST, code: 'number_type_not_permitted', reason: /SHARED_COST/ },
    { name: 'a French shared-cost number is refused', channel: 'sms', e164: FR_SHARED_COST, code: 'number_type_not_permitted', reason: /SHARED_COST/ },
    { name: 'a number of unknown type is refused', channel: 'sms', e164: NL_MOBILE, info: stub('UNKNOWN'), code: 'number_type_not_permitted', reason: /UNKNOWN/ },
    { name: 'VoIP is allowed by default', channel: 'sms', e164: GB_VOIP, code: null },
    { name: 'a fixed line cannot take SMS', channel: 'sms', e164: NL_FIXED, code: 'number_type_not_permitted', reason: /FIXED_LINE number cannot receive SMS/ },
    { name: 'a fixed line takes a call', channel: 'voice', e164: NL_FIXED, code: null },
    { name: 'a fixed line takes a missed call', channel: 'missed_call', e164: NL_FIXED, code: null },
    { name: 'a US toll-free number is not refused by default', channel: 'sms', e164: US_TOLL_FREE, code: null },
    { name: 'a satellite number passes when no allow-list is set', channel: 'sms', e164: INMARSAT, code: null },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const decision = check(c.channel, c.e164, settings(), c.info);
      if (c.code === null) {
        assert.equal(decision.ok, true, JSON.stringify(decision));
        return;
      }
      assert.equal(decision.ok, false);
      if (decision.ok) return;
      assert.equal(decision.code, c.code);
      if (c.reason !== undefined) assert.match(decision.reasons.join('; '), c.reason);
    });
  }

  test('the decision carries the destination country and line type', () => {
    assert.deepEqual(check('sms', NL_MOBILE, settings()), { ok: true, country: 'NL', lineType: 'MOBILE', safeListed: false });
    const refused = check('sms', GB_PREMIUM, settings());
    assert.equal(refused.ok, false);
    assert.equal(refused.country, 'GB');
    assert.equal(refused.lineType, 'PREMIUM_RATE');
  });
});

describe('SEC-15: line type is policy', () => {
  test('SEC-15: a number the lookup calls VOIP is refused with line_type_not_permitted when fraud.voip is deny, and passes when allow', () => {
    const voip = stub('VOIP');
    const denied = check('sms', NL_MOBILE, settings({ fraud: { voip: 'deny' } }), voip);
    assert.equal(denied.ok, false);
    if (!denied.ok) {
      assert.equal(denied.code, 'line_type_not_permitted');
      assert.deepEqual(denied.reasons, ['VoIP numbers are not permitted (fraud.voip is deny)']);
    }
    // The same number, the same answer, the policy changed: the next check follows it.
    assert.equal(check('sms', NL_MOBILE, settings({ fraud: { voip: 'allow' } }), voip).ok, true);
  });

  test('SEC-15: the metadata VoIP range (UK 056) is refused for every phone channel under deny', () => {
    for (const channel of ['sms', 'voice', 'missed_call'] as const) {
      const decision = check(channel, GB_VOIP, settings({ fraud: { voip: 'deny' } }));
      assert.equal(decision.ok ? 'ok' : decision.code, 'line_type_not_permitted', channel);
    }
  });

  test('SEC-15: a safe-listed VoIP number is still refused under deny (an assurance rule, not a fraud block)', () => {
    const decision = check('sms', GB_VOIP, settings({ fraud: { voip: 'deny', safeList: [GB_VOIP] } }));
    assert.equal(decision.ok ? 'ok' : decision.code, 'line_type_not_permitted');
    assert.equal(decision.safeListed, true);
  });
});

describe('SEC-35: premium-rate, shared-cost and non-SMS-capable numbers are refused before sending', () => {
  test('SEC-35: a lookup answer of PREMIUM_RATE refuses the number for every phone channel, naming the type', () => {
    for (const channel of ['sms', 'voice', 'missed_call'] as const) {
      const decision = check(channel, NL_MOBILE, settings(), stub('PREMIUM_RATE'));
      assert.equal(decision.ok, false, channel);
      if (!decision.ok) {
        assert.equal(decision.code, 'number_type_not_permitted');
        assert.deepEqual(decision.reasons, ['number type PREMIUM_RATE is refused (fraud.refused_number_types)']);
      }
    }
  });

  test('SEC-35: real premium-rate and shared-cost ranges are refused by the metadata alone', () => {
    for (const e164 of [GB_PREMIUM, DE_SHARED_COST, FR_SHARED_COST, '+31900123456']) {
      const decision = check('sms', e164, settings());
      assert.equal(decision.ok ? 'ok' : decision.code, 'number_type_not_permitted', e164);
    }
  });

  test('SEC-35: non-SMS-capable types are refused for sms only', () => {
    for (const lineType of ['FIXED_LINE', 'PAGER', 'VOICEMAIL', 'UAN'] as const) {
      const sms = check('sms', NL_MOBILE, settings(), stub(lineType));
      assert.equal(sms.ok ? 'ok' : sms.code, 'number_type_not_permitted', lineType);
      assert.equal(check('voice', NL_MOBILE, settings(), stub(lineType)).ok, true, lineType);
    }
  });

  test('SEC-35: refused_number_types is the operator\'s: an emptied list lets premium rate through, an added type is refused', () => {
    assert.equal(check('sms', GB_PREMIUM, settings({ fraud: { refusedNumberTypes: [] } })).ok, true);
    const tollFree = check('sms', US_TOLL_FREE, settings({ fraud: { refusedNumberTypes: ['TOLL_FREE'] } }));
    assert.equal(tollFree.ok ? 'ok' : tollFree.code, 'number_type_not_permitted');
  });
});

describe('SEC-33: destination countries are allow-listed per channel; the safe list overrides fraud blocks', () => {
  // The tenant of SEC-33: NL and DE for SMS only.
  const nlDeSmsOnly = { sms: ['NL', 'DE'], voice: [], missed_call: [] };

  const cases: { name: string; channel: PhoneChannel; e164: string; safeList?: string[]; code: DestinationRefusalCode | null }[] = [
    { name: '+44 by SMS is blocked', channel: 'sms', e164: GB_MOBILE, code: 'destination_not_allowed' },
    { name: '+49 by voice is blocked', channel: 'voice', e164: DE_MOBILE, code: 'destination_not_allowed' },
    { name: '+49 by missed call is blocked', channel: 'missed_call', e164: DE_MOBILE, code: 'destination_not_allowed' },
    { name: '+49 by SMS passes', channel: 'sms', e164: DE_MOBILE, code: null },
    { name: '+31 by SMS passes', channel: 'sms', e164: NL_MOBILE, code: null },
    { name: 'a satellite number (no country) is blocked', channel: 'sms', e164: INMARSAT, code: 'destination_not_allowed' },
    { name: 'a safe-listed number inside a blocked country passes', channel: 'sms', e164: GB_MOBILE, safeList: [GB_MOBILE], code: null },
    { name: "a safe-listed number's 1000-block opens it", channel: 'sms', e164: GB_MOBILE, safeList: [destinationPrefix(GB_MOBILE)], code: null },
    { name: 'a broad safe-list prefix does not re-open a country', channel: 'sms', e164: GB_MOBILE, safeList: ['+44'], code: 'destination_not_allowed' },
    { name: 'a 10 000-block does not re-open a country', channel: 'sms', e164: GB_MOBILE, safeList: [GB_MOBILE.slice(0, -4)], code: 'destination_not_allowed' },
    { name: 'safe-listing for SMS also opens voice for that number', channel: 'voice', e164: DE_MOBILE, safeList: [DE_MOBILE], code: null },
  ];
  for (const c of cases) {
    test(`SEC-33: ${c.name}`, () => {
      const decision = check(c.channel, c.e164, settings({ allowedCountries: nlDeSmsOnly, fraud: { safeList: c.safeList ?? [] } }));
      assert.equal(decision.ok ? null : decision.code, c.code, JSON.stringify(decision));
      if (!decision.ok && c.code === 'destination_not_allowed') assert.match(decision.reasons[0] ?? '', new RegExp(`allowed_countries\\.${c.channel}`));
    });
  }

  test('SEC-33: a refusal names the country and the allowed ones', () => {
    const decision = check('sms', GB_MOBILE, settings({ allowedCountries: nlDeSmsOnly }));
    assert.deepEqual(decision.ok ? [] : decision.reasons, ['GB is not in allowed_countries.sms (NL, DE)']);
    const voice = check('voice', DE_MOBILE, settings({ allowedCountries: nlDeSmsOnly }));
    assert.deepEqual(voice.ok ? [] : voice.reasons, ['DE is not in allowed_countries.voice (no country)']);
  });

  test('SEC-33: absent or null allow-lists allow every country; an empty one none', () => {
    assert.equal(check('voice', GB_MOBILE, settings({ allowedCountries: { sms: ['NL'] } })).ok, true);
    assert.equal(check('voice', GB_MOBILE, settings({ allowedCountries: { voice: null } })).ok, true);
    assert.equal(check('voice', NL_MOBILE, settings({ allowedCountries: { voice: [] } })).ok, false);
  });

  test('SEC-33: a safe-listed number or prefix skips the number-type blocks', () => {
    for (const safeList of [[GB_PREMIUM], ['+44909'], ['+44']]) {
      const decision = check('sms', GB_PREMIUM, settings({ fraud: { safeList } }));
      assert.deepEqual(decision, { ok: true, country: 'GB', lineType: 'PREMIUM_RATE', safeListed: true }, safeList.join());
    }
    assert.equal(check('sms', NL_FIXED, settings({ fraud: { safeList: ['+3120'] } })).ok, true, 'the SMS-capability block too');
    assert.equal(check('sms', GB_PREMIUM, settings({ fraud: { safeList: ['+4490988'] } })).ok, false, 'another prefix does not');
  });

  test('SEC-33: a broad safe-list prefix lifts the type block but not the allow-list', () => {
    const decision = check('sms', GB_PREMIUM, settings({ allowedCountries: { sms: ['NL'] }, fraud: { safeList: ['+44'] } }));
    assert.equal(decision.ok, false);
    if (!decision.ok) {
      assert.equal(decision.code, 'destination_not_allowed');
      assert.deepEqual(decision.reasons, ['GB is not in allowed_countries.sms (NL)']);
    }
  });

  test('every refusing rule is listed; the code is the first in the order country, line type, number type', () => {
    const decision = check('sms', GB_PREMIUM, settings({ allowedCountries: { sms: ['NL'] } }), stub('PREMIUM_RATE', 'GB'));
    assert.equal(decision.ok ? 'ok' : decision.code, 'destination_not_allowed');
    assert.equal(decision.ok ? 0 : decision.reasons.length, 2);
    const voipAndRefused = check('sms', NL_MOBILE, settings({ fraud: { voip: 'deny', refusedNumberTypes: ['VOIP'] } }), stub('VOIP'));
    assert.equal(voipAndRefused.ok ? 'ok' : voipAndRefused.code, 'line_type_not_permitted');
    assert.equal(voipAndRefused.ok ? 0 : voipAndRefused.reasons.length, 2);
  });
});

describe('destinationPrefix and matchSafeList', () => {
  test('the prefix is the number minus its last 3 digits', () => {
    assert.equal(destinationPrefix(NL_MOBILE), '+31612345');
    assert.equal(destinationPrefix(GB_PREMIUM), '+449098790');
    assert.equal(destinationPrefix('+1800555'), '+1800');
  });

  test('numbers of one 1000-block share a prefix; neighbours across a block boundary do not', () => {
    assert.equal(destinationPrefix('+31612345000'), destinationPrefix('+31612345999'));
    assert.notEqual(destinationPrefix('+31612345999'), destinationPrefix('+31612346000'));
  });

  test('matchSafeList tells a listed number, and whether the entry is narrow (the number or its 1000-block)', () => {
    assert.deepEqual(matchSafeList(NL_MOBILE, []), { listed: false, narrow: false });
    assert.deepEqual(matchSafeList(NL_MOBILE, [NL_MOBILE]), { listed: true, narrow: true });
    assert.deepEqual(matchSafeList(NL_MOBILE, ['+31612345']), { listed: true, narrow: true });
    assert.deepEqual(matchSafeList(NL_MOBILE, ['+3161234']), { listed: true, narrow: false });
    assert.deepEqual(matchSafeList(NL_MOBILE, ['+31', '+31612345678']), { listed: true, narrow: true });
    assert.deepEqual(matchSafeList(NL_MOBILE, ['+316123456789']), { listed: false, narrow: false }, 'a longer entry is not a prefix');
    assert.deepEqual(matchSafeList(NL_MOBILE, ['+32', '31612345678', '']), { listed: false, narrow: false }, 'entries not in E.164 form match nothing');
  });
});
