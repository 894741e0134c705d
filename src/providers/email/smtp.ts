import type { SendMailOptions, Transporter } from 'nodemailer';
import { Type, type Static } from 'typebox';
import { ProviderError, type EmailProvider, type ProviderDefinition } from '../types.ts';

const ConfigSchema = Type.Object({
  url: Type.String({
    env: 'SMTP_URL',
    secret: true,
    description: 'SMTP server, e.g. smtp://user:pass@mail.example.com:587 (STARTTLS when offered) or smtps://…:465',
  }),
  from: Type.String({ env: 'SMTP_FROM', default: 'Outband <no-reply@localhost>', description: 'From address of verification e-mails' }),
});

/** Transient SMTP replies (4xx) and connection errors are retried; 5xx replies are permanent. */
function classify(error: unknown): ProviderError {
  const e = error as { responseCode?: number; code?: string; message?: string };
  const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
  return new ProviderError(`smtp: ${e.message ?? 'send failed'}`, { permanent, cause: error });
}

export const smtp: ProviderDefinition<Static<typeof ConfigSchema>> = {
  name: 'smtp',
  description: 'E-mail through an SMTP server (nodemailer)',
  configSchema: ConfigSchema,
  create(config) {
    // nodemailer (some 40 modules) is loaded with the first e-mail, not at every start. It waits
    // up to 2 min to connect and 10 min for a silent server by default; a send must end within
    // the worker's send timeout (it also aborts `signal`, see below).
    let opened: Promise<Transporter> | undefined;
    const transportOf = () =>
      (opened ??= import('nodemailer').then(({ createTransport }) => createTransport({ url: config.url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 })));
    const email: EmailProvider = {
      name: 'smtp',
      async send(message, { signal }) {
        signal.throwIfAborted();
        try {
          const transport = await transportOf();
          const mail: SendMailOptions = { from: config.from, to: message.to, subject: message.subject, text: message.text };
          if (message.html !== undefined) mail.html = message.html;
          // sendMail takes no AbortSignal: stop waiting when the signal fires (send timeout, shutdown),
          // and let the transport's own timeouts close the abandoned connection.
          const sending = transport.sendMail(mail);
          const info = await new Promise<Awaited<typeof sending>>((resolve, reject) => {
            const onAbort = () => reject(new Error(`aborted: ${String((signal.reason as Error | undefined)?.message ?? signal.reason)}`));
            signal.addEventListener('abort', onAbort, { once: true });
            sending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
          });
          return { providerMessageId: info.messageId ?? null };
        } catch (error) {
          throw classify(error);
        }
      },
      async check() {
        await (await transportOf()).verify();
      },
      async close() {
        if (opened !== undefined) (await opened).close();
      },
    };
    return { email };
  },
};
