// Threat: an application name or a request parameter (a payee, an order reference: text that
// may come from an end user) carries markup or ICU syntax. Unescaped, it would put a phishing
// link or a tracking pixel into the e-mail's HTML, end or rewrite the SSML of a call (an
// <audio> from anywhere, a different code spoken), or be read as ICU and change the message,
// even stand in for the code. Values are text: escaped for HTML and SSML, never parsed as ICU.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderTemplate, type RenderInput } from './render.ts';

const hostile = `<a href="https://evil.example/">Acme</a> & 'Co' {code}`;
const base = { locale: 'en', now: Date.parse('2026-03-03T13:48:00Z'), timeZone: 'UTC' } as const;

function render(channel: RenderInput['channel'], extra: Partial<RenderInput> = {}) {
  return renderTemplate({ ...base, channel, values: { code: '482913', appName: hostile, ttlSeconds: 600 }, ...extra });
}

describe('property: placeholder values never become markup or ICU', () => {
  test('e-mail HTML: the app name is escaped, in the title too; text and subject keep it as written', () => {
    const mail = render('email');
    const escaped = '&#60;a href=&#34;https://evil.example/&#34;&#62;Acme&#60;/a&#62; &#38; &#39;Co&#39; {code}';
    assert.ok(mail.html!.includes(`<title>Your ${escaped} verification code</title>`));
    assert.ok(mail.html!.includes(`Your ${escaped} verification code is:`));
    assert.ok(!mail.html!.includes('<a href'), 'no link from a value');
    assert.equal(mail.subject, `Your ${hostile} verification code`);
    assert.ok(mail.text.startsWith(`Your ${hostile} verification code is 482913.`));
  });

  test('e-mail HTML: params are escaped like the app name', () => {
    const template = { subject: 'Payment', text: 'Pay {payee} with {code}', html: '<p>Pay <b>{payee}</b> with {code}</p>' };
    const mail = render('email', { values: { code: '482913', appName: 'Acme', ttlSeconds: 600, params: { payee: '<img src=x onerror=alert(1)>' } }, override: { locale: 'en', template } });
    assert.equal(mail.html, '<p>Pay <b>&#60;img src=x onerror=alert(1)&#62;</b> with 482913</p>');
    assert.equal(mail.text, 'Pay <img src=x onerror=alert(1)> with 482913');
  });

  test('SSML: the app name is escaped and cannot close <speak> or add an <audio>', () => {
    const call = render('voice', { values: { code: '12', appName: '</speak><audio src="https://evil.example/a.mp3"/><speak>', ttlSeconds: 600 } });
    assert.equal(
      call.ssml,
      '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">Your &lt;/speak&gt;&lt;audio src=&quot;https://evil.example/a.mp3&quot;/&gt;&lt;speak&gt; code is 1<break time="300ms"/>2. Again: 1<break time="300ms"/>2.</speak>',
    );
    assert.equal(call.ssml!.match(/<speak /g)?.length, 1);
  });

  test("SSML: an application template's own words are text too", () => {
    const call = render('voice', { override: { locale: 'en', template: { text: 'A <break time="10s"/> & {code}' } } });
    assert.ok(call.ssml!.includes('A &lt;break time=&quot;10s&quot;/&gt; &amp; 4<break time="300ms"/>8'));
  });

  test('ICU in a value is text: "{code}" in the app name is not the code', () => {
    assert.ok(render('sms').text.startsWith(`Your ${hostile} code is 482913.`));
    const withParam = render('sms', {
      values: { code: '482913', appName: 'Acme', ttlSeconds: 600, params: { note: '{code} {x, plural, other {#}}' } },
      override: { locale: 'en', template: { text: '{note} / {code}' } },
    });
    assert.equal(withParam.text, '{code} {x, plural, other {#}} / 482913');
  });

  test('a param named like a built-in placeholder never replaces it', () => {
    const sms = render('sms', { values: { code: '482913', appName: 'Acme', ttlSeconds: 600, params: { code: '000000', expires_in: 'forever' } } });
    assert.equal(sms.text, 'Your Acme code is 482913. It expires in 10 minutes. Never share it with anyone.');
  });
});
