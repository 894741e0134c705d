import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderMessage, renderTemplate, type RenderInput } from './render.ts';

const values = { code: '482913', appName: 'Acme Bank', ttlSeconds: 600 };
// 13:48 UTC, 14:48 in Amsterdam (CET); the code expires ten minutes later.
const now = Date.parse('2026-03-03T13:48:00Z');
const AMS = 'Europe/Amsterdam';

function render(channel: RenderInput['channel'], locale: string, extra: Partial<RenderInput> = {}) {
  return renderTemplate({ channel, locale, now, timeZone: AMS, values, ...extra });
}

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

  test('treats ICU syntax in values as plain text', () => {
    const message = renderMessage('sms', 'en', { ...values, appName: "{code} '{x}' {a, plural, other {#}}" });
    assert.ok(message.text.startsWith("Your {code} '{x}' {a, plural, other {#}} code is 482913."));
  });

  test('states the time to expiry in the unit that reads best', () => {
    assert.ok(renderMessage('sms', 'en', { ...values, ttlSeconds: 90 }).text.includes('It expires in 1 minute, 30 seconds.'));
    assert.ok(renderMessage('sms', 'en', { ...values, ttlSeconds: 1800 }).text.includes('It expires in 30 minutes.'));
  });

  test('follows the locale fallback chain: nl-BE → nl; an unknown language → the application default → en', () => {
    assert.deepEqual(renderMessage('sms', 'nl-BE', values), renderMessage('sms', 'nl', values));
    assert.deepEqual(renderMessage('email', 'nl-BE', values), renderMessage('email', 'nl', values));
    assert.deepEqual(renderMessage('sms', 'pt-BR', { ...values, defaultLocale: 'de' }), renderMessage('sms', 'de', values));
    assert.deepEqual(renderMessage('sms', 'pt-BR', values), renderMessage('sms', 'en', values));
  });

  test('takes a purpose, and voice and push channels', () => {
    assert.match(renderMessage('sms', 'en', { ...values, purpose: 'transaction' }).text, /^Your Acme Bank code to approve a transaction is 482913\./);
    assert.deepEqual(Object.keys(renderMessage('voice', 'en', values)).sort(), ['ssml', 'text', 'voiceLanguage']);
    assert.deepEqual(Object.keys(renderMessage('push', 'en', { ...values, code: '' })).sort(), ['text', 'title']);
  });
});

/** The built-in authentication messages, word for word, with a six-digit code and ten minutes to go. */
const AUTHENTICATION: Record<string, { sms: string; subject: string; emailText: string; speech: string; title: string; body: string }> = {
  en: {
    sms: 'Your Acme Bank code is 482913. It expires in 10 minutes. Never share it with anyone.',
    subject: 'Your Acme Bank verification code',
    emailText: 'Your Acme Bank verification code is 482913.\n\nIt expires in 10 minutes.\n\nIf you didn’t ask for this code, you can ignore this email. Never share the code with anyone.\n',
    speech: 'Your Acme Bank code is 4, 8, 2, 9, 1, 3. Again: 4, 8, 2, 9, 1, 3.',
    title: 'Approve sign-in to Acme Bank?',
    body: 'Tap to review the request. If you aren’t signing in right now, deny it.',
  },
  nl: {
    sms: 'Uw code voor Acme Bank is 482913. De code is 10 minuten geldig. Deel hem nooit met anderen.',
    subject: 'Uw verificatiecode voor Acme Bank',
    emailText: 'Uw verificatiecode voor Acme Bank is 482913.\n\nDe code is 10 minuten geldig.\n\nHeeft u deze code niet aangevraagd? Dan kunt u deze e-mail negeren. Deel de code nooit met anderen.\n',
    speech: 'Uw code voor Acme Bank is 4, 8, 2, 9, 1, 3. Ik herhaal: 4, 8, 2, 9, 1, 3.',
    title: 'Inloggen bij Acme Bank goedkeuren?',
    body: 'Tik om het verzoek te bekijken. Logt u nu niet zelf in? Weiger het dan.',
  },
  de: {
    sms: 'Ihr Code für Acme Bank lautet 482913. Er ist 10 Minuten gültig. Geben Sie ihn niemals weiter.',
    subject: 'Ihr Bestätigungscode für Acme Bank',
    emailText: 'Ihr Bestätigungscode für Acme Bank lautet 482913.\n\nEr ist 10 Minuten gültig.\n\nWenn Sie diesen Code nicht angefordert haben, können Sie diese E-Mail ignorieren. Geben Sie den Code niemals weiter.\n',
    speech: 'Ihr Code für Acme Bank lautet 4, 8, 2, 9, 1, 3. Ich wiederhole: 4, 8, 2, 9, 1, 3.',
    title: 'Anmeldung bei Acme Bank bestätigen?',
    body: 'Tippen Sie, um die Anfrage zu prüfen. Wenn Sie sich gerade nicht selbst anmelden, lehnen Sie sie ab.',
  },
  fr: {
    sms: 'Votre code Acme Bank est 482913. Il est valable 10 minutes. Ne le communiquez à personne.',
    subject: 'Votre code de vérification Acme Bank',
    emailText: 'Votre code de vérification Acme Bank est 482913.\n\nIl est valable 10 minutes.\n\nSi vous n’avez pas demandé ce code, vous pouvez ignorer cet e-mail. Ne communiquez jamais ce code à personne.\n',
    speech: 'Votre code Acme Bank est 4, 8, 2, 9, 1, 3. Je répète\u00A0: 4, 8, 2, 9, 1, 3.',
    title: 'Approuver la connexion à Acme Bank\u202F?',
    body: 'Appuyez pour vérifier la demande. Si vous n’êtes pas en train de vous connecter, refusez-la.',
  },
  es: {
    sms: 'Su clave de Acme Bank es 482913. Caduca en 10 minutos. No la comparta con nadie.',
    subject: 'Su código de verificación de Acme Bank',
    emailText: 'Su código de verificación de Acme Bank es 482913.\n\nCaduca en 10 minutos.\n\nSi no ha solicitado este código, puede ignorar este correo. No lo comparta nunca con nadie.\n',
    speech: 'Su código de Acme Bank es 4, 8, 2, 9, 1, 3. Repito: 4, 8, 2, 9, 1, 3.',
    title: '¿Aprobar el inicio de sesión en Acme Bank?',
    body: 'Toque para revisar la solicitud. Si no está iniciando sesión ahora, recházela.',
  },
};

const VOICES: Record<string, string> = { en: 'en-US', nl: 'nl-NL', de: 'de-DE', fr: 'fr-FR', es: 'es-ES' };
const DIGITS = '4<break time="300ms"/>8<break time="300ms"/>2<break time="300ms"/>9<break time="300ms"/>1<break time="300ms"/>3';

describe('renderTemplate: the built-in authentication messages', () => {
  for (const [locale, expected] of Object.entries(AUTHENTICATION)) {
    test(`locale=${locale} channel=sms`, () => {
      assert.deepEqual(render('sms', locale), { locale, text: expected.sms });
    });

    test(`locale=${locale} channel=email: subject, text, and html with the code large and the values in`, () => {
      const mail = render('email', locale);
      assert.equal(mail.locale, locale);
      assert.equal(mail.subject, expected.subject);
      assert.equal(mail.text, expected.emailText);
      const html = mail.html!;
      assert.match(html, new RegExp(`^<!doctype html>\\n<html lang="${locale}">`));
      assert.ok(html.includes(`<title>${expected.subject}</title>`));
      assert.match(html, /font-size:32px[^>]*>482913<\/p>/, 'the code stands alone, large');
      assert.ok(html.includes(expected.emailText.split('\n\n')[1]!), 'the expiry sentence');
    });

    test(`locale=${locale} channel=voice: the code digit by digit, twice, as speech and SSML`, () => {
      const call = render('voice', locale);
      assert.equal(call.text, expected.speech);
      assert.equal(call.voiceLanguage, VOICES[locale]);
      const ssml = call.ssml!;
      assert.ok(ssml.startsWith(`<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="${VOICES[locale]}">`));
      assert.ok(ssml.endsWith('</speak>'));
      assert.equal(ssml.split(DIGITS).length, 3, 'the code, with a pause between digits, said twice');
      const words = expected.speech.replaceAll('4, 8, 2, 9, 1, 3', DIGITS);
      assert.equal(ssml.replace(/^<speak[^>]*>/, '').replace(/<\/speak>$/, ''), words);
    });

    test(`locale=${locale} channel=push: a title and a body, no code`, () => {
      assert.deepEqual(render('push', locale, { values: { appName: 'Acme Bank', ttlSeconds: 600 } }), { locale, title: expected.title, text: expected.body });
    });
  }

  test('the requested region formats the durations and the voice: en-GB, es-MX', () => {
    assert.equal(render('voice', 'en-GB').voiceLanguage, 'en-GB');
    assert.equal(render('voice', 'nl-BE').voiceLanguage, 'nl-NL', 'no common nl-BE voice: the Netherlands voice');
    assert.equal(render('voice', 'es-MX').voiceLanguage, 'es-MX');
    assert.equal(render('voice', 'pt-BR', { defaultLocale: 'fr' }).voiceLanguage, 'fr-FR');
  });
});

describe('renderTemplate: purposes', () => {
  test('a purpose with its own template gets it, in every language', () => {
    const expected: Record<string, string> = {
      en: 'Your Acme Bank code to approve a transaction is 482913. It expires in 10 minutes. Only use it for a transaction you made yourself.',
      nl: 'Uw code om een transactie bij Acme Bank te bevestigen is 482913. De code is 10 minuten geldig. Gebruik hem alleen voor uw eigen transactie.',
      de: 'Ihr Code zur Freigabe einer Transaktion bei Acme Bank lautet 482913. Er ist 10 Minuten gültig. Nutzen Sie ihn nur für Ihre eigene Transaktion.',
      fr: "Votre code pour valider une opération Acme Bank est 482913. Il est valable 10 minutes. Ne l'utilisez que pour vos propres opérations.",
      es: 'Su clave para autorizar la orden en Acme Bank es 482913. Caduca en 10 minutos. No la utilice si no ha dado usted esa orden.',
    };
    for (const [locale, text] of Object.entries(expected)) assert.equal(render('sms', locale, { purpose: 'transaction' }).text, text, locale);
    assert.equal(render('push', 'en', { purpose: 'pairing' }).title, 'Link a new device to Acme Bank?');
    assert.equal(render('email', 'de', { purpose: 'caller_verification' }).subject, 'Bestätigen Sie am Telefon mit Acme Bank, dass Sie es sind');
  });

  test('{purpose} selects wording in an application template', () => {
    const template = { text: '{purpose, select, transaction {Approve with {code}} other {Sign in with {code}}}.' };
    assert.equal(render('sms', 'en', { purpose: 'transaction', override: { locale: 'en', template } }).text, 'Approve with 482913.');
    assert.equal(render('sms', 'en', { override: { locale: 'en', template } }).text, 'Sign in with 482913.');
  });
});

describe('renderTemplate: {expires_at} in every language', () => {
  // An application's own template, to show the phrase in a sentence; now is 14:48 in Amsterdam.
  const sentence: Record<string, string> = {
    en: 'Code {code}. It expires {expires_at}.',
    nl: 'Code {code}. De code verloopt {expires_at}.',
    de: 'Code {code}. Er läuft {expires_at} ab.',
    fr: 'Code {code}. Il expire {expires_at}.',
    es: 'Código {code}. Caduca {expires_at}.',
  };
  const cases: Array<[label: string, expiresAt: string, expected: Record<string, string>]> = [
    ['today', '2026-03-03T13:58:00Z', {
      en: 'Code 482913. It expires today at 2:58\u202FPM.',
      nl: 'Code 482913. De code verloopt vandaag om 14:58.',
      de: 'Code 482913. Er läuft heute um 14:58 Uhr ab.',
      fr: 'Code 482913. Il expire aujourd’hui à 14:58.',
      es: 'Código 482913. Caduca hoy a las 14:58.',
    }],
    ['tomorrow', '2026-03-04T08:00:00Z', {
      en: 'Code 482913. It expires tomorrow at 9:00\u202FAM.',
      nl: 'Code 482913. De code verloopt morgen om 09:00.',
      de: 'Code 482913. Er läuft morgen um 09:00 Uhr ab.',
      fr: 'Code 482913. Il expire demain à 09:00.',
      es: 'Código 482913. Caduca mañana a las 9:00.',
    }],
    ['later', '2026-03-06T00:05:00Z', {
      en: 'Code 482913. It expires on March 6, 2026 at 1:05\u202FAM.',
      nl: 'Code 482913. De code verloopt op 6 maart 2026 om 01:05.',
      de: 'Code 482913. Er läuft am 6. März 2026 um 01:05 Uhr ab.',
      fr: 'Code 482913. Il expire le 6 mars 2026 à 01:05.',
      es: 'Código 482913. Caduca el 6 de marzo de 2026 a la 1:05.',
    }],
  ];
  for (const [label, expiresAt, expected] of cases) {
    for (const locale of Object.keys(sentence)) {
      test(`case=${label} locale=${locale}`, () => {
        const input = { values: { ...values, expiresAt: Date.parse(expiresAt) }, override: { locale, template: { title: 'Sign in?', text: sentence[locale]! } } };
        assert.equal(render('push', locale, input).text, expected[locale]);
      });
    }
  }

  test('an SMS folds the narrow no-break space of "2:58 PM" and the ’ of "aujourd’hui" to stay GSM 7-bit', () => {
    const template = { text: 'Code {code}: {expires_at}' };
    assert.equal(render('sms', 'en', { override: { locale: 'en', template } }).text, 'Code 482913: today at 2:58 PM');
    assert.equal(render('sms', 'fr', { override: { locale: 'fr', template } }).text, "Code 482913: aujourd'hui à 14:58");
  });

  test('defaults to now + ttlSeconds, said in the requested region (en-GB: 24-hour clock)', () => {
    const template = { text: '{code} {expires_at}' };
    assert.equal(render('sms', 'en-GB', { override: { locale: 'en', template } }).text, '482913 today at 14:58');
    assert.equal(render('sms', 'en-GB', { timeZone: 'UTC', override: { locale: 'en', template } }).text, '482913 today at 13:58');
  });

  test('refuses to guess the time: {expires_at} without now throws', () => {
    const template = { text: '{code} {expires_at}' };
    assert.throws(() => render('sms', 'en', { now: undefined, override: { locale: 'en', template } }), /the template uses \{expires_at\}, which has no value here/);
  });
});

describe('renderTemplate: params', () => {
  const template = { text: 'Order {order_id}: {items, plural, one {# item} other {# items}}. Code {code}.' };

  test('fills the params a template uses and ignores the rest', () => {
    const rendered = render('sms', 'en', { values: { ...values, params: { order_id: 'A-17', items: 3, unused: 'x' } }, override: { locale: 'en', template } });
    assert.equal(rendered.text, 'Order A-17: 3 items. Code 482913.');
  });

  test("never lets a param stand in for Outband's own placeholders", () => {
    const rendered = render('sms', 'en', { values: { ...values, params: { code: '000000', app_name: 'Evil' } } });
    assert.equal(rendered.text, 'Your Acme Bank code is 482913. It expires in 10 minutes. Never share it with anyone.');
  });

  test('throws, naming them, when the template uses params the request did not pass', () => {
    assert.throws(() => render('sms', 'en', { values: { ...values, params: {} }, override: { locale: 'en', template } }), /the template uses \{order_id\}, \{items\}, which have no value here/);
  });

  test('a push template has no code; one that names {code} without it throws', () => {
    assert.throws(() => render('push', 'en', { values: { appName: 'A', ttlSeconds: 60 }, override: { locale: 'en', template: { title: 'x', text: '{code}' } } }), /\{code\}/);
  });
});
