import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, formatExpiresAt } from './time-phrases.ts';

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
    const expected: Array<[string, number, string]> = [
      ['nl', 600, '10 minuten'],
      ['nl', 5400, '1 uur en 30 minuten'],
      ['de', 600, '10 Minuten'],
      ['de', 60, '1 Minute'],
      ['fr', 600, '10 minutes'],
      ['fr', 5400, '1\u00A0heure et 30 minutes'],
      ['es', 600, '10 minutos'],
      ['es', 90, '1 minuto y 30 segundos'],
    ];
    for (const [locale, seconds, text] of expected) assert.equal(formatDuration(seconds, locale), text, `${locale} ${seconds}`);
  });
});

describe('formatExpiresAt', () => {
  const at = (iso: string) => Date.parse(iso);

  test('case=today/tomorrow/later in each language, in Amsterdam', () => {
    const now = at('2026-03-03T13:48:00Z'); // 14:48 CET
    const expected: Record<string, [string, string, string]> = {
      en: ['today at 2:58\u202FPM', 'tomorrow at 9:00\u202FAM', 'on March 6, 2026 at 1:05\u202FAM'],
      'en-GB': ['today at 14:58', 'tomorrow at 09:00', 'on 6 March 2026 at 01:05'],
      nl: ['vandaag om 14:58', 'morgen om 09:00', 'op 6 maart 2026 om 01:05'],
      de: ['heute um 14:58 Uhr', 'morgen um 09:00 Uhr', 'am 6. März 2026 um 01:05 Uhr'],
      fr: ['aujourd’hui à 14:58', 'demain à 09:00', 'le 6 mars 2026 à 01:05'],
      es: ['hoy a las 14:58', 'mañana a las 9:00', 'el 6 de marzo de 2026 a la 1:05'],
    };
    for (const [locale, [today, tomorrow, later]] of Object.entries(expected)) {
      const options = { now, timeZone: 'Europe/Amsterdam', locale };
      assert.equal(formatExpiresAt(at('2026-03-03T13:58:00Z'), options), today, locale);
      assert.equal(formatExpiresAt(at('2026-03-04T08:00:00Z'), options), tomorrow, locale);
      assert.equal(formatExpiresAt(at('2026-03-06T00:05:00Z'), options), later, locale);
    }
  });

  test('es: "a la" before one o’clock, "a las" before any other hour, also on a 12-hour clock', () => {
    const options = { now: at('2026-03-03T00:00:00Z'), timeZone: 'UTC', locale: 'es' };
    assert.equal(formatExpiresAt(at('2026-03-03T01:30:00Z'), options), 'hoy a la 1:30');
    assert.equal(formatExpiresAt(at('2026-03-03T13:30:00Z'), options), 'hoy a las 13:30');
    assert.equal(formatExpiresAt(at('2026-03-03T00:30:00Z'), options), 'hoy a las 0:30');
    assert.equal(formatExpiresAt(at('2026-03-03T13:30:00Z'), { ...options, locale: 'es-US' }), 'hoy a la 1:30\u202Fp.m.');
  });

  test('the day is the application’s: one instant is today in UTC and tomorrow in Amsterdam', () => {
    const now = at('2026-03-03T22:30:00Z'); // 22:30 UTC, 23:30 in Amsterdam
    const expiresAt = at('2026-03-03T23:15:00Z'); // 23:15 UTC, 00:15 the next day in Amsterdam
    assert.equal(formatExpiresAt(expiresAt, { now, timeZone: 'UTC', locale: 'en-GB' }), 'today at 23:15');
    assert.equal(formatExpiresAt(expiresAt, { now, timeZone: 'Europe/Amsterdam', locale: 'en-GB' }), 'tomorrow at 00:15');
  });

  test('DST: the 23-hour day of 29 March 2026 in Amsterdam is still one day', () => {
    const now = at('2026-03-28T23:30:00Z'); // 00:30 CET, 29 March
    const options = { now, timeZone: 'Europe/Amsterdam', locale: 'nl' };
    assert.equal(formatExpiresAt(at('2026-03-29T21:59:00Z'), options), 'vandaag om 23:59', '22 h 29 min later, 23:59 CEST the same day');
    assert.equal(formatExpiresAt(at('2026-03-29T22:30:00Z'), options), 'morgen om 00:30', 'only 23 h later, yet the next day');
  });

  test('DST: the 25-hour day of 25 October 2026 in Amsterdam is still one day', () => {
    const now = at('2026-10-24T22:10:00Z'); // 00:10 CEST, 25 October
    const options = { now, timeZone: 'Europe/Amsterdam', locale: 'nl' };
    assert.equal(formatExpiresAt(at('2026-10-25T00:30:00Z'), options), 'vandaag om 02:30', '02:30 CEST');
    assert.equal(formatExpiresAt(at('2026-10-25T01:30:00Z'), options), 'vandaag om 02:30', '02:30 again, CET');
    assert.equal(formatExpiresAt(at('2026-10-25T22:50:00Z'), options), 'vandaag om 23:50', '24 h 40 min later, yet the same day');
    assert.equal(formatExpiresAt(at('2026-10-25T23:05:00Z'), options), 'morgen om 00:05');
  });

  test('the day after tomorrow, and a past instant, get the full date', () => {
    const options = { now: at('2026-12-31T12:00:00Z'), timeZone: 'UTC', locale: 'de' };
    assert.equal(formatExpiresAt(at('2027-01-02T12:00:00Z'), options), 'am 2. Januar 2027 um 12:00 Uhr');
    assert.equal(formatExpiresAt(at('2026-12-30T12:00:00Z'), options), 'am 30. Dezember 2026 um 12:00 Uhr');
  });

  test("a language without built-in phrases gets Intl's date and time", () => {
    const options = { now: at('2026-03-03T12:00:00Z'), timeZone: 'UTC', locale: 'pt-BR' };
    assert.equal(formatExpiresAt(at('2026-03-03T12:10:00Z'), options), '3 de março de 2026 às 12:10');
  });
});
