import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutbandError, type ErrorCode } from '../errors.ts';
import { maskEmail, parseEmail } from './email.ts';
import { parseLocale } from './locale.ts';
import { maskPhone, parsePhone } from './phone.ts';
import { maskRecipient, parseRecipient } from './recipient.ts';

/** Asserts that `fn` throws an OutbandError with `code` whose detail matches `detail`. */
function assertRejects(fn: () => unknown, code: ErrorCode, detail?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof OutbandError, `expected an OutbandError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.status, 422);
    if (detail !== undefined) assert.match(error.detail, detail);
    return true;
  });
}

describe('parsePhone', () => {
  const valid: Array<[string, string | undefined, string, string]> = [
    ['+31 6 1234 5678', undefined, '+31612345678', 'NL'],
    ['+31612345678', undefined, '+31612345678', 'NL'],
    ['+31 (0)6-1234-5678', undefined, '+31612345678', 'NL'],
    ['06 12345678', 'NL', '+31612345678', 'NL'],
    ['06 12345678', 'nl', '+31612345678', 'NL'],
    ['0031612345678', 'NL', '+31612345678', 'NL'],
    ['+31 20 123 4567', undefined, '+31201234567', 'NL'],
    ['+32 470 12 34 56', undefined, '+32470123456', 'BE'],
    ['0470 12 34 56', 'BE', '+32470123456', 'BE'],
    ['+49 1512 3456789', undefined, '+4915123456789', 'DE'],
    ['+1 202 555 0123', undefined, '+12025550123', 'US'],
    ['(202) 555-0123', 'US', '+12025550123', 'US'],
    // An international number wins over a country hint that does not match it.
    ['+32 470 12 34 56', 'NL', '+32470123456', 'BE'],
  ];
  for (const [input, country, e164, expectedCountry] of valid) {
    test(`case=valid "${input}"${country ? ` country=${country}` : ''} → ${e164}`, () => {
      assert.deepEqual(parsePhone(input, country), { e164, country: expectedCountry });
    });
  }

  test('national input without a country asks for the international form or a country', () => {
    assertRejects(() => parsePhone('06 12345678'), 'invalid_phone_number', /international form \(\+CC…\) or pass a country/);
  });

  test('text that is no number says so', () => {
    assertRejects(() => parsePhone('call me'), 'invalid_phone_number', /"call me" is not a phone number \(not_a_number\)/);
    assertRejects(() => parsePhone(''), 'invalid_phone_number', /not a phone number/);
  });

  test('a number of the wrong length for its country names the country', () => {
    assertRejects(() => parsePhone('+31 6 1234'), 'invalid_phone_number', /"\+31 6 1234" is not a valid number for NL/);
    assertRejects(() => parsePhone('+31 6 1234 567890'), 'invalid_phone_number', /not a valid number for NL/);
    assertRejects(() => parsePhone('0612345678', 'BE'), 'invalid_phone_number', /not a valid number for BE/);
  });

  test('an unassigned calling code is refused', () => {
    assertRejects(() => parsePhone('+999 1234 5678'), 'invalid_phone_number');
  });

  test('a country hint that is not two letters states the rule', () => {
    for (const hint of ['NLD', 'N', '31', 'N1', '']) {
      assertRejects(() => parsePhone('+31612345678', hint), 'invalid_phone_number', /ISO 3166-1 alpha-2 code such as "NL"/);
    }
  });

  test('a two-letter country hint that is no country says the country is wrong, not the number', () => {
    for (const hint of ['XX', 'UK']) {
      assertRejects(() => parsePhone('+31612345678', hint), 'invalid_phone_number', new RegExp(`country "${hint}" is not a country`));
    }
  });
});

describe('maskPhone', () => {
  const cases: Array<[string, string]> = [
    ['+31612345678', '+31 6 •••• ••78'],
    ['+32470123456', '+32 470 •••• 56'],
    ['+4915123456789', '+49 1512 •••• •89'],
    ['+12025550123', '+1 202 •••• •23'],
  ];
  for (const [e164, masked] of cases) {
    test(`case=${e164} → "${masked}"`, () => {
      assert.equal(maskPhone(e164), masked);
    });
  }

  test('shows no more than the country code, the first group and the last two digits', () => {
    const masked = maskPhone('+31612345678');
    assert.ok(!masked.includes('1234'));
    assert.equal(masked.replace(/[^0-9]/g, ''), '31678');
  });

  test('masks made earlier are kept for a while and never mixed up: 10,000 numbers, each masked twice, far past what is kept', () => {
    const number = (i: number) => `+3161${String(i).padStart(7, '0')}`;
    const expected = (i: number) => `+31 6 •••• ••${String(i).padStart(7, '0').slice(-2)}`;
    for (let i = 0; i < 10_000; i++) assert.equal(maskPhone(number(i)), expected(i));
    for (let i = 9_999; i >= 0; i--) assert.equal(maskPhone(number(i)), expected(i));
  });
});

describe('parseEmail', () => {
  test('accepts ordinary addresses and lower-cases only the domain', () => {
    assert.equal(parseEmail('jan@example.com'), 'jan@example.com');
    assert.equal(parseEmail('Jan.Jansen@Example.COM'), 'Jan.Jansen@example.com');
    assert.equal(parseEmail('first.last+tag@mail.example.co.uk'), 'first.last+tag@mail.example.co.uk');
    assert.equal(parseEmail("o'brien_1-x@sub-domain.example.org"), "o'brien_1-x@sub-domain.example.org");
    assert.equal(parseEmail('a@xn--bcher-kva.example'), 'a@xn--bcher-kva.example');
  });

  test('trims surrounding white space', () => {
    assert.equal(parseEmail('  jan@example.com\n'), 'jan@example.com');
  });

  const invalid: Array<[string, string]> = [
    ['', 'empty'],
    ['jan', 'no @'],
    ['jan@', 'no domain'],
    ['@example.com', 'no local part'],
    ['jan@@example.com', 'two @'],
    ['jan@foo@example.com', '@ in the local part'],
    ['jan@example', 'no dot in the domain'],
    ['jan@example.c', 'one-letter top-level domain'],
    ['jan@example.c0m', 'digit in the top-level domain'],
    ['jan@example..com', 'empty label'],
    ['jan@.example.com', 'leading dot in the domain'],
    ['jan@example.com.', 'trailing dot in the domain'],
    ['jan@-example.com', 'label starts with a hyphen'],
    ['jan@example-.com', 'label ends with a hyphen'],
    ['jan@exa_mple.com', 'underscore in the domain'],
    ['jan @example.com', 'space in the local part'],
    ['jan@exa mple.com', 'space in the domain'],
    ['ja\nn@example.com', 'line break in the local part'],
    ['ja\u0000n@example.com', 'NUL in the local part'],
    ['ja\u001bn@example.com', 'ESC in the local part'],
    ['ja\u007fn@example.com', 'DEL in the local part'],
    ['"jan"@example.com', 'quoted local part'],
    ['<jan@example.com>', 'angle brackets'],
    ['Jan <jan@example.com>', 'display name'],
    ['jan,piet@example.com', 'comma'],
    ['jan;piet@example.com', 'semicolon'],
    ['jan@[192.0.2.1]', 'address literal'],
    ['jan@192.0.2.1', 'IP address as domain'],
    ['jan@bücher.example', 'non-ASCII domain (give it as xn--)'],
    [`jan@${'a'.repeat(64)}.com`, 'label longer than 63'],
    [`${'j'.repeat(65)}@example.com`, 'local part longer than 64'],
  ];
  for (const [input, why] of invalid) {
    test(`case=invalid ${why}`, () => {
      assertRejects(() => parseEmail(input), 'invalid_email');
    });
  }

  test('the detail says what is wrong', () => {
    assertRejects(() => parseEmail('jan@example'), 'invalid_email', /"jan@example" is not a valid e-mail address/);
    assertRejects(() => parseEmail(`${'j'.repeat(65)}@example.com`), 'invalid_email', /part before @ is longer than 64 characters/);
  });

  test('accepts 254 characters and rejects 255', () => {
    const domainOf = (length: number) => {
      // Labels of at most 63 characters, ending in ".com".
      const labels: string[] = [];
      let left = length - '.com'.length;
      while (left > 0) {
        const take = Math.min(63, left === 64 ? 62 : left);
        labels.push('d'.repeat(take));
        left -= take + 1;
      }
      return [...labels, 'com'].join('.');
    };
    const local = 'l'.repeat(64);
    const at254 = `${local}@${domainOf(254 - 65)}`;
    const at255 = `${local}@${domainOf(255 - 65)}`;
    assert.equal(at254.length, 254);
    assert.equal(at255.length, 255);
    assert.equal(parseEmail(at254), at254);
    assertRejects(() => parseEmail(at255), 'invalid_email');
  });
});

describe('maskEmail', () => {
  test('keeps the first character and the domain', () => {
    assert.equal(maskEmail('jan@example.com'), 'j•••@example.com');
    assert.equal(maskEmail('j@example.com'), 'j•••@example.com');
    assert.equal(maskEmail('jan.jansen+tag@mail.example.org'), 'j•••@mail.example.org');
  });
});

describe('parseRecipient and maskRecipient', () => {
  test('choose the address kind by channel', () => {
    assert.equal(parseRecipient('sms', '06 12345678', 'NL'), '+31612345678');
    assert.equal(parseRecipient('email', 'Jan@Example.com'), 'Jan@example.com');
    assert.equal(maskRecipient('sms', '+31612345678'), '+31 6 •••• ••78');
    assert.equal(maskRecipient('email', 'jan@example.com'), 'j•••@example.com');
    assertRejects(() => parseRecipient('email', '+31612345678'), 'invalid_email');
    assertRejects(() => parseRecipient('sms', 'jan@example.com'), 'invalid_phone_number');
  });
});

describe('parseLocale', () => {
  const canonical: Array<[string, string]> = [
    ['nl-be', 'nl-BE'],
    ['nl-BE', 'nl-BE'],
    ['EN', 'en'],
    ['en-us', 'en-US'],
    ['zh-hant-tw', 'zh-Hant-TW'],
    ['de', 'de'],
  ];
  for (const [input, expected] of canonical) {
    test(`case=valid "${input}" → "${expected}"`, () => {
      assert.equal(parseLocale(input), expected);
    });
  }

  for (const input of ['', 'x', 'en_US', 'nl-BE-', '123', 'toolongsubtag-xx', 'en US']) {
    test(`case=invalid "${input}"`, () => {
      assertRejects(() => parseLocale(input), 'invalid_locale', /is not a BCP 47 language tag such as "en" or "nl-BE"/);
    });
  }
});
