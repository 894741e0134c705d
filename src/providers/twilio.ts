import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from 'typebox';
import {
  ProviderError,
  type CallProvider,
  type DeliveryReceipt,
  type InboundSms,
  type InboundSmsEndpoint,
  type ProviderDefinition,
  type ProviderInstances,
  type ProviderRequest,
  type SendResult,
  type SmsProvider,
  type StatusCallbackEndpoint,
  type VoiceMessage,
  type VoiceProvider,
} from './types.ts';

/**
 * Twilio over its REST API (2010-04-01) with `fetch`: SMS (Messages), voice codes and missed
 * calls (Calls with inline TwiML), status callbacks and inbound SMS (both signed with
 * `X-Twilio-Signature`). No SDK: the few requests are plain form POSTs with Basic auth.
 */

const ConfigSchema = Type.Object({
  accountSid: Type.String({ env: 'TWILIO_ACCOUNT_SID', pattern: '^AC[0-9a-fA-F]{32}$', description: 'Account SID, "AC" and 32 hex digits' }),
  authToken: Type.String({
    env: 'TWILIO_AUTH_TOKEN',
    secret: true,
    minLength: 1,
    description: 'Auth token of the account: Basic auth password for the API, and the key of X-Twilio-Signature on callbacks',
  }),
  apiBaseUrl: Type.String({
    env: 'TWILIO_API_BASE_URL',
    default: 'https://api.twilio.com',
    description: 'Base URL of the REST API (a regional edge such as https://api.dublin.ie1.twilio.com, or a local test server)',
  }),
  from: Type.String({
    env: 'TWILIO_FROM',
    minLength: 1,
    description: 'Sender of SMS: an E.164 number, an alphanumeric sender id, or a Messaging Service SID ("MG…", sent as MessagingServiceSid)',
  }),
  voiceFrom: Type.String({
    env: 'TWILIO_VOICE_FROM',
    default: '',
    description: 'Caller id of voice-code calls, E.164; empty: TWILIO_FROM when that is a number (otherwise this provider offers no voice)',
  }),
  statusCallbackUrl: Type.String({
    env: 'TWILIO_STATUS_CALLBACK_URL',
    default: '',
    description:
      "Our public URL for Twilio's status callbacks (delivery receipts), e.g. https://outband.example/v1/callbacks/twilio; empty: none are asked for",
  }),
  timeoutMs: Type.Integer({ env: 'TWILIO_TIMEOUT_MS', default: 10_000, minimum: 100, description: 'How long one API request may take' }),
});

export type TwilioConfig = Static<typeof ConfigSchema>;

const NAME = 'twilio';
const E164 = /^\+[1-9]\d{1,14}$/;
const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;

/** Ring time of a voice-code call before Twilio gives up (its default is 60 s). */
const VOICE_RING_SECONDS = 30;
/** Twilio's range for `Timeout`. */
const MIN_RING_SECONDS = 1;
const MAX_RING_SECONDS = 600;

/** Our words for Twilio error codes worth naming in a delivery record (https://www.twilio.com/docs/api/errors). */
const ERROR_TEXT: Readonly<Record<number, string>> = {
  20003: 'authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
  20404: 'not found: check TWILIO_ACCOUNT_SID',
  20429: 'too many requests',
  21210: 'caller id is not a Twilio or verified number',
  21211: 'invalid To number',
  21212: 'invalid From number',
  21215: 'calls to this number are not permitted (geo permissions)',
  21216: 'the number is blocked',
  21217: 'To number does not appear to be valid',
  21219: 'To number is not verified (trial account)',
  21408: 'SMS to this region is not enabled (geo permissions)',
  21606: 'From number cannot send SMS to this destination',
  21610: 'recipient has unsubscribed (replied STOP)',
  21612: 'this To and From cannot be combined',
  21614: 'To number is not a mobile number',
};

/** Twilio codes that mean "later", whatever HTTP status carries them. */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([20429]);

// ---------------------------------------------------------------------------------------------
// TwiML

/** Text or an attribute value made safe for XML 1.0: escaped, and without the characters XML forbids. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * The TwiML of a voice-code call: a short pause (the first words are lost while the phone
 * reaches the ear), then the speech in the message's language, e.g.
 * `<Response><Pause length="1"/><Say language="nl-NL">Uw code is 1, 2, 3, 4, 5, 6.</Say></Response>`.
 * The plain `speech` is used, not `ssml`: Twilio reads SSML tags only with Polly and Google
 * voices, and the voice here is the account's default for the language, which may be neither.
 * Pauses between digits come in the speech text itself.
 */
export function voiceTwiml(message: Pick<VoiceMessage, 'speech' | 'language'>): string {
  return `<Response><Pause length="1"/><Say language="${xmlEscape(message.language)}">${xmlEscape(message.speech)}</Say></Response>`;
}

/**
 * The TwiML of a missed call. The call is ours, so there is nothing to say: if the user
 * answers, we hang up at once (the caller id has done its job). `<Reject>` would not do, as it
 * only applies to incoming calls.
 */
export const MISSED_CALL_TWIML = '<Response><Hangup/></Response>';

/** What our HTTP layer answers to a Twilio webhook that wants TwiML (inbound SMS): do nothing. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

// ---------------------------------------------------------------------------------------------
// Status callback URLs

/** Which of our calls a status callback is about; it decides what "no-answer" means. */
export type TwilioCallKind = 'voice' | 'missed_call';

/**
 * The StatusCallback URL of a call: the configured URL with `kind=voice` or `kind=missed_call`
 * added to its query. Twilio signs the whole URL, query included, so the kind cannot be forged.
 */
export function callStatusCallbackUrl(base: string, kind: TwilioCallKind): string {
  const hash = base.indexOf('#');
  const url = hash < 0 ? base : base.slice(0, hash);
  return `${url}${url.includes('?') ? '&' : '?'}kind=${kind}`;
}

function callKindOf(url: string): TwilioCallKind | undefined {
  try {
    const kind = new URL(url).searchParams.get('kind');
    return kind === 'voice' || kind === 'missed_call' ? kind : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Signatures

/** Form parameters as received; repeated names carry several values. */
export type TwilioParams = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Twilio's request signature (https://www.twilio.com/docs/usage/security#validating-requests):
 * base64(HMAC-SHA1(auth token, url + each POST parameter's name and value, sorted by name)).
 * The URL is the full URL Twilio called, query string included as it is (query parameters are
 * not sorted or appended). A repeated parameter contributes name+value once per distinct value,
 * values sorted, as Twilio's own libraries do.
 */
export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...new Set(value)].sort();
    for (const v of values) data += name + v;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * The URLs Twilio may have signed for `url`. Twilio's signing is not consistent about the
 * port (its libraries check "https://host/…" and "https://host:443/…" both), so both forms.
 */
function signedUrlCandidates(url: string): string[] {
  const candidates = new Set([url]);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [...candidates];
  }
  const withoutPort = new URL(parsed);
  withoutPort.port = '';
  candidates.add(withoutPort.toString());
  if (parsed.port === '') {
    const defaultPort = parsed.protocol === 'https:' ? '443' : '80';
    const auth = parsed.username !== '' || parsed.password !== '' ? `${parsed.username}${parsed.password !== '' ? `:${parsed.password}` : ''}@` : '';
    candidates.add(`${parsed.protocol}//${auth}${parsed.host}:${defaultPort}${parsed.pathname}${parsed.search}${parsed.hash}`);
  } else {
    candidates.add(parsed.toString());
  }
  return [...candidates];
}

/**
 * Whether `signatureHeader` (X-Twilio-Signature) is Twilio's signature of this request.
 * `url` is the full URL Twilio called, as it sees it (our public scheme and host, the path, the
 * query string); `params` the form-encoded POST body. A missing or empty header is false.
 * Compared in constant time: both sides are hashed first, so they have equal lengths.
 */
export function verifyTwilioSignature(authToken: string, url: string, params: TwilioParams, signatureHeader: string | undefined): boolean {
  if (signatureHeader === undefined || signatureHeader === '' || authToken === '') return false;
  const given = createHash('sha256').update(signatureHeader).digest();
  let match = false;
  for (const candidate of signedUrlCandidates(url)) {
    const expected = createHash('sha256').update(twilioSignature(authToken, candidate, params)).digest();
    // Every candidate is compared, matched or not.
    if (timingSafeEqual(given, expected)) match = true;
  }
  return match;
}

// ---------------------------------------------------------------------------------------------
// Parsing callbacks

function param(params: TwilioParams, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' ? value : value?.[0];
}

/** A status callback, read. */
export interface TwilioStatusReport {
  kind: 'message' | 'call';
  /** Twilio's status as sent: "sent", "delivered", "no-answer", … */
  twilioStatus: string;
  /** The receipt to record; null while the status is not final (queued, sending, sent, ringing, …). */
  receipt: DeliveryReceipt | null;
}

const MESSAGE_FINAL: Readonly<Record<string, DeliveryReceipt['status']>> = {
  delivered: 'delivered',
  // WhatsApp/RCS: read implies delivered.
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'undelivered',
};

/**
 * Final call statuses by call kind. A voice code is delivered only when the call was answered
 * ("completed": by the user, or by their voicemail, which Twilio cannot tell apart without
 * answering-machine detection). A missed call is delivered when it rang: "no-answer" (it rang
 * the whole ring time and is in the call log), "busy" (the user declined it, or was on another
 * call, both with the caller id shown) and "completed" (the user answered and we hung up); it is
 * not when Twilio could not place it ("failed") or it was cancelled before ringing ("canceled").
 * For a missed call "delivered" thus means "the network alerted the phone", not "the user saw it".
 */
const CALL_FINAL: Readonly<Record<TwilioCallKind, Readonly<Record<string, DeliveryReceipt['status']>>>> = {
  voice: { completed: 'delivered', busy: 'undelivered', 'no-answer': 'undelivered', canceled: 'undelivered', failed: 'failed' },
  missed_call: { completed: 'delivered', busy: 'delivered', 'no-answer': 'delivered', canceled: 'undelivered', failed: 'failed' },
};

/**
 * Reads a Twilio status callback: a message's (MessageSid, MessageStatus, ErrorCode) or a
 * call's (CallSid, CallStatus). `callKind` says which of our calls it is about (the `kind` in the
 * StatusCallback URL, see callStatusCallbackUrl); without it a call is read as a voice code.
 * Null when the parameters are neither.
 *
 * @example
 * parseTwilioStatusCallback({ MessageSid: 'SM…', MessageStatus: 'undelivered', ErrorCode: '30003' }, now)
 * // → { kind: 'message', twilioStatus: 'undelivered',
 * //     receipt: { provider: 'twilio', providerMessageId: 'SM…', status: 'undelivered', error: 'twilio error 30003', at: now } }
 */
export function parseTwilioStatusCallback(params: TwilioParams, now: number, callKind: TwilioCallKind = 'voice'): TwilioStatusReport | null {
  const messageSid = param(params, 'MessageSid') ?? param(params, 'SmsSid');
  const messageStatus = param(params, 'MessageStatus') ?? param(params, 'SmsStatus');
  const callSid = param(params, 'CallSid');
  const callStatus = param(params, 'CallStatus');
  const errorCode = param(params, 'ErrorCode');

  let kind: TwilioStatusReport['kind'];
  let sid: string;
  let twilioStatus: string;
  let status: DeliveryReceipt['status'] | undefined;
  if (callSid !== undefined && callSid !== '' && callStatus !== undefined) {
    kind = 'call';
    sid = callSid;
    twilioStatus = callStatus;
    status = CALL_FINAL[callKind][callStatus];
  } else if (messageSid !== undefined && messageSid !== '' && messageStatus !== undefined) {
    kind = 'message';
    sid = messageSid;
    twilioStatus = messageStatus;
    status = MESSAGE_FINAL[messageStatus];
  } else {
    return null;
  }
  if (status === undefined) return { kind, twilioStatus, receipt: null };

  const receipt: DeliveryReceipt = { provider: NAME, providerMessageId: sid, status, at: now };
  if (status !== 'delivered') {
    if (errorCode !== undefined && errorCode !== '') receipt.error = `twilio error ${errorCode}`;
    else if (kind === 'call') receipt.error = `call ${twilioStatus}`;
  }
  return { kind, twilioStatus, receipt };
}

/**
 * Reads Twilio's inbound-message webhook (From, To, Body, MessageSid). Null when it is not one:
 * a sid, From and To are required, and a status other than "received" means a status callback.
 * Body may be empty (a picture without text).
 */
export function parseTwilioInboundSms(params: TwilioParams, now: number): InboundSms | null {
  const sid = param(params, 'MessageSid') ?? param(params, 'SmsSid');
  const from = param(params, 'From');
  const to = param(params, 'To');
  const body = param(params, 'Body');
  const status = param(params, 'SmsStatus') ?? param(params, 'MessageStatus');
  if (sid === undefined || sid === '' || from === undefined || from === '' || to === undefined || body === undefined) return null;
  if (status !== undefined && status !== 'received') return null;
  return { provider: NAME, from, to, text: body, providerMessageId: sid, at: now };
}

// ---------------------------------------------------------------------------------------------
// The REST API

/** A Twilio error answer, reduced to what may be logged: the status and Twilio's code, never the request. */
function errorFor(status: number, body: string): ProviderError {
  let code: number | undefined;
  try {
    const parsed = JSON.parse(body) as { code?: unknown };
    if (typeof parsed.code === 'number') code = parsed.code;
  } catch {
    // not JSON (a proxy's error page): the status is all we have
  }
  const transient = status === 408 || status === 429 || status >= 500 || (code !== undefined && TRANSIENT_CODES.has(code));
  // Twilio's own `message` is left out: it may quote the recipient's number, and this text goes
  // to logs, the delivery record and its event. The code says it all (see ERROR_TEXT).
  const described = code === undefined ? '' : `, error ${code}${ERROR_TEXT[code] === undefined ? '' : ` (${ERROR_TEXT[code]})`}`;
  return new ProviderError(`twilio: HTTP ${status}${described}`, { permanent: !transient });
}

interface TwilioApi {
  /** POSTs a form to Messages.json or Calls.json; answers the new resource's sid. */
  create(resource: 'Messages' | 'Calls', form: URLSearchParams, signal: AbortSignal): Promise<SendResult>;
  check(): Promise<void>;
}

function twilioApi(config: TwilioConfig): TwilioApi {
  const account = `${config.apiBaseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}`;
  const authorization = `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`;

  async function request(url: string, init: { method: 'GET' | 'POST'; body?: string }, signal: AbortSignal): Promise<{ status: number; text: string }> {
    let response: Response;
    try {
      const headers: Record<string, string> = { authorization, accept: 'application/json' };
      if (init.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      response = await fetch(url, {
        method: init.method,
        headers,
        ...(init.body === undefined ? {} : { body: init.body }),
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]),
      });
    } catch (error) {
      // Connection refused, DNS, TLS, timeout, shutdown: worth another try.
      throw new ProviderError(`twilio: ${(error as Error).message}`, { permanent: false, cause: error });
    }
    const text = await response.text().catch(() => '');
    return { status: response.status, text };
  }

  return {
    async create(resource, form, signal) {
      const { status, text } = await request(`${account}/${resource}.json`, { method: 'POST', body: form.toString() }, signal);
      if (status < 200 || status >= 300) throw errorFor(status, text);
      // Created: never retried from here on, even if the answer is odd (a retry would send twice).
      let providerMessageId: string | null = null;
      try {
        const sid = (JSON.parse(text) as { sid?: unknown }).sid;
        if (typeof sid === 'string' && sid !== '') providerMessageId = sid;
      } catch {
        // keep null
      }
      return { providerMessageId };
    },
    async check() {
      const { status, text } = await request(`${account}.json`, { method: 'GET' }, AbortSignal.timeout(config.timeoutMs));
      if (status !== 200) throw errorFor(status, text);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The provider

/** What `twilio.create` gives: the send sides, and the two endpoints for Twilio's callbacks. */
export interface TwilioInstances extends ProviderInstances {
  sms: SmsProvider;
  /** Absent when there is no caller id for voice: TWILIO_VOICE_FROM empty and TWILIO_FROM not a number. */
  voice?: VoiceProvider;
  call: CallProvider;
  inboundSms: InboundSmsEndpoint;
  statusCallback: StatusCallbackEndpoint;
}

/** The instances of a configured Twilio account (the registry's `create`; it needs no deps). */
export function createTwilio(config: TwilioConfig): TwilioInstances {
  const api = twilioApi(config);
  const check = () => api.check();
  const voiceFrom = config.voiceFrom !== '' ? config.voiceFrom : E164.test(config.from) ? config.from : '';

  function withStatusCallback(form: URLSearchParams, kind?: TwilioCallKind): URLSearchParams {
    if (config.statusCallbackUrl !== '') {
      form.set('StatusCallback', kind === undefined ? config.statusCallbackUrl : callStatusCallbackUrl(config.statusCallbackUrl, kind));
    }
    return form;
  }

  const sms: SmsProvider = {
    name: NAME,
    send(message, { signal }) {
      const form = new URLSearchParams({ To: message.to });
      if (MESSAGING_SERVICE_SID.test(config.from)) form.set('MessagingServiceSid', config.from);
      else form.set('From', config.from);
      form.set('Body', message.text);
      return api.create('Messages', withStatusCallback(form), signal);
    },
    check,
  };

  const voice: VoiceProvider = {
    name: NAME,
    send(message, { signal }) {
      const form = new URLSearchParams({ To: message.to, From: voiceFrom, Twiml: voiceTwiml(message), Timeout: String(VOICE_RING_SECONDS) });
      return api.create('Calls', withStatusCallback(form, 'voice'), signal);
    },
    check,
  };

  // No MachineDetection: it only starts once a call is answered, and an answered missed call is
  // hung up at once anyway; for voice codes it would add seconds of silence and a cost per call.
  const call: CallProvider = {
    name: NAME,
    call(message, { signal }) {
      const ringSeconds = Math.min(MAX_RING_SECONDS, Math.max(MIN_RING_SECONDS, Math.round(message.ringSeconds)));
      const form = new URLSearchParams({ To: message.to, From: message.from, Twiml: MISSED_CALL_TWIML, Timeout: String(ringSeconds) });
      return api.create('Calls', withStatusCallback(form, 'missed_call'), signal);
    },
    check,
  };

  const authenticate = (request: ProviderRequest): boolean =>
    verifyTwilioSignature(config.authToken, request.url, request.form, request.headers['x-twilio-signature']);
  // Every callback names its account; one for another account (a subaccount posting to the same
  // URL) is not about our messages, whatever its signature.
  const ours = (request: ProviderRequest): boolean => request.form['AccountSid'] === undefined || request.form['AccountSid'] === config.accountSid;

  const inboundSms: InboundSmsEndpoint = {
    authenticate,
    parse: (request, now) => (ours(request) ? parseTwilioInboundSms(request.form, now) : null),
    // Twilio reads the answer as TwiML; an empty Response sends no reply SMS.
    reply: { contentType: 'text/xml', body: EMPTY_TWIML },
  };
  const statusCallback: StatusCallbackEndpoint = {
    authenticate,
    parse: (request, now) => (ours(request) ? (parseTwilioStatusCallback(request.form, now, callKindOf(request.url))?.receipt ?? null) : null),
  };

  const instances: TwilioInstances = { sms, call, inboundSms, statusCallback };
  if (voiceFrom !== '') instances.voice = voice;
  return instances;
}

export const twilio: ProviderDefinition<TwilioConfig> = {
  name: NAME,
  description: 'SMS, voice codes and missed calls through Twilio (REST API, signed status callbacks and inbound SMS)',
  configSchema: ConfigSchema,
  create: createTwilio,
};
