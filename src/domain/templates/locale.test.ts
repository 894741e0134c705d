import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILT_IN_LOCALES } from './catalog.ts';
import { formattingLocale, resolveLocale, voiceLanguage } from './locale.ts';

describe('resolveLocale', () => {
  const cases: Array<[requested: string, defaultLocale: string | undefined, expected: string]> = [
    ['en', 'nl', 'en'],
    ['nl', 'en', 'nl'],
    ['nl-BE', 'en', 'nl'],
    ['nl-be', 'en', 'nl'],
    ['de-AT', 'en', 'de'],
    ['fr-CA', 'en', 'fr'],
    ['es-MX', 'en', 'es'],
    ['en-GB', 'nl', 'en'],
    ['pt-BR', 'de', 'de'],
    ['pt-BR', 'de-AT', 'de'],
    ['pt-BR', 'ja', 'en'],
    ['pt-BR', undefined, 'en'],
    ['zh-Hant-TW', 'fr', 'fr'],
    ['x-unknown', 'es', 'es'],
  ];
  for (const [requested, defaultLocale, expected] of cases) {
    test(`case=${requested} default=${defaultLocale ?? '(none)'} → ${expected}`, () => {
      assert.equal(resolveLocale(requested, defaultLocale), expected);
    });
  }

  test("takes an application's own locales into the chain", () => {
    const available = [...BUILT_IN_LOCALES, 'pt'];
    assert.equal(resolveLocale('pt-BR', 'de', available), 'pt');
    assert.equal(resolveLocale('nl-BE', 'de', available), 'nl');
  });

  test('without English available, the first available locale ends the chain', () => {
    assert.equal(resolveLocale('ja', 'ko', ['nl', 'de']), 'nl');
    assert.throws(() => resolveLocale('ja', 'ko', []), /no locale is available/);
  });
});

describe('formattingLocale', () => {
  test("the most specific tag in the message's language", () => {
    assert.equal(formattingLocale('nl', ['nl-BE', 'en']), 'nl-BE');
    assert.equal(formattingLocale('en', ['en-GB', undefined]), 'en-GB');
    assert.equal(formattingLocale('de', ['pt-BR', 'de-AT']), 'de-AT');
    assert.equal(formattingLocale('en', ['pt-BR', 'ja']), 'en');
    assert.equal(formattingLocale('en', ['not a tag!', undefined]), 'en');
  });
});

describe('voiceLanguage', () => {
  const cases: Array<[string, string]> = [
    ['en', 'en-US'],
    ['nl', 'nl-NL'],
    ['de', 'de-DE'],
    ['fr', 'fr-FR'],
    ['es', 'es-ES'],
    ['en-GB', 'en-GB'],
    ['fr-CA', 'fr-CA'],
    ['es-MX', 'es-MX'],
    ['nl-BE', 'nl-NL'],
    ['de-AT', 'de-DE'],
    ['pt', 'pt-BR'],
  ];
  for (const [tag, expected] of cases) {
    test(`case=${tag} → ${expected}`, () => {
      assert.equal(voiceLanguage(tag), expected);
    });
  }
});
