import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deviceApiBase, parseEnrollmentLink } from './enrollment-link.ts';
import { AuthenticatorError } from './errors.ts';

describe('parseEnrollmentLink', () => {
  test('case=valid: {api} is the text before /authenticator/enroll, the token the fragment parameter', () => {
    assert.deepEqual(parseEnrollmentLink('https://verify.acme.example/authenticator/enroll#token=q7Vd0cZ2hK9mXr4TnL1aEw'), {
      api: 'https://verify.acme.example',
      token: 'q7Vd0cZ2hK9mXr4TnL1aEw',
    });
    assert.deepEqual(parseEnrollmentLink('  https://h.example/outband/authenticator/enroll?x=1#v=1&token=abc_-9 \n'), { api: 'https://h.example/outband', token: 'abc_-9' });
    assert.equal(parseEnrollmentLink('http://localhost:3000/authenticator/enroll#token=a').api, 'http://localhost:3000');
    assert.equal(parseEnrollmentLink('http://127.0.0.1:3000/authenticator/enroll#token=a').api, 'http://127.0.0.1:3000');
    assert.equal(parseEnrollmentLink('http://[::1]:3000/authenticator/enroll#token=a').api, 'http://[::1]:3000');
  });

  test('case=plain http to another host: refused unless allowed', () => {
    assert.throws(() => parseEnrollmentLink('http://outband.lan/authenticator/enroll#token=a'), /https/);
    assert.equal(parseEnrollmentLink('http://outband.lan/authenticator/enroll#token=a', { allowHttp: true }).api, 'http://outband.lan');
  });

  test('case=invalid: each refused with the rule that failed', () => {
    const cases: Array<[string, RegExp]> = [
      ['https://h.example/enroll#token=a', /not an enrolment link/],
      ['/authenticator/enroll#token=a', /not an enrolment link/],
      ['ftp://h.example/authenticator/enroll#token=a', /http\(s\)/],
      ['https://h.example/authenticator/enroll', /no token/],
      ['https://h.example/authenticator/enroll#token=', /no token/],
      ['https://h.example/authenticator/enroll#token=a+b/c', /base64url/],
      ['https://u:p@h.example/authenticator/enroll#token=a', /credentials/],
    ];
    for (const [link, message] of cases) assert.throws(() => parseEnrollmentLink(link), (e: unknown) => e instanceof AuthenticatorError && message.test(e.message), link);
  });

  test('deviceApiBase', () => {
    assert.equal(deviceApiBase('https://h.example/'), 'https://h.example/v1/device-api');
  });
});
