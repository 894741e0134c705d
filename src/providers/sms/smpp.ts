import { createHash, randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type smppPackage from 'smpp';
import type { Pdu, Session, ShortMessage } from 'smpp';
import { Type, type Static } from 'typebox';
import { splitSms } from '../../domain/sms/encoding.ts';
import { ProviderError, type DeliveryReceipt, type InboundSms, type ProviderDefinition, type ProviderDeps, type SmsProvider } from '../types.ts';

/**
 * SMS over SMPP 3.4 straight to an SMSC (the `smpp` package): one bind_transceiver session,
 * opened on the first send or check() and kept up (enquire_link when idle, reconnection with
 * backoff when it drops), so delivery receipts and inbound SMS (two-way) arrive on it too.
 *
 * - Encoding: GSM 7-bit (data_coding 0) when every character is in the default alphabet,
 *   else UCS-2 (data_coding 8); see domain/sms/encoding.ts.
 * - Long texts: a concatenated SMS, each part with a UDH `05 00 03 ref total seq` (esm_class
 *   0x40), 153 septets or 67 UTF-16 units per part.
 * - `providerMessageId` is the SMSC's message_id of the **first** part. Receipts for any part
 *   report that id; a multipart message is delivered once every part is, and fails at its first
 *   failed part. (The part → message map lives in memory: after a restart, receipts for the
 *   first part still match, those of later parts do not.)
 * - Inbound SMS: SMPP 3.4 gives a mobile-originated message no id. Ours is the SMSC's
 *   receipted_message_id when it sends one, else a hash of the session, the PDU's
 *   sequence_number, the addresses and the text: one id per deliver_sm, so a PDU is processed
 *   once, while the same reply sent again by the user is a new message.
 * - deliver_sm_resp goes out after the report was taken (reports.receipt / reports.inbound);
 *   when that throws, the answer is ESME_RX_T_APPN, so the SMSC delivers it again later.
 */

const ConfigSchema = Type.Object({
  url: Type.String({
    env: 'SMPP_URL',
    pattern: '^s?smpp://[^/@?#]+/?$',
    description: 'SMSC address: smpp://host:port (port 2775 when left out), or ssmpp://host:port for SMPP over TLS (3550); no credentials in it',
  }),
  systemId: Type.String({ env: 'SMPP_SYSTEM_ID', minLength: 1, maxLength: 15, description: 'system_id of the bind: the account at the SMSC' }),
  password: Type.String({ env: 'SMPP_PASSWORD', secret: true, description: 'Password of the bind (SMPP 3.4 allows 8 characters; some SMSCs take more)' }),
  sourceAddr: Type.String({
    env: 'SMPP_SOURCE_ADDR',
    minLength: 1,
    maxLength: 20,
    description: 'Sender of our SMS: +E.164 (international), digits only (a short code; type of number left to the SMSC), or an alphanumeric sender id of up to 11 characters',
  }),
  systemType: Type.String({ env: 'SMPP_SYSTEM_TYPE', default: '', maxLength: 12, description: 'system_type of the bind, when the SMSC asks for one' }),
  enquireLinkMs: Type.Integer({ env: 'SMPP_ENQUIRE_LINK_MS', default: 30_000, minimum: 10, description: 'Idle time after which an enquire_link checks the session; no answer within SMPP_SUBMIT_TIMEOUT_MS drops it' }),
  window: Type.Integer({ env: 'SMPP_WINDOW', default: 10, minimum: 1, maximum: 1000, description: 'Most submit_sm awaiting their submit_sm_resp at once; further parts wait their turn' }),
  submitTimeoutMs: Type.Integer({
    env: 'SMPP_SUBMIT_TIMEOUT_MS',
    default: 10_000,
    minimum: 100,
    description: 'How long to wait for a submit_sm_resp (also for the connection with its bind_transceiver_resp, and an enquire_link_resp)',
  }),
});

export type SmppConfig = Static<typeof ConfigSchema>;

const NAME = 'smpp';
const E164 = /^\+[1-9]\d{1,14}$/;
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 30_000;
/** Part ids of multipart messages kept for their receipts; the oldest go first. */
const MAX_TRACKED_PARTS = 100_000;
const INTERFACE_VERSION_3_4 = 0x34;
const ESM_UDHI = 0x40;
/** esm_class bits 2–5, the message type; 0x04 is an SMSC delivery receipt, 0x00 a normal message. */
const ESM_TYPE_MASK = 0x3c;
const ESM_TYPE_RECEIPT = 0x04;

/** command_status values we act on (SMPP 3.4 §5.1.3); the package's table names them in messages. */
const ESME_RINVCMDID = 0x03;
const ESME_RINVBNDSTS = 0x04;
const ESME_RX_T_APPN = 0x64;
/** command_status names from the package's table, filled when it loads (no status arrives before). */
const STATUS_NAMES = new Map<number, string>();
let loading: Promise<typeof smppPackage> | undefined;

/** The smpp package, loaded with the first connection: a server without SMPP never loads it. */
function loadSmpp(): Promise<typeof smppPackage> {
  return (loading ??= import('smpp').then(({ default: smpp }) => {
    for (const [name, value] of Object.entries(smpp.errors)) STATUS_NAMES.set(value, name);
    return smpp;
  }));
}

/**
 * submit_sm refusals that the same message will get again: ESME_RINVMSGLEN, ESME_RINVSRCADR,
 * ESME_RINVDSTADR, and invalid source or destination TON/NPI. The rest (ESME_RTHROTTLED,
 * ESME_RMSGQFUL, ESME_RSYSERR …) may pass.
 */
const PERMANENT_SUBMIT: ReadonlySet<number> = new Set([0x01, 0x0a, 0x0b, 0x48, 0x49, 0x50, 0x51]);
/** bind refusals that mean our credentials or account are wrong: ESME_RBINDFAIL, ESME_RINVPASWD, ESME_RINVSYSID, ESME_RINVSYSTYP. */
const PERMANENT_BIND: ReadonlySet<number> = new Set([0x0d, 0x0e, 0x0f, 0x53]);

/** Receipt states (the `stat:` field of the receipt text, the message_state TLV) → our statuses; null: not final. */
const RECEIPT_STATES: Readonly<Record<string, DeliveryReceipt['status'] | null>> = {
  DELIVRD: 'delivered',
  DELIVERED: 'delivered',
  UNDELIV: 'undelivered',
  UNDELIVERABLE: 'undelivered',
  EXPIRED: 'undelivered',
  REJECTD: 'failed',
  REJECTED: 'failed',
  DELETED: 'failed',
  UNKNOWN: 'failed',
  SKIPPED: 'failed',
  ACCEPTD: null,
  ACCEPTED: null,
  ENROUTE: null,
  SCHEDULED: null,
};
/** message_state TLV values (SMPP 3.4 §5.2.28). */
const MESSAGE_STATES = ['SCHEDULED', 'ENROUTE', 'DELIVERED', 'EXPIRED', 'DELETED', 'UNDELIVERABLE', 'ACCEPTED', 'UNKNOWN', 'REJECTED', 'SKIPPED'];

function statusText(status: number): string {
  return `${STATUS_NAMES.get(status) ?? 'unknown status'} (0x${status.toString(16).toUpperCase().padStart(2, '0')})`;
}

function transient(message: string, cause?: unknown): ProviderError {
  return new ProviderError(`smpp: ${message}`, { permanent: false, cause });
}

function aborted(signal: AbortSignal, doing: string): ProviderError {
  const reason = signal.reason as { message?: unknown } | undefined;
  return transient(`aborted while ${doing}: ${String(reason?.message ?? signal.reason)}`, signal.reason);
}

/** The promise, or a transient error as soon as the signal aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, doing: string): Promise<T> {
  if (signal.aborted) return Promise.reject(aborted(signal, doing));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted(signal, doing));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** At most `size` holders at once; the others wait in turn, each until its signal aborts. */
function createWindow(size: number) {
  let free = size;
  const waiting: Array<() => void> = [];
  return {
    acquire(signal: AbortSignal): Promise<void> {
      if (signal.aborted) return Promise.reject(aborted(signal, 'waiting for the submit window'));
      if (free > 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          waiting.splice(waiting.indexOf(grant), 1);
          reject(aborted(signal, 'waiting for the submit window'));
        };
        waiting.push(grant);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    release(): void {
      const next = waiting.shift();
      if (next === undefined) free++;
      else next();
    },
  };
}

interface SmppAddress {
  ton: number;
  npi: number;
  addr: string;
}

/** TON/NPI for our sender: international (1/1), a short code or national number (0/1), alphanumeric (5/0). */
function sourceAddress(value: string): SmppAddress {
  if (/^\+\d+$/.test(value)) return { ton: 1, npi: 1, addr: value.slice(1) };
  if (/^\d+$/.test(value)) return { ton: 0, npi: 1, addr: value };
  return { ton: 5, npi: 0, addr: value };
}

/** A sender's address as E.164: its digits after "+" (an unknown type of number's "00" prefix dropped). */
function e164Of(address: string, ton: number): string {
  let digits = address.replace(/\D/g, '');
  if (ton !== 1 && digits.startsWith('00')) digits = digits.slice(2);
  return digits === '' ? address : `+${digits}`;
}

function textOf(field: unknown): string | null {
  const message = typeof field === 'object' && field !== null && !Buffer.isBuffer(field) ? (field as ShortMessage).message : field;
  if (typeof message === 'string') return message;
  if (Buffer.isBuffer(message)) return message.toString('latin1');
  return null;
}

/** The fields of an SMSC receipt text: `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`. */
export function parseReceiptText(text: string): { id: string | null; stat: string | null; err: string | null } {
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}:(\\S+)`, 'i').exec(text)?.[1] ?? null;
  return { id: field('id'), stat: field('stat')?.toUpperCase() ?? null, err: field('err') };
}

interface Bound {
  session: Session;
  /** Random per bind: sequence numbers repeat across sessions. */
  id: string;
  since: number;
  /** Fails each submit awaiting its submit_sm_resp when the session drops. */
  inFlight: Set<(error: ProviderError) => void>;
}

/** A multipart message, for its parts' receipts. */
interface Sent {
  partIds: string[];
  total: number;
  delivered: Set<string>;
  reported: boolean;
}

export function createSmpp(config: SmppConfig, deps: Pick<ProviderDeps, 'reports'>): SmsProvider {
  const url = new URL(config.url);
  const tls = url.protocol === 'ssmpp:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (tls ? 3550 : 2775) : Number(url.port);
  const where = `${host}:${port}`;
  const source = sourceAddress(config.sourceAddr);
  const submitWindow = createWindow(config.window);
  const sentParts = new Map<string, Sent>();
  let reference = randomInt(256);

  let current: Bound | null = null;
  let connecting: Promise<Bound> | null = null;
  /** Failed attempts (and short-lived sessions) in a row: the exponent of the backoff. */
  let failures = 0;
  let closed = false;
  const closing = new AbortController();

  function backoffMs(): number {
    const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.min(failures, 16));
    failures++;
    // Jitter, so that nodes cut off together do not all come back in the same instant.
    return base / 2 + Math.random() * (base / 2);
  }

  async function connectAndBind(): Promise<Bound> {
    const smpp = await loadSmpp();
    return new Promise<Bound>((resolve, reject) => {
      const session = smpp.connect({ host, port, tls });
      // Without it, Nagle's algorithm holds each small PDU until the previous one is acknowledged,
      // and the SMSC's delayed ACK makes a window of N behave like a window of 1.
      session.socket.setNoDelay(true);
      let settled = false;
      const fail = (error: ProviderError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        session.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(transient(`${where}: no bind_transceiver_resp within ${config.submitTimeoutMs} ms`)), config.submitTimeoutMs);
      session.on('error', (error: Error) => fail(transient(`${where}: ${error.message}`, error)));
      session.once('close', () => fail(transient(`${where} closed the connection before the bind completed`)));
      session.once(tls ? 'secureConnect' : 'connect', () => {
        const bind = { system_id: config.systemId, password: config.password, system_type: config.systemType, interface_version: INTERFACE_VERSION_3_4 };
        session.bind_transceiver(bind, (resp) => {
          if (settled) return;
          if (resp.command_status !== 0) {
            const status = resp.command_status;
            const permanent = PERMANENT_BIND.has(status);
            const hint = permanent ? ': check SMPP_SYSTEM_ID, SMPP_PASSWORD and SMPP_SYSTEM_TYPE' : '';
            fail(new ProviderError(`smpp: ${where} refused bind_transceiver: ${statusText(status)}${hint}`, { permanent }));
            return;
          }
          settled = true;
          clearTimeout(timer);
          // Adopted in this callback, before the package reads the next PDU: a deliver_sm right behind the bind is handled.
          resolve(adopt(session));
        });
      });
    });
  }

  function adopt(session: Session): Bound {
    const bound: Bound = { session, id: randomUUID(), since: Date.now(), inFlight: new Set() };
    // Set while an enquire_link awaits its answer; a silent SMSC past it ends the session.
    let deadline: NodeJS.Timeout | undefined;
    const keepAlive = setTimeout(() => {
      keepAlive.refresh();
      if (deadline !== undefined) return;
      deadline = setTimeout(() => session.destroy(), config.submitTimeoutMs);
      const sent = session.enquire_link({}, () => {
        clearTimeout(deadline);
        deadline = undefined;
      });
      if (!sent) session.destroy();
    }, config.enquireLinkMs);
    keepAlive.unref();
    session.on('pdu', (pdu: Pdu) => {
      keepAlive.refresh();
      if (!pdu.isResponse()) onRequest(bound, pdu);
    });
    // The package stops reading after a malformed PDU; a fresh session is the way out.
    session.on('error', () => session.destroy());
    session.once('close', () => {
      clearTimeout(keepAlive);
      clearTimeout(deadline);
      dropped(bound);
    });
    return bound;
  }

  function dropped(bound: Bound): void {
    if (current === bound) current = null;
    const error = transient(`the connection to ${where} was lost before submit_sm_resp`);
    for (const fail of [...bound.inFlight]) fail(error);
    if (closed) return;
    if (Date.now() - bound.since >= MAX_BACKOFF_MS) failures = 0;
    if (connecting === null) attempt(backoffMs());
  }

  /** One connection attempt after `delayMs`; while it fails for a reason that may pass, the next is scheduled. */
  function attempt(delayMs: number): Promise<Bound> {
    const next = (async () => {
      if (delayMs > 0) {
        try {
          await sleep(delayMs, undefined, { signal: closing.signal, ref: false });
        } catch {
          throw transient('the provider is closed');
        }
      }
      if (closed) throw transient('the provider is closed');
      return connectAndBind();
    })();
    connecting = next;
    next.then(
      (bound) => {
        connecting = null;
        if (closed) bound.session.destroy();
        else current = bound;
      },
      (error: unknown) => {
        connecting = null;
        // A refused bind is not retried in the background: the next send tries again.
        if (!closed && !(error instanceof ProviderError && error.permanent)) attempt(backoffMs());
      },
    );
    return next;
  }

  function ensureBound(signal: AbortSignal): Promise<Bound> {
    if (closed) return Promise.reject(transient('the provider is closed'));
    if (current !== null) return Promise.resolve(current);
    return untilAborted(connecting ?? attempt(0), signal, `binding to ${where}`);
  }

  function respond(bound: Bound, pdu: Pdu, commandStatus = 0): void {
    bound.session.send(pdu.response({ command_status: commandStatus }));
  }

  function onRequest(bound: Bound, pdu: Pdu): void {
    switch (pdu.command) {
      case 'deliver_sm':
        void onDeliver(bound, pdu).then((status) => respond(bound, pdu, status));
        return;
      case 'enquire_link':
        respond(bound, pdu);
        return;
      case 'unbind':
        bound.session.send(pdu.response(), () => bound.session.close());
        return;
      case 'alert_notification':
        return; // has no response
      default:
        respond(bound, pdu, ESME_RINVCMDID);
    }
  }

  /** Handles a deliver_sm; resolves to the command_status of its deliver_sm_resp. */
  async function onDeliver(bound: Bound, pdu: Pdu): Promise<number> {
    const type = Number(pdu.esm_class ?? 0) & ESM_TYPE_MASK;
    let sent: Sent | undefined;
    try {
      if (type === ESM_TYPE_RECEIPT) {
        const found = receiptOf(pdu);
        if (found === null) return 0;
        sent = found.sent;
        if (found.receipt !== null) await deps.reports.receipt(found.receipt);
        return 0;
      }
      if (type !== 0) return 0; // SME acknowledgements, intermediate notifications: nothing to report
      const inbound = inboundOf(bound, pdu);
      if (inbound !== null) await deps.reports.inbound(inbound);
      return 0;
    } catch {
      // Not taken: the SMSC keeps it and delivers it again; the multipart message may report again then.
      if (sent !== undefined) sent.reported = false;
      return ESME_RX_T_APPN;
    }
  }

  function receiptOf(pdu: Pdu): { receipt: DeliveryReceipt | null; sent: Sent | undefined } | null {
    const text = textOf(pdu.short_message) || textOf(pdu.message_payload) || '';
    const parsed = parseReceiptText(text);
    const id = typeof pdu.receipted_message_id === 'string' && pdu.receipted_message_id !== '' ? pdu.receipted_message_id : parsed.id;
    const stat = typeof pdu.message_state === 'number' ? (MESSAGE_STATES[pdu.message_state] ?? null) : parsed.stat;
    if (id === null || stat === null) return null;
    const status = RECEIPT_STATES[stat];
    if (status === undefined || status === null) return null;
    const receipt: DeliveryReceipt = { provider: NAME, providerMessageId: id, status, at: Date.now() };
    if (status !== 'delivered') {
      const network = Buffer.isBuffer(pdu.network_error_code) ? ` network error ${pdu.network_error_code.toString('hex')}` : '';
      receipt.error = `${stat}${parsed.err !== null ? ` err:${parsed.err}` : ''}${network}`;
    }
    const sent = sentParts.get(id);
    if (sent === undefined) return { receipt, sent };
    receipt.providerMessageId = sent.partIds[0] ?? id;
    if (sent.reported) return { receipt: null, sent: undefined };
    if (status === 'delivered') {
      sent.delivered.add(id);
      if (sent.delivered.size < sent.total) return { receipt: null, sent: undefined };
    }
    sent.reported = true;
    return { receipt, sent };
  }

  function inboundOf(bound: Bound, pdu: Pdu): InboundSms | null {
    const text = textOf(pdu.short_message) || textOf(pdu.message_payload);
    if (!text) return null;
    const sourceAddr = String(pdu.source_addr ?? '');
    const destinationAddr = String(pdu.destination_addr ?? '');
    const destinationTon = Number(pdu.dest_addr_ton ?? 0);
    const given = typeof pdu.receipted_message_id === 'string' && pdu.receipted_message_id !== '' ? pdu.receipted_message_id : null;
    const id =
      given ??
      `mo_${createHash('sha256').update([bound.id, String(pdu.sequence_number), sourceAddr, destinationAddr, text].join('\u0000')).digest('base64url').slice(0, 32)}`;
    return {
      provider: NAME,
      from: e164Of(sourceAddr, Number(pdu.source_addr_ton ?? 0)),
      to: destinationTon === 1 ? e164Of(destinationAddr, 1) : destinationAddr,
      text,
      providerMessageId: id,
      at: Date.now(),
    };
  }

  /** One submit_sm; settles on its submit_sm_resp, the timeout or the session's end, and then frees its window slot. */
  function submit(bound: Bound, fields: Record<string, unknown>, onAccepted: (id: string) => void): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let done = false;
      const settle = (error: ProviderError | null, id = '') => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        bound.inFlight.delete(onLost);
        submitWindow.release();
        if (error === null) resolve(id);
        else reject(error);
      };
      const onLost = (error: ProviderError) => settle(error);
      // A late submit_sm_resp after this is ignored; its slot is free again.
      const timer = setTimeout(() => settle(transient(`no submit_sm_resp from ${where} within ${config.submitTimeoutMs} ms`)), config.submitTimeoutMs);
      bound.inFlight.add(onLost);
      const sent = bound.session.submit_sm(fields, (resp) => {
        const status = resp.command_status;
        if (status === 0) {
          const id = typeof resp.message_id === 'string' ? resp.message_id : '';
          onAccepted(id);
          settle(null, id);
          return;
        }
        // "Incorrect bind status": the SMSC no longer counts us as bound; bind again.
        if (status === ESME_RINVBNDSTS) bound.session.destroy();
        settle(new ProviderError(`smpp: ${where} refused ${resp.command === 'generic_nack' ? 'submit_sm with generic_nack' : 'submit_sm'}: ${statusText(status)}`, { permanent: PERMANENT_SUBMIT.has(status) }));
      });
      if (!sent) settle(transient(`the connection to ${where} is closed`));
    });
  }

  function remember(id: string, sent: Sent): void {
    sentParts.set(id, sent);
    for (const oldest of sentParts.keys()) {
      if (sentParts.size <= MAX_TRACKED_PARTS) break;
      sentParts.delete(oldest);
    }
  }

  const sms: SmsProvider = {
    name: NAME,
    async send(message, { signal }) {
      if (!E164.test(message.to)) throw new ProviderError('smpp: the recipient is not an E.164 number', { permanent: true });
      const { encoding, parts } = splitSms(message.text);
      if (parts.length > 255) throw new ProviderError(`smpp: the text needs ${parts.length} SMS; a concatenated SMS has at most 255`, { permanent: true });
      const bound = await ensureBound(signal);
      reference = (reference + 1) % 256;
      const multipart: Sent = { partIds: [], total: parts.length, delivered: new Set(), reported: false };
      const submits: Promise<string>[] = [];
      try {
        for (const [index, text] of parts.entries()) {
          await submitWindow.acquire(signal);
          if (current !== bound) {
            submitWindow.release();
            throw transient(`the connection to ${where} was lost while sending`);
          }
          const fields: Record<string, unknown> = {
            source_addr_ton: source.ton,
            source_addr_npi: source.npi,
            source_addr: source.addr,
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: message.to.slice(1),
            registered_delivery: 1,
            // The package encodes the text for data_coding 0 as unpacked GSM septets and for 8 as UTF-16BE.
            data_coding: encoding === 'gsm7' ? 0 : 8,
            esm_class: parts.length > 1 ? ESM_UDHI : 0,
            short_message: parts.length > 1 ? { udh: Buffer.from([0x05, 0x00, 0x03, reference, parts.length, index + 1]), message: text } : { message: text },
          };
          const submitting = submit(bound, fields, (id) => {
            if (parts.length === 1 || id === '') return;
            multipart.partIds[index] = id;
            remember(id, multipart);
          });
          submitting.catch(() => {}); // awaited below, after the remaining parts are on their way
          submits.push(submitting);
        }
      } catch (error) {
        throw error instanceof ProviderError ? error : transient(String((error as Error)?.message ?? error), error);
      }
      const results = await untilAborted(Promise.allSettled(submits), signal, 'waiting for submit_sm_resp');
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as ProviderError] : []));
      if (refused.length > 0) {
        for (const id of multipart.partIds) sentParts.delete(id); // not a message of ours: its parts' receipts report as they are
        throw refused.find((f) => f.permanent) ?? refused[0]!;
      }
      const first = (results[0] as PromiseFulfilledResult<string>).value;
      return { providerMessageId: first === '' ? null : first };
    },
    async check() {
      const signal = AbortSignal.timeout(config.submitTimeoutMs);
      const bound = await ensureBound(signal);
      const answered = new Promise<void>((resolve, reject) => {
        if (!bound.session.enquire_link({}, () => resolve())) reject(transient(`the connection to ${where} is closed`));
      });
      await untilAborted(answered, signal, 'waiting for enquire_link_resp');
    },
    async close() {
      if (closed) return;
      closed = true;
      closing.abort();
      await connecting?.catch(() => {});
      const bound = current;
      current = null;
      if (bound === null || bound.session.socket.destroyed) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => bound.session.destroy(), config.submitTimeoutMs);
        bound.session.socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        if (!bound.session.unbind({}, () => bound.session.close())) bound.session.destroy();
      });
    },
  };
  return sms;
}

export const smpp: ProviderDefinition<SmppConfig> = {
  name: NAME,
  description: 'SMS over SMPP 3.4 to an SMSC, with delivery receipts and inbound SMS on the same bind_transceiver session',
  configSchema: ConfigSchema,
  create(config, deps) {
    const sms = createSmpp(config, deps);
    // Binding at start lets receipts and two-way replies arrive before the first send.
    return { sms, start: () => sms.check?.() ?? Promise.resolve() };
  },
};
