// The Twilio provider against a local HTTP server that checks what Twilio's REST API checks
// (account in the path, Basic auth, form fields, well-formed TwiML) and answers as Twilio
// documents (201 with a sid, or a JSON error {code, message, more_info, status}). Nothing here
// contacts twilio.com. Signatures are checked against a construction written in this file from
// Twilio's docs, and against the example in those docs.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import {
  callStatusCallbackUrl,
  createTwilio,
  MISSED_CALL_TWIML,
  parseTwilioInboundSms,
  parseTwilioStatusCallback,
  verifyTwilioSignature,
  type TwilioCallKind,
  type TwilioConfig,
} from '../../src/providers/twilio.ts';
import { ProviderError, type MessageReference, type ProviderRequest } from '../../src/providers/types.ts';

const SID = `AC${'0123456789abcdef'.repeat(2)}`;
const TOKEN = 'f3c1b2a0e9d8c7b6a5f4e3d2c1b0a9f8';
const MESSAGING_SERVICE = `MG${'fedcba9876543210'.repeat(2)}`;
const REFERENCE: MessageReference = { deliveryId: 'del_1', verificationId: 'ver_1', applicationId: 'app_1' };
const signal = () => AbortSignal.timeout(5000);

// Twilio's test numbers answer with these errors (https://www.twilio.com/docs/iam/test-credentials);
// the last two are ours, for the answers Twilio gives under load or in an outage.
const NUMBERS = {
  ok: '+31612345678',
  invalid: '+15005550001', // 21211
  unroutable: '+15005550002', // 21612
  regionDisabled: '+15005550003', // 21408
  unsubscribed: '+15005550004', // 21610
  notMobile: '+15005550009', // 21614
  rateLimited: '+15005550429',
  outage: '+15005550500',
  hang: '+15005550999',
} as const;

// ---------------------------------------------------------------------------------------------
// A minimal strict XML reader, so the TwiML is checked as a parser would see it.

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: (XmlElement | string)[];
}

function unescapeXml(text: string): string {
  if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) throw new Error(`bare & in ${JSON.stringify(text)}`);
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
  );
}

/** Parses one XML document (an optional declaration, one root element); throws when it is not well-formed. */
function parseXml(xml: string): XmlElement {
  let rest = xml.replace(/^<\?xml[^?]*\?>/, '');
  const root: XmlElement = { name: '#document', attributes: {}, children: [] };
  const stack: XmlElement[] = [root];
  const tag = /^<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*\s*=\s*"[^"<]*")*)\s*(\/?)>/;
  while (rest !== '') {
    const top = stack.at(-1) as XmlElement;
    if (rest.startsWith('<')) {
      const match = tag.exec(rest);
      if (match === null) throw new Error(`not well-formed at ${JSON.stringify(rest.slice(0, 30))}`);
      const [whole, closing, name, attrs, selfClosing] = match as unknown as [string, string, string, string, string];
      rest = rest.slice(whole.length);
      if (closing === '/') {
        if (top.name !== name || attrs !== '' || selfClosing !== '') throw new Error(`</${name}> closes <${top.name}>`);
        stack.pop();
        continue;
      }
      const attributes: Record<string, string> = {};
      for (const a of attrs.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*"([^"]*)"/g)) {
        if ((a[1] as string) in attributes) throw new Error(`attribute ${a[1]} twice`);
        attributes[a[1] as string] = unescapeXml(a[2] as string);
      }
      const element: XmlElement = { name, attributes, children: [] };
      if (top === root && root.children.length > 0) throw new Error('more than one root element');
      top.children.push(element);
      if (selfClosing !== '/') stack.push(element);
    } else {
      const end = rest.indexOf('<');
      const text = end < 0 ? rest : rest.slice(0, end);
      rest = end < 0 ? '' : rest.slice(end);
      if (top === root) {
        if (text.trim() !== '') throw new Error('text outside the root element');
      } else {
        top.children.push(unescapeXml(text));
      }
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)?.name}> is not closed`);
  const [element] = root.children;
  if (element === undefined || typeof element === 'string') throw new Error('no root element');
  return element;
}

const elements = (e: XmlElement) => e.children.filter((c): c is XmlElement => typeof c !== 'string');
const textOf = (e: XmlElement) => e.children.filter((c): c is string => typeof c === 'string').join('');

// ---------------------------------------------------------------------------------------------
// A local Twilio REST API

interface ApiRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  form: Record<string, string>;
  /** The parsed TwiML of a call. */
  twiml?: XmlElement;
}

interface FakeTwilio {
  baseUrl: string;
  requests: ApiRequest[];
}

function twilioError(status: number, code: number, message: string) {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

const newSid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

/** Twilio's answer to one request, after the checks Twilio makes. */
function answer(request: ApiRequest): { status: number; body: unknown } | 'hang' {
  const match = /^\/2010-04-01\/Accounts\/([^/]+?)(?:\/(Messages|Calls))?\.json$/.exec(request.path);
  if (match === null) return twilioError(404, 20404, 'The requested resource was not found');
  const [, accountSid, resource] = match;
  const auth = /^Basic (.+)$/.exec(request.headers.authorization ?? '');
  const [user, password] = Buffer.from(auth?.[1] ?? '', 'base64').toString().split(':');
  if (user !== SID || password !== TOKEN) return twilioError(401, 20003, 'Authenticate');
  if (accountSid !== SID) return twilioError(404, 20404, 'The requested resource was not found');

  if (resource === undefined) {
    if (request.method !== 'GET') return twilioError(405, 20004, 'Method not allowed');
    return { status: 200, body: { sid: SID, status: 'active' } };
  }
  if (request.method !== 'POST') return twilioError(405, 20004, 'Method not allowed');
  if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') return twilioError(400, 20001, 'Unsupported content type');
  const f = request.form;
  const to = f['To'];
  if (to === undefined) return twilioError(400, 21604, "A 'To' phone number is required.");

  if (resource === 'Messages') {
    if ((f['From'] === undefined) === (f['MessagingServiceSid'] === undefined)) return twilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required");
    if (f['Body'] === undefined || f['Body'] === '') return twilioError(400, 21602, 'Message body is required.');
  } else {
    if (f['From'] === undefined || !/^\+[1-9]\d{1,14}$/.test(f['From'])) return twilioError(400, 21212, `The 'From' number ${f['From']} is not a valid phone number`);
    if (f['Twiml'] === undefined && f['Url'] === undefined) return twilioError(400, 21205, 'Url or Twiml is required');
    if (f['Twiml'] !== undefined) {
      try {
        request.twiml = parseXml(f['Twiml']);
      } catch (error) {
        return twilioError(400, 12100, `Document parse failure: ${(error as Error).message}`);
      }
    }
    if (f['Timeout'] !== undefined && !/^[1-9]\d*$/.test(f['Timeout'])) return twilioError(400, 21208, 'Invalid Timeout');
  }
  if (f['StatusCallback'] !== undefined && !/^https?:\/\//.test(f['StatusCallback'])) return twilioError(400, 21609, 'Invalid StatusCallback');

  // Errors quote the request, as Twilio's do: the provider must not copy them.
  const quoted = `${to} (${f['Body'] ?? ''})`;
  switch (to) {
    case NUMBERS.invalid:
      return twilioError(400, 21211, `Invalid 'To' Phone Number: ${quoted}`);
    case NUMBERS.unroutable:
      return twilioError(400, 21612, `The 'To' phone number: ${quoted}, is not currently reachable`);
    case NUMBERS.regionDisabled:
      return twilioError(400, 21408, `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${quoted}`);
    case NUMBERS.unsubscribed:
      return twilioError(400, 21610, `Attempt to send to unsubscribed recipient ${quoted}`);
    case NUMBERS.notMobile:
      return twilioError(400, 21614, `'To' number ${quoted} is not a valid mobile number`);
    case NUMBERS.rateLimited:
      return twilioError(429, 20429, `Too Many Requests ${quoted}`);
    case NUMBERS.outage:
      return { status: 500, body: `<html>Internal error for ${quoted}</html>` };
    case NUMBERS.hang:
      return 'hang';
  }
  const sid = newSid(resource === 'Messages' ? 'SM' : 'CA');
  return { status: 201, body: { sid, account_sid: SID, to, from: f['From'] ?? null, status: 'queued', uri: `/2010-04-01/Accounts/${SID}/${resource}/${sid}.json` } };
}

async function startFakeTwilio(t: TestContext): Promise<FakeTwilio> {
  const requests: ApiRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const request: ApiRequest = {
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://x').pathname,
        headers: req.headers,
        rawBody,
        form: Object.fromEntries(new URLSearchParams(rawBody)),
      };
      requests.push(request);
      const result = answer(request);
      if (result === 'hang') return; // never answers; closed in t.after
      const text = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
      res.writeHead(result.status, { 'content-type': typeof result.body === 'string' ? 'text/html' : 'application/json' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function configFor(baseUrl: string, overrides: Partial<TwilioConfig> = {}): TwilioConfig {
  return {
    accountSid: SID,
    authToken: TOKEN,
    apiBaseUrl: baseUrl,
    from: '+3197010000001',
    voiceFrom: '',
    statusCallbackUrl: '',
    timeoutMs: 10_000,
    ...overrides,
  };
}

async function sendError(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProviderError, `a ProviderError, not ${String(error)}`);
    return error;
  }
  assert.fail('the send should have failed');
}

// ---------------------------------------------------------------------------------------------

describe('config', () => {
  test('case=env: TWILIO_* variables give the provider its settings and documented defaults', () => {
    const config = loadConfig({ TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: '+3197010000001' });
    assert.deepEqual(config.providers['twilio'], {
      accountSid: SID,
      authToken: TOKEN,
      apiBaseUrl: 'https://api.twilio.com',
      from: '+3197010000001',
      voiceFrom: '',
      statusCallbackUrl: '',
      timeoutMs: 10_000,
    });
  });

  test('case=bad-sid: an account SID that is not AC + 32 hex digits is refused at start', () => {
    assert.throws(() => loadConfig({ TWILIO_ACCOUNT_SID: 'ACnope', TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: '+3197010000001' }), /TWILIO_ACCOUNT_SID/);
  });
});

describe('SMS', () => {
  test('case=sent: a form POST to Messages.json with Basic auth; the sid is the provider message id', async (t) => {
    const api = await startFakeTwilio(t);
    const { sms } = createTwilio(configFor(api.baseUrl, { statusCallbackUrl: 'https://outband.example/v1/callbacks/twilio' }));
    const result = await sms.send({ to: NUMBERS.ok, text: 'Your code is 123456 & more', reference: REFERENCE }, { signal: signal() });

    assert.equal(api.requests.length, 1);
    const [request] = api.requests as [ApiRequest];
    assert.equal(request.method, 'POST');
    assert.equal(request.path, `/2010-04-01/Accounts/${SID}/Messages.json`);
    assert.equal(request.headers.authorization, `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`);
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(request.form, {
      To: NUMBERS.ok,
      From: '+3197010000001',
      Body: 'Your code is 123456 & more',
      StatusCallback: 'https://outband.example/v1/callbacks/twilio',
    });
    assert.match(result.providerMessageId ?? '', /^SM[0-9a-f]{32}$/);
  });

  test('case=messaging-service: a TWILIO_FROM of "MG…" is sent as MessagingServiceSid; no StatusCallback unless configured', async (t) => {
    const api = await startFakeTwilio(t);
    const { sms } = createTwilio(configFor(api.baseUrl, { from: MESSAGING_SERVICE }));
    await sms.send({ to: NUMBERS.ok, text: 'Your code is 123456', reference: REFERENCE }, { signal: signal() });
    assert.deepEqual(api.requests[0]?.form, { To: NUMBERS.ok, MessagingServiceSid: MESSAGING_SERVICE, Body: 'Your code is 123456' });
  });

  for (const [name, to, code] of [
    ['invalid-to', NUMBERS.invalid, 21211],
    ['unroutable', NUMBERS.unroutable, 21612],
    ['region-disabled', NUMBERS.regionDisabled, 21408],
    ['unsubscribed', NUMBERS.unsubscribed, 21610],
    ['not-mobile', NUMBERS.notMobile, 21614],
  ] as const) {
    test(`case=${name}: a 400 with error ${code} is permanent, and the error quotes neither the request nor Twilio's message`, async (t) => {
      const api = await startFakeTwilio(t);
      const { sms } = createTwilio(configFor(api.baseUrl));
      const error = await sendError(sms.send({ to, text: 'Your code is 654321', reference: REFERENCE }, { signal: signal() }));
      assert.equal(error.permanent, true);
      assert.match(error.message, new RegExp(`^twilio: HTTP 400, error ${code}\\b`));
      assert.doesNotMatch(error.message, /654321/, 'not the code');
      assert.ok(!error.message.includes(to), 'not the number Twilio quoted');
    });
  }

  test('case=rate-limited: a 429 is transient', async (t) => {
    const api = await startFakeTwilio(t);
    const { sms } = createTwilio(configFor(api.baseUrl));
    const error = await sendError(sms.send({ to: NUMBERS.rateLimited, text: 'Your code is 654321', reference: REFERENCE }, { signal: signal() }));
    assert.equal(error.permanent, false);
    assert.match(error.message, /^twilio: HTTP 429, error 20429/);
    assert.doesNotMatch(error.message, /654321/);
  });

  test('case=outage: a 500 (not JSON) is transient and reported by its status only', async (t) => {
    const api = await startFakeTwilio(t);
    const { sms } = createTwilio(configFor(api.baseUrl));
    const error = await sendError(sms.send({ to: NUMBERS.outage, text: 'Your code is 654321', reference: REFERENCE }, { signal: signal() }));
    assert.equal(error.permanent, false);
    assert.equal(error.message, 'twilio: HTTP 500');
  });

  test('case=bad-credentials: a 401 (error 20003) is permanent', async (t) => {
    const api = await startFakeTwilio(t);
    const { sms } = createTwilio(configFor(api.baseUrl, { authToken: 'wrong-token' }));
    const error = await sendError(sms.send({ to: NUMBERS.ok, text: 'Your code is 654321', reference: REFERENCE }, { signal: signal() }));
    assert.equal(error.permanent, true);
    assert.match(error.message, /^twilio: HTTP 401, error 20003 \(authentication failed/);
    assert.doesNotMatch(error.message, /wrong-token/);
  });

  test('case=connection-refused: a network error is transient', async (t) => {
    const api = await startFakeTwilio(t);
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { sms } = createTwilio(configFor(`http://127.0.0.1:${port}`));
    const error = await sendError(sms.send({ to: NUMBERS.ok, text: 'Your code is 654321', reference: REFERENCE }, { signal: signal() }));
    assert.equal(error.permanent, false);
    assert.doesNotMatch(error.message, /654321/);
    assert.equal(api.requests.length, 0);
  });

  test('case=no-answer: a request that outlives TWILIO_TIMEOUT_MS is aborted and transient', async (t) => {
    const api = await startFakeTwilio(t);
    const { sms } = createTwilio(configFor(api.baseUrl, { timeoutMs: 200 }));
    const error = await sendError(sms.send({ to: NUMBERS.hang, text: 'Your code is 654321', reference: REFERENCE }, { signal: signal() }));
    assert.equal(error.permanent, false);
    assert.equal(api.requests.length, 1);
  });

  test('case=check: check() reads the account with the credentials and sends nothing', async (t) => {
    const api = await startFakeTwilio(t);
    await createTwilio(configFor(api.baseUrl)).sms.check?.();
    assert.equal(api.requests[0]?.method, 'GET');
    assert.equal(api.requests[0]?.path, `/2010-04-01/Accounts/${SID}.json`);
    const error = await sendError(createTwilio(configFor(api.baseUrl, { authToken: 'nope' })).sms.check?.() ?? Promise.resolve());
    assert.equal(error.permanent, true);
  });
});

describe('voice', () => {
  const speech = 'Your Outband code is: 4, 8, 1, 5, 0, 9. Again: 4, 8, 1, 5, 0, 9.';

  test('case=call: Calls.json with To, the voice caller id, Timeout 30 and TwiML that says the digits in the language', async (t) => {
    const api = await startFakeTwilio(t);
    const { voice } = createTwilio(configFor(api.baseUrl, { voiceFrom: '+3197010000099', statusCallbackUrl: 'https://outband.example/v1/callbacks/twilio' }));
    assert.ok(voice !== undefined);
    const result = await voice.send({ to: NUMBERS.ok, speech, ssml: '<speak>…</speak>', language: 'nl-NL', reference: REFERENCE }, { signal: signal() });

    const [request] = api.requests as [ApiRequest];
    assert.equal(request.path, `/2010-04-01/Accounts/${SID}/Calls.json`);
    assert.equal(request.form['To'], NUMBERS.ok);
    assert.equal(request.form['From'], '+3197010000099');
    assert.equal(request.form['Timeout'], '30');
    assert.equal(request.form['StatusCallback'], 'https://outband.example/v1/callbacks/twilio?kind=voice');
    assert.equal(request.form['MachineDetection'], undefined);
    assert.equal(request.form['Url'], undefined);
    const twiml = request.twiml as XmlElement;
    assert.equal(twiml.name, 'Response');
    const say = elements(twiml).find((e) => e.name === 'Say');
    assert.ok(say !== undefined, request.form['Twiml']);
    assert.equal(say.attributes['language'], 'nl-NL');
    assert.equal(textOf(say), speech);
    assert.match(textOf(say), /4, 8, 1, 5, 0, 9/);
    assert.match(result.providerMessageId ?? '', /^CA[0-9a-f]{32}$/);
  });

  test('case=escaping: markup and XML-forbidden characters in the speech or language cannot break the TwiML', async (t) => {
    const api = await startFakeTwilio(t);
    const { voice } = createTwilio(configFor(api.baseUrl));
    const hostile = `Code 1 2 3 </Say><Play>https://evil.example/a.mp3</Play><Say> & "quotes" 'too' \u0000\u0007 <`;
    await voice?.send({ to: NUMBERS.ok, speech: hostile, ssml: '', language: 'en-US"><Hangup/', reference: REFERENCE }, { signal: signal() });
    const twiml = api.requests[0]?.twiml as XmlElement;
    assert.deepEqual(
      elements(twiml).map((e) => e.name),
      ['Pause', 'Say'],
    );
    const say = elements(twiml)[1] as XmlElement;
    assert.equal(textOf(say), hostile.replace(/[\u0000\u0007]/g, ''));
    assert.equal(say.attributes['language'], 'en-US"><Hangup/');
    assert.equal(api.requests[0]?.form['From'], '+3197010000001', 'TWILIO_FROM when TWILIO_VOICE_FROM is empty');
  });

  test('case=no-caller-id: with a Messaging Service as TWILIO_FROM and no TWILIO_VOICE_FROM there is no voice', () => {
    assert.equal(createTwilio(configFor('http://127.0.0.1:9', { from: MESSAGING_SERVICE })).voice, undefined);
    assert.ok(createTwilio(configFor('http://127.0.0.1:9', { from: MESSAGING_SERVICE, voiceFrom: '+3197010000099' })).voice !== undefined);
  });

  test('case=error: a voice call to an invalid number is permanent', async (t) => {
    const api = await startFakeTwilio(t);
    const { voice } = createTwilio(configFor(api.baseUrl));
    const error = await sendError(voice?.send({ to: NUMBERS.invalid, speech, ssml: '', language: 'en-US', reference: REFERENCE }, { signal: signal() }) ?? Promise.resolve());
    assert.equal(error.permanent, true);
    assert.doesNotMatch(error.message, /4, 8, 1/);
  });
});

describe('missed call', () => {
  test('case=call: From is the pool number, Timeout the ring time, and the TwiML hangs up', async (t) => {
    const api = await startFakeTwilio(t);
    const { call } = createTwilio(configFor(api.baseUrl, { statusCallbackUrl: 'https://outband.example/v1/callbacks/twilio?tenant=a' }));
    const result = await call.call({ to: NUMBERS.ok, from: '+442071234567', ringSeconds: 12, reference: REFERENCE }, { signal: signal() });

    const [request] = api.requests as [ApiRequest];
    assert.equal(request.path, `/2010-04-01/Accounts/${SID}/Calls.json`);
    assert.equal(request.form['To'], NUMBERS.ok);
    assert.equal(request.form['From'], '+442071234567');
    assert.equal(request.form['Timeout'], '12');
    assert.equal(request.form['Twiml'], MISSED_CALL_TWIML);
    assert.deepEqual(
      elements(request.twiml as XmlElement).map((e) => e.name),
      ['Hangup'],
    );
    assert.equal(request.form['MachineDetection'], undefined, 'no answering-machine detection');
    assert.equal(request.form['StatusCallback'], 'https://outband.example/v1/callbacks/twilio?tenant=a&kind=missed_call');
    assert.match(result.providerMessageId ?? '', /^CA[0-9a-f]{32}$/);
  });

  test("case=ring-range: the ring time is kept within Twilio's 1–600 s", async (t) => {
    const api = await startFakeTwilio(t);
    const { call } = createTwilio(configFor(api.baseUrl));
    await call.call({ to: NUMBERS.ok, from: '+442071234567', ringSeconds: 0, reference: REFERENCE }, { signal: signal() });
    await call.call({ to: NUMBERS.ok, from: '+442071234567', ringSeconds: 5000, reference: REFERENCE }, { signal: signal() });
    assert.deepEqual(
      api.requests.map((r) => r.form['Timeout']),
      ['1', '600'],
    );
  });

  test('case=busy-api: a 429 is transient', async (t) => {
    const api = await startFakeTwilio(t);
    const { call } = createTwilio(configFor(api.baseUrl));
    const error = await sendError(call.call({ to: NUMBERS.rateLimited, from: '+442071234567', ringSeconds: 10, reference: REFERENCE }, { signal: signal() }));
    assert.equal(error.permanent, false);
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * Twilio's signature, written here from https://www.twilio.com/docs/usage/security: take the
 * full URL, append each POST parameter's name and value (no delimiters) sorted by name,
 * HMAC-SHA1 it with the auth token, base64.
 */
function expectedSignature(token: string, url: string, params: Record<string, string>): string {
  const data = url + Object.keys(params).sort().map((k) => `${k}${params[k]}`).join('');
  return createHmac('sha1', token).update(data).digest('base64');
}

describe('signatures', () => {
  test("case=docs-vector: the example of Twilio's security docs", () => {
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
    assert.equal(expectedSignature('12345', url, params), '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', 'the construction in this test');
    assert.equal(verifyTwilioSignature('12345', url, params, '0/KCTR6DLpKmkAf8muzZqo1nDgQ='), true);
  });

  const url = 'https://outband.example/v1/callbacks/twilio?kind=voice';
  const params = { AccountSid: SID, CallSid: newSid('CA'), CallStatus: 'completed', To: '+31612345678', From: '+3197010000001', ApiVersion: '2010-04-01' };
  const good = expectedSignature(TOKEN, url, params);

  test('case=valid: a signature over URL (query as is) and sorted params is accepted', () => {
    assert.equal(verifyTwilioSignature(TOKEN, url, params, good), true);
  });

  test('case=tampered: a changed, added or removed parameter, or another query, is refused', () => {
    assert.equal(verifyTwilioSignature(TOKEN, url, { ...params, CallStatus: 'no-answer' }, good), false);
    assert.equal(verifyTwilioSignature(TOKEN, url, { ...params, Extra: '' }, good), false);
    const { To: _, ...withoutTo } = params;
    assert.equal(verifyTwilioSignature(TOKEN, url, withoutTo, good), false);
    assert.equal(verifyTwilioSignature(TOKEN, url.replace('kind=voice', 'kind=missed_call'), params, good), false);
  });

  test('case=wrong-token: a signature made with another token is refused', () => {
    assert.equal(verifyTwilioSignature(TOKEN, url, params, expectedSignature('another-token', url, params)), false);
    assert.equal(verifyTwilioSignature('another-token', url, params, good), false);
  });

  test('case=missing: a missing, empty or malformed header is refused', () => {
    assert.equal(verifyTwilioSignature(TOKEN, url, params, undefined), false);
    assert.equal(verifyTwilioSignature(TOKEN, url, params, ''), false);
    assert.equal(verifyTwilioSignature(TOKEN, url, params, good.slice(0, -2)), false);
    assert.equal(verifyTwilioSignature(TOKEN, url, params, `${good}x`), false);
  });

  test('case=port: Twilio may sign with or without the default port; both are accepted', () => {
    const withPort = 'https://outband.example:443/v1/callbacks/twilio?kind=voice';
    assert.equal(verifyTwilioSignature(TOKEN, url, params, expectedSignature(TOKEN, withPort, params)), true);
    assert.equal(verifyTwilioSignature(TOKEN, withPort, params, good), true);
    assert.equal(verifyTwilioSignature(TOKEN, 'https://outband.example:8443/v1/callbacks/twilio?kind=voice', params, good), true, 'as Twilio’s libraries');
    assert.equal(verifyTwilioSignature(TOKEN, 'https://other.example/v1/callbacks/twilio?kind=voice', params, good), false, 'but not another host');
  });
});

describe('status callbacks', () => {
  const now = 1_800_000_000_000;
  const sm = newSid('SM');
  const ca = newSid('CA');

  for (const [status, expected] of [
    ['accepted', null],
    ['queued', null],
    ['sending', null],
    ['sent', null],
    ['delivered', 'delivered'],
    ['read', 'delivered'],
    ['undelivered', 'undelivered'],
    ['failed', 'failed'],
  ] as const) {
    test(`kind=message status=${status}: ${expected ?? 'not final'}`, () => {
      const params: Record<string, string> = { AccountSid: SID, MessageSid: sm, SmsSid: sm, MessageStatus: status, SmsStatus: status, To: NUMBERS.ok, From: '+3197010000001' };
      if (status === 'undelivered' || status === 'failed') params['ErrorCode'] = '30003';
      const report = parseTwilioStatusCallback(params, now);
      assert.equal(report?.kind, 'message');
      assert.equal(report?.twilioStatus, status);
      if (expected === null) return assert.equal(report?.receipt, null);
      const receipt: Record<string, unknown> = { provider: 'twilio', providerMessageId: sm, status: expected, at: now };
      if (expected !== 'delivered') receipt['error'] = 'twilio error 30003';
      assert.deepEqual(report?.receipt, receipt);
    });
  }

  const calls: [TwilioCallKind, string, 'delivered' | 'undelivered' | 'failed' | null][] = [
    ['voice', 'ringing', null],
    ['voice', 'in-progress', null],
    ['voice', 'completed', 'delivered'],
    ['voice', 'busy', 'undelivered'],
    ['voice', 'no-answer', 'undelivered'],
    ['voice', 'canceled', 'undelivered'],
    ['voice', 'failed', 'failed'],
    ['missed_call', 'ringing', null],
    ['missed_call', 'no-answer', 'delivered'],
    ['missed_call', 'busy', 'delivered'],
    ['missed_call', 'completed', 'delivered'],
    ['missed_call', 'canceled', 'undelivered'],
    ['missed_call', 'failed', 'failed'],
  ];
  for (const [kind, status, expected] of calls) {
    test(`kind=${kind} status=${status}: ${expected ?? 'not final'}`, () => {
      const report = parseTwilioStatusCallback({ AccountSid: SID, CallSid: ca, CallStatus: status, Direction: 'outbound-api' }, now, kind);
      assert.equal(report?.kind, 'call');
      assert.equal(report?.twilioStatus, status);
      if (expected === null) return assert.equal(report?.receipt, null);
      assert.equal(report?.receipt?.providerMessageId, ca);
      assert.equal(report?.receipt?.status, expected);
      assert.equal(report?.receipt?.error, expected === 'delivered' ? undefined : `call ${status}`);
    });
  }

  test('case=default-kind: a call callback without a kind is read as a voice code', () => {
    assert.equal(parseTwilioStatusCallback({ CallSid: ca, CallStatus: 'no-answer' }, now)?.receipt?.status, 'undelivered');
  });

  test('case=not-a-callback: parameters without a sid and a status are null', () => {
    assert.equal(parseTwilioStatusCallback({}, now), null);
    assert.equal(parseTwilioStatusCallback({ MessageSid: sm }, now), null);
    assert.equal(parseTwilioStatusCallback({ CallStatus: 'completed' }, now), null);
  });

  /** A callback as our HTTP layer hands it over: the public URL Twilio called, its form, its headers. */
  function signedRequest(url: string, form: Record<string, string>, token = TOKEN): ProviderRequest {
    return { url, form, rawBody: new URLSearchParams(form).toString(), headers: { 'x-twilio-signature': expectedSignature(token, url, form) } };
  }

  test('case=endpoint: the provider authenticates a callback and reads the call kind from the URL it gave Twilio', () => {
    const base = 'https://outband.example/v1/callbacks/twilio';
    const { statusCallback } = createTwilio(configFor('http://127.0.0.1:9', { statusCallbackUrl: base }));
    const missed = signedRequest(callStatusCallbackUrl(base, 'missed_call'), { AccountSid: SID, CallSid: ca, CallStatus: 'no-answer' });
    assert.equal(statusCallback.authenticate(missed, now), true);
    assert.equal(statusCallback.parse(missed, now)?.status, 'delivered');
    const voice = signedRequest(callStatusCallbackUrl(base, 'voice'), { AccountSid: SID, CallSid: ca, CallStatus: 'no-answer' });
    assert.equal(statusCallback.authenticate(voice, now), true);
    assert.equal(statusCallback.parse(voice, now)?.status, 'undelivered');

    // The kind is signed: moving a voice callback to the missed-call URL breaks the signature.
    assert.equal(statusCallback.authenticate({ ...voice, url: missed.url }, now), false);
    assert.equal(statusCallback.authenticate(signedRequest(missed.url, missed.form, 'another-token'), now), false);
    assert.equal(statusCallback.authenticate({ ...missed, headers: {} }, now), false);

    const otherAccount = signedRequest(base, { AccountSid: `AC${'9'.repeat(32)}`, MessageSid: sm, MessageStatus: 'delivered' });
    assert.equal(statusCallback.parse(otherAccount, now), null, "another account's callback is not about our messages");
  });
});

describe('inbound SMS', () => {
  const now = 1_800_000_000_000;
  const sm = newSid('SM');
  const form = {
    ToCountry: 'NL',
    SmsMessageSid: sm,
    NumMedia: '0',
    SmsSid: sm,
    SmsStatus: 'received',
    Body: 'My code is 123456',
    To: '+3197010000001',
    NumSegments: '1',
    MessageSid: sm,
    AccountSid: SID,
    From: NUMBERS.ok,
    ApiVersion: '2010-04-01',
  };

  test('case=parse: From, To, Body and MessageSid become an InboundSms', () => {
    assert.deepEqual(parseTwilioInboundSms(form, now), { provider: 'twilio', from: NUMBERS.ok, to: '+3197010000001', text: 'My code is 123456', providerMessageId: sm, at: now });
    assert.equal(parseTwilioInboundSms({ ...form, Body: '' }, now)?.text, '', 'a picture without text');
  });

  test('case=not-inbound: a status callback or a form without sid, From or Body is null', () => {
    assert.equal(parseTwilioInboundSms({ ...form, SmsStatus: 'delivered' }, now), null);
    const { MessageSid: _m, SmsSid: _s, ...withoutSid } = form;
    assert.equal(parseTwilioInboundSms(withoutSid, now), null);
    const { From: _f, ...withoutFrom } = form;
    assert.equal(parseTwilioInboundSms(withoutFrom, now), null);
    const { Body: _b, ...withoutBody } = form;
    assert.equal(parseTwilioInboundSms(withoutBody, now), null);
  });

  test('case=endpoint: inboundSms authenticates the signature over the URL the operator configured', () => {
    const url = 'https://outband.example/v1/inbound/sms/twilio';
    const { inboundSms } = createTwilio(configFor('http://127.0.0.1:9'));
    const request: ProviderRequest = { url, form, rawBody: new URLSearchParams(form).toString(), headers: { 'x-twilio-signature': expectedSignature(TOKEN, url, form) } };
    assert.equal(inboundSms.authenticate(request, now), true);
    assert.equal(inboundSms.parse(request, now)?.providerMessageId, sm);
    assert.equal(inboundSms.authenticate({ ...request, form: { ...form, Body: 'My code is 000000' } }, now), false);
  });
});
