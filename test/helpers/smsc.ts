// An SMSC of our own for tests: the `smpp` package's server on 127.0.0.1, answering as an SMSC
// does (bind_transceiver_resp, submit_sm_resp with a message_id or an error status,
// enquire_link_resp, deliver_sm with receipts and inbound messages).
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import smppPackage, { type Pdu, type Session, type ShortMessage } from 'smpp';

export const ESME_RINVPASWD = 0x0e;
export const ESME_RINVDSTADR = 0x0b;
export const ESME_RTHROTTLED = 0x58;
export const ESME_RMSGQFUL = 0x14;
export const ESME_RX_T_APPN = 0x64;
/** Test numbers the SMSC refuses with a status. */
export const REFUSED: Readonly<Record<string, number>> = { '31600000011': ESME_RINVDSTADR, '31600000058': ESME_RTHROTTLED, '31600000020': ESME_RMSGQFUL };

export interface Submit {
  pdu: Pdu;
  text: string;
  /** The first UDH element (IEI, length, data) when the message has one. */
  udh: Buffer | null;
  messageId: string;
}

export interface SmscBehaviour {
  password?: string;
  /** Answer each submit_sm this long after it arrived (default: at once). */
  answerAfterMs?: number;
  /** Never answer submit_sm. */
  hold?: boolean;
  answerEnquireLink?: boolean;
}

export interface Smsc {
  url: string;
  binds: Array<{ systemId: string; password: string; systemType: string; interfaceVersion: number }>;
  submits: Submit[];
  enquireLinks: number;
  unbinds: number;
  /** Most submit_sm awaiting their submit_sm_resp at one time. */
  maxOutstanding: number;
  /** Every byte the clients sent. */
  raw(): Buffer;
  /** Sends a deliver_sm on the newest bound session; resolves to the client's deliver_sm_resp. */
  deliver(fields: Record<string, unknown>): Promise<Pdu>;
  /** Ends every session from the SMSC's side. */
  drop(): void;
  /** Stops listening (sessions dropped); `start` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startSmsc(t: TestContext, behaviour: SmscBehaviour = {}): Promise<Smsc> {
  const chunks: Buffer[] = [];
  const bound: Session[] = [];
  let outstanding = 0;
  let lastId = 0;
  const server = smppPackage.createServer((session) => {
    session.on('error', () => {});
    // With the package reading through 'readable', 'data' sees exactly the bytes it reads.
    session.socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    session.on('bind_transceiver', (pdu: Pdu) => {
      // An SMSC checks credentials asynchronously; no further PDU is read until it has.
      session.pause();
      setImmediate(() => {
        smsc.binds.push({
          systemId: String(pdu.system_id),
          password: String(pdu.password),
          systemType: String(pdu.system_type),
          interfaceVersion: Number(pdu.interface_version),
        });
        const ok = pdu.system_id === 'outband' && pdu.password === (behaviour.password ?? 'secret');
        session.send(pdu.response(ok ? { system_id: 'test-smsc' } : { command_status: ESME_RINVPASWD }));
        if (ok) bound.push(session);
        session.resume();
      });
    });
    session.on('submit_sm', (pdu: Pdu) => {
      const sm = pdu.short_message as ShortMessage;
      const status = REFUSED[String(pdu.destination_addr)] ?? 0;
      const messageId = status === 0 ? `${(++lastId).toString(16).padStart(8, '0')}` : '';
      smsc.submits.push({ pdu, text: String(sm.message), udh: sm.udh?.[0] ?? null, messageId });
      outstanding++;
      smsc.maxOutstanding = Math.max(smsc.maxOutstanding, outstanding);
      const answer = () => {
        outstanding--;
        session.send(pdu.response(status === 0 ? { message_id: messageId } : { command_status: status }));
      };
      if (behaviour.hold) return;
      if (behaviour.answerAfterMs !== undefined) setTimeout(answer, behaviour.answerAfterMs);
      else answer();
    });
    session.on('enquire_link', (pdu: Pdu) => {
      smsc.enquireLinks++;
      if (behaviour.answerEnquireLink !== false) session.send(pdu.response());
    });
    session.on('unbind', (pdu: Pdu) => {
      smsc.unbinds++;
      session.send(pdu.response(), () => session.close());
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const drop = () => {
    for (const session of [...server.sessions]) session.destroy();
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      drop();
      if (!server.listening) resolve();
      else server.close(() => resolve());
    });
  t.after(stop);

  const smsc: Smsc = {
    url: `smpp://127.0.0.1:${port}`,
    binds: [],
    submits: [],
    enquireLinks: 0,
    unbinds: 0,
    maxOutstanding: 0,
    raw: () => Buffer.concat(chunks),
    deliver(fields) {
      const session = bound.findLast((s) => !s.socket.destroyed);
      if (session === undefined) return Promise.reject(new Error('no bound session'));
      return new Promise<Pdu>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no deliver_sm_resp')), 5000);
        session.deliver_sm(fields, (resp) => {
          clearTimeout(timer);
          resolve(resp);
        });
      });
    },
    drop,
    stop,
    start: () => listen(port),
  };
  return smsc;
}

