// Types for the `smpp` package (0.5.1, CommonJS, ships none): only what Outband and its tests use.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  /** A decoded short_message: the text (a Buffer when its data_coding has no decoder) and, with UDHI, each UDH element. */
  interface ShortMessage {
    message: string | Buffer;
    udh?: Buffer[];
  }

  /** A PDU: header fields plus the command's own parameters and TLVs by name. */
  interface Pdu {
    command: string;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    response(options?: Record<string, unknown>): Pdu;
    isResponse(): boolean;
  }

  type Command = (options: Record<string, unknown>, onResponse?: (pdu: Pdu) => void) => boolean;

  interface Session extends EventEmitter {
    socket: Socket;
    /** false when the socket is no longer writable (the PDU was not sent). */
    send(pdu: Pdu, onResponse?: (pdu: Pdu) => void): boolean;
    pause(): void;
    resume(): void;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    bind_transceiver: Command;
    submit_sm: Command;
    deliver_sm: Command;
    enquire_link: Command;
    unbind: Command;
  }

  interface Server extends NetServer {
    sessions: Session[];
  }

  const smpp: {
    connect(options: { host: string; port: number; tls?: boolean }): Session;
    createServer(listener: (session: Session) => void): Server;
    /** ESME_R… names → command_status values. */
    errors: Readonly<Record<string, number>>;
  };
  export default smpp;
  export type { Pdu, Server, Session, ShortMessage };
}
