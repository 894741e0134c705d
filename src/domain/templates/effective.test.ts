import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILT_IN_CATALOG, PURPOSES, TEMPLATE_CHANNELS } from './catalog.ts';
import { effectiveTemplate, localeChain, type OwnTemplate } from './effective.ts';
import { resolveLocale } from './locale.ts';

const own = (purpose: string, locale: string, text = `own ${purpose} ${locale} {code}`): OwnTemplate => ({ purpose, locale, template: { text } });

describe('localeChain', () => {
  const cases: Array<[requested: string, defaultLocale: string | undefined, expected: string[]]> = [
    ['nl-BE', 'en', ['nl-BE', 'nl', 'en']],
    ['nl-BE', 'de-AT', ['nl-BE', 'nl', 'de-AT', 'de', 'en']],
    ['en', 'en', ['en']],
    ['pt-BR', undefined, ['pt-BR', 'pt', 'en']],
    ['zh-Hant-TW', 'nl', ['zh-Hant-TW', 'zh-Hant', 'zh', 'nl', 'en']],
    ['NL-be', 'nl', ['NL-be', 'NL', 'en']],
  ];
  for (const [requested, defaultLocale, expected] of cases) {
    test(`case=${requested} default=${defaultLocale ?? '(none)'}`, () => assert.deepEqual(localeChain(requested, defaultLocale), expected));
  }
});

describe('effectiveTemplate', () => {
  test('without own templates it is the built-in one resolveLocale picks, for every channel and purpose', () => {
    for (const [requested, defaultLocale] of [['nl-BE', 'en'], ['pt-BR', 'de-AT'], ['pt-BR', 'ja'], ['fr-CA', undefined], ['x-unknown', 'es']] as const) {
      for (const channel of TEMPLATE_CHANNELS) {
        for (const purpose of PURPOSES) {
          const found = effectiveTemplate([], channel, purpose, requested, defaultLocale);
          const locale = resolveLocale(requested, defaultLocale);
          assert.equal(found.source, 'built_in');
          assert.equal(found.locale, locale, `${requested} ${channel} ${purpose}`);
          assert.equal(found.purpose, purpose);
          assert.equal(found.template, BUILT_IN_CATALOG[locale]!.templates[channel][purpose]);
        }
      }
    }
  });

  test('an own template for "nl" is used for "nl-BE"; an own "nl-BE" beats it', () => {
    const nl = own('authentication', 'nl');
    const found = effectiveTemplate([nl], 'sms', 'authentication', 'nl-BE', 'en');
    assert.equal(found.source, 'application');
    assert.equal(found.locale, 'nl');
    assert.equal(found.source === 'application' && found.own, nl);
    const nlBE = own('authentication', 'nl-BE');
    assert.equal(effectiveTemplate([nl, nlBE], 'sms', 'authentication', 'nl-be', 'en').template, nlBE.template, 'matched whatever the case');
  });

  test('a built-in template in the requested language beats an own template in a later locale of the chain', () => {
    const en = own('authentication', 'en');
    const found = effectiveTemplate([en], 'sms', 'authentication', 'nl-BE', 'en');
    assert.deepEqual([found.source, found.locale], ['built_in', 'nl']);
    // A language without built-in words: the own English template, before the built-in English one.
    assert.deepEqual(
      (({ source, locale }) => [source, locale])(effectiveTemplate([en], 'sms', 'authentication', 'pt-BR', 'en')),
      ['application', 'en'],
    );
  });

  test("the application's own locales extend the chain: an own 'pt' serves pt-BR before the default locale", () => {
    const pt = own('authentication', 'pt');
    const found = effectiveTemplate([pt], 'sms', 'authentication', 'pt-BR', 'de');
    assert.deepEqual([found.source, found.locale], ['application', 'pt']);
    // The default locale's own template serves a language nobody wrote.
    const deOwn = own('authentication', 'de');
    const viaDefault = effectiveTemplate([deOwn], 'sms', 'authentication', 'ja', 'de-AT');
    assert.deepEqual([viaDefault.source, viaDefault.locale], ['application', 'de']);
  });

  test("a purpose's own words beat the application's generic ones: own authentication stands in only where no built-in purpose template exists", () => {
    const enAuth = own('authentication', 'en');
    const tx = effectiveTemplate([enAuth], 'sms', 'transaction', 'en', 'en');
    assert.deepEqual([tx.source, tx.purpose, tx.locale], ['built_in', 'transaction', 'en']);
    const ownTx = own('transaction', 'en');
    const withOwn = effectiveTemplate([enAuth, ownTx], 'sms', 'transaction', 'en', 'en');
    assert.deepEqual([withOwn.source, withOwn.purpose], ['application', 'transaction']);
    // In a language without built-in words, the own authentication template stands in.
    const ptAuth = own('authentication', 'pt');
    const pt = effectiveTemplate([ptAuth], 'sms', 'pairing', 'pt-BR', 'en');
    assert.deepEqual([pt.source, pt.purpose, pt.locale], ['application', 'authentication', 'pt']);
  });

  test('a purpose without any template of its own falls back to authentication', () => {
    const found = effectiveTemplate([], 'sms', 'confirm_contact', 'de', 'en');
    assert.deepEqual([found.source, found.purpose, found.locale], ['built_in', 'authentication', 'de']);
  });

  test('a catalog without English and no match throws', () => {
    assert.throws(() => effectiveTemplate([], 'sms', 'authentication', 'ja', 'ko', {}), /has no en/);
  });
});
