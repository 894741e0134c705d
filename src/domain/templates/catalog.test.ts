import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeSms } from '../sms/encoding.ts';
import { BUILT_IN_CATALOG, BUILT_IN_LOCALES, builtInTemplate, FALLBACK_LOCALE, PURPOSES, TEMPLATE_CHANNELS, type ChannelTemplate, type LocaleCatalog } from './catalog.ts';
import { parseTemplate, placeholderUses } from './placeholders.ts';
import { renderTemplate } from './render.ts';
import { validateTemplate } from './validate.ts';

/** Every built-in template with its key. */
const entries = BUILT_IN_LOCALES.flatMap((locale) =>
  TEMPLATE_CHANNELS.flatMap((channel) =>
    Object.entries(BUILT_IN_CATALOG[locale]!.templates[channel]).map(([purpose, template]) => ({ locale, channel, purpose, template: template as ChannelTemplate })),
  ),
);

const placeholders = (source: string | undefined) =>
  source === undefined ? [] : [...new Set(placeholderUses(parseTemplate(source, 'en')).map((use) => use.name))].sort();

describe('the built-in catalogue', () => {
  test('has en, nl, de, fr and es, and falls back to en', () => {
    assert.deepEqual([...BUILT_IN_LOCALES].sort(), ['de', 'en', 'es', 'fr', 'nl']);
    assert.equal(FALLBACK_LOCALE, 'en');
  });

  test('each language has every channel × authentication, and every purpose too', () => {
    for (const locale of BUILT_IN_LOCALES) {
      for (const channel of TEMPLATE_CHANNELS) {
        const templates = BUILT_IN_CATALOG[locale]!.templates[channel];
        assert.ok(templates.authentication.text.length > 0, `${locale} ${channel} authentication`);
        assert.deepEqual(Object.keys(templates).sort(), [...PURPOSES].sort(), `${locale} ${channel}`);
      }
    }
  });

  test('every built-in template passes validateTemplate', () => {
    assert.equal(entries.length, 5 * 4 * 4);
    for (const { locale, channel, purpose, template } of entries) {
      assert.deepEqual(validateTemplate(channel, template), [], `${locale} ${channel} ${purpose}`);
    }
  });

  test('every translation uses the same placeholders as the English', () => {
    for (const { locale, channel, purpose, template } of entries) {
      const english = builtInTemplate(channel, purpose as (typeof PURPOSES)[number], 'en')!;
      for (const field of ['subject', 'title', 'text', 'html'] as const) {
        assert.deepEqual(placeholders(template[field]), placeholders(english[field]), `${locale} ${channel} ${purpose} ${field}`);
      }
    }
  });

  test('every SMS is GSM 7-bit and one SMS long, with a ten-digit code, a nine-letter name and 30 minutes', () => {
    for (const locale of BUILT_IN_LOCALES) {
      for (const purpose of PURPOSES) {
        const { text } = renderTemplate({ channel: 'sms', purpose, locale, timeZone: 'UTC', values: { code: '5611260042', appName: 'Acme Bank', ttlSeconds: 1800 } });
        const sms = analyzeSms(text);
        assert.equal(sms.encoding, 'gsm7', `${locale} ${purpose}: ${text}`);
        assert.equal(sms.segments, 1, `${locale} ${purpose}: ${sms.units} septets`);
      }
    }
  });

  test('every e-mail is in its own language (<html lang>) and shows the code alone', () => {
    for (const { locale, channel, purpose, template } of entries) {
      if (channel !== 'email') continue;
      assert.ok(template.html!.includes(`<html lang="${locale}">`), `${locale} ${purpose}`);
      assert.ok(template.html!.includes('>{code}</p>'), `${locale} ${purpose}`);
    }
  });

  test('French uses its typography outside SMS: no-break spaces before ":" and "?", and ’', () => {
    for (const { channel, purpose, template } of entries.filter((e) => e.locale === 'fr')) {
      for (const text of [template.subject, template.title, template.text]) {
        if (text === undefined) continue;
        assert.doesNotMatch(text, / [:?!;]/, `${channel} ${purpose}: a plain space before punctuation`);
        assert.doesNotMatch(text, /[a-z]'[a-zéèêàâîôû]/i, `${channel} ${purpose}: a straight apostrophe`);
      }
    }
  });

  test("a purpose without its own template gets authentication's", () => {
    const authentication = { text: 'Code {code}' };
    const partial: Record<string, LocaleCatalog> = {
      xx: {
        templates: { sms: { authentication, transaction: { text: 'Pay {code}' } }, email: { authentication }, voice: { authentication }, push: { authentication } },
        expiresAt: { today: '{time}', tomorrow: '{time}', later: '{date}' },
      },
    };
    assert.equal(builtInTemplate('sms', 'transaction', 'xx', partial)?.text, 'Pay {code}');
    assert.equal(builtInTemplate('sms', 'pairing', 'xx', partial), authentication);
    assert.equal(builtInTemplate('sms', 'pairing', 'yy', partial), undefined);
  });
});
