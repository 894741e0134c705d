import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILT_IN_TEMPLATES, FALLBACK_LOCALE } from './catalog.ts';
import { formatDuration, renderMessage, templateLocale } from './render.ts';

const values = { code: '482913', appName: 'Acme Bank', ttlSeconds: 600 };

describe('renderMessage', () => {
  test('case=sms: one text with the code, the app name and the expiry', () => {
    const message = renderMessage('sms', 'en', values);
    assert.deepEqual(Object.keys(message), ['text']);
    assert.equal(message.text, 'Your Acme Bank code is 482913. It expires in 10 minutes. Never share it with anyone.');
  });

  test('case=email: subject, text and html each carry what they should', () => {
    const message = renderMessage('email', 'en', values);
    assert.equal(message.subject, 'Your Acme Bank verification code');
    assert.ok(!message.subject.includes(values.code), 'the subject, shown in notifications and lists, holds no code');
    for (const part of [message.text, message.html]) {
      assert.ok(part !== undefined);
      assert.ok(part.includes('482913'));
      assert.ok(part.includes('Acme Bank'));
      assert.ok(part.includes('10 minutes'));
    }
    assert.match(message.html!, /^<!doctype html>/);
  });

  test('escapes the app name in HTML and leaves it as written in text and subject', () => {
    const message = renderMessage('email', 'en', { ...values, appName: `<b>"A&B's"</b>` });
    assert.ok(message.html!.includes('&#60;b&#62;&#34;A&#38;B&#39;s&#34;&#60;/b&#62;'));
    assert.ok(!message.html!.includes('<b>'));
    assert.ok(message.text.includes(`<b>"A&B's"</b>`));
    assert.equal(message.subject, `Your <b>"A&B's"</b> verification code`);
  });

  test('treats ICU syntax in values as plain text', () => {
    const message = renderMessage('sms', 'en', { ...values, appName: "{code} '{x}' {a, plural, other {#}}" });
    assert.ok(message.text.startsWith("Your {code} '{x}' {a, plural, other {#}} code is 482913."));
  });

  test('states the time to expiry in the unit that reads best', () => {
    assert.ok(renderMessage('sms', 'en', { ...values, ttlSeconds: 90 }).text.includes('It expires in 1 minute, 30 seconds.'));
    assert.ok(renderMessage('sms', 'en', { ...values, ttlSeconds: 1800 }).text.includes('It expires in 30 minutes.'));
  });

  test('falls back to English for a locale without templates (nl-BE → nl → en)', () => {
    assert.deepEqual(renderMessage('sms', 'nl-BE', values), renderMessage('sms', 'en', values));
    assert.deepEqual(renderMessage('email', 'nl-BE', values), renderMessage('email', 'en', values));
  });
});

describe('templateLocale', () => {
  test('chooses the longest built-in prefix of the tag, else the fallback', () => {
    assert.equal(FALLBACK_LOCALE, 'en');
    assert.deepEqual(Object.keys(BUILT_IN_TEMPLATES), ['en'], 'only English is built in; extend these cases with a new locale');
    assert.equal(templateLocale('en'), 'en');
    assert.equal(templateLocale('en-GB'), 'en');
    assert.equal(templateLocale('nl-BE'), 'en');
    assert.equal(templateLocale('zh-Hant-TW'), 'en');
  });
});

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [30, '30 seconds'],
    [60, '1 minute'],
    [90, '1 minute, 30 seconds'],
    [600, '10 minutes'],
    [3600, '1 hour'],
    [5400, '1 hour, 30 minutes'],
    [3661, '1 hour, 1 minute, 1 second'],
  ];
  for (const [seconds, expected] of cases) {
    test(`case=${seconds} s → "${expected}"`, () => {
      assert.equal(formatDuration(seconds, 'en'), expected);
    });
  }

  test('speaks the locale it is given', () => {
    assert.equal(formatDuration(600, 'nl'), '10 minuten');
    assert.equal(formatDuration(5400, 'nl'), '1 uur en 30 minuten');
  });
});
