import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateTemplate, type TemplateProblem } from './validate.ts';

/** The rule and field of each problem, for compact assertions. */
const rules = (problems: TemplateProblem[]) => problems.map((p) => `${p.field}:${p.rule}`);

describe('validateTemplate', () => {
  test('a good template of each channel has no problems', () => {
    assert.deepEqual(validateTemplate('sms', { text: 'Your {app_name} code is {code}. Order {order_id}.' }), []);
    assert.deepEqual(validateTemplate('voice', { text: 'Your code is {code}. Again: {code}.' }), []);
    assert.deepEqual(validateTemplate('email', { subject: 'Your {app_name} code', text: 'Code: {code}', html: '<p><b>{code}</b></p>' }), []);
    assert.deepEqual(validateTemplate('email', { subject: 'Your {app_name} code', text: 'Code: {code}' }), [], 'html is optional');
    assert.deepEqual(validateTemplate('push', { title: 'Sign in to {app_name}?', text: 'Approve it in the app before {expires_at}.' }), []);
  });

  test('case=malformed: refused with the parser’s position and what is wrong', () => {
    const problems = validateTemplate('sms', { text: 'Your {app_name code is {code}.' });
    assert.deepEqual(problems, [
      {
        field: 'text',
        rule: 'malformed',
        message: 'text: malformed ICU message at line 1, column 6: a malformed placeholder: write {name} or {name, type, …} (MALFORMED_ARGUMENT)',
        position: { offset: 5, line: 1, column: 6 },
      },
    ]);
  });

  test('case=malformed: a select without other, on the second line of an e-mail body', () => {
    const [problem] = validateTemplate('email', { subject: 'Code', text: 'Code {code}\n{purpose, select, transaction {Pay}}' });
    assert.equal(problem?.rule, 'malformed');
    assert.equal(problem?.position?.line, 2);
    assert.match(problem!.message, /^text: malformed ICU message at line 2, column \d+: a select or plural needs an "other \{…\}" case \(MISSING_OTHER_CLAUSE\)$/);
  });

  test('case=unknown placeholder: a name that is not a parameter name is refused, naming it and its place', () => {
    const problems = validateTemplate('sms', { text: 'Your {AppName} code is {code}.' });
    assert.deepEqual(rules(problems), ['text:unknown_placeholder']);
    assert.match(problems[0]!.message, /^text: unknown placeholder \{AppName\}: use \{code\}, \{app_name\}, \{expires_in\}, \{expires_at\}, \{purpose\}, or a parameter name/);
    assert.deepEqual(problems[0]!.position, { offset: 5, line: 1, column: 6 });
    for (const name of ['1st', '_x', 'x'.repeat(33), 'naïve']) {
      assert.deepEqual(rules(validateTemplate('sms', { text: `{${name}} {code}` })), ['text:unknown_placeholder'], name);
    }
    for (const name of ['app-name', 'params.order_id']) {
      assert.deepEqual(rules(validateTemplate('sms', { text: `{${name}} {code}` })), ['text:malformed'], `the ICU parser itself refuses {${name}}`);
    }
  });

  test('case=unknown placeholder: a near-miss of a built-in name is taken for a typo', () => {
    for (const [name, meant] of [['app_nmae', 'app_name'], ['expire_in', 'expires_in'], ['expires_ta', 'expires_at'], ['purposes', 'purpose']]) {
      const [problem] = validateTemplate('sms', { text: `{code} {${name}}` });
      assert.equal(problem?.rule, 'unknown_placeholder');
      assert.ok(problem?.message.includes(`did you mean {${meant}}?`), problem?.message);
    }
    assert.deepEqual(validateTemplate('sms', { text: '{code} {mode} {payee} {amount}' }), [], 'short or distant names are parameters');
  });

  test('case=declared params: only those are parameters', () => {
    const options = { params: ['order_id'] };
    assert.deepEqual(validateTemplate('sms', { text: '{code} {order_id}' }, options), []);
    const [problem] = validateTemplate('sms', { text: '{code} {order_ref}' }, options);
    assert.equal(problem?.message, 'text: unknown placeholder {order_ref}: use {code}, {app_name}, {expires_in}, {expires_at}, {purpose} or a declared parameter (declared: {order_id})');
  });

  test('case=placeholders used the wrong way', () => {
    assert.deepEqual(rules(validateTemplate('sms', { text: 'Code {code, number}' })), ['text:placeholder_misused']);
    assert.deepEqual(rules(validateTemplate('sms', { text: '{code} for {purpose}' })), ['text:placeholder_misused']);
    assert.deepEqual(validateTemplate('sms', { text: '{code} {purpose, select, transaction {to pay} other {to sign in}}' }), []);
    assert.deepEqual(rules(validateTemplate('sms', { text: '{code} by {due, date, short}' })), ['text:placeholder_misused']);
    assert.deepEqual(validateTemplate('sms', { text: '{code} {amount, number} {n, plural, one {# item} other {# items}}' }), [], 'number and plural params are fine');
  });

  test('case=code: required where the code travels, refused where it would show', () => {
    assert.deepEqual(validateTemplate('sms', { text: 'Your {app_name} code.' }).map((p) => p.message), ['text: an SMS must contain {code}']);
    assert.deepEqual(validateTemplate('voice', { text: 'Hello.' }).map((p) => p.message), ['text: a voice message must contain {code}']);
    assert.deepEqual(
      validateTemplate('email', { subject: 'Code {code}', text: 'Hi', html: '<p>Hi</p>' }).map((p) => p.message),
      [
        'subject: an e-mail subject must not hold {code}: subjects show on lock screens and in inbox lists',
        "text: the e-mail's text part must contain {code}",
        "html: the e-mail's html part must contain {code}",
      ],
    );
    assert.deepEqual(rules(validateTemplate('push', { title: 'Code {code}', text: '{code}' })), ['title:code_not_allowed', 'text:code_not_allowed']);
    assert.deepEqual(validateTemplate('sms', { text: "Quoted '{code}' is text, not the code" }).map((p) => p.rule), ['missing_code']);
    assert.deepEqual(validateTemplate('sms', { text: '{purpose, select, transaction {Pay: {code}} other {Code: {code}}}' }), [], 'inside select cases');
  });

  test("case=fields: html only for e-mail, a subject for e-mail, a title for push", () => {
    assert.deepEqual(rules(validateTemplate('sms', { text: '{code}', html: '<p>{code}</p>', subject: 'x', title: 'y' })), [
      'subject:field_not_allowed',
      'title:field_not_allowed',
      'html:field_not_allowed',
    ]);
    assert.equal(validateTemplate('sms', { text: '{code}', html: '<p>{code}</p>' })[0]?.message, 'html: an SMS template has no html (it takes text)');
    assert.deepEqual(rules(validateTemplate('email', { text: '{code}' })), ['subject:field_required']);
    assert.deepEqual(rules(validateTemplate('push', { text: 'Approve?' })), ['title:field_required']);
    assert.deepEqual(rules(validateTemplate('sms', { text: '   ' })), ['text:field_required']);
  });

  test('case=too long', () => {
    assert.deepEqual(validateTemplate('push', { title: 'x'.repeat(101), text: 'ok' }).map((p) => p.message), ['title: 101 characters; a push title holds at most 100']);
  });
});
